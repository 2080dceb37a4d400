"""Post-processing of generated dances.

:func:`contain` keeps a long dance inside a circle of ``radius`` metres around its starting point
(the "stage") without touching short-range motion: where the root leaves the circle, the excess is
removed by a slowly varying horizontal shift (moving average over ``smooth_s`` seconds). The shift's
speed is bounded by the dancer's own drift speed, so for realistic drifts (a few cm/s) it adds well
under a centimetre per frame of foot sliding. Dances that stay inside the circle are unchanged.
"""
from __future__ import annotations

import numpy as np
from ...filters import uniform_filter1d


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
        shift += uniform_filter1d(excess, size=win, axis=0) * 1.2
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


def foot_lock_shift(feet: np.ndarray, contacts: np.ndarray, fps: float, max_height: float = 0.08,
                    max_speed: float = 2.0, smooth_frames: float = 1.0) -> np.ndarray:
    """Horizontal root shift (T, 2) that cancels the sliding of planted feet.

    ``feet``: (T, F, 3) foot joints (metres, Y-up, floor at y = 0); ``contacts``: (T, F) in [0, 1],
    the model's own contact prediction. A foot counts as planted between frames t and t+1 when both
    frames are labelled in contact (> 0.5), it is within ``max_height`` of the floor and moves
    slower than ``max_speed`` m/s (faster is a mislabelled swing, not a slide). The root's
    horizontal velocity is corrected by minus the mean velocity of the planted feet, and the
    correction is lightly Gaussian-smoothed so the body does not jerk when a contact starts.
    """
    from ...filters import gaussian_filter1d

    v = np.diff(feet[..., [0, 2]], axis=0)  # (T-1, F, 2) metres per frame
    c = contacts > 0.5
    low = feet[..., 1] < max_height
    speed = np.linalg.norm(v, axis=-1) * fps
    planted = c[1:] & c[:-1] & low[1:] & low[:-1] & (speed < max_speed)
    w = planted.astype(np.float64)
    n = w.sum(1, keepdims=True)
    corr = -(v * w[..., None]).sum(1) / np.maximum(n, 1.0)  # (T-1, 2)
    if smooth_frames > 0:
        corr = gaussian_filter1d(corr, smooth_frames, axis=0)
    return -np.concatenate([np.zeros((1, 2)), np.cumsum(corr, axis=0)], axis=0)


def lock_feet(motion, contacts: np.ndarray, strength: float = 1.0):
    """Return ``motion`` with planted feet no longer sliding (root-only correction).

    ``contacts``: (T, 4) predicted contact of (left ankle, right ankle, left toe, right toe), as in
    the EDGE vector. Only the root trajectory changes (poses are untouched), so the dancer's steps
    carry it across the floor the way real steps do; see :func:`foot_lock_shift`. ``strength`` in
    [0, 1] scales the correction (1: the planted feet's sliding cancelled in full).
    """
    from ...motion.skeleton import get_skeleton

    sk = get_skeleton(motion.skeleton)
    j = motion.positions()
    idx = sk.foot_indices()
    s = foot_lock_shift(j[:, idx].astype(np.float64), np.asarray(contacts)[:, : len(idx)], motion.fps)
    s = (strength * s).astype(np.float32)
    out = motion.copy()
    out.joints = j.copy()
    out.joints[..., 0] -= s[:, None, 0]
    out.joints[..., 2] -= s[:, None, 1]
    if out.trans is not None:
        out.trans[:, 0] -= s[:, 0]
        out.trans[:, 2] -= s[:, 1]
    out.meta["foot_lock"] = True
    return out


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(T,) bool -> [(start, stop)] of the True runs (stop exclusive)."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def plant_corrections(ankle: np.ndarray, toe: np.ndarray, c_ankle: np.ndarray, c_toe: np.ndarray, fps: float,
                      max_height: float = 0.08, max_speed: float = 2.0, blend: int = 4,
                      min_frames: int = 2, sigma: float = 0.0) -> np.ndarray:
    """Horizontal displacement (T, 2) that pins one foot in place wherever it is planted.

    ``ankle``/``toe``: (T, 3) metres (Y-up, floor 0); ``c_ankle``/``c_toe``: (T,) predicted contact
    in [0, 1]. A frame is planted when either point is labelled in contact (> 0.5), the lower of the
    two is within ``max_height`` of the floor and the slower moves under ``max_speed`` m/s. In each
    planted run of at least ``min_frames`` frames the pivot (the toe if it is labelled in contact on
    more of the run's frames than the ankle, else the ankle) is held at its mean horizontal position;
    the correction fades in and out linearly over ``blend`` frames on either side so nothing pops,
    and ``sigma`` > 0 Gaussian-smooths it over time (frames).
    """
    T = len(ankle)
    sp = lambda p: np.linalg.norm(np.gradient(p[:, [0, 2]], axis=0), axis=-1) * fps  # noqa: E731
    low = np.minimum(ankle[:, 1], toe[:, 1]) < max_height
    slow = np.minimum(sp(ankle), sp(toe)) < max_speed
    planted = ((c_ankle > 0.5) | (c_toe > 0.5)) & low & slow
    d = np.zeros((T, 2))
    for s, e in _runs(planted):
        if e - s < min_frames:
            continue
        piv = toe if (c_toe[s:e] > 0.5).sum() > (c_ankle[s:e] > 0.5).sum() else ankle
        xz = piv[s:e][:, [0, 2]]
        d[s:e] = xz.mean(0) - xz
        for i in range(1, blend + 1):  # fade out after the run / in before it (added to neighbours)
            w = 1.0 - i / (blend + 1)
            if e - 1 + i < T and not planted[e - 1 + i]:
                d[e - 1 + i] += w * d[e - 1]
            if s - i >= 0 and not planted[s - i]:
                d[s - i] += w * d[s]
    if sigma > 0:  # landings and take-offs ease over a few frames instead of stopping the foot at once
        from ...filters import gaussian_filter1d

        d = gaussian_filter1d(d, float(sigma), axis=0)
    return d


