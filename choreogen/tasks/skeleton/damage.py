"""Realistic damage for keypoint sequences: what pose estimators do to real dance videos.

Used to make training pairs (damaged input, clean target) for the repair VAE and to build the
fixed test conditions of the robustness experiment (DanceFusion Table 3). Every function takes
and returns numpy arrays; nothing is modified in place.

Conventions:
    joints   (T, J, D) float, D = 2 (pixels, image frame, y down) or 3 (metres, Y-up).
    present  (T, J) bool, True where the joint is observed (the confidence mask M of the paper,
             eq. 5). Damage only ever turns True into False (and perturbs present coordinates).
    scale    body height in the units of ``joints`` (pixels or metres); jitter is relative to it.

Damage kinds (:class:`DamageConfig`): iid random joints, whole limbs over a run of frames, whole
frames (no person detected), detector jitter (Gaussian) with rare gross outliers, left/right
swaps over a run of frames, and the person leaving the frame (every joint beyond an image border
is lost for a run of frames).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...motion.skeleton import Skeleton

_HEAD = ("nose", "eye", "ear", "face", "mouth", "head")
_ARM = ("shoulder", "elbow", "wrist", "hand", "collar", "pinky", "index", "thumb")
_LEG = ("hip", "knee", "ankle", "foot", "heel", "toe")


def joint_groups(skeleton: Skeleton) -> dict[str, np.ndarray]:
    """Split a layout into head / torso / left_arm / right_arm / left_leg / right_leg by joint name.

    Returns a dict of group name -> sorted joint indices; every joint is in exactly one group
    (anything unmatched, e.g. pelvis/spine/neck/mid_hip, is torso). Hands are part of the arms.
    """
    groups: dict[str, list[int]] = {k: [] for k in ("head", "torso", "left_arm", "right_arm", "left_leg", "right_leg")}
    for j, name in enumerate(skeleton.joint_names):
        side = "left" if "left" in name else "right" if "right" in name else None
        if name in ("mid_hip", "pelvis") or name.startswith("spine") or name == "neck":
            groups["torso"].append(j)
        elif any(k in name for k in _HEAD) and "hand" not in name:
            groups["head"].append(j)
        elif side and any(k in name for k in _ARM):
            groups[f"{side}_arm"].append(j)
        elif side and any(k in name for k in _LEG):
            groups[f"{side}_leg"].append(j)
        else:
            groups["torso"].append(j)
    return {k: np.asarray(sorted(v), dtype=np.int64) for k, v in groups.items() if v}


def body_scale(joints: np.ndarray, present: np.ndarray | None = None) -> float:
    """Robust body height of a sequence: the 90th percentile over frames of the vertical extent
    (image y for 2D, world y for 3D) of the present joints. Units of ``joints``; 1.0 if unknown."""
    T, J, D = joints.shape
    present = np.isfinite(joints).all(-1) if present is None else present & np.isfinite(joints).all(-1)
    y = np.where(present, joints[..., 1], np.nan)
    good = present.sum(1) >= max(2, J // 2)
    if not good.any():
        return 1.0
    ext = np.nanmax(y[good], axis=1) - np.nanmin(y[good], axis=1)
    s = float(np.percentile(ext, 90))
    return s if np.isfinite(s) and s > 0 else 1.0


def drop_random(present: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Hide exactly ``round(rate * n_present)`` of the present joints, chosen uniformly.

    This is the "x % missing joints" condition of DanceFusion Table 3. Returns a new mask.
    """
    out = present.copy()
    idx = np.flatnonzero(present)
    k = int(round(rate * len(idx)))
    if k:
        out.flat[rng.choice(idx, size=k, replace=False)] = False
    return out


def drop_frame_runs(present: np.ndarray, rate: float, run: int, rng: np.random.Generator) -> np.ndarray:
    """Hide every joint of runs of ``run`` consecutive frames until about ``rate`` of the frames
    are gone (no person detected). Runs never overlap; the first and last frame stay visible so
    that interpolation baselines have both ends."""
    T = present.shape[0]
    out = present.copy()
    n_runs = int(round(rate * T / max(run, 1)))
    free = np.ones(T, bool)
    free[0] = free[-1] = False
    for _ in range(n_runs):
        starts = [s for s in range(1, T - run) if free[s:s + run].all() and free[s - 1] and free[s + run]]
        if not starts:
            break
        s = int(rng.choice(starts))
        out[s:s + run] = False
        free[s:s + run] = False
    return out


def drop_limb_runs(present: np.ndarray, skeleton: Skeleton, n_runs: int, max_len: int,
                   rng: np.random.Generator, min_len: int = 1) -> np.ndarray:
    """Hide a whole limb (arm, leg or head group) over ``n_runs`` random runs of min_len..max_len frames."""
    T = present.shape[0]
    out = present.copy()
    groups = [v for k, v in joint_groups(skeleton).items() if k != "torso"]
    for _ in range(n_runs):
        g = groups[rng.integers(len(groups))]
        L = int(rng.integers(min(min_len, max_len), max_len + 1))
        s = int(rng.integers(0, max(1, T - L + 1)))
        out[s:s + L, g] = False
    return out


