"""A photo dances to a song: driving motion -> retargeted 2D skeleton -> animated photo -> mp4.

``PoseVideoPipeline(dancer=...)(song, image, out="dance.mp4")``; the default dancer (the bundled
3D generator) is composed in :mod:`choreogen.api` because task rooms do not import each other.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"PoseVideoPipeline": "pipeline", "PoseVideoResult": "pipeline"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
