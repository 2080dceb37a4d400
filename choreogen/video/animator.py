"""Animators: reference photo + per-frame 2D skeleton -> video frames.

:class:`Animator` is the interface (``prepare(reference)`` once, then ``render(keypoints,
confidence)`` per frame, or ``animate(driving)`` for a whole :class:`~.retarget.Driving`); a learned
refiner or a diffusers-based animator implements the same two methods. :class:`GeometricAnimator` is
the default: 2D linear-blend skinning of the photo.

* Parts: torso, head and the 8 limb bones (:data:`~.body2d.BONES`). Each person pixel gets a soft
  weight per part, a softmax of ``-d^2 / (2 sigma^2)`` over its distance ``d`` to the part's segment
  in the reference (sigma = 6 % of the torso length), so weights blend across elbows, knees, hips,
  shoulders and the neck. Parts whose reference joints are not visible (legs of an upper-body photo)
  are not used; their pixels go to the neighbouring parts.
* Per frame each part's transform is a similarity (limbs, head: the bone's reference endpoints onto
  the frame's) or an affine least-squares fit (torso: shoulders + hips; shoulders only when the photo
  has no hips); a driving joint with confidence < 0.3 makes the bone follow its parent part.
  The premultiplied person layer (colour x mask x weight) is warped per part and summed; the result
  is composited over the background, inpainted once behind the (dilated) person mask.
Everything per frame is a deterministic function of that frame's skeleton (no flicker from
re-estimation). Frames: (S, S, 3) uint8 RGB, S = the reference's size.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator

import numpy as np

from .body2d import BONES, IDX, neck, torso_length
from .reference import Reference
from .retarget import Driving

PARTS = ["torso", "head"] + [b[0] for b in BONES]
PARENT = {"head": "torso", "l_upper_arm": "torso", "r_upper_arm": "torso", "l_thigh": "torso", "r_thigh": "torso",
          "l_forearm": "l_upper_arm", "r_forearm": "r_upper_arm", "l_shin": "l_thigh", "r_shin": "r_thigh"}
_BONE = {b[0]: (b[1], b[2]) for b in BONES}
TORSO = ["left_shoulder", "right_shoulder", "left_hip", "right_hip"]


class Animator(ABC):
    """Reference + guidance -> frames. Implementations must be deterministic per frame."""

    @abstractmethod
    def prepare(self, reference: Reference) -> None:
        """Analyse the reference once (part weights, background, ...)."""

    @abstractmethod
    def render(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        """One frame (S, S, 3) uint8 RGB for COCO-17 ``keypoints`` (17, 2) pixels, ``confidence`` (17,)."""

    def animate(self, driving: Driving) -> Iterator[np.ndarray]:
        for k, c in zip(driving.keypoints, driving.confidence):
            yield self.render(k, c)


def similarity(a0, b0, a1, b1) -> np.ndarray:
    """2x3 similarity mapping segment (a0, b0) onto (a1, b1)."""
    v0, v1 = np.asarray(b0) - a0, np.asarray(b1) - a1
    z = complex(*v1) / complex(*v0) if np.hypot(*v0) > 1e-6 else 1 + 0j
    m = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.hstack([m, (np.asarray(a1) - m @ a0)[:, None]])


def affine_lstsq(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 affine minimising ||A [src;1] - dst|| over (N, 2) point pairs (N >= 3)."""
    x = np.hstack([src, np.ones((len(src), 1))])
    sol, *_ = np.linalg.lstsq(x, dst, rcond=None)
    return sol.T


