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


def hop_distances(parents) -> np.ndarray:
    """(J, J) int: number of bones between two joints of the kinematic tree given by ``parents``."""
    J = len(parents)
    adj = [[] for _ in range(J)]
    for j, p in enumerate(parents):
        if p >= 0:
            adj[j].append(p)
            adj[p].append(j)
    out = np.full((J, J), J, np.int64)
    for s in range(J):
        out[s, s], frontier = 0, [s]
        while frontier:
            nxt = []
            for a in frontier:
                for b in adj[a]:
                    if out[s, b] > out[s, a] + 1:
                        out[s, b] = out[s, a] + 1
                        nxt.append(b)
            frontier = nxt
    return out


def _rigid_fit(src: np.ndarray, dst: np.ndarray, w: np.ndarray, rotate: bool = True):
    """Weighted rigid fits (Kabsch) from anchors ``src`` (J, D) to each frame of ``dst`` (n, J, D),
    weights ``w`` (n, J). Returns (R (n, D, D), cs (n, D), cd (n, D)): dst ~ R (src - cs) + cd.
    ``rotate=False``: translation only (R = identity)."""
    ws = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
    cs = np.einsum("nj,jd->nd", ws, src)
    cd = np.einsum("nj,njd->nd", ws, dst)
    if not rotate:
        return np.broadcast_to(np.eye(src.shape[-1]), (len(dst), src.shape[-1], src.shape[-1])), cs, cd
    H = np.einsum("nj,nje,njf->nef", ws, src[None] - cs[:, None], dst - cd[:, None])
    U, _, Vt = np.linalg.svd(H)
    d = np.sign(np.linalg.det(np.einsum("nef,nfg->neg", U, Vt)))
    Vt = Vt.copy()
    Vt[:, -1] *= np.where(d == 0, 1.0, d)[:, None]
    return np.einsum("nef,nfg->nge", U, Vt), cs, cd


def interpolate_body(joints: np.ndarray, present: np.ndarray, parents, min_gap: int = 4,
                     decay: float = 0.5, context: int = 4, base: np.ndarray | None = None,
                     rotate: bool = True, max_misfit: float = 0.4) -> np.ndarray:
    """Akima spline *in the frame of the rest of the body* inside gaps of ``min_gap`` or more frames.

    For a gap a..b of joint j (present at a-1 and b+1), every frame t of the span a-``context`` ..
    b+``context`` gets the weighted rigid motion (Kabsch, rotation + translation, 2D or 3D) that
    takes the anchors (other joints present at t and at both gap ends) from frame a-1 to frame t;
    the joint's observed positions around the gap are carried back into frame a-1's body frame,
    an Akima spline fills the gap there, and the result is carried forward again. Anchor weights
    fall off as ``decay ** hops`` along the kinematic tree ``parents`` (a hidden wrist follows the
    upper torso, a hidden ankle the pelvis). Frames with fewer than D anchors (whole frames
    missing) keep the plain spline (:func:`interpolate_cubic`, or ``base`` when given).
    ``rotate=False`` follows the anchors' translation only (2D images: a turn of the body in depth
    is no rotation of the picture).
    Guard: where the rest of the body does not move rigidly over the span (the weighted RMS residual
    of the anchors' rigid fit exceeds ``max_misfit`` x their weighted RMS spread about their centre
    at some frame: the other leg swinging, the torso twisting), the body frame is not meaningful
    and the gap keeps the plain spline (such fits once threw a hidden foot 1 m off).
    (T, J, D), (T, J) bool -> (T, J, D) float64; present joints unchanged."""
    from scipy.interpolate import Akima1DInterpolator

    T, J, D = joints.shape
    out = interpolate_cubic(joints, present) if base is None else np.array(base, np.float64, copy=True)
    x = np.asarray(joints, np.float64)
    wj = decay ** hop_distances(parents).astype(np.float64)
    for j in range(J):
        m = present[:, j]
        if m.all() or m.sum() < 2:
            continue
        edge = np.diff(m.astype(np.int8))
        starts, ends = np.flatnonzero(edge == -1) + 1, np.flatnonzero(edge == 1)  # a..b missing
        if len(ends) and len(starts) and ends[0] < starts[0]:
            ends = ends[1:]
        for a, b in zip(starts, ends):
            if b - a + 1 < min_gap:
                continue
            t0, t1 = a - 1, b + 1
            fr = np.arange(max(0, a - context), min(T, b + 1 + context))
            # anchors: seen at both ends and in most gap frames (one body frame for the whole span)
            keep = present[t0] & present[t1] & (present[a:b + 1].mean(0) >= 0.8)
            keep[j] = False
            anc = present[fr] & keep[None]
            ok = anc.sum(1) >= D
            if not ok[fr == t0][0] or not ok[fr == t1][0]:
                continue
            fr, anc = fr[ok], anc[ok]
            w = anc * wj[j][None]
            R, cs, cd = _rigid_fit(x[t0], x[fr], w, rotate)
            if _misfit(x[t0], x[fr], w, R, cs, cd) > max_misfit:
                continue
            obs = m[fr]
            if obs.sum() < 2 or (~obs).sum() == 0:
                continue
            q = np.einsum("ned,ne->nd", R, x[fr, j] - cd) + cs  # into frame t0's body frame
            fill = Akima1DInterpolator(fr[obs], q[obs], axis=0)(fr[~obs]) if obs.sum() >= 3 else \
                np.stack([np.interp(fr[~obs], fr[obs], q[obs, d]) for d in range(D)], 1)
            g = ~obs
            if not np.isfinite(fill).all():
                continue
            out[fr[g], j] = np.einsum("nde,ne->nd", R[g], fill - cs[g]) + cd[g]
    return out


def _misfit(src: np.ndarray, dst: np.ndarray, w: np.ndarray, R: np.ndarray, cs: np.ndarray, cd: np.ndarray) -> float:
    """Worst frame's weighted RMS residual of the rigid fit dst ~ R (src - cs) + cd, relative to the
    anchors' weighted RMS spread about their centre in ``src``. (J, D), (n, J, D), (n, J) -> float."""
    ws = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
    pred = np.einsum("nde,nje->njd", R, src[None] - cs[:, None]) + cd[:, None]
    res = np.sqrt((ws * ((pred - dst) ** 2).sum(-1)).sum(1))
    spread = np.sqrt((ws * ((src[None] - cs[:, None]) ** 2).sum(-1)).sum(1))
    return float((res / np.maximum(spread, 1e-9)).max())
