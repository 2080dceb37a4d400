"""Skeleton-task models <-> the checkpoint envelope (:mod:`choreogen.checkpoints`).

* task "skeleton.repair": ``config`` = {"model": SkeletonVAEConfig, "info": skeleton, fps,
  window, loss, normalisation, training provenance}; tensors ``model.*``.
* task "skeleton.generate": ``config`` = {"vae": SkeletonVAEConfig, "denoiser": DenoiserConfig,
  "info": skeleton, dim, fps, window, overlap, music kind, schedule, guidance, ...}; tensors
  ``vae.*``, ``denoiser.*`` and the standardisation statistics ``normaliser.{music,latent}_{mean,std}``.

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
from ...models.denoiser import DanceDenoiser, DenoiserConfig
from ...models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig

REPAIR, GENERATE = "skeleton.repair", "skeleton.generate"


@dataclass
class SkelGen:
    """A loaded skeleton generator: pure VAE + latent denoiser + statistics + info.

    stats: music_mean/music_std (Da,), latent_mean/latent_std (C,) float32 tensors.
    info: skeleton, dim, fps, window, overlap, music_kind, num_steps, schedule, guidance, ...
    """

    vae: SkeletonVAE
    denoiser: DanceDenoiser
    stats: dict
    info: dict


def save_vae(model: SkeletonVAE, path: str | os.PathLike, info: dict, half: bool = False) -> Path:
    """Write a repair VAE (weights, config) and ``info`` atomically (``half``: float16 weights)."""
    env = checkpoints.Envelope(REPAIR, {"model": model.cfg.to_dict(), "info": json.loads(json.dumps(info, default=str))},
                               {f"model.{k}": v for k, v in model.state_dict().items()},
                               provenance={k: info[k] for k in ("steps", "data", "heldout") if k in info})
    return checkpoints.write(path, env, half=half)


def _build_vae(env: checkpoints.Envelope) -> tuple[SkeletonVAE, dict]:
    model = SkeletonVAE(SkeletonVAEConfig.from_dict(env.config["model"]))
    try:
        model.load_state_dict(env.part("model.", torch.float32))
    except RuntimeError as e:
        raise InputError(f"checkpoint weights do not match its config ({str(e).splitlines()[0]})", env.path) from None
    return model.eval(), dict(env.config.get("info", {}))


def load_vae(path: str | os.PathLike) -> tuple[SkeletonVAE, dict]:
    """A repair checkpoint (bundled name or path) -> (model in eval mode, info dict); cached."""
    return checkpoints.load_model(path, REPAIR, _build_vae)


def save_skelgen(gen: SkelGen, path: str | os.PathLike, half: bool = False) -> Path:
    """Write a :class:`SkelGen` atomically (``half``: float16 weights; statistics stay float32)."""
    t = {f"vae.{k}": v for k, v in gen.vae.state_dict().items()}
    t.update({f"denoiser.{k}": v for k, v in gen.denoiser.state_dict().items()})
    t.update({f"normaliser.{k}": v.detach().float() for k, v in gen.stats.items()})
    info = json.loads(json.dumps(gen.info, default=str))
    cfg = {"vae": gen.vae.cfg.to_dict(), "denoiser": gen.denoiser.cfg.to_dict(), "info": info}
    env = checkpoints.Envelope(GENERATE, cfg, t, {k: info[k] for k in ("steps_trained", "data", "heldout") if k in info},
                               {"kind": "standardise", "music": "(x - music_mean) / music_std",
                                "latent": "(z - latent_mean) / latent_std"})
    return checkpoints.write(path, env, half=half)


def _build_skelgen(env: checkpoints.Envelope) -> SkelGen:
    try:
        vae = SkeletonVAE(SkeletonVAEConfig.from_dict(env.config["vae"]))
        dcfg = env.config["denoiser"]
        den = DanceDenoiser(DenoiserConfig(**{k: v for k, v in dcfg.items() if k in DenoiserConfig.__dataclass_fields__}))
        vae.load_state_dict(env.part("vae.", torch.float32))
        den.load_state_dict(env.part("denoiser.", torch.float32))
    except (KeyError, RuntimeError, TypeError) as e:
        raise InputError(f"checkpoint weights do not match its config ({str(e).splitlines()[0]})", env.path) from None
    return SkelGen(vae.eval(), den.eval(), env.part("normaliser.", torch.float32), dict(env.config.get("info", {})))


def load_skelgen(path: str | os.PathLike) -> SkelGen:
    """A skeleton-generation checkpoint (bundled name or path) -> :class:`SkelGen`; cached."""
    return checkpoints.load_model(path, GENERATE, _build_skelgen)
