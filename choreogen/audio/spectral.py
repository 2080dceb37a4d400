"""Memory-bounded spectrograms: librosa's centred STFT / mel computed a block of frames at a time.

``librosa.feature.melspectrogram(y=...)`` materialises the whole complex STFT (1 + n_fft / 2 bins x
frames, complex64: 123 MB for 3 minutes at hop 256) and several temporaries. Here frames are
computed ``CHUNK_FRAMES`` at a time from the matching slice of the signal (zero padding outside it,
exactly librosa's ``center=True, pad_mode="constant"``) and only the small mel / chroma result is
kept. Frame k is centred on sample k * hop; there are 1 + N // hop frames, as in librosa.
"""
from __future__ import annotations

import numpy as np

CHUNK_FRAMES = 2048


def _frames_slice(y: np.ndarray, n_fft: int, hop: int, a: int, b: int) -> np.ndarray:
    """Samples feeding frames a..b-1 of the centred STFT, zero-padded outside the signal."""
    lo = a * hop - n_fft // 2
    hi = (b - 1) * hop - n_fft // 2 + n_fft
    seg = np.zeros(hi - lo, dtype=np.float32)
    s0, s1 = max(lo, 0), min(hi, len(y))
    if s1 > s0:
        seg[s0 - lo:s1 - lo] = y[s0:s1]
    return seg


def n_frames(n_samples: int, hop: int) -> int:
    return 1 + n_samples // hop


def power_blocks(y: np.ndarray, n_fft: int, hop: int, chunk: int = CHUNK_FRAMES):
    """Yield (a, |STFT|^2 (1 + n_fft // 2, b - a) float32) for consecutive frame blocks [a, b)."""
    import librosa

    T = n_frames(len(y), hop)
    for a in range(0, T, chunk):
        b = min(T, a + chunk)
        seg = _frames_slice(y, n_fft, hop, a, b)
        D = librosa.stft(seg, n_fft=n_fft, hop_length=hop, center=False)
        yield a, (np.abs(D) ** 2).astype(np.float32, copy=False)


def mel_power(y: np.ndarray, sr: int, hop: int, n_fft: int = 2048, n_mels: int = 128, fmin: float = 0.0,
              fmax: float | None = None) -> np.ndarray:
    """Mel power spectrogram (n_mels, 1 + N // hop) float32, equal to librosa's melspectrogram(y=...)."""
    import librosa

    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)
    out = np.empty((n_mels, n_frames(len(y), hop)), dtype=np.float32)
    for a, P in power_blocks(y, n_fft, hop):
        out[:, a:a + P.shape[1]] = basis @ P
    return out


def onset_strength(y: np.ndarray, sr: int, hop: int, fmax: float | None = None, n_mels: int = 128) -> np.ndarray:
    """librosa's onset strength (mel spectral flux, lag 1, mean over bands) in bounded memory."""
    import librosa

    S = librosa.power_to_db(mel_power(y, sr, hop, n_mels=n_mels, fmax=fmax))
    return librosa.onset.onset_strength(S=S, sr=sr, hop_length=hop)


def chroma_stft(y: np.ndarray, sr: int, hop: int, n_fft: int = 2048, tuning: float = 0.0) -> np.ndarray:
    """Chroma (12, 1 + N // hop) from the STFT power, per-frame max-normalised, fixed ``tuning``."""
    import librosa

    out = np.empty((12, n_frames(len(y), hop)), dtype=np.float32)
    for a, P in power_blocks(y, n_fft, hop):
        out[:, a:a + P.shape[1]] = librosa.feature.chroma_stft(S=P, sr=sr, n_fft=n_fft, tuning=tuning)
    return out
