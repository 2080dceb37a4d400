"""The 3D dance generator <-> the checkpoint envelope (:mod:`choreogen.checkpoints`).

Envelope of task "dance3d": ``config`` = GeneratorConfig JSON (architecture, diffusion, skeleton,
fps, window, music feature kind, genres, training hyper-parameters); tensors ``model.<name>``
(EMA weights of the denoiser) and ``normaliser.lo`` / ``normaliser.hi`` (min/max feature
normaliser); latent generators (``config.ae`` set) add ``ae.<name>`` (the motion autoencoder), and
their ``normaliser.lo/hi`` standardise the autoencoder's input (root velocity representation) while
``normaliser.latent_lo/latent_hi`` standardise its latents; ``provenance`` (steps, wall time, hardware, date, validation numbers and the
training data summary under ``data``). Loading never executes code.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ... import checkpoints
from ...errors import ConfigError, InputError
from ...models.denoiser import DanceDenoiser
from ...motion.representation import Normalizer
from .config import GeneratorConfig

TASK = "dance3d"
DEFAULT = "dance3d-latent"


@dataclass
class LoadedGenerator:
    model: DanceDenoiser
    config: GeneratorConfig
    normalizer: Normalizer
    data: dict
    provenance: dict
    path: Path
    ae: object = None  # choreogen.models.motion_ae.MotionAE for latent generators
    latent_normalizer: Normalizer | None = None

    @property
    def model_id(self) -> str:
        return self.provenance.get("model_id") or self.path.stem


def save_generator(
    path: str | os.PathLike, model: DanceDenoiser, config: GeneratorConfig, normalizer: Normalizer,
    data: dict | None = None, provenance: dict | None = None, ae=None, latent_normalizer: Normalizer | None = None,
    half: bool = False,
) -> Path:
    tensors = {f"model.{k}": v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    tensors.update({f"normaliser.{k.split('.', 1)[1]}": torch.as_tensor(v) for k, v in normalizer.state_dict().items()})
    if config.latent:
        if ae is None or latent_normalizer is None:
            raise ConfigError("a latent generator config needs its autoencoder and latent normaliser")
        tensors.update({f"ae.{k}": v.detach().to("cpu", torch.float32) for k, v in ae.state_dict().items()})
        tensors["normaliser.latent_lo"] = torch.as_tensor(latent_normalizer.lo)
        tensors["normaliser.latent_hi"] = torch.as_tensor(latent_normalizer.hi)
    prov = dict(provenance or {}, data=data or {})
    env = checkpoints.Envelope(TASK, config.to_dict(), tensors, prov, {"kind": "minmax", "range": [-1, 1]})
    return checkpoints.write(path, env, half=half)


def from_envelope(env: checkpoints.Envelope, device: str | torch.device = "cpu") -> LoadedGenerator:
    """Build the denoiser + normaliser of a "dance3d" envelope; InputError for mismatches."""
    p = env.path
    try:
        config = GeneratorConfig.from_dict(env.config)
    except (KeyError, ValueError, TypeError, ConfigError) as e:
        raise InputError(f"checkpoint config is incompatible with this choreogen: {e}", p) from None
    model = DanceDenoiser(config.model)
    try:
        model.load_state_dict(env.part("model.", torch.float32), strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0][:200]
        raise InputError(f"checkpoint weights do not match its config ({first})", p) from None
    norm = env.part("normaliser.")
    if "lo" not in norm or "hi" not in norm:
        raise InputError("checkpoint has no normaliser", p)
    normalizer = Normalizer.from_state_dict({"normalizer.lo": norm["lo"], "normalizer.hi": norm["hi"]})
    ae = latent_norm = None
    if config.latent:
        from ...models.motion_ae import MotionAE, MotionAEConfig

        if "latent_lo" not in norm or "latent_hi" not in norm:
            raise InputError("latent generator checkpoint has no latent normaliser", p)
        try:
            ae = MotionAE(MotionAEConfig(**config.ae))
            ae.load_state_dict(env.part("ae.", torch.float32), strict=True)
        except (TypeError, ValueError, RuntimeError) as e:
            first = str(e).strip().splitlines()[0][:200]
            raise InputError(f"checkpoint autoencoder does not match its config ({first})", p) from None
        ae.eval().to(device)
        latent_norm = Normalizer(norm["latent_lo"].float().numpy(), norm["latent_hi"].float().numpy())
    model.eval().to(device)
    prov = dict(env.provenance)
    data = prov.pop("data", {}) or {}
    return LoadedGenerator(model=model, config=config, normalizer=normalizer, data=data, provenance=prov, path=p,
                           ae=ae, latent_normalizer=latent_norm)


def load_generator(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LoadedGenerator:
    """A bundled name or a checkpoint file -> :class:`LoadedGenerator` (cached per file and device)."""
    return checkpoints.load_model(path, TASK, lambda env: from_envelope(env, device), default=DEFAULT,
                                  key=(str(device),))