def swap_left_right(joints: np.ndarray, skeleton: Skeleton, n_runs: int, max_len: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Swap every left joint with its right counterpart over random runs of frames (a classic
    detector failure on a dancer seen from behind). Returns (joints, swapped (T,) bool)."""
    T = joints.shape[0]
    out = joints.copy()
    swapped = np.zeros(T, bool)
    mirror = skeleton.mirror
    for _ in range(n_runs):
        L = int(rng.integers(1, max_len + 1))
        s = int(rng.integers(0, max(1, T - L + 1)))
        out[s:s + L] = joints[s:s + L][:, mirror]
        swapped[s:s + L] = True
    return out, swapped


def leave_frame(joints: np.ndarray, present: np.ndarray, max_len: int, rng: np.random.Generator) -> np.ndarray:
    """The dancer partly leaves the picture for a run of frames: a vertical or horizontal border
    line is drawn through the body (between 20 % and 60 % of its extent) and every joint beyond it
    is lost. Works for 2D (image x / y) and 3D (world x / y) alike. Returns a new mask."""
    T = joints.shape[0]
    out = present.copy()
    L = int(rng.integers(1, max_len + 1))
    s = int(rng.integers(0, max(1, T - L + 1)))
    axis = int(rng.integers(2))
    seg = joints[s:s + L, :, axis]
    vis = present[s:s + L]
    if not vis.any():
        return out
    lo, hi = np.nanmin(seg[vis]), np.nanmax(seg[vis])
    frac = rng.uniform(0.2, 0.6)
    if rng.random() < 0.5:
        cut = hi - frac * (hi - lo)
        out[s:s + L] &= ~(seg > cut)
    else:
        cut = lo + frac * (hi - lo)
        out[s:s + L] &= ~(seg < cut)
    return out


def jitter(joints: np.ndarray, scale: float, sigma: float, outlier_rate: float,
           rng: np.random.Generator) -> np.ndarray:
    """Detector noise: Gaussian jitter of ``sigma * scale`` on every coordinate, plus a fraction
    ``outlier_rate`` of joints thrown by 10-30 % of the body height (gross detection errors)."""
    out = joints + rng.normal(0.0, sigma * scale, size=joints.shape)
    if outlier_rate > 0:
        hit = rng.random(joints.shape[:2]) < outlier_rate
        n = int(hit.sum())
        if n:
            d = rng.normal(size=(n, joints.shape[2]))
            d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
            out[hit] += d * rng.uniform(0.1, 0.3, size=(n, 1)) * scale
    return out


@dataclass
class DamageConfig:
    """Probabilities and strengths of each damage kind (per window of frames).

    ``random_rate`` is drawn uniformly in [0, random_rate_max] per window. Runs are in frames.
    """

    random_rate_max: float = 0.3
    p_limb: float = 0.5
    limb_runs: int = 2
    p_frames: float = 0.4
    frame_rate_max: float = 0.25
    frame_run_max: int = 15
    p_swap: float = 0.15
    p_leave: float = 0.2
    run_max: int = 20
    jitter_sigma_max: float = 0.01
    outlier_rate: float = 0.005
    p_jitter: float = 1.0  # probability that a window gets jitter/outliers at all
    frame_run_min: int = 0  # > 0: frame runs of frame_run_min..frame_run_max frames, at least one per damaged window
    limb_run_min: int = 1  # limb runs are limb_run_min..run_max frames


def simulate(joints: np.ndarray, present: np.ndarray, skeleton: Skeleton, rng: np.random.Generator,
             cfg: DamageConfig | None = None, scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apply a random mix of every damage kind to a clean window.

    Args:
        joints: (T, J, D) clean joints (units of the data).
        present: (T, J) bool, joints that exist in the clean data (missing ones stay missing).
        skeleton: the layout (for limbs and left/right pairs).
        rng: numpy Generator (all randomness comes from it).
        cfg: damage strengths; defaults to :class:`DamageConfig`.
        scale: body height for jitter; estimated with :func:`body_scale` when None.

    Returns:
        (damaged joints (T, J, D) float32 with hidden joints set to 0, observed mask (T, J) bool).
    """
    cfg = cfg or DamageConfig()
    scale = body_scale(joints, present) if scale is None else scale
    T = joints.shape[0]
    x = np.where(present[..., None], joints, 0.0).astype(np.float64)
    obs = present.copy()
    if cfg.p_swap and rng.random() < cfg.p_swap:
        x, sw = swap_left_right(x, skeleton, 1, min(cfg.run_max, T), rng)
        obs[sw] = obs[sw][:, skeleton.mirror]
    if cfg.jitter_sigma_max and (cfg.p_jitter >= 1.0 or rng.random() < cfg.p_jitter):
        x = jitter(x, scale, rng.uniform(0, cfg.jitter_sigma_max), cfg.outlier_rate, rng)
    if cfg.p_leave and rng.random() < cfg.p_leave:
        obs = leave_frame(x, obs, min(cfg.run_max, T), rng)
    if cfg.p_limb and rng.random() < cfg.p_limb:
        obs = drop_limb_runs(obs, skeleton, int(rng.integers(1, cfg.limb_runs + 1)), min(cfg.run_max, T), rng,
                             min_len=min(cfg.limb_run_min, T))
    if cfg.p_frames and rng.random() < cfg.p_frames and T > 2:
        run = int(rng.integers(1, min(cfg.frame_run_max, T - 2) + 1))
        rate = rng.uniform(0, cfg.frame_rate_max)
        if cfg.frame_run_min:  # long runs: at least one of them in the window
            run = int(rng.integers(min(cfg.frame_run_min, T - 2), min(cfg.frame_run_max, T - 2) + 1))
            rate = max(rate, run / T)
        obs = drop_frame_runs(obs, rate, run, rng)
    if cfg.random_rate_max:
        obs = drop_random(obs, rng.uniform(0, cfg.random_rate_max), rng)
    x = np.where(obs[..., None], x, 0.0)
    return x.astype(np.float32), obs
