"""Explicit rhythm conditioning columns (issue #12): beat phase and local tempo per frame.

``rhythm_columns(beat_onehot, fps)`` turns the beat one-hot column of ``fast35`` / ``baseline35``
(column 34, one frame per beat at ``fps``) into 5 dense columns, frame k at time k / fps:

  ===== ===========================================================================
  0, 1  sin, cos of the beat phase (2 pi per beat, linear between beats)
  2, 3  sin, cos of the two-beat phase (2 pi per two beats: the half-bar / step pair)
  4     local tempo, log2(BPM / 120) (BPM = 60 / inter-beat interval, linear between beats)
  ===== ===========================================================================

Before the first and after the last beat the phase continues at the first / last inter-beat
interval. With fewer than two beats (silence) every column is 0. The feature kind
``"fast35+rhythm"`` (D = 40) of :func:`choreogen.audio.music_features` is ``fast35`` with these
columns appended; a model trained on it must be used with it (the checkpoint records the kind).
"""
from __future__ import annotations

import numpy as np

RHYTHM_DIM = 5
RHYTHM_KIND = "fast35+rhythm"


def rhythm_columns(beat_onehot: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """(T,) beat one-hot at ``fps`` -> (T, 5) float32 rhythm columns (see the module docstring)."""
    b = np.flatnonzero(np.asarray(beat_onehot) > 0.5).astype(np.float64)
    T = len(beat_onehot)
    out = np.zeros((T, RHYTHM_DIM), np.float32)
    if len(b) < 2:
        return out
    k = np.arange(T, dtype=np.float64)
    n = np.interp(k, b, np.arange(len(b), dtype=np.float64))
    n = np.where(k < b[0], (k - b[0]) / (b[1] - b[0]), n)
    n = np.where(k > b[-1], len(b) - 1 + (k - b[-1]) / (b[-1] - b[-2]), n)
    ibi = np.diff(b) / fps  # seconds between beats, stamped at the midpoints
    mid = 0.5 * (b[1:] + b[:-1])
    bpm = 60.0 / np.interp(k, mid, ibi)
    out[:, 0] = np.sin(2 * np.pi * n)
    out[:, 1] = np.cos(2 * np.pi * n)
    out[:, 2] = np.sin(np.pi * n)
    out[:, 3] = np.cos(np.pi * n)
    out[:, 4] = np.log2(bpm / 120.0)
    return out


def with_rhythm(feats: np.ndarray, fps: float = 30.0, beat_col: int = 34) -> np.ndarray:
    """(T, 35) fast35/baseline35 features -> (T, 40): the rhythm columns of their beat column appended."""
    f = np.asarray(feats, np.float32)
    return np.ascontiguousarray(np.concatenate([f, rhythm_columns(f[:, beat_col], fps)], axis=1))