def lock_feet_ik(motion, contacts: np.ndarray, source: str = "geometry", root_share: float = 0.35,
                 max_speed: float = 1.0, sigma: float = 1.5, **kw):
    """Return ``motion`` with planted feet pinned by leg IK (poses above the hips untouched).

    ``contacts``: (T, 4) predicted contact of (left ankle, right ankle, left toe, right toe). Each
    foot's planted runs (:func:`plant_corrections`) become ankle targets that
    :func:`choreogen.motion.ik.leg_ik` reaches by re-bending hip and knee, keeping the foot's
    orientation, so the body keeps (most of) its travel while the feet stop sliding; a target
    beyond the leg's reach is approached as far as it goes. Needs SMPL poses; bone lengths exact.
    With ``root_share`` > 0 that fraction of the slide is first taken out of the root (:func:`lock_feet`).
    ``source``: which frames may be planted -- "model" (its contact labels, then the height and speed
    tests of :func:`plant_corrections`) or "geometry" (the height and speed tests alone: the latent
    model's contact labels agree with its feet's heights on only ~60 % of frames). ``max_speed`` (m/s),
    ``sigma`` (frames; landings ease in, so leg acceleration p99 stays at the captures') and
    ``root_share`` (pure IK keeps more travel, FID_k 53.8, but its PFC is 1.8x the captures') were
    chosen on the val songs (docs/MODEL_CARD.md; over 3 seeds this lock still has a higher PFC than
    :func:`lock_feet`, which is why the bundled generators default to the root lock).
    """
    from ...motion.ik import SMPL_LEGS, SMPL_TOES, leg_ik
    from ...motion.skeleton import get_skeleton

    if not motion.has_smpl:
        return lock_feet(motion, contacts)
    if root_share > 0:
        motion = lock_feet(motion, contacts, root_share)
    sk = get_skeleton(motion.skeleton)
    j = motion.positions().astype(np.float64)
    c = np.asarray(contacts, np.float64)
    if source == "geometry":
        c = np.ones_like(c)
    targets = {}
    for i, side in enumerate(("left", "right")):
        a, t = SMPL_LEGS[side][2], SMPL_TOES[side]
        d = plant_corrections(j[:, a], j[:, t], c[:, i], c[:, 2 + i], motion.fps, max_speed=max_speed,
                              sigma=sigma, **kw)
        if np.any(d):
            targets[side] = j[:, a] + np.stack([d[:, 0], np.zeros(len(d)), d[:, 1]], -1)
    out = motion.copy()
    if targets:
        out.poses = leg_ik(motion.poses, motion.trans, sk, targets).astype(np.float32)
        out.joints = None
        out.joints = out.positions()
    out.meta["foot_lock"] = "ik"
    return out


def smooth_features(feats: np.ndarray, sigma: float, n_contact: int = 4, root_sigma: float | None = None,
                    height_sigma: float | None = None) -> np.ndarray:
    """Gaussian smoothing over time of a generated EDGE feature track (T, D), un-normalised.

    The 6D rotations (columns ``n_contact + 3:``) are filtered with a Gaussian of ``sigma`` frames,
    the root position (``n_contact:n_contact + 3``) with ``root_sigma`` (default: ``sigma``; the
    root of a real dance moves slowly, so it takes a wider filter); the contact channels are left as they are (they are thresholded, not
    shown); ``height_sigma`` (default: ``root_sigma``) for the root's height alone (column
    ``n_contact + 1``, Y-up): the body's rise and fall at the beat is faster than its travel. The 6D vectors need no re-normalisation here: decoding orthonormalises them
    (Gram-Schmidt). ``sigma`` <= 0 returns a copy. The filter's gain at f Hz is
    exp(-2 (pi f sigma / fps)^2): for sigma = 1 frame at 30 fps 0.98 at 1 Hz, 0.92 at 2 Hz, 0.70 at
    4 Hz, while steps left every few frames (a patch-wise output head) lose most of their
    acceleration (tests/test_filters.py: random 5-frame steps, sigma 1.5, 0.23x).
    """
    from ...filters import gaussian_filter1d

    out = np.array(feats, dtype=np.float32, copy=True)
    root_sigma = sigma if root_sigma is None else root_sigma
    r0, r1 = n_contact, n_contact + 3
    if sigma and sigma > 0:
        out[:, r1:] = gaussian_filter1d(out[:, r1:], float(sigma), axis=0).astype(np.float32)
    height_sigma = root_sigma if height_sigma is None or height_sigma < 0 else height_sigma
    for cols, s in (([r0, r0 + 2], root_sigma), ([r0 + 1], height_sigma)):
        cols = [c for c in cols if c < out.shape[1]]
        if s and s > 0 and cols:
            out[:, cols] = gaussian_filter1d(out[:, cols], float(s), axis=0).astype(np.float32)
    return out
