"""Rhythm of a dance: dominant movement period, tempo following, music-movement coherence.

Issue #12. All motion inputs are joint positions ``(T, J, 3)`` in metres (Y-up) at ``fps`` frames
per second (30 for generated dances); all music inputs are onset-strength envelopes ``(T,)`` at the
same ``fps`` (e.g. column 0 of ``music_features(song, kind="fast35", fps=30)``).

* :func:`movement_signal` -- summed joint speed (m/s), the quantity whose spectrum is analysed.
* :func:`dominant_period` -- peak of the power spectrum of that signal inside a band (default
  0.25-4 Hz, i.e. periods 0.25-4 s), with parabolic refinement: the dance's main rhythm, in s.
* :func:`spectral_scale` -- the time-scale factor that best maps one dance's (log-frequency) movement
  spectrum onto another's: a harmonic-jump-proof companion of the ratio of dominant periods.
* :func:`stretch_audio` / :func:`stretch_motion` -- time-stretch music (pitch kept, librosa phase
  vocoder) and motion (slerp resampling) by the same playback-rate factor.
* :func:`tempo_follow` -- the check of issue #12: dance (or stretch) a song at 0.8x and 1.25x and
  compare the dominant periods; a dance that follows the tempo gives 1.25 / 0.8 = 1.5625.
* :func:`onset_coherence` -- the second alignment measure: mean magnitude-squared coherence
  (Welch, 8 s segments) between the music's onset envelope and the movement signal over the
  0.25-4 Hz band; :func:`own_vs_other` compares a dance with its own music against other songs'.
* :func:`beat_locking` -- the alignment measure used in the benchmark: how strongly the movement
  signal is a sinusoid phase-locked to the music's beat grid (cycles of 1, 2, 3 or 4 beats);
  :func:`own_vs_other_beats` compares own-music beats against other songs' beats.

Conventions: a playback ``rate`` r > 1 is faster music (duration / r, tempo x r); a dance that follows
it has its periods divided by r.
"""
from __future__ import annotations

import numpy as np

BAND_HZ = (0.25, 4.0)
TEMPO_FACTORS = (0.8, 1.25)


