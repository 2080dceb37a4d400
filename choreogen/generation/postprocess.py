"""Post-processing of generated dances.

:func:`contain` keeps a long dance inside a circle of ``radius`` metres around its starting point
(the "stage") without touching short-range motion: where the root leaves the circle, the excess is
removed by a slowly varying horizontal shift (moving average over ``smooth_s`` seconds). The shift's
speed is bounded by the dancer's own drift speed, so for realistic drifts (a few cm/s) it adds well
under a centimetre per frame of foot sliding. Dances that stay inside the circle are unchanged.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d


def containment_shift(root_xz: np.ndarray, radius: float, fps: float, smooth_s: float = 4.0, iters: int = 3) -> np.ndarray:
    """(T, 2) root xz (start at the origin) -> (T, 2) shift to subtract."""
    shift = np.zeros_like(root_xz, dtype=np.float64)
    win = max(1, int(round(smooth_s * fps)))
    for _ in range(iters):
        p = root_xz - shift
        r = np.linalg.norm(p, axis=-1, keepdims=True)
        excess = p * np.clip(1.0 - radius / np.maximum(r, 1e-9), 0.0, None)
        if not excess.any():
            break
        shift += uniform_filter1d(excess, size=win, axis=0, mode="nearest") * 1.2
    return shift


def contain(motion, radius: float | None = 4.0, smooth_s: float = 4.0):
    """Return ``motion`` with its root kept within ``radius`` m of the start (None: unchanged)."""
    if radius is None or radius <= 0:
        return motion
    j = motion.positions()
    xz0 = j[0, 0, [0, 2]]
    root = j[:, 0, [0, 2]] - xz0
    if np.linalg.norm(root, axis=-1).max() <= radius:
        return motion
    s = containment_shift(root.astype(np.float64), radius, motion.fps, smooth_s).astype(np.float32)
    out = motion.copy()
    out.joints = j.copy()
    out.joints[..., 0] -= s[:, None, 0]
    out.joints[..., 2] -= s[:, None, 1]
    if out.trans is not None:
        out.trans[:, 0] -= s[:, 0]
        out.trans[:, 2] -= s[:, 1]
    out.meta["contained_radius_m"] = radius
    return out
