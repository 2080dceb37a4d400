"""The public Python API in one place (mirrors the CLI); imports are lazy so ``import choreogen`` stays fast.

    from choreogen.api import generate_dance, repair_motion, generate_skeleton, example_song
    from choreogen.api import Dance3DPipeline, RepairPipeline, SkeletonPipeline   # load once, call many times
"""
from __future__ import annotations

from pathlib import Path

from .motion import Motion  # noqa: F401

_PIPELINES = {"Dance3DPipeline": "tasks.dance3d.pipeline", "RepairPipeline": "tasks.skeleton.pipeline",
              "SkeletonPipeline": "tasks.skeleton.pipeline"}


def __getattr__(name: str):
    if name in _PIPELINES:
        import importlib

        return getattr(importlib.import_module(f".{_PIPELINES[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def example_song() -> Path:
    """The bundled example song (MIT, see choreogen/assets/music/ATTRIBUTION.md)."""
    return Path(__file__).resolve().parent / "assets" / "music" / "example.ogg"


def generate_dance(*a, **k):
    from .tasks.dance3d.pipeline import generate_dance as f

    return f(*a, **k)


def generate_skeleton(*a, **k):
    from .tasks.skeleton.generate import generate_skeleton as f

    return f(*a, **k)


def repair_motion(*a, **k):
    from .tasks.skeleton.repair import repair_motion as f

    return f(*a, **k)
