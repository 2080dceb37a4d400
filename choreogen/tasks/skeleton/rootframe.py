"""Per-frame root-relative windows for the audio-driven skeleton generator (``info["frame"] == "root"``).

Why: the first generators' VAE saw each 64-frame window centred on its own mean (``normalize``), so the
body's travel inside and between windows was not in the latents; the stitched dances travelled less
than the captures (max 2.9 m from the start vs 5.0 m) and every clip moved alike (Div_k 0.2-0.4x the
captures'). Here each frame is expressed relative to its own root, and the root's travel is one more
token, as the 3D generator's EDGE vector carries root velocity:

    joints (T, J, D)  ->  x (T, J + 1, D)
      x[t, j]  = joints[t, j] - root[t] along the travel axes (3D: x and z, metres; y = height above the
                 floor is kept; 2D: both image axes, body heights)
      x[t, J]  = root velocity along the travel axes, units per second (v[t] = (root[t+1] - root[t]) * fps,
                 the last frame repeats the one before); 0 on the other axis (3D: y)

``root`` is the pelvis for SMPL-24 (joint 0) and the mid-hip for COCO-17 (joints 11, 12). The inverse
integrates the velocity from ``start`` (default: the origin). Because no window has a centre of its own,
windows join by cross-fading (:func:`stitch_root_frame`) and latent overlap inpainting is consistent.
"""
from __future__ import annotations

import numpy as np

from ...diffusion.windows import WindowPlan, overlap_add

ROOT_JOINTS = {"smpl24": (0,), "coco17": (11, 12)}


def travel_axes(dim: int) -> tuple[int, ...]:
    """Axes the root travels along: (0, 2) = x, z for 3D (Y-up); (0, 1) for 2D image coordinates."""
    return (0, 2) if dim == 3 else (0, 1)


def root_track(joints: np.ndarray, skeleton: str) -> np.ndarray:
    """(T, J, D) -> (T, D) root position (mean of the layout's root joints)."""
    return np.asarray(joints, np.float64)[:, list(ROOT_JOINTS[skeleton])].mean(1)


def to_root_frame(joints: np.ndarray, skeleton: str, fps: float) -> np.ndarray:
    """(T, J, D) joints, T >= 2 -> (T, J + 1, D) float32 root-relative joints + root velocity (module doc)."""
    j = np.asarray(joints, np.float64)
    T, _, D = j.shape
    if T < 2:
        raise ValueError("a root-frame window needs at least 2 frames")
    ax = list(travel_axes(D))
    root = root_track(j, skeleton)
    rel = j.copy()
    rel[..., ax] -= root[:, None, ax]
    vel = np.zeros((T, 1, D))
    d = np.diff(root[:, ax], axis=0) * fps
    vel[:-1, 0, ax] = d
    vel[-1, 0, ax] = d[-1]
    return np.concatenate([rel, vel], 1).astype(np.float32)


def from_root_frame(x: np.ndarray, fps: float, start: np.ndarray | None = None) -> np.ndarray:
    """(T, J + 1, D) -> (T, J, D) float64: the root integrated from ``start`` ((D,) travel-axis position at
    frame 0; default the origin) and added back to the root-relative joints."""
    x = np.asarray(x, np.float64)
    D = x.shape[-1]
    ax = list(travel_axes(D))
    vel = x[:, -1, ax] / fps
    pos = np.concatenate([np.zeros((1, len(ax))), np.cumsum(vel[:-1], axis=0)], 0)
    if start is not None:
        pos = pos + np.asarray(start, np.float64)[ax]
    out = x[:, :-1].copy()
    out[..., ax] += pos[:, None, :]
    return out


def stitch_root_frame(local: np.ndarray, starts: list[int], total: int, fps: float) -> np.ndarray:
    """(K, W, J + 1, D) decoded root-frame windows -> (total, J, D) one sequence: the windows are
    cross-faded in the root frame (relative poses and velocities alike; no per-window shift is
    needed), then the root is integrated over the whole sequence from the origin."""
    K, W = local.shape[:2]
    stride = starts[1] - starts[0] if K > 1 else W
    plan = WindowPlan(total=starts[-1] + W, window=W, overlap=W - stride)
    seq = overlap_add(np.asarray(local, np.float64), plan)[:max(int(total), 1)]
    return from_root_frame(seq, fps)
