"""Music -> 3D dance (SMPL-24 at 30 fps, metres, Y-up, floor y=0) by diffusion.

``Dance3DPipeline.from_pretrained(name_or_path)(song, genre=..., seconds=...)`` -> GenerationResult;
``generate_dance`` is the same as one call. Training: :func:`.train.train_generator`.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"Dance3DPipeline": "pipeline", "generate_dance": "pipeline", "GenerationResult": "pipeline",
            "Constraint": "pipeline", "GeneratorConfig": "config", "train_generator": "train"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
