"""Latent-flow models <-> the checkpoint envelope (:mod:`choreogen.checkpoints`).

* task "flowvideo.lfae": ``config`` = {"model": LFAEConfig, "info": size, fps, training summary};
  tensors ``model.*``.
* task "flowvideo.diffusion": ``config`` = {"model": FlowUNetConfig, "info": window (frames),
  fps, music kind, schedule steps, sampling steps, guidance, the LFAE it was trained with};
  tensors ``model.*`` and ``normaliser.{flow_mean, flow_std}`` (3,) (flow x, flow y, occlusion)
  and ``normaliser.{music_mean, music_std}`` (Dm,).

Loading reads tensors and JSON only; models are built here and cached by
:func:`choreogen.checkpoints.load_model`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ... import checkpoints
from ...errors import InputError
from ...models.flow_ae import LatentFlowAE, LFAEConfig
from ...models.flow_unet import FlowUNet, FlowUNetConfig

LFAE, DIFFUSION = "flowvideo.lfae", "flowvideo.diffusion"
DEFAULT_LFAE, DEFAULT_DIFFUSION = "flow-lfae", "flow-video"


@dataclass
class FlowGen:
    """A loaded flow generator: denoiser + statistics (flow_mean/std (3,), music_mean/std (Dm,)) + info."""

    model: FlowUNet
    stats: dict
    info: dict


def _clean(info: dict) -> dict:
    return json.loads(json.dumps(info, default=str))


def save_lfae(model: LatentFlowAE, path: str | os.PathLike, info: dict, half: bool = False) -> Path:
    env = checkpoints.Envelope(LFAE, {"model": model.cfg.to_dict(), "info": _clean(info)},
                               {f"model.{k}": v for k, v in model.state_dict().items()},
                               provenance={k: info[k] for k in ("steps", "data", "validation") if k in info})
    return checkpoints.write(path, env, half=half)


def _load_weights(model, env, prefix="model."):
    try:
        model.load_state_dict(env.part(prefix, torch.float32))
    except RuntimeError as e:
        raise InputError(f"checkpoint weights do not match its config ({str(e).splitlines()[0]})", env.path) from None
    return model.eval()


def _build_lfae(env: checkpoints.Envelope) -> tuple[LatentFlowAE, dict]:
    try:
        cfg = LFAEConfig.from_dict(env.config["model"])
    except (KeyError, TypeError) as e:
        raise InputError(f"checkpoint config is incomplete ({e})", env.path) from None
    return _load_weights(LatentFlowAE(cfg), env), dict(env.config.get("info", {}))


def load_lfae(path: str | os.PathLike | None = None) -> tuple[LatentFlowAE, dict]:
    """An LFAE checkpoint (bundled name or path; None = the bundled one) -> (model, info); cached."""
    return checkpoints.load_model(path, LFAE, _build_lfae, default=DEFAULT_LFAE)


def save_flowgen(gen: FlowGen, path: str | os.PathLike, half: bool = False) -> Path:
    t = {f"model.{k}": v for k, v in gen.model.state_dict().items()}
    t.update({f"normaliser.{k}": v.detach().float() for k, v in gen.stats.items()})
    info = _clean(gen.info)
    env = checkpoints.Envelope(DIFFUSION, {"model": gen.model.cfg.to_dict(), "info": info}, t,
                               {k: info[k] for k in ("steps", "data", "validation") if k in info},
                               {"kind": "standardise", "flow": "(a - flow_mean) / flow_std",
                                "music": "(m - music_mean) / music_std"})
    return checkpoints.write(path, env, half=half)


def _build_flowgen(env: checkpoints.Envelope) -> FlowGen:
    try:
        cfg = FlowUNetConfig.from_dict(env.config["model"])
        stats = {k: env.tensors[f"normaliser.{k}"].float() for k in ("flow_mean", "flow_std", "music_mean", "music_std")}
    except (KeyError, TypeError) as e:
        raise InputError(f"checkpoint is incomplete (missing {e})", env.path) from None
    return FlowGen(_load_weights(FlowUNet(cfg), env), stats, dict(env.config.get("info", {})))


def load_flowgen(path: str | os.PathLike | None = None) -> FlowGen:
    """A flow-diffusion checkpoint (bundled name or path; None = the bundled one); cached."""
    return checkpoints.load_model(path, DIFFUSION, _build_flowgen, default=DEFAULT_DIFFUSION)
