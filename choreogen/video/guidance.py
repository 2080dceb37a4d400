"""Pose guidance maps from 2D skeletons (the SDGPip-style maps that need no SMPL mesh).

* :func:`heatmaps`: (T, 17, R, R) float32 keypoint heatmaps, a Gaussian of ``sigma`` map pixels at
  each COCO-17 joint, times its confidence (0 for missing joints).
* :func:`part_maps`: (T, 10, R, R) float32 part maps in :data:`~.animator.PARTS` order: the torso
  quadrilateral (shoulders + hips), the head as a disc around the nose, and each limb bone as a
  line ``width`` x torso length thick; anti-aliased (1 map pixel ramp at the edge), values in [0, 1].
Keypoints are pixels of an S x S frame (``frame``); maps are R x R (default 64, as in M2PEnc).
:func:`render_torch` renders both from torch tensors of any batch shape (used while training M2PEnc,
so training targets and inference maps are the same function); the numpy functions call it.
"""
from __future__ import annotations

import numpy as np
import torch

from .animator import PARTS
from .body2d import BONES, IDX

_BONE = {b[0]: (IDX[b[1]], IDX[b[2]]) for b in BONES}
_LIMBS = [_BONE[p] for p in PARTS[2:]]
_QUAD = [IDX["left_shoulder"], IDX["right_shoulder"], IDX["right_hip"], IDX["left_hip"]]


def _grid(res: int, like: torch.Tensor) -> torch.Tensor:
    g = torch.arange(res, dtype=like.dtype, device=like.device) + 0.5
    return torch.stack(torch.meshgrid(g, g, indexing="xy"), -1)  # (R, R, 2) x, y


def _seg_dist(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """p (R, R, 2); a, b (..., 2) -> (..., R, R) distance to segment ab."""
    a, b = a[..., None, None, :], b[..., None, None, :]
    v = b - a
    t = (((p - a) * v).sum(-1) / (v * v).sum(-1).clamp_min(1e-9)).clamp(0, 1)
    return (p - (a + t[..., None] * v)).norm(dim=-1)


def render_torch(keypoints: torch.Tensor, confidence: torch.Tensor, frame: float, res: int = 64,
                 sigma: float = 1.5, width: float = 0.18, thr: float = 0.3) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 17, 2) px of a ``frame``-sized image, (..., 17) -> heatmaps (..., 17, R, R) and part maps
    (..., 10, R, R) (see the module doc). Differentiable in the keypoints (almost everywhere)."""
    k = keypoints * (res / frame)
    c = confidence
    p = _grid(res, k)
    g = p[0, :, 0]  # (R,) pixel centres
    gx = torch.exp(-((g - k[..., 0:1]) ** 2) / (2 * sigma ** 2))  # (..., 17, R): separable Gaussian
    gy = torch.exp(-((g - k[..., 1:2]) ** 2) / (2 * sigma ** 2)) * c[..., None]
    heat = gy[..., :, None] * gx[..., None, :]  # (..., 17, R, R)
    neck = 0.5 * (k[..., IDX["left_shoulder"], :] + k[..., IDX["right_shoulder"], :])
    pelv = 0.5 * (k[..., IDX["left_hip"], :] + k[..., IDX["right_hip"], :])
    half = 0.5 * width * (neck - pelv).norm(dim=-1)[..., None, None]  # (..., 1, 1) map px
    ok = (c >= thr).to(k.dtype)
    maps = []
    # torso: convex quadrilateral, inside = on the same side of all four edges
    q = k[..., _QUAD, :]
    e0, e1 = q, torch.roll(q, -1, dims=-2)
    ed = e1 - e0
    area = (ed[..., 0] * (e0[..., 1] + e1[..., 1])).sum(-1)  # shoelace sign
    s = torch.where(area < 0, 1.0, -1.0).to(k.dtype)[..., None, None, None]
    cross = (ed[..., None, None, 0] * (p[..., 1] - e0[..., None, None, 1])
             - ed[..., None, None, 1] * (p[..., 0] - e0[..., None, None, 0]))
    sd = s * cross / ed.norm(dim=-1)[..., None, None].clamp_min(1e-9)  # (..., 4, R, R) >0 inside
    torso = (sd.amin(-3) + 0.5).clamp(0, 1) * ok[..., _QUAD].prod(-1)[..., None, None]
    maps.append(torso)
    head_r = 1.2 * half
    maps.append((head_r - (p - k[..., None, None, IDX["nose"], :]).norm(dim=-1) + 0.5).clamp(0, 1)
                * ok[..., IDX["nose"]][..., None, None])
    for a, b in _LIMBS:
        d = _seg_dist(p, k[..., a, :], k[..., b, :])
        maps.append((half - d + 0.5).clamp(0, 1) * (ok[..., a] * ok[..., b])[..., None, None])
    return heat, torch.stack(maps, -3)


def heatmaps(keypoints: np.ndarray, confidence: np.ndarray, frame: int, res: int = 64,
             sigma: float = 1.5) -> np.ndarray:
    """(T, 17, 2) px of a ``frame``-sized image, (T, 17) -> (T, 17, res, res); peak = confidence."""
    with torch.no_grad():
        h, _ = render_torch(torch.as_tensor(np.asarray(keypoints, np.float32)),
                            torch.as_tensor(np.asarray(confidence, np.float32)), frame, res, sigma)
    return h.numpy()


def part_maps(keypoints: np.ndarray, confidence: np.ndarray, frame: int, res: int = 64, width: float = 0.18,
              thr: float = 0.3) -> np.ndarray:
    """(T, 17, 2) px, (T, 17) -> (T, 10, res, res) part maps (see module doc); parts with a joint
    under ``thr`` confidence are left empty."""
    with torch.no_grad():
        _, m = render_torch(torch.as_tensor(np.asarray(keypoints, np.float32)),
                            torch.as_tensor(np.asarray(confidence, np.float32)), frame, res, width=width, thr=thr)
    return m.numpy()
