"""Coordinate normalisation for the repair model (resolution- and position-independent).

2D (pixels, image frame): coordinates are centred on the mean of the *observed* joints of the
window and divided by the body height of the whole sequence (:func:`damage.body_scale`, the 90th
percentile of the per-frame vertical extent), so a model trained at one resolution works at any.
A per-window centre (rather than per-frame) keeps the motion of the body inside the window and is
robust to frames where only a few joints are seen.

3D (metres, Y-up, canonical): per-window root-centred: x and z are centred on the mean of the
observed joints of the window; y (height above the floor) and the metric scale are kept.
"""
from __future__ import annotations

import numpy as np


def window_center(joints: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, J, D), (T, J) -> (D,) centre of a window; y is left at 0 for 3D data."""
    D = joints.shape[-1]
    if present.any():
        c = np.asarray(joints[present], np.float64).mean(0)
    else:
        c = np.zeros(D)
    if D == 3:
        c[1] = 0.0
    return c


def normalize(joints: np.ndarray, center: np.ndarray, scale: float) -> np.ndarray:
    """(..., D) -> (..., D) float32: (joints - center) / scale."""
    return ((np.asarray(joints, np.float64) - center) / scale).astype(np.float32)


def denormalize(x: np.ndarray, center: np.ndarray, scale: float) -> np.ndarray:
    """Inverse of :func:`normalize` (float64)."""
    return np.asarray(x, np.float64) * scale + center
