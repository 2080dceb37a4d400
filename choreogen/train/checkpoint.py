"""Self-describing generator checkpoints (safetensors: loading never executes code).

File layout: tensors ``model.<name>`` (EMA weights of the denoiser) and ``normalizer.lo`` /
``normalizer.hi``; string metadata ``format`` = "choreogen-generator", ``format_version``,
``config`` (GeneratorConfig JSON: architecture, diffusion, skeleton, fps, window, music feature
kind, genre list, training hyper-parameters), ``data`` (summary of the training data manifest),
``provenance`` (JSON: steps, wall time, hardware, date, validation numbers).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from safetensors import safe_open

from ..errors import ConfigError, InputError
from ..fileio import atomic_path, require_file
from ..models.denoiser import DanceDenoiser
from ..motion.representation import Normalizer
from .config import GeneratorConfig

FORMAT = "choreogen-generator"
FORMAT_VERSION = "1"


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
    tensors = {f"model.{k}": v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    tensors.update({k: v.contiguous() for k, v in normalizer.state_dict().items()})
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": config.to_json(),
        "data": json.dumps(data or {}, sort_keys=True, default=str),
        "provenance": json.dumps(provenance or {}, sort_keys=True, default=str),
    }
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(tensors, str(tmp), metadata=meta)
    return Path(path)


def read_metadata(path: str | os.PathLike) -> dict:
    p = require_file(path, "checkpoint")
    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError, Exception) as e:  # noqa: BLE001
        raise InputError(f"not a readable safetensors checkpoint ({e.__class__.__name__})", p) from None
    return meta


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> LoadedGenerator:
    """Load a generator checkpoint; clear errors for corrupt or incompatible files."""
    p = Path(path)
    meta = read_metadata(p)
    if meta.get("format") != FORMAT:
        raise InputError(f"not a choreogen generator checkpoint (format={meta.get('format')!r})", p)
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(f"checkpoint format version {meta.get('format_version')} is not supported "
                         f"(this choreogen reads version {FORMAT_VERSION})", p)
    try:
        config = GeneratorConfig.from_json(meta["config"])
    except (KeyError, ValueError, TypeError, ConfigError) as e:
        raise InputError(f"checkpoint config is incompatible with this choreogen: {e}", p) from None
    try:
        sd = load_file(str(p), device="cpu")
    except Exception as e:  # noqa: BLE001
        raise InputError(f"checkpoint tensors are unreadable ({e.__class__.__name__})", p) from None
    model = DanceDenoiser(config.model)
    weights = {k[len("model."):]: v for k, v in sd.items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0][:200]
        raise InputError(f"checkpoint weights do not match its config ({first})", p) from None
    if "normalizer.lo" not in sd:
        raise InputError("checkpoint has no normaliser", p)
    normalizer = Normalizer.from_state_dict(sd)
    model.eval().to(device)
    return LoadedGenerator(
        model=model, config=config, normalizer=normalizer,
        data=json.loads(meta.get("data", "{}")), provenance=json.loads(meta.get("provenance", "{}")), path=p,
    )