def _seg_dist(px: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    v = b - a
    t = np.clip(((px - a) @ v) / max(v @ v, 1e-9), 0, 1)
    return np.linalg.norm(px - (a + t[:, None] * v), axis=1)


class GeometricAnimator(Animator):
    """Per-part 2D skinning of the photo (see module doc). ``thr``: reference joint visibility needed."""

    def __init__(self, thr: float = 0.5, sigma: float = 0.06, inpaint_radius: int = 5):
        self.thr, self.sigma, self.inpaint_radius = thr, sigma, inpaint_radius

    def prepare(self, reference: Reference) -> None:
        import cv2

        self.ref = reference
        k, c = reference.keypoints.astype(np.float64), reference.confidence
        self.has_hips = bool(c[IDX["left_hip"]] >= self.thr and c[IDX["right_hip"]] >= self.thr)
        S = reference.size
        alpha = np.clip(reference.mask.astype(np.float32), 0, 1)
        hard = (alpha > 0.3).astype(np.uint8)
        grow = max(3, int(round(S / 32)) | 1)
        hole = cv2.dilate(hard, np.ones((grow, grow), np.uint8))
        self.background = cv2.inpaint(reference.image, hole * 255, self.inpaint_radius, cv2.INPAINT_TELEA)
        segs = self._segments(k, c)
        self.parts = list(segs)
        ys, xs = np.mgrid[0:S, 0:S]
        px = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64) + 0.0
        tl = float(torso_length(k)) if self.has_hips else 1.2 * float(np.linalg.norm(k[5] - k[6]))
        sig = max(self.sigma * tl, 1.0)
        d = np.stack([self._part_dist(px, segs[p]) for p in self.parts])
        logit = -(d ** 2) / (2 * sig * sig)
        w = np.exp(logit - logit.max(0, keepdims=True))
        w /= w.sum(0, keepdims=True)
        img = reference.image.astype(np.float32) / 255.0
        self.layers = []
        for i, _ in enumerate(self.parts):
            wa = (w[i].reshape(S, S) * alpha).astype(np.float32)
            self.layers.append(np.dstack([img * wa[..., None], wa]))
        self.src = k

    def _segments(self, k: np.ndarray, c: np.ndarray) -> dict:
        nk, nose = neck(k), k[IDX["nose"]]
        top = nose + 0.6 * (nose - nk)
        segs = {"torso": ("poly", k[[5, 6, 12, 11]]) if self.has_hips else ("seg", nk, nk + (nk - nose)),
                "head": ("seg", nose, top)}
        for name, (a, b) in _BONE.items():
            if c[IDX[a]] >= self.thr and c[IDX[b]] >= self.thr:
                segs[name] = ("seg", k[IDX[a]], k[IDX[b]])
        return segs

    @staticmethod
    def _part_dist(px: np.ndarray, seg) -> np.ndarray:
        if seg[0] == "seg":
            return _seg_dist(px, seg[1], seg[2])
        poly = seg[1]
        inside = _inside(poly, px)
        d = np.min([_seg_dist(px, poly[i], poly[(i + 1) % 4]) for i in range(4)], axis=0)
        return np.where(inside, 0.0, d)

    def transforms(self, kp: np.ndarray, conf: np.ndarray) -> dict:
        """Part name -> 2x3 affine (reference pixels -> frame pixels) for one frame."""
        k0, k1 = self.src, kp.astype(np.float64)
        if self.has_hips and (conf[[IDX[n] for n in TORSO]] >= 0.3).all():
            ii = [IDX[n] for n in TORSO]
            out = {"torso": affine_lstsq(k0[ii], k1[ii])}
        else:
            out = {"torso": similarity(k0[5], k0[6], k1[5], k1[6])}
        n0, n1 = neck(k0), neck(k1)
        out["head"] = similarity(n0, k0[0], n1, k1[0]) if conf[0] >= 0.3 else out["torso"]
        for name, (a, b) in _BONE.items():
            ia, ib = IDX[a], IDX[b]
            if conf[ia] >= 0.3 and conf[ib] >= 0.3:
                out[name] = similarity(k0[ia], k0[ib], k1[ia], k1[ib])
            else:
                out[name] = out[PARENT[name]]
        return out

    def warp(self, keypoints: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frame before rounding, (S, S, 3) float32 in [0, 1], and the warped person coverage
        (alpha) (S, S) float32 in [0, 1] (0 = background only, e.g. a hole the photo cannot fill)."""
        import cv2

        S = self.ref.size
        M = self.transforms(keypoints, confidence)
        acc = np.zeros((S, S, 4), np.float32)
        for name, layer in zip(self.parts, self.layers):
            acc += cv2.warpAffine(layer, M[name].astype(np.float32), (S, S), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        a = np.clip(acc[..., 3:], 0, 1)
        color = acc[..., :3] / np.maximum(acc[..., 3:], 1e-6)
        out = self.background.astype(np.float32) / 255.0 * (1 - a) + np.clip(color, 0, 1) * a
        return out, a[..., 0]

    def render(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        out, _ = self.warp(keypoints, confidence)
        return (out * 255 + 0.5).astype(np.uint8)


def _inside(poly: np.ndarray, px: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon test for (N, 2) points (vectorised)."""
    x, y = px[:, 0], px[:, 1]
    inside = np.zeros(len(px), bool)
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        cross = ((y1 > y) != (y2 > y)) & (x < (x2 - x1) * (y - y1) / np.where(y2 - y1 == 0, 1e-9, y2 - y1) + x1)
        inside ^= cross
    return inside
