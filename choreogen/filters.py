"""Small 1-D filters in plain NumPy, with ``scipy.ndimage``'s ``mode="nearest"`` semantics.

Why not scipy.ndimage: importing scipy (its array-API layer) costs 0.5-0.9 s per fresh process on
the 2-core CPU, a tenth of the 6 s budget of ``choreogen generate --seconds 30``; these three
filters are all the generation path needs. ``tests/test_filters.py`` checks them against
``scipy.ndimage`` (same window alignment: ``size // 2`` samples before, the rest after).
"""
from __future__ import annotations

import numpy as np


def _pad(x: np.ndarray, before: int, after: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * x.ndim
    pad[axis] = (before, after)
    return np.pad(x, pad, mode="edge")


def uniform_filter1d(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """Moving average over ``size`` samples along ``axis`` (edges repeat the end values)."""
    x = np.asarray(x, dtype=np.float64)
    size = max(1, int(size))
    xp = np.moveaxis(_pad(x, size // 2, size - 1 - size // 2, axis), axis, 0)
    c = np.concatenate([np.zeros((1,) + xp.shape[1:]), np.cumsum(xp, axis=0)], axis=0)
    return np.moveaxis((c[size:] - c[:-size]) / size, 0, axis)


def minimum_filter1d(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """Moving minimum over ``size`` samples along ``axis`` (edges repeat the end values)."""
    x = np.asarray(x)
    size = max(1, int(size))
    xp = _pad(x, size // 2, size - 1 - size // 2, axis)
    return np.lib.stride_tricks.sliding_window_view(xp, size, axis=axis).min(axis=-1)


def gaussian_filter1d(x: np.ndarray, sigma: float, axis: int = 0, truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing with standard deviation ``sigma`` samples (kernel cut at ``truncate`` sigma)."""
    x = np.asarray(x, dtype=np.float64)
    r = int(truncate * float(sigma) + 0.5)
    if r < 1:
        return x.copy()
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / float(sigma)) ** 2)
    k /= k.sum()
    xp = _pad(x, r, r, axis)
    win = np.lib.stride_tricks.sliding_window_view(xp, 2 * r + 1, axis=axis)
    return win @ k
