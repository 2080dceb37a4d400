"""Tempo normalisation (issue #12): a song is danced at a reference tempo and the dance played back at the song's.

A generator trained on a few hundred dances of one genre, whose songs have similar tempi, does not learn
that faster music means faster motion. Normalising makes it so by construction: the song is
time-stretched (pitch kept) to the reference tempo of its genre, danced, and the dance is resampled
back to the song's length; a song played 1.25x as fast is then danced 1.25x as fast.

It stands or falls with a tempo estimate that is *equivariant* to time-stretching (the same metrical
level for the same song at 0.8x and 1.25x). librosa's default tempo prior (log-normal around 120 BPM)
pulls the estimate to whatever level lies nearest 120 BPM, which flips between levels as the song is
stretched; :func:`estimate_bpm` uses a flat prior over 40-240 BPM instead. The estimate is then folded
by octaves into the reference's octave (:func:`fold_bpm`), which removes the common factor-2 errors
(waltzes read at the quarter or the eighth note), so the canonical stretch stays within a factor
sqrt(2) either way.

Units: BPM; ``rate`` = playback speed factor (> 1 faster), as in :func:`stretch`.
"""
from __future__ import annotations

import math

import numpy as np

BPM_RANGE = (40.0, 240.0)  # the flat prior's support
HOP = 512


def onset_envelope(y: np.ndarray, sr: int) -> np.ndarray:
    """(N,) samples -> onset strength at sr / 512 frames per second (librosa's ``onset_strength`` definition:
    mean over 128 mel bands of the positive first difference of the log-power mel spectrogram), in numpy
    (:mod:`choreogen.audio.fast`'s spectrogram) so that a fresh process does not pay librosa's import."""
    from .fast import mel_filterbank, power_spectrogram_blocks, power_to_db

    fb = mel_filterbank(sr)
    mel = np.concatenate([fb @ P for _, P in power_spectrogram_blocks(np.asarray(y, np.float32))], axis=1)
    S = power_to_db(mel)
    return np.maximum(0.0, S[:, 1:] - S[:, :-1]).mean(axis=0)


