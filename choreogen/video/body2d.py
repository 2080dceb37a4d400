"""The 2D body layout the video room works in: COCO-17 keypoints in pixels (x right, y down).

Every driver (a 3D SMPL-24 dance, a MediaPipe-33 or COCO-17 keypoint file) and the photo's own
detection are mapped to this layout: ``(17, 2)`` float pixels + ``(17,)`` confidence in [0, 1].
"""
from __future__ import annotations

import numpy as np

from ..motion.skeleton import COCO17_NAMES

J = len(COCO17_NAMES)
IDX = {n: i for i, n in enumerate(COCO17_NAMES)}
# MediaPipe-33 index of each COCO-17 joint
FROM_MEDIAPIPE33 = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
# SMPL-24 index of each COCO-17 joint (face points all come from SMPL's head joint)
FROM_SMPL24 = [15, 15, 15, 15, 15, 16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8]

# bones of the part model: (name, parent joint, child joint)
BONES = [
    ("l_upper_arm", "left_shoulder", "left_elbow"), ("r_upper_arm", "right_shoulder", "right_elbow"),
    ("l_forearm", "left_elbow", "left_wrist"), ("r_forearm", "right_elbow", "right_wrist"),
    ("l_thigh", "left_hip", "left_knee"), ("r_thigh", "right_hip", "right_knee"),
    ("l_shin", "left_knee", "left_ankle"), ("r_shin", "right_knee", "right_ankle"),
]


def to_coco17(joints: np.ndarray, skeleton: str) -> np.ndarray:
    """(..., J_src, D) joints of ``skeleton`` -> (..., 17, D) COCO-17 order (a copy)."""
    table = {"coco17": list(range(J)), "mediapipe33": FROM_MEDIAPIPE33, "smpl24": FROM_SMPL24,
             "smplh52": FROM_SMPL24}
    if skeleton not in table:
        raise KeyError(skeleton)
    return np.asarray(joints)[..., table[skeleton], :].copy()


def mid(k: np.ndarray, a: str, b: str) -> np.ndarray:
    return 0.5 * (k[..., IDX[a], :] + k[..., IDX[b], :])


def neck(k: np.ndarray) -> np.ndarray:
    """Mid-shoulder point (..., 2)."""
    return mid(k, "left_shoulder", "right_shoulder")


def pelvis(k: np.ndarray) -> np.ndarray:
    """Mid-hip point (..., 2)."""
    return mid(k, "left_hip", "right_hip")


def torso_length(k: np.ndarray) -> np.ndarray:
    """Neck-to-pelvis distance (...,) in the units of ``k``."""
    return np.linalg.norm(neck(k) - pelvis(k), axis=-1)


def shoulder_width(k: np.ndarray) -> np.ndarray:
    return np.linalg.norm(k[..., IDX["left_shoulder"], :] - k[..., IDX["right_shoulder"], :], axis=-1)


def has(conf: np.ndarray, *names: str, thr: float = 0.5) -> bool:
    """True when all named joints have confidence >= thr (conf: (17,))."""
    return all(conf[IDX[n]] >= thr for n in names)
