"""The 3D dance generator <-> the checkpoint envelope (:mod:`choreogen.checkpoints`).

Envelope of task "dance3d": ``config`` = GeneratorConfig JSON (architecture, diffusion, skeleton,
fps, window, music feature kind, genres, training hyper-parameters); tensors ``model.<name>``
(EMA weights of the denoiser) and ``normaliser.lo`` / ``normaliser.hi`` (min/max feature
normaliser); ``provenance`` (steps, wall time, hardware, date, validation numbers and the
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
DEFAULT = "dance3d"


@dataclass
class LoadedGenerator:
    model: DanceDenoiser
    config: GeneratorConfig
    normalizer: Normalizer
    data: dict
    provenance: dict
    path: Path

    @property
    def model_id(self) -> str:
        return self.provenance.get("model_id") or self.path.stem


def save_generator(
    path: str | os.PathLike, model: DanceDenoiser, config: GeneratorConfig, normalizer: Normalizer,
    data: dict | None = None, provenance: dict | None = None,
) -> Path:
    tensors = {f"model.{k}": v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    tensors.update({f"normaliser.{k.split('.', 1)[1]}": torch.as_tensor(v) for k, v in normalizer.state_dict().items()})
    prov = dict(provenance or {}, data=data or {})
    env = checkpoints.Envelope(TASK, config.to_dict(), tensors, prov, {"kind": "minmax", "range": [-1, 1]})
    return checkpoints.write(path, env)


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
    model.eval().to(device)
    prov = dict(env.provenance)
    data = prov.pop("data", {}) or {}
    return LoadedGenerator(model=model, config=config, normalizer=normalizer, data=data, provenance=prov, path=p)


def load_generator(path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> LoadedGenerator:
    """A bundled name or a checkpoint file -> :class:`LoadedGenerator` (cached per file and device)."""
    return checkpoints.load_model(path, TASK, lambda env: from_envelope(env, device), default=DEFAULT,
                                  key=(str(device),))
