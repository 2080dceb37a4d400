"""Retargeting: a driving motion -> per-frame COCO-17 keypoints on the photo's body (pixels).

Camera for 3D dances (SMPL family, metres, Y-up): orthographic, looking at the dancer from the
front of the way they face in the first frame (yaw about Y from the hips' across vector), image
x = the dancer's left, image y = down; depth is dropped. That camera is then *fitted* to the photo
together with 2D drivers (keypoint files, pixels):

* scale ``s`` = photo torso length / driver first-frame torso length (neck = mid-shoulders, pelvis =
  mid-hips); when the photo has no hips (upper-body photo) the shoulder width is used instead;
* position: the driver's first-frame neck is put on the photo's neck; the trajectory is the
  driver's neck motion times ``s``;
* bone lengths: every frame is rebuilt from the neck outwards with the driver's bone directions and
  the photo's bone lengths (bones the photo does not show keep ``s`` times the driver's first-frame
  length). So frame 0 has the photo's size, position and proportions, and bones never stretch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..motion import Motion
from .body2d import IDX, neck, pelvis, shoulder_width, to_coco17, torso_length

# (parent, child) rebuilt in this order; "neck" and "pelvis" are virtual joints
TREE = [("neck", "left_shoulder"), ("neck", "right_shoulder"), ("left_shoulder", "left_elbow"),
        ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
        ("neck", "pelvis"), ("pelvis", "left_hip"), ("pelvis", "right_hip"), ("left_hip", "left_knee"),
        ("right_hip", "right_knee"), ("left_knee", "left_ankle"), ("right_knee", "right_ankle"),
        ("neck", "nose"), ("nose", "left_eye"), ("nose", "right_eye"), ("nose", "left_ear"), ("nose", "right_ear")]


@dataclass
class Driving:
    """Retargeted guidance: keypoints (T, 17, 2) pixels of the reference image, confidence (T, 17),
    fps, and the fit (scale pixels per driver unit, the driver's first-frame neck)."""

    keypoints: np.ndarray
    confidence: np.ndarray
    fps: float
    scale: float
    meta: dict


def _ext(k: np.ndarray) -> dict:
    """Joint name -> (..., 2) array, including the virtual neck and pelvis."""
    d = {n: k[..., i, :] for n, i in IDX.items()}
    d["neck"], d["pelvis"] = neck(k), pelvis(k)
    return d


def project_3d(joints: np.ndarray) -> np.ndarray:
    """(T, J, 3) metres, Y-up SMPL joints -> (T, J, 2) orthographic front view (x = dancer's left, y down).

    The yaw is fixed from frame 0 (hip across vector), so turning in the dance is kept.
    """
    across = joints[0, 1] - joints[0, 2]  # SMPL left_hip - right_hip
    yaw = np.arctan2(-across[2], across[0])  # rotation about Y that makes `across` point to +X
    c, s = np.cos(yaw), np.sin(yaw)
    x = c * joints[..., 0] - s * joints[..., 2]
    return np.stack([x, -joints[..., 1]], -1)


def driver_2d(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """Any supported motion -> COCO-17 (T, 17, 2) in driver units and confidence (T, 17)."""
    j = np.asarray(motion.positions(), np.float64)
    src = motion.meta.get("source")
    if motion.skeleton not in ("smpl24", "smplh52", "coco17", "mediapipe33"):
        raise InputError(f"cannot drive a photo with skeleton '{motion.skeleton}' "
                         "(use smpl24/smplh52 3D dances or coco17/mediapipe33 keypoints)", src)
    conf = np.ones(j.shape[:2], np.float32) if motion.confidence is None else np.asarray(motion.confidence)
    if j.shape[-1] == 3:
        j = project_3d(j)
    k = to_coco17(j, motion.skeleton)
    c = to_coco17(conf[..., None], motion.skeleton)[..., 0]
    k = np.where(np.isfinite(k), k, 0.0)
    return k, np.where(np.isfinite(k).all(-1), c, 0.0).astype(np.float32)


def _first_good(c: np.ndarray) -> int:
    ok = (c[:, [IDX["left_shoulder"], IDX["right_shoulder"], IDX["left_hip"], IDX["right_hip"]]] >= 0.3).all(1)
    if not ok.any():
        raise InputError("the driving motion never shows both shoulders and hips")
    return int(np.argmax(ok))


def fit(motion: Motion, ref_kp: np.ndarray, ref_conf: np.ndarray, fps: float | None = None,
        thr: float = 0.5) -> Driving:
    """Retarget ``motion`` to the photo's keypoints ``ref_kp`` (17, 2) / ``ref_conf`` (17,) (see module doc).

    ``fps``: output frame rate (linear resampling in time); None keeps the motion's.
    """
    k, c = driver_2d(motion)
    f0 = _first_good(c)
    rk = _ext(ref_kp.astype(np.float64))
    rc = {n: ref_conf[i] for n, i in IDX.items()}
    rc["neck"] = min(rc["left_shoulder"], rc["right_shoulder"])
    rc["pelvis"] = min(rc["left_hip"], rc["right_hip"])
    if rc["neck"] < 0.3:
        raise InputError("the photo's shoulders are not visible; cannot fit the dance to it")
    d0 = k[f0]
    if rc["pelvis"] >= thr:
        s = float(torso_length(ref_kp) / max(torso_length(d0), 1e-9))
    else:
        s = float(shoulder_width(ref_kp) / max(shoulder_width(d0), 1e-9))
    dk, d0e = _ext(k), _ext(d0)
    out = {"neck": rk["neck"] + s * (dk["neck"] - d0e["neck"])}
    for par, ch in TREE:
        v = dk[ch] - dk[par]
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        u = np.where(n > 1e-9, v / np.maximum(n, 1e-9), 0.0)
        if rc[par] >= thr and rc[ch] >= thr:
            length = float(np.linalg.norm(rk[ch] - rk[par]))
        else:
            length = s * float(np.linalg.norm(d0e[ch] - d0e[par]))
        out[ch] = out[par] + u * length
    kp = np.stack([out[n] for n in IDX], 1)
    if fps is not None and abs(fps - motion.fps) > 1e-6:
        kp, c = resample(kp, motion.fps, fps), resample(c, motion.fps, fps)
    return Driving(kp.astype(np.float32), c.astype(np.float32), float(fps or motion.fps), s,
                   {"first_frame": f0, "camera": "orthographic front view, fitted to the photo" if
                    motion.positions().shape[-1] == 3 else "2D driver scaled to the photo"})


def resample(x: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear resampling of (T, ...) along time: round(T * fps_out / fps_in) frames."""
    n = max(1, int(round(len(x) * fps_out / fps_in)))
    t = np.arange(n) * (fps_in / fps_out)
    i0 = np.clip(np.floor(t).astype(int), 0, len(x) - 1)
    i1 = np.clip(i0 + 1, 0, len(x) - 1)
    w = np.clip(t - i0, 0, 1).reshape((-1,) + (1,) * (x.ndim - 1))
    return x[i0] * (1 - w) + x[i1] * w
