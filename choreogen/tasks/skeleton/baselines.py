"""Repair baselines a user would otherwise reach for.

* :func:`interpolate_linear` -- per joint and coordinate, linear interpolation over time between
  the frames where the joint is present (constant extrapolation at the ends).
* :func:`interpolate_cubic` -- per joint, a piecewise-cubic curve through the frames where the
  joint is present (scipy's Akima spline by default: C1, no overshoot on outliers; ``"makima"``,
  ``"pchip"`` or a natural ``"spline"`` on request), linear hold at the ends.
* :func:`savgol_smooth` -- the interpolated sequence smoothed by a Savitzky-Golay filter
  (``scipy.signal.savgol_filter``), the usual "remove jitter" step.

Both take ``joints`` (T, J, D) and ``present`` (T, J) bool and return a complete (T, J, D) float
array; units and frame are those of the input. A joint that is never present in the sequence is
placed at the centroid of the present joints of each frame (or of the whole sequence).
"""
from __future__ import annotations

import numpy as np
from scipy.signal import savgol_filter


def _fallback(joints: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(T, D) per-frame centroid of present joints, itself interpolated over empty frames."""
    w = present[..., None].astype(np.float64)
    cnt = w.sum(1)
    cen = np.where(cnt > 0, (np.nan_to_num(joints) * w).sum(1) / np.maximum(cnt, 1), np.nan)
    have = cnt[:, 0] > 0
    if not have.any():
        return np.zeros_like(cen)
    t = np.arange(len(cen))
    return np.stack([np.interp(t, t[have], cen[have, d]) for d in range(cen.shape[1])], axis=1)


def interpolate_linear(joints: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Fill missing joints by linear interpolation over time, per joint and coordinate."""
    T, J, D = joints.shape
    out = np.array(joints, dtype=np.float64, copy=True)
    t = np.arange(T)
    fb = None
    for j in range(J):
        m = present[:, j]
        if m.all():
            continue
        if not m.any():
            fb = _fallback(joints, present) if fb is None else fb
            out[:, j] = fb
            continue
        for d in range(D):
            out[:, j, d] = np.interp(t, t[m], out[m, j, d])
    return out


def interpolate_cubic(joints: np.ndarray, present: np.ndarray, method: str = "akima") -> np.ndarray:
    """Fill missing joints with a piecewise-cubic curve over time, per joint (all coordinates).

    ``method``: ``"akima"`` (default, :class:`scipy.interpolate.Akima1DInterpolator`),
    ``"makima"``, ``"pchip"`` (:class:`~scipy.interpolate.PchipInterpolator`) or ``"spline"``
    (natural :class:`~scipy.interpolate.CubicSpline`). Frames before the first / after the last
    present frame of a joint, and joints with fewer than 3 present frames, fall back to
    :func:`interpolate_linear`. Present joints are returned unchanged. (T, J, D) -> (T, J, D) float64.
    """
    from scipy.interpolate import Akima1DInterpolator, CubicSpline, PchipInterpolator

    makers = {"akima": lambda t, y: Akima1DInterpolator(t, y, axis=0),
              "makima": lambda t, y: Akima1DInterpolator(t, y, axis=0, method="makima"),
              "pchip": lambda t, y: PchipInterpolator(t, y, axis=0),
              "spline": lambda t, y: CubicSpline(t, y, axis=0, bc_type="natural")}
    if method not in makers:
        raise ValueError(f"method must be one of {sorted(makers)}, got {method!r}")
    out = interpolate_linear(joints, present)
    T = out.shape[0]
    t = np.arange(T)
    for j in range(out.shape[1]):
        m = present[:, j]
        if m.all() or m.sum() < 3:
            continue
        tt = t[m]
        inside = ~m & (t > tt[0]) & (t < tt[-1])
        if inside.any():
            out[inside, j] = makers[method](tt, out[m, j])(t[inside])
    return out


def savgol_smooth(joints: np.ndarray, present: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Linear interpolation followed by a Savitzky-Golay filter of ``window`` frames along time."""
    filled = interpolate_linear(joints, present)
    T = filled.shape[0]
    w = min(window, T if T % 2 else T - 1)
    if w <= order:
        return filled
    return savgol_filter(filled, w, order, axis=0, mode="interp")
