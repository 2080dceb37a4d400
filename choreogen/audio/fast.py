"""``fast35``: the 35-D baseline feature layout computed with numpy/scipy only (no librosa, no numba).

Why: librosa compiles numba code when it is imported (about 5 s per fresh process on a quiet 2-core
machine, far more under load), which alone exceeds the budget of a 30 s dance generated in 6 s from
the shell. ``fast35`` keeps EDGE's column layout and meaning, computed at ``sr = fps * 512`` Hz,
n_fft 2048, hop 512 (30 fps -> 15360 Hz), frames centred with zero padding (librosa's convention):

  ====== ======================================================================================
  0      onset strength: mean over 128 Slaney mel bands of the positive first difference of the
         log-power (dB, top 80 dB) mel spectrogram (librosa's ``onset_strength`` definition)
  1-20   20 MFCC: orthonormal DCT-II of that log-mel spectrogram (librosa's ``mfcc`` definition)
  21-32  12 chroma, CENS-style: STFT power pooled to pitch classes (Gaussian over +-0.5 semitone,
         C1-C8), L1-normalised, quantised at 0.4/0.2/0.1/0.05, smoothed over 41 frames, L2-normalised
         (librosa uses a constant-Q transform here: values differ, meaning is the same)
  33     onset peaks one-hot: ``librosa.onset.onset_detect``'s peak-picking rule (as EDGE)
  34     beats one-hot: Ellis' dynamic-programming tracker (the algorithm of ``librosa.beat``,
         tightness 100) on a tempo from the onset autocorrelation with a log-normal prior at 120 BPM
  ====== ======================================================================================

Columns 0-20 match librosa to float precision (tested); 21-34 follow the same recipes. A model
trained on ``fast35`` must be used with ``fast35`` (the checkpoint records the kind).
"""
from __future__ import annotations

import numpy as np

N_FFT = 2048
HOP = 512
N_MELS = 128
CHUNK = 2048  # frames per STFT block (bounded memory for long songs)


def hz_to_mel(f):
    """Slaney mel scale (librosa's default, htk=False)."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mel = f / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-10) / min_log_hz) / logstep, mel)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


def mel_filterbank(sr: int, n_fft: int = N_FFT, n_mels: int = N_MELS, fmin: float = 0.0, fmax: float | None = None):
    """(n_mels, 1 + n_fft // 2) Slaney-normalised triangular filters (as librosa.filters.mel)."""
    fmax = sr / 2 if fmax is None else fmax
    freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    w = np.maximum(0, np.minimum(lower, upper))
    w *= (2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels]))[:, None]
    return w.astype(np.float32)


def chroma_filterbank(sr: int, n_fft: int = N_FFT):
    """(12, 1 + n_fft // 2) pitch-class weights: Gaussian (sigma 0.5 semitone) around each pitch, C1-C8."""
    freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    ok = (freqs >= 32.7) & (freqs <= min(4186.0, sr / 2))
    midi = 69 + 12 * np.log2(np.maximum(freqs, 1e-6) / 440.0)
    pc = np.arange(12)[:, None]
    d = (midi[None, :] - pc) % 12
    d = np.minimum(d, 12 - d)
    w = np.exp(-0.5 * (d / 0.5) ** 2) * ok[None, :]
    return w.astype(np.float32)


def power_spectrogram_blocks(y: np.ndarray, n_fft: int = N_FFT, hop: int = HOP, chunk: int = CHUNK):
    """Yield (a, (1 + n_fft // 2, b - a) |STFT|^2) blocks of the centred, zero-padded Hann STFT."""
    win = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)  # periodic Hann
    T = 1 + len(y) // hop
    pad = n_fft // 2
    for a in range(0, T, chunk):
        b = min(T, a + chunk)
        lo, hi = a * hop - pad, (b - 1) * hop - pad + n_fft
        seg = np.zeros(hi - lo, dtype=np.float32)
        s0, s1 = max(lo, 0), min(hi, len(y))
        if s1 > s0:
            seg[s0 - lo:s1 - lo] = y[s0:s1]
        frames = np.lib.stride_tricks.sliding_window_view(seg, n_fft)[::hop] * win
        spec = np.fft.rfft(frames, axis=-1)
        yield a, (spec.real ** 2 + spec.imag ** 2).T.astype(np.float32)


