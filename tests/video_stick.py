"""A drawn stick figure with known COCO-17 keypoints: a Reference without any detector."""
from __future__ import annotations

import cv2
import numpy as np

from choreogen.video.reference import Reference

KP = np.array([[128, 50], [134, 45], [122, 45], [140, 50], [116, 50], [156, 80], [100, 80], [166, 120],
               [90, 120], [170, 160], [86, 160], [145, 150], [111, 150], [147, 195], [109, 195], [148, 238],
               [108, 238]], np.float32)
LIMBS = [(5, 7, (0, 200, 0)), (7, 9, (0, 120, 255)), (6, 8, (0, 200, 200)), (8, 10, (255, 0, 255)),
         (11, 13, (255, 255, 0)), (13, 15, (120, 60, 0)), (12, 14, (0, 90, 0)), (14, 16, (60, 0, 120))]


def stick_reference(upper_body: bool = False, size: int = 256) -> Reference:
    """Checkerboard background + red torso, skin head, one colour per limb (thickness 12 px)."""
    yy, xx = np.mgrid[0:size, 0:size]
    bg = np.where(((xx // 16 + yy // 16) % 2)[..., None] == 0, 200, 150).astype(np.uint8).repeat(3, 2)
    person = np.zeros((size, size, 3), np.uint8)
    mask = np.zeros((size, size), np.uint8)
    k = KP.astype(np.int32)
    for img, col in ((person, (220, 30, 30)), (mask, 255)):
        cv2.fillConvexPoly(img, k[[5, 6, 12, 11]], col)
        cv2.circle(img, tuple(int(v) for v in k[0]), 18, (230, 190, 160) if img is person else 255, -1)
    for a, b, col in LIMBS:
        if upper_body and a >= 11:
            continue
        for img, c in ((person, col), (mask, 255)):
            cv2.line(img, tuple(int(v) for v in k[a]), tuple(int(v) for v in k[b]), c, 12)
    m = mask > 0
    image = np.where(m[..., None], person, bg)
    conf = np.ones(17, np.float32)
    if upper_body:
        conf[11:] = 0.05
    return Reference(image, m.astype(np.float32), KP.copy(), conf, "stick.png", {"full_body": not upper_body})