def movement_signal(joints: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """Summed joint speed, (T - 1,) in m/s, of joint positions ``joints`` (T, J, 3) in metres at ``fps``.

    Speed of every joint (global positions, the root's travel included) between consecutive frames,
    summed over the J joints."""
    j = np.asarray(joints, np.float64)
    if j.ndim != 3 or j.shape[-1] != 3 or len(j) < 3:
        raise ValueError(f"joints must be (T >= 3, J, 3), got {j.shape}")
    return np.linalg.norm(np.diff(j, axis=0), axis=-1).sum(-1) * float(fps)


def power_spectrum(x: np.ndarray, fps: float = 30.0, pad: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """One-sided power spectrum of a signal ``x`` (T,) sampled at ``fps`` Hz: (freqs Hz, power).

    Mean removed, Hann window, zero-padded to ``pad`` x the length (finer frequency grid, same
    resolution 1 / duration)."""
    x = np.asarray(x, np.float64)
    x = x - x.mean()
    w = np.hanning(len(x))
    n = int(2 ** np.ceil(np.log2(len(x) * pad)))
    P = np.abs(np.fft.rfft(x * w, n)) ** 2
    return np.fft.rfftfreq(n, 1.0 / fps), P


def dominant_period(joints: np.ndarray, fps: float = 30.0, band: tuple[float, float] = BAND_HZ) -> dict:
    """Dominant movement period of a dance.

    Args:
        joints: (T, J, 3) joint positions in metres at ``fps`` frames per second.
        band: (f_lo, f_hi) Hz searched for the peak (default 0.25-4 Hz: periods 0.25-4 s).

    Returns dict(``period_s`` = 1 / ``freq_hz`` of the highest peak of the power spectrum of
    :func:`movement_signal` inside ``band`` (parabolic interpolation on log power),
    ``peak_share`` = that peak's power (+-5 % in frequency) over the band's total power)."""
    sig = movement_signal(joints, fps)
    f, P = power_spectrum(sig, fps)
    lo, hi = band
    idx = np.flatnonzero((f >= lo) & (f <= hi))
    if len(idx) < 3:
        raise ValueError(f"the dance ({len(sig) / fps:.1f} s) is too short for the band {band} Hz")
    k = idx[np.argmax(P[idx])]
    fk = f[k]
    if idx[0] < k < idx[-1]:
        a, b, c = np.log(P[k - 1] + 1e-30), np.log(P[k] + 1e-30), np.log(P[k + 1] + 1e-30)
        den = a - 2 * b + c
        if den < 0:
            fk = f[k] + 0.5 * (a - c) / den * (f[1] - f[0])
    near = idx[np.abs(f[idx] - fk) <= 0.05 * fk]
    return {"period_s": float(1.0 / fk), "freq_hz": float(fk),
            "peak_share": float(P[near].sum() / max(P[idx].sum(), 1e-30))}


def log_spectrum(joints: np.ndarray, fps: float = 30.0, band: tuple[float, float] = BAND_HZ,
                 bins_per_octave: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Movement power spectrum on a log-frequency grid over ``band``: (freqs Hz (K,), unit-sum power (K,))."""
    f, P = power_spectrum(movement_signal(joints, fps), fps)
    n_oct = np.log2(band[1] / band[0])
    g = band[0] * 2.0 ** (np.arange(int(n_oct * bins_per_octave) + 1) / bins_per_octave)
    p = np.interp(g, f, P)
    return g, p / max(p.sum(), 1e-30)


def spectral_scale(slow: np.ndarray, fast: np.ndarray, fps: float = 30.0, band: tuple[float, float] = BAND_HZ,
                   max_ratio: float = 3.0) -> float:
    """Time-scale factor s (slow's periods / fast's periods) that best maps the log-frequency
    movement spectrum of dance ``slow`` onto that of ``fast`` (both (T, J, 3), metres, ``fps``):
    the shift of the maximum of their cross-correlation on the log-frequency axis, between
    1 / ``max_ratio`` and ``max_ratio``. Uses the whole band, so a jump of the peak between
    harmonics does not flip it. 1 = same rhythm; 1.5625 for a dance that follows 0.8x vs 1.25x."""
    bpo = 48
    _, a = log_spectrum(slow, fps, band, bpo)
    _, b = log_spectrum(fast, fps, band, bpo)
    a, b = np.sqrt(a), np.sqrt(b)  # amplitude: less dominated by one peak
    a, b = a - a.mean(), b - b.mean()
    m = int(np.log2(max_ratio) * bpo)
    best, arg = -np.inf, 0
    for s in range(-m, m + 1):  # fast's spectrum is slow's shifted up by s bins
        if s >= 0:
            c = np.dot(a[: len(a) - s], b[s:]) / max(len(a) - s, 1)
        else:
            c = np.dot(a[-s:], b[: len(b) + s]) / max(len(a) + s, 1)
        if c > best:
            best, arg = c, s
    return float(2.0 ** (arg / bpo))


def stretch_audio(y: np.ndarray, sr: int, rate: float) -> np.ndarray:
    """Time-stretch mono samples ``y`` (N,) at ``sr`` Hz by playback rate ``rate`` with the pitch kept
    (librosa phase vocoder); returns about N / rate samples. rate > 1 = faster."""
    import librosa

    if abs(rate - 1.0) < 1e-9:
        return np.asarray(y, np.float32).copy()
    return librosa.effects.time_stretch(np.asarray(y, np.float32), rate=float(rate)).astype(np.float32)


def stretch_motion(motion, rate: float):
    """A :class:`~choreogen.motion.Motion` played ``rate`` times faster, at its own frame rate
    (rotations slerped, translation interpolated: every period divided by ``rate``)."""
    fps = float(motion.fps)
    fast = motion.copy(fps=fps * float(rate))
    return fast.resample(fps)


def tempo_follow(periods: dict) -> dict:
    """Summary of dominant periods per playback rate, e.g. {0.8: p_slow, 1.25: p_fast} (seconds):
    ``ratio`` = p(lowest rate) / p(highest rate), ``expected`` = highest / lowest rate (1.5625),
    ``follow`` = log(ratio) / log(expected) (1 = follows the tempo exactly, 0 = ignores it)."""
    rates = sorted(periods)
    lo, hi = rates[0], rates[-1]
    ratio = periods[lo] / periods[hi]
    expected = hi / lo
    return {"ratio": float(ratio), "expected": float(expected),
            "follow": float(np.log(ratio) / np.log(expected))}


def onset_coherence(joints: np.ndarray, onset: np.ndarray, fps: float = 30.0, band: tuple[float, float] = BAND_HZ,
                    segment_s: float = 8.0) -> float:
    """Music-movement coherence: mean magnitude-squared coherence (Welch, Hann segments of
    ``segment_s`` s, half overlap) between the onset envelope ``onset`` (T,) and the
    :func:`movement_signal` of ``joints`` (T, J, 3) (metres, both at ``fps``) over ``band`` Hz.

    In [0, 1]: 1 = the movement's energy rises and falls with the music's onsets at a fixed phase
    lag at every frequency of the band. Unrelated signals give about 1 / (number of segments),
    so compare only equal lengths (:func:`own_vs_other` crops)."""
    from scipy.signal import coherence

    sig = movement_signal(joints, fps)
    on = np.asarray(onset, np.float64)[1:]
    n = min(len(sig), len(on))
    nper = int(round(segment_s * fps))
    if n < 2 * nper:
        raise ValueError(f"need at least {2 * segment_s:g} s of dance, got {n / fps:.1f} s")
    f, C = coherence(sig[:n], on[:n], fs=fps, nperseg=nper, noverlap=nper // 2)
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.mean(C[sel]))


def _log_amp(x: np.ndarray, fps: float, band, bins_per_octave: int = 24, smooth: float = 1.0) -> np.ndarray:
    f, P = power_spectrum(x, fps)
    n_oct = np.log2(band[1] / band[0])
    g = band[0] * 2.0 ** (np.arange(int(n_oct * bins_per_octave) + 1) / bins_per_octave)
    a = np.sqrt(np.interp(g, f, P))
    if smooth > 0:  # Gaussian over log-frequency bins
        k = np.arange(-3 * int(np.ceil(smooth)), 3 * int(np.ceil(smooth)) + 1)
        w = np.exp(-0.5 * (k / smooth) ** 2)
        a = np.convolve(np.pad(a, len(k) // 2, mode="edge"), w / w.sum(), mode="valid")
    return a


def spectral_match(joints: np.ndarray, onset: np.ndarray, fps: float = 30.0, band: tuple[float, float] = BAND_HZ) -> float:
    """Rhythm-spectrum match of a dance and a piece of music, in [-1, 1]: Pearson correlation of the
    log amplitude spectra, each with its straight-line tilt (in log amplitude vs log frequency)
    removed, on a log-frequency grid over ``band`` (24 bins per octave, lightly smoothed),
    of the :func:`movement_signal` of ``joints`` (T, J, 3) (metres, ``fps``) and of the music's onset
    envelope ``onset`` (T,) at the same ``fps``. High when the dance moves at the periodicities
    (bar, beat, their multiples) the music has; needs no beat tracker and no phase alignment, so a
    constant lag between capture and music does not matter."""
    sig = movement_signal(joints, fps)
    on = np.asarray(onset, np.float64)[1:]
    n = min(len(sig), len(on))
    a, b = np.log(_log_amp(sig[:n], fps, band) + 1e-12), np.log(_log_amp(on[:n], fps, band) + 1e-12)
    x = np.arange(len(a), dtype=np.float64)  # remove each spectrum's tilt (a line in log-log): peaks only
    a = a - np.polyval(np.polyfit(x, a, 1), x)
    b = b - np.polyval(np.polyfit(x, b, 1), x)
    return float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))


def own_vs_other_spectral(dances: list, onsets: list, fps: float = 30.0, **kw) -> dict:
    """:func:`spectral_match` of each dance ``dances[i]`` (T_i, J, 3) with its own music's onset
    envelope ``onsets[i]`` vs every other song's (each pair cropped to the shorter). Same keys as
    :func:`own_vs_other`."""
    n = len(dances)
    M = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            T = min(len(dances[i]), len(onsets[j]))
            M[i, j] = spectral_match(dances[i][:T], onsets[j][:T], fps, **kw)
    return _own_other(M)


def beat_phase(beats: np.ndarray, T: int, fps: float = 30.0, group: int = 1) -> np.ndarray:
    """Phase (radians, (T,)) of frames 0..T-1 (at ``fps``) in cycles of ``group`` beats: beat n sits at
    2 pi n / group, linear in between (and extrapolated with the first/last inter-beat interval).
    ``beats``: beat times in seconds (>= 2)."""
    b = np.asarray(beats, np.float64)
    if len(b) < 2:
        raise ValueError("need at least two beats")
    t = np.arange(T) / fps
    n = np.interp(t, b, np.arange(len(b)))
    n = np.where(t < b[0], (t - b[0]) / (b[1] - b[0]), n)
    n = np.where(t > b[-1], len(b) - 1 + (t - b[-1]) / (b[-1] - b[-2]), n)
    return 2 * np.pi * n / group


def beat_locking(joints: np.ndarray, beats: np.ndarray, fps: float = 30.0, groups=(1, 2, 3, 4)) -> float:
    """Beat-phase locking of the movement, in [0, 1]: how much of the movement signal's variation
    (:func:`movement_signal` of ``joints`` (T, J, 3), metres, ``fps``) is a sinusoid locked to the
    music's beat grid (``beats``, seconds), at the best of the cycle lengths ``groups`` (1 beat,
    2 beats, 3 or 4 = a bar of 3/4 or 4/4): max over g of sqrt(2) |mean(s e^{i phase_g})| / std(s),
    s the mean-removed signal. A movement that speeds up and slows down once per cycle at a fixed
    beat phase gives 1; one whose rhythm drifts against the grid (another tempo) gives about
    1 / sqrt(number of cycles)."""
    s = movement_signal(joints, fps)
    s = s - s.mean()
    sd = s.std()
    if sd <= 0:
        return 0.0
    t = np.arange(1, len(s) + 1)  # speed between frames k-1 and k, stamped at k
    best = 0.0
    for g in groups:
        ph = beat_phase(beats, int(t[-1]) + 1, fps, g)[t]
        best = max(best, float(np.sqrt(2) * np.abs(np.mean(s * np.exp(1j * ph))) / sd))
    return best


def own_vs_other_beats(dances: list, beats: list, fps: float = 30.0, **kw) -> dict:
    """:func:`beat_locking` of each dance ``dances[i]`` (T_i, J, 3) with its own music's beats
    ``beats[i]`` (seconds) vs with every other song's beats (beat times beyond the dance are
    ignored). Same keys as :func:`own_vs_other`."""
    n = len(dances)
    M = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            M[i, j] = beat_locking(dances[i], beats[j], fps, **kw)
    return _own_other(M)


def _own_other(M: np.ndarray) -> dict:
    n = len(M)
    own = np.diag(M)
    other = np.array([np.mean(np.delete(M[i], i)) for i in range(n)])
    return {"own": float(own.mean()), "other": float(other.mean()), "margin": float(own.mean() - other.mean()),
            "win_rate": float(np.mean(own > other)), "per_song": [[float(a), float(b)] for a, b in zip(own, other)]}


def own_vs_other(dances: list, onsets: list, fps: float = 30.0, **kw) -> dict:
    """Coherence of each dance with its own music vs with every other song's music.

    ``dances[i]`` (T_i, J, 3) metres and ``onsets[i]`` (T_i,) are paired; each (dance, music) pair is
    cropped to the shorter of the two. Returns dict(``own`` mean, ``other`` mean over i != j,
    ``margin`` = own - other, ``win_rate`` = share of songs whose own-music coherence beats the mean
    of their other-music coherences, ``per_song`` list of (own, mean other))."""
    n = len(dances)
    M = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            T = min(len(dances[i]), len(onsets[j]) )
            M[i, j] = onset_coherence(dances[i][:T], onsets[j][:T], fps, **kw)
    return _own_other(M)


__all__ = ["BAND_HZ", "TEMPO_FACTORS", "beat_locking", "beat_phase", "dominant_period", "own_vs_other_beats", "own_vs_other_spectral", "spectral_match", "log_spectrum", "movement_signal", "onset_coherence",
           "own_vs_other", "power_spectrum", "spectral_scale", "stretch_audio", "stretch_motion", "tempo_follow"]
