"""Coordinate frames and canonicalisation.

Canonical frame (everything inside choreogen): **metres, Y-up, floor at y = 0, root starting at the
xz origin, 30 fps**. SMPL's template faces +Z, so a dancer in rest pose looks towards +Z with
their left hand on +X.

Other frames:
* **Z-up (EDGE)**: +90 degrees about X, ``(x, y, z) -> (x, -z, y)``.
* **camera (Y-down, OpenCV-style)**: 180 degrees about X, ``(x, y, z) -> (x, -y, -z)``.
"""
from __future__ import annotations

import numpy as np
import torch

from .rotations import axis_angle_to_matrix, matrix_to_axis_angle

# rotation matrices taking canonical Y-up coordinates to the other frames
R_YUP_TO_ZUP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
R_YUP_TO_CAMERA = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])


def _apply(points: np.ndarray, R: np.ndarray) -> np.ndarray:
    return np.asarray(points) @ R.T.astype(np.asarray(points).dtype)


def yup_to_zup(points: np.ndarray) -> np.ndarray:
    """(..., 3) Y-up -> Z-up (EDGE): (x, y, z) -> (x, -z, y)."""
    return _apply(points, R_YUP_TO_ZUP)


def zup_to_yup(points: np.ndarray) -> np.ndarray:
    """(..., 3) Z-up -> Y-up: (x, y, z) -> (x, z, -y)."""
    return _apply(points, R_YUP_TO_ZUP.T)


def yup_to_camera(points: np.ndarray) -> np.ndarray:
    """(..., 3) Y-up -> camera Y-down: (x, y, z) -> (x, -y, -z)."""
    return _apply(points, R_YUP_TO_CAMERA)


def camera_to_yup(points: np.ndarray) -> np.ndarray:
    return _apply(points, R_YUP_TO_CAMERA.T)


def rotate_root(poses: np.ndarray, trans: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Apply a global rotation ``R`` (3, 3) to SMPL root orientation and translation.

    ``poses``: (T, J*3) axis-angle; ``trans``: (T, 3). Returns new arrays (float dtype kept).
    Note: for SMPL the joint positions rotate about the *origin* only if the root joint sits at
    ``trans`` (EDGE-style FK, which we use), so FK(rotated) == R @ FK(original).
    """
    poses = np.array(poses, copy=True)
    Rt = torch.as_tensor(R, dtype=torch.float64)
    root = axis_angle_to_matrix(torch.as_tensor(poses[:, :3], dtype=torch.float64))
    poses[:, :3] = matrix_to_axis_angle(Rt @ root).numpy().astype(poses.dtype)
    return poses, _apply(trans, R).astype(np.asarray(trans).dtype)


def floor_height(joints: np.ndarray) -> float:
    """Lowest point any joint of a Y-up (T, J, 3) sequence reaches (metres)."""
    return float(np.min(joints[..., 1]))


def tracked_floor(joints: np.ndarray, fps: float, window_s: float = 4.0) -> np.ndarray:
    """Per-frame floor height (T,) for captures whose vertical axis drifts over time.

    The lowest joint per frame is a foot (or hand/knee) on the floor; its running minimum over
    ``window_s`` seconds, smoothed over the same window, follows a slowly drifting floor while
    ignoring steps and jumps shorter than the window. On a flat floor it is constant.
    """
    from ..filters import minimum_filter1d, uniform_filter1d

    low = np.min(joints[..., 1], axis=-1).astype(np.float64)
    win = max(1, int(round(window_s * fps)))
    if len(low) <= win:
        return np.full(len(low), low.min())
    env = minimum_filter1d(low, size=win)
    return uniform_filter1d(env, size=win)


def canonical_offset(joints: np.ndarray, fps: float = 30.0, floor: str = "tracked") -> np.ndarray:
    """Per-frame (T, 3) translation that canonicalises a Y-up (T, J, 3) sequence.

    Root at the xz origin at frame 0; floor at y = 0. ``floor="global"`` shifts by the lowest point
    of the whole sequence; ``floor="tracked"`` first removes a slow vertical drift of the floor
    (:func:`tracked_floor`, needed for Tang2018 captures whose floor drifts by ~0.4 m), then shifts
    so the lowest point is exactly 0. Either way no joint ends below y = 0.
    """
    T = len(joints)
    off = np.zeros((T, 3), dtype=np.float64)
    off[:, 0] = -joints[0, 0, 0]
    off[:, 2] = -joints[0, 0, 2]
    if floor == "tracked":
        off[:, 1] = -tracked_floor(joints, fps)
    elif floor != "global":
        raise ValueError(f"floor must be 'tracked' or 'global', got {floor!r}")
    off[:, 1] -= np.min(joints[..., 1] + off[:, None, 1])
    return off
