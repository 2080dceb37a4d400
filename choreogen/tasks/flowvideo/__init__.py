"""The latent-flow route (issue 16, DabFusion): photo + song -> latent optical flows -> video, no
keypoints at inference. ``FlowVideoPipeline`` (pipeline.py), the LFAE and flow-diffusion training
jobs (train.py), the paired data (data.py), the checkpoint envelopes (checkpoint.py)."""
from __future__ import annotations

import importlib

_EXPORTS = {"FlowVideoPipeline": "pipeline", "FlowVideoResult": "pipeline"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
