"""Skeleton repair and audio-driven skeleton generation (DanceFusion).

* :mod:`.damage` -- realistic detector damage (training pairs and test conditions);
* :mod:`.baselines` -- linear / Akima interpolation and Savitzky-Golay smoothing;
* :mod:`.repair` -- :func:`repair_motion` / :func:`repair_file` with a trained VAE;
* :mod:`.generate` -- :func:`generate_skeleton`: song -> skeleton dance by
  latent diffusion;
* :mod:`.pipeline` -- :class:`RepairPipeline`, :class:`SkeletonPipeline` (load once, call many times);
* :mod:`.train_repair`, :mod:`.train_skelgen` -- their Lightning modules and training recipes.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"generate_skeleton": "generate", "RepairPipeline": "pipeline", "SkeletonPipeline": "pipeline",
            "repair_motion": "repair", "repair_file": "repair"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