def tempogram_mean(env: np.ndarray, win: int = 384, step: int = 4) -> np.ndarray:
    """(T,) onset envelope -> (win,) mean over time of the local autocorrelations (Hann window of ``win``
    frames every ``step`` frames, each normalised by its lag-0 value): librosa's tempogram, averaged."""
    x = np.pad(np.asarray(env, np.float64), (win // 2, win // 2))
    starts = np.arange(0, max(1, len(x) - win + 1), step)
    w = np.hanning(win + 2)[1:-1] if win > 2 else np.ones(win)
    acc = np.zeros(win)
    for a in range(0, len(starts), 512):  # bounded memory for long songs
        fr = np.stack([x[s:s + win] for s in starts[a:a + 512]]) * w
        ac = np.fft.irfft(np.abs(np.fft.rfft(fr, n=2 * win, axis=1)) ** 2, axis=1)[:, :win]
        acc += (ac / np.maximum(ac[:, :1], 1e-12)).sum(axis=0)
    return acc / len(starts)


def estimate_bpm(y: np.ndarray, sr: int) -> float:
    """Mono samples (N,) at ``sr`` Hz -> global tempo in BPM: the peak of the mean tempogram under a
    flat prior on BPM_RANGE (nan for silence)."""
    env = onset_envelope(y, sr)
    if len(env) < 8 or not np.isfinite(env).all() or float(env.max(initial=0.0)) <= 0.0:
        return float("nan")
    fps = sr / HOP
    tg = tempogram_mean(env, win=min(384, len(env)))
    lag = np.arange(1, len(tg))
    bpm = 60.0 * fps / lag
    lo, hi = BPM_RANGE
    score = np.where((bpm >= lo) & (bpm <= hi), tg[1:], -np.inf)
    return float(bpm[int(np.argmax(score))]) if np.isfinite(score).any() else float("nan")


def fold_bpm(bpm: float, ref: float) -> float:
    """``bpm * 2**k`` for the integer k that puts it in [ref / sqrt 2, ref * sqrt 2)."""
    if not (math.isfinite(bpm) and bpm > 0 and math.isfinite(ref) and ref > 0):
        raise ValueError(f"tempi must be positive, got {bpm} and {ref}")
    k = math.floor(0.5 - math.log2(bpm / ref))
    return float(bpm * 2.0 ** k)


def canonical_rate(bpm: float, ref: float) -> float:
    """Playback rate that takes a song at ``bpm`` to the reference tempo (in (1/sqrt 2, sqrt 2]); 1 if ``bpm`` is unknown."""
    if not (math.isfinite(bpm) and bpm > 0):
        return 1.0
    return float(ref / fold_bpm(bpm, ref))


def direct_rate(bpm: float, ref: float, max_rate: float = 3.0) -> float:
    """Playback rate ``ref / bpm`` without octave folding, clipped to [1 / max_rate, max_rate]; 1 if ``bpm``
    is unknown. For a model without genres (one reference for all songs): a song played 0.8x and 1.25x
    then always lands on the same reference tempo, where :func:`canonical_rate`'s folding can split the
    two versions of a song near an octave border between two octaves."""
    if not (math.isfinite(bpm) and bpm > 0):
        return 1.0
    return float(np.clip(ref / bpm, 1.0 / max_rate, max_rate))


def reference_bpm(bpms) -> float:
    """Reference tempo of a set of songs: their circular mean on the log2 (octave) circle, in [60, 120) BPM.

    The octave of a reference does not matter (estimates are folded into it), only its position within
    the octave, so the mean is taken on that circle: estimates a factor 2 apart count as the same tempo."""
    b = np.asarray([x for x in bpms if np.isfinite(x) and x > 0], np.float64)
    if len(b) == 0:
        raise ValueError("no tempo estimates to average")
    ang = 2 * np.pi * np.log2(b)
    m = math.atan2(float(np.sin(ang).mean()), float(np.cos(ang).mean())) / (2 * np.pi)
    return float(fold_bpm(2.0 ** m, 60.0 * math.sqrt(2)))


def stretch(y: np.ndarray, sr: int, rate: float, n_fft: int = 2048, hop: int = 512, block: int = 1024) -> np.ndarray:
    """Time-stretch mono samples ``y`` (N,) by playback rate ``rate`` with the pitch kept; returns
    round(N / rate) samples. rate > 1 = faster. A phase vocoder (Flanagan & Golden 1966; Laroche &
    Dolson 1999: magnitudes interpolated between analysis frames, phases advanced by each bin's measured
    frequency) over a numpy STFT, so that a fresh process pays neither librosa's import (~2 s) nor
    scipy.signal's (~1 s)."""
    y = np.asarray(y, np.float32)
    n_out = int(round(len(y) / float(rate)))
    if abs(rate - 1.0) < 1e-9 or len(y) < n_fft:
        return y.copy() if abs(rate - 1.0) < 1e-9 else np.interp(np.linspace(0, len(y) - 1, n_out), np.arange(len(y)), y).astype(np.float32)
    win = np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann
    x = np.pad(y, (n_fft // 2, n_fft // 2 + hop))  # zeros: a reflected edge frame is not phase-coherent
    fr = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    T, F = fr.shape[0], n_fft // 2 + 1
    steps = np.arange(0, T, float(rate))
    omega = 2 * np.pi * hop * np.arange(F) / n_fft
    n = n_fft + hop * (len(steps) - 1)
    z, norm = np.zeros(n, np.float32), np.zeros(n, np.float32)
    phase = None
    # blocks of analysis frames, so memory stays O(block) for any song length (a 10-minute song's whole
    # complex128 STFT alone is ~0.4 GB); per-frame FFTs make the result identical to one pass
    for b0 in range(0, T, block):
        b1 = min(T, b0 + block)
        sel = np.flatnonzero((steps >= b0) & (steps < b1))
        Z = np.fft.rfft((fr[b0:b1 + 1] * win).astype(np.float64), axis=1).T  # (F, <= block + 1): float64 phases
        Z = np.pad(Z, ((0, 0), (0, b1 + 1 - b0 - Z.shape[1])))  # the frame after the last is silence
        mag, ang = np.abs(Z), np.angle(Z)
        if phase is None:
            phase = ang[:, 0].copy()
        out = np.empty((F, len(sel)), np.complex64)
        for k, t in enumerate(sel):
            s_ = steps[t]
            i = int(s_) - b0
            f = s_ - int(s_)
            out[:, k] = ((1 - f) * mag[:, i] + f * mag[:, i + 1]) * np.exp(1j * phase)
            d = ang[:, i + 1] - ang[:, i] - omega
            phase += omega + d - 2 * np.pi * np.round(d / (2 * np.pi))
        frames = np.fft.irfft(out.T, n=n_fft, axis=1).astype(np.float32) * win  # weighted overlap-add
        for k, t in enumerate(sel):
            z[t * hop:t * hop + n_fft] += frames[k]
            norm[t * hop:t * hop + n_fft] += win ** 2
    z = (z / np.maximum(norm, 1e-3))[n_fft // 2:]
    return np.pad(z, (0, max(0, n_out - len(z))))[:n_out]
