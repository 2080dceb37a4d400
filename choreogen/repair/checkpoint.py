"""Repair-model checkpoints: safetensors weights with the JSON config in the file's metadata.

Loading reads tensors and a JSON string only -- it never unpickles or executes anything.
Metadata keys: ``format`` = "choreogen.skeleton_vae", ``version``, ``config`` (SkeletonVAEConfig
as JSON), ``info`` (JSON: skeleton name, fps, loss, normalisation, training provenance).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ..errors import InputError
from ..fileio import atomic_path
from ..models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig

FORMAT = "choreogen.skeleton_vae"
VERSION = "1"


def save_vae(model: SkeletonVAE, path: str | os.PathLike, info: dict, half: bool = False) -> Path:
    """Write ``model`` (weights, config) and ``info`` to a safetensors file atomically.

    ``half`` stores float16 weights (half the size; loaded back as float32)."""
    from safetensors.torch import save_file

    sd = {k: (v.detach().half() if half and v.is_floating_point() else v.detach()).contiguous().cpu()
          for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "version": VERSION, "config": json.dumps(model.cfg.to_dict()),
            "info": json.dumps(info, default=str)}
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file(sd, str(tmp), metadata=meta)
    return Path(path)


def load_vae(path: str | os.PathLike) -> tuple[SkeletonVAE, dict]:
    """Read a checkpoint written by :func:`save_vae`. Returns (model in eval mode, info dict)."""

    p = Path(path)
    if not p.is_file():
        raise InputError("repair model checkpoint not found", p)
    meta, sd = read_safetensors(p)
    if meta.get("format") != FORMAT:
        raise InputError(f"not a skeleton-repair checkpoint (format={meta.get('format')!r})", p)
    cfg = SkeletonVAEConfig.from_dict(json.loads(meta["config"]))
    model = SkeletonVAE(cfg)
    try:
        model.load_state_dict({k: v.float() for k, v in sd.items()})
    except RuntimeError as e:
        raise InputError(f"checkpoint weights do not match its config ({str(e).splitlines()[0]})", p) from None
    model.eval()
    return model, json.loads(meta.get("info", "{}"))


def read_safetensors(p: Path) -> tuple[dict, dict]:
    """(metadata, tensors) of a safetensors file; InputError naming the file if unreadable."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    try:
        with safe_open(str(p), framework="pt") as f:
            meta = f.metadata() or {}
        return meta, load_file(str(p))
    except (SafetensorError, OSError, ValueError) as e:
        raise InputError(f"not a readable safetensors checkpoint ({e.__class__.__name__})", p) from None