def dct_matrix(n_out: int, n: int) -> np.ndarray:
    """(n_out, n) orthonormal DCT-II matrix (scipy.fft.dct(..., type=2, norm="ortho") as a product;
    numpy only, so the fast path never imports scipy: 0.5-0.9 s per fresh process here)."""
    k = np.arange(n_out)[:, None]
    m = np.cos(np.pi * k * (2 * np.arange(n)[None, :] + 1) / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m


def power_to_db(S: np.ndarray, top_db: float = 80.0, amin: float = 1e-10) -> np.ndarray:
    db = 10.0 * np.log10(np.maximum(amin, S))
    return np.maximum(db, db.max() - top_db) if top_db is not None else db


def peak_pick(x: np.ndarray, pre_max=0, post_max=1, pre_avg=3, post_avg=4, delta=0.07, wait=0) -> np.ndarray:
    """librosa.util.peak_pick semantics: ``x[n] == max(x[n-pre_max : n+post_max])`` and
    ``x[n] >= mean(x[n-pre_avg : n+post_avg]) + delta`` (windows clipped to the signal), at least
    ``wait`` frames after the previous peak. Defaults: ``librosa.onset.onset_detect``'s at hop 512
    and 15360 Hz (EDGE's peak column)."""
    n = len(x)
    xp = np.pad(x, (pre_max, max(0, post_max - 1)), constant_values=-np.inf)
    mx = np.lib.stride_tricks.sliding_window_view(xp, pre_max + post_max)[:n].max(axis=1)
    cs = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    idx = np.arange(n)
    lo, hi = np.maximum(0, idx - pre_avg), np.minimum(n, idx + post_avg)
    avg = (cs[hi] - cs[lo]) / (hi - lo)
    cand = np.flatnonzero((x >= mx) & (x >= avg + delta))
    peaks, last = [], -np.inf
    for c in cand:
        if c > last + wait:
            peaks.append(c)
            last = c
    return np.asarray(peaks, dtype=np.int64)


def estimate_tempo(env: np.ndarray, fps: float, start_bpm: float = 120.0, std_octaves: float = 1.0,
                   max_lag_s: float = 4.0) -> float:
    """Global tempo (BPM): autocorrelation of the onset envelope weighted by a log-normal prior."""
    x = env - env.mean()
    n = len(x)
    max_lag = min(n - 1, int(max_lag_s * fps))
    if max_lag < 2 or not np.any(x):
        return float(start_bpm)
    f = np.fft.rfft(x, n=2 * n)
    ac = np.fft.irfft(np.abs(f) ** 2)[: max_lag + 1]
    lags = np.arange(1, max_lag + 1)
    bpm = 60.0 * fps / lags
    ok = (bpm >= 30) & (bpm <= 300)
    prior = np.exp(-0.5 * ((np.log2(bpm) - np.log2(start_bpm)) / std_octaves) ** 2)
    score = np.where(ok, ac[1:] * prior, -np.inf)
    return float(bpm[int(np.argmax(score))])


def track_beats(env: np.ndarray, fps: float, bpm: float, tightness: float = 100.0) -> np.ndarray:
    """Ellis (2007) dynamic-programming beat tracker (librosa.beat's algorithm). Returns frames."""
    if not np.any(env > 0):
        return np.zeros(0, dtype=np.int64)
    period = 60.0 * fps / bpm
    sd = env.std()
    onset = env / (sd if sd > 0 else 1.0)
    k = np.arange(-int(round(period)), int(round(period)) + 1)
    local = np.convolve(onset, np.exp(-0.5 * (k * 32.0 / period) ** 2), mode="same")
    T = len(local)
    window = np.arange(-int(round(2 * period)), -int(round(period / 2)) + 1)
    txwt = -tightness * np.log(-window / period) ** 2
    cum = np.zeros(T)
    back = np.full(T, -1, dtype=np.int64)
    first = True
    for i in range(T):
        z = i + window
        valid = z >= 0
        if not valid.any():
            cum[i] = local[i]
            continue
        cand = np.where(valid, cum[np.clip(z, 0, None)] + txwt, -np.inf)
        j = int(np.argmax(cand))
        cum[i] = local[i] + cand[j]
        if first and local[i] < 0.01 * local.max():
            back[i] = -1
        else:
            back[i] = z[j]
            first = False
    # last beat: the last local maximum of the cumulative score above half their median
    lm = np.flatnonzero((cum[1:-1] > cum[:-2]) & (cum[1:-1] >= cum[2:])) + 1
    if len(lm) == 0:
        return np.zeros(0, dtype=np.int64)
    med = np.median(cum[lm])
    last = int(lm[cum[lm] >= 0.5 * med][-1])
    beats = [last]
    while back[beats[-1]] >= 0:
        beats.append(int(back[beats[-1]]))
    beats = np.asarray(beats[::-1], dtype=np.int64)
    # trim weak beats at both ends (silence before/after the music)
    thr = 0.5 * np.sqrt(np.mean(local[beats] ** 2))
    strong = np.flatnonzero(local[beats] >= thr)
    return beats[strong[0]:strong[-1] + 1] if len(strong) else beats


def fast35(y: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """(N,) mono samples at ``sr = round(fps * 512)`` Hz -> (1 + N // 512, 35) float32 features."""
    sr = int(round(fps * HOP))
    T = 1 + len(y) // HOP
    mel_fb = mel_filterbank(sr)
    chr_fb = chroma_filterbank(sr)
    mel = np.empty((N_MELS, T), np.float32)
    chroma = np.empty((12, T), np.float32)
    for a, P in power_spectrogram_blocks(y):
        mel[:, a:a + P.shape[1]] = mel_fb @ P
        chroma[:, a:a + P.shape[1]] = chr_fb @ P
    S = power_to_db(mel)
    # onset strength (lag 1, mean over bands), shifted right by lag + n_fft // (2 hop) = 3 frames
    flux = np.maximum(0.0, S[:, 1:] - S[:, :-1]).mean(axis=0)
    env = np.zeros(T, np.float32)
    shift = 1 + N_FFT // (2 * HOP)
    env[shift:] = flux[: T - shift]
    mfcc = dct_matrix(20, S.shape[0]) @ S  # = scipy.fft.dct(S, type=2, norm="ortho", axis=0)[:20]
    # chroma, CENS-style
    c = chroma / np.maximum(chroma.sum(axis=0, keepdims=True), 1e-10)
    q = np.zeros_like(c)
    for thr in (0.4, 0.2, 0.1, 0.05):
        q += (c > thr)
    hann = np.hanning(43)[1:-1]
    k, h = hann / hann.sum(), (len(hann) - 1) // 2
    # centred smoothing over time, T frames out even when T < the kernel (np.convolve's "same" would
    # return the kernel's length then); for T >= the kernel this equals mode="same"
    q = np.apply_along_axis(lambda r: np.convolve(r, k, mode="full")[h:h + len(r)], 1, q)
    q /= np.maximum(np.linalg.norm(q, axis=0, keepdims=True), 1e-10)
    e = env.astype(np.float64) - env.min()
    peaks = peak_pick(e / max(e.max(), 1e-12))  # onset_detect normalises the envelope to [0, 1]
    bpm = estimate_tempo(env.astype(np.float64), fps)
    beats = track_beats(env.astype(np.float64), fps, bpm)
    out = np.zeros((T, 35), np.float32)
    out[:, 0] = env
    out[:, 1:21] = mfcc.T
    out[:, 21:33] = q.T
    out[peaks[peaks < T], 33] = 1.0
    out[beats[beats < T], 34] = 1.0
    return out


__all__ = ["fast35", "mel_filterbank", "peak_pick", "estimate_tempo", "track_beats"]
