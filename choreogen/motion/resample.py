"""Frame-rate conversion: slerp for rotations, linear interpolation for translation and points.

Output frame k sits at time k / fps_out; frames beyond the last input time are not produced, so
a sequence of T frames at fps_in becomes floor((T - 1) * fps_out / fps_in) + 1 frames.
"""
from __future__ import annotations

import numpy as np
import torch

from .rotations import axis_angle_to_quat, quat_to_axis_angle, slerp_quat


def _grid(n_in: int, fps_in: float, fps_out: float):
    n_out = int(np.floor((n_in - 1) * fps_out / fps_in + 1e-9)) + 1
    t = np.arange(n_out) * (fps_in / fps_out)  # positions in input-frame units
    i0 = np.clip(np.floor(t).astype(np.int64), 0, n_in - 1)
    i1 = np.clip(i0 + 1, 0, n_in - 1)
    w = (t - i0).astype(np.float64)
    return i0, i1, w


def lerp_frames(x: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear resampling along axis 0 of an array (T, ...)."""
    if len(x) < 2 or fps_in == fps_out:
        return np.array(x, copy=True)
    i0, i1, w = _grid(len(x), fps_in, fps_out)
    w = w.reshape((-1,) + (1,) * (x.ndim - 1))
    return ((1 - w) * x[i0] + w * x[i1]).astype(x.dtype)


def slerp_axis_angle(poses: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Resample (T, J*3) axis-angle poses by quaternion slerp."""
    if len(poses) < 2 or fps_in == fps_out:
        return np.array(poses, copy=True)
    T = len(poses)
    q = axis_angle_to_quat(torch.as_tensor(poses.reshape(T, -1, 3), dtype=torch.float64))
    i0, i1, w = _grid(T, fps_in, fps_out)
    wt = torch.as_tensor(w)[:, None].expand(-1, q.shape[1])
    qi = slerp_quat(q[i0], q[i1], wt)
    return quat_to_axis_angle(qi).reshape(len(i0), -1).numpy().astype(poses.dtype)


def resample_motion(motion, fps_out: float):
    fps_in = motion.fps
    if abs(fps_in - fps_out) < 1e-9:
        return motion.copy()
    out = motion.copy(fps=float(fps_out))
    if motion.poses is not None:
        out.poses = slerp_axis_angle(motion.poses, fps_in, fps_out)
        out.trans = lerp_frames(motion.trans, fps_in, fps_out)
        out.joints = None  # recomputed by FK: exact bone lengths
        if motion.joints is not None and motion.joints.shape[-1] == 3:
            out.positions()
    elif motion.joints is not None:
        out.joints = lerp_frames(motion.joints, fps_in, fps_out)
    if motion.confidence is not None:
        # a joint is only as confident as its least confident neighbour in time
        i0, i1, _ = _grid(len(motion.confidence), fps_in, fps_out)
        out.confidence = np.minimum(motion.confidence[i0], motion.confidence[i1])
    return out
