"""RefinedAnimator: the geometric warp corrected by the learned refiner (:mod:`choreogen.models.refiner`).

Per frame: :meth:`GeometricAnimator.warp` gives the warped photo over its inpainted background and
the person coverage alpha at the output size S; they are area-downsampled to the refiner's R (128)
and stacked with the driving pose's part maps (:func:`.guidance.render_torch` at R) and the
reference photo + its person mask at R (:func:`refiner_inputs`, the same function builds the
training inputs). The refiner's residual and blend mask are upsampled to S and applied to the
full-resolution warp (:func:`~choreogen.models.refiner.compose`), so where the mask stays closed
the photo's own pixels pass through at full resolution (with the shipped gated model: everywhere
the warp covers and away from the body, whatever the network says).

Temporal consistency: no randomness and no state between frames; a frame is a deterministic
function of its skeleton (and the reference), and both the warp and the network are continuous in
it, so smooth skeletons give smooth videos (the flicker is measured in docs/VIDEO.md).

Checkpoints (task "video.refiner", :mod:`choreogen.checkpoints` envelope): ``config`` =
{"model": RefinerConfig, "info": training summary}; tensors ``model.*``. The bundled one is
``refiner`` (choreogen/assets/models/refiner.safetensors).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from .. import checkpoints
from ..errors import InputError
from ..models.refiner import Refiner, RefinerConfig, compose, near_body
from .animator import Animator, GeometricAnimator
from .guidance import render_torch
from .reference import Reference

TASK, DEFAULT = "video.refiner", "refiner"


def downsample(img: np.ndarray, res: int) -> np.ndarray:
    """(S, S[, C]) array -> (res, res[, C]) float32 (area averaging; identity when S == res)."""
    import cv2

    img = np.asarray(img, np.float32)
    if img.shape[0] == res:
        return img
    return cv2.resize(img, (res, res), interpolation=cv2.INTER_AREA)


def refiner_inputs(warp: torch.Tensor, alpha: torch.Tensor, keypoints: torch.Tensor, confidence: torch.Tensor,
                   frame: float, ref: torch.Tensor, ref_mask: torch.Tensor) -> torch.Tensor:
    """Batched refiner input (B, 18, R, R): warp (B, 3, R, R) and ref (B, 3, R, R) in [0, 1], alpha and
    ref_mask (B, 1, R, R) in [0, 1], driving keypoints (B, 17, 2) pixels of a ``frame``-sized image,
    confidence (B, 17). Channel order: :data:`choreogen.models.refiner.IN_CHANNELS` (module doc there)."""
    R = warp.shape[-1]
    _, parts = render_torch(keypoints.float(), confidence.float(), frame, res=R)
    return torch.cat([warp, alpha, parts, ref, ref_mask], 1)


def save_refiner(model: Refiner, path: str | os.PathLike, info: dict, half: bool = False) -> Path:
    info = json.loads(json.dumps(info, default=str))
    env = checkpoints.Envelope(TASK, {"model": model.cfg.to_dict(), "info": info},
                               {f"model.{k}": v for k, v in model.state_dict().items()},
                               provenance={k: info[k] for k in ("steps", "data", "validation", "wall_minutes",
                                                               "machine", "date") if k in info})
    return checkpoints.write(path, env, half=half)


def _build(env: checkpoints.Envelope) -> Refiner:
    try:
        cfg = RefinerConfig.from_dict(env.config["model"])
        model = Refiner(cfg)
    except (KeyError, TypeError, ValueError) as e:
        raise InputError(f"refiner checkpoint config is incomplete or invalid ({e})", env.path) from None
    try:
        model.load_state_dict(env.part("model.", torch.float32))
    except RuntimeError as e:
        raise InputError(f"refiner checkpoint weights do not match its config ({str(e).splitlines()[0]})",
                         env.path) from None
    return model.eval()


def load_refiner(path: str | os.PathLike | None = None) -> Refiner:
    """A refiner checkpoint (bundled name or path; None = the bundled ``refiner``) -> model; cached."""
    return checkpoints.load_model(path, TASK, _build, default=DEFAULT)


class RefinedAnimator(Animator):
    """:class:`GeometricAnimator` + refiner (see module doc). ``refiner``: a :class:`Refiner`, a
    checkpoint path or bundled name (None = the bundled one); ``geometric``: the warp's options."""

    def __init__(self, refiner: Refiner | str | os.PathLike | None = None, geometric: GeometricAnimator | None = None):
        self.model = refiner if isinstance(refiner, Refiner) else load_refiner(refiner)
        self.model.eval()
        self.geo = geometric or GeometricAnimator()

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None) -> "RefinedAnimator":
        return cls(path)

    def prepare(self, reference: Reference) -> None:
        self.geo.prepare(reference)
        self.ref = reference
        R = self.model.cfg.res
        img = downsample(reference.image.astype(np.float32) / 255.0, R)
        msk = downsample(np.clip(reference.mask, 0, 1), R)
        self._ref = torch.from_numpy(img.transpose(2, 0, 1).copy())[None]
        self._ref_mask = torch.from_numpy(msk)[None, None]

    def refine(self, keypoints: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(frame (S, S, 3) float32 in [0, 1], blend mask (S, S), warp alpha (S, S)) for one skeleton."""
        warp, alpha = self.geo.warp(keypoints, confidence)
        R, S = self.model.cfg.res, warp.shape[0]
        w_r = torch.from_numpy(downsample(warp, R).transpose(2, 0, 1).copy())[None]
        a_r = torch.from_numpy(downsample(alpha, R))[None, None]
        x = refiner_inputs(w_r, a_r, torch.as_tensor(np.asarray(keypoints, np.float32))[None],
                           torch.as_tensor(np.asarray(confidence, np.float32))[None], S, self._ref, self._ref_mask)
        with torch.no_grad():
            res, logit = self.model(x)
            gate = {"alpha": torch.from_numpy(alpha)[None, None], "near": near_body(x, self.model.cfg.grow)} \
                if self.model.cfg.gate else {}
            out, m = compose(torch.from_numpy(warp.transpose(2, 0, 1).copy())[None], res, logit, **gate)
        return out[0].numpy().transpose(1, 2, 0), m[0, 0].numpy(), alpha

    def render(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        out, _, _ = self.refine(keypoints, confidence)
        return (out * 255 + 0.5).astype(np.uint8)
