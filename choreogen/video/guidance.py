"""Pose guidance maps from 2D skeletons (the SDGPip-style maps that need no SMPL mesh).

* :func:`heatmaps`: (T, 17, R, R) float32 keypoint heatmaps, a Gaussian of ``sigma`` map pixels at
  each COCO-17 joint, times its confidence (0 for missing joints).
* :func:`part_maps`: (T, 10, R, R) float32 part maps in :data:`~.animator.PARTS` order: the torso
  quadrilateral (shoulders + hips), the head as a disc around the nose, and each limb bone as a
  line ``width`` x torso length thick; anti-aliased, values in [0, 1].
Keypoints are pixels of an S x S frame (``frame``); maps are R x R (default 64, as in M2PEnc).
"""
from __future__ import annotations

import numpy as np

from .animator import PARTS
from .body2d import BONES, IDX, torso_length


def heatmaps(keypoints: np.ndarray, confidence: np.ndarray, frame: int, res: int = 64,
             sigma: float = 1.5) -> np.ndarray:
    """(T, 17, 2) px of a ``frame``-sized image, (T, 17) -> (T, 17, res, res); peak = confidence."""
    k = np.asarray(keypoints, np.float32) * (res / frame)
    g = np.arange(res, dtype=np.float32) + 0.5
    dx = np.exp(-((g[None, None, :] - k[..., 0:1]) ** 2) / (2 * sigma ** 2))  # (T, 17, R)
    dy = np.exp(-((g[None, None, :] - k[..., 1:2]) ** 2) / (2 * sigma ** 2))
    return (dy[..., :, None] * dx[..., None, :] * np.asarray(confidence, np.float32)[..., None, None]).astype(np.float32)


def part_maps(keypoints: np.ndarray, confidence: np.ndarray, frame: int, res: int = 64, width: float = 0.18,
              thr: float = 0.3) -> np.ndarray:
    """(T, 17, 2) px, (T, 17) -> (T, 10, res, res) part maps (see module doc); parts with a joint
    under ``thr`` confidence are left empty."""
    import cv2

    up = 4  # draw at 4x with integer coordinates, then area-downsample: anti-aliasing
    k = np.asarray(keypoints, np.float64) * (res / frame)
    out = np.zeros((len(k), len(PARTS), res, res), np.float32)
    bone = {b[0]: (IDX[b[1]], IDX[b[2]]) for b in BONES}
    for t in range(len(k)):
        kt, ct = k[t], confidence[t]
        w = max(1, int(round(width * float(torso_length(kt)) * up)))
        for p, name in enumerate(PARTS):
            canvas = np.zeros((res * up, res * up), np.uint8)
            if name == "torso":
                ii = [IDX["left_shoulder"], IDX["right_shoulder"], IDX["right_hip"], IDX["left_hip"]]
                if (ct[ii] >= thr).all():
                    cv2.fillConvexPoly(canvas, np.round(kt[ii] * up).astype(np.int32), 255)
            elif name == "head":
                if ct[IDX["nose"]] >= thr:
                    c = tuple(int(v) for v in np.round(kt[IDX["nose"]] * up))
                    cv2.circle(canvas, c, max(1, int(round(0.6 * w))), 255, -1)
            else:
                a, b = bone[name]
                if ct[a] >= thr and ct[b] >= thr:
                    pa = tuple(int(v) for v in np.round(kt[a] * up))
                    pb = tuple(int(v) for v in np.round(kt[b] * up))
                    cv2.line(canvas, pa, pb, 255, w)
            out[t, p] = cv2.resize(canvas, (res, res), interpolation=cv2.INTER_AREA) / 255.0
    return out
