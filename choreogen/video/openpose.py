"""OpenPose-style pose condition images (the input of OpenPose ControlNets) from COCO-17 keypoints.

The convention ControlNet's OpenPose models were trained on: a black canvas, the 18 OpenPose body
points (COCO-17 plus a *neck*, the mid-shoulder point) each with its own colour of a fixed
18-colour hue wheel, the 17 limbs of the OpenPose body tree drawn as filled ellipses in the limb's
colour at 60 % brightness, then the points as filled discs in full colour on top. Stick width and
disc radius are 4 px at 512 px (scaled with the frame). Joints under ``thr`` confidence and limbs
touching them are not drawn. Output: (S, S, 3) uint8 RGB.
"""
from __future__ import annotations

import numpy as np

from .body2d import IDX

# OpenPose-18 body points, in OpenPose order, as COCO-17 names ("neck" = mid-shoulder)
OPENPOSE18 = ["nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
              "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
              "right_eye", "left_eye", "right_ear", "left_ear"]
# the 17 limbs of the OpenPose body tree (indices into OPENPOSE18); limb i has colour COLOURS[i]
LIMBS = [(1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
         (1, 0), (0, 14), (14, 16), (0, 15), (15, 17)]
# 18 colours (RGB) around the hue wheel, red -> yellow -> green -> cyan -> blue -> magenta, 1/18 turn apart
_HUES = [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260, 280, 300, 320, 340]
COLOURS = np.array([[int(round(255 * np.clip(abs(((h / 60 + o) % 6) - 3) - 1, 0, 1))) for o in (0, 4, 2)]
                    for h in _HUES], np.uint8)
LIMB_BRIGHTNESS = 0.6


def to_openpose18(keypoints: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO-17 (17, 2) px, (17,) -> OpenPose-18 (18, 2) px, (18,); the neck's confidence is the
    smaller of the two shoulders'."""
    k = np.asarray(keypoints, np.float64)
    c = np.asarray(confidence, np.float64)
    ls, rs = IDX["left_shoulder"], IDX["right_shoulder"]
    kk, cc = [], []
    for n in OPENPOSE18:
        if n == "neck":
            kk.append(0.5 * (k[ls] + k[rs]))
            cc.append(min(c[ls], c[rs]))
        else:
            kk.append(k[IDX[n]])
            cc.append(c[IDX[n]])
    return np.array(kk), np.array(cc)


def pose_image(keypoints: np.ndarray, confidence: np.ndarray, size: int, thr: float = 0.3) -> np.ndarray:
    """COCO-17 ``keypoints`` (17, 2) pixels of a ``size`` x ``size`` frame, ``confidence`` (17,) ->
    (size, size, 3) uint8 RGB OpenPose-style skeleton (see module doc)."""
    import cv2

    k, c = to_openpose18(keypoints, confidence)
    ok = (c >= thr) & np.isfinite(k).all(1)
    canvas = np.zeros((size, size, 3), np.uint8)
    width = max(1.0, 4.0 * size / 512)
    radius = max(1, int(round(4.0 * size / 512)))
    shift = 4  # sub-pixel drawing: coordinates x 16
    for i, (a, b) in enumerate(LIMBS):
        if not (ok[a] and ok[b]):
            continue
        centre = 0.5 * (k[a] + k[b])
        d = k[b] - k[a]
        half = 0.5 * float(np.hypot(*d))
        angle = int(round(np.degrees(np.arctan2(d[1], d[0]))))
        poly = cv2.ellipse2Poly((int(round(centre[0])), int(round(centre[1]))),
                                (max(1, int(round(half))), max(1, int(round(width)))), angle, 0, 360, 5)
        col = tuple(int(v * LIMB_BRIGHTNESS) for v in COLOURS[i])
        cv2.fillConvexPoly(canvas, poly, col, lineType=cv2.LINE_AA)
    for j in np.flatnonzero(ok):
        p = tuple(int(round(v * (1 << shift))) for v in k[j])
        cv2.circle(canvas, p, radius << shift, tuple(int(v) for v in COLOURS[j]), -1, cv2.LINE_AA, shift)
    return canvas
