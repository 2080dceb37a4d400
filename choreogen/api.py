"""The public Python API in one place (mirrors the CLI); imports are lazy so ``import choreogen`` stays fast.

    from choreogen.api import generate_dance, repair_motion, generate_skeleton, example_song
    from choreogen.api import Dance3DPipeline, RepairPipeline, SkeletonPipeline   # load once, call many times
    from choreogen.api import PoseVideoPipeline    # a photo dances to a song (default dancer: dance3d)
    from choreogen.api import FlowVideoPipeline    # a photo dances to a song through latent flows (no keypoints)
    from choreogen.api import DiffusersAnimator    # your diffusers ControlNet as PoseVideoPipeline(animator=...)
    from choreogen.api import RefinedAnimator      # geometric warp + the bundled learned refiner (animator=...)
"""
from __future__ import annotations

from pathlib import Path

from .motion import Motion  # noqa: F401

_PIPELINES = {"Dance3DPipeline": "tasks.dance3d.pipeline", "RepairPipeline": "tasks.skeleton.pipeline",
              "SkeletonPipeline": "tasks.skeleton.pipeline", "FlowVideoPipeline": "tasks.flowvideo.pipeline",
              "DiffusersAnimator": "video.diffusers_animator", "RefinedAnimator": "video.refined_animator"}


def __getattr__(name: str):
    if name == "PoseVideoPipeline":
        return _pose_video_pipeline()
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


def dance3d_dancer(model: str | None = None, device: str = "cpu"):
    """A ``dancer`` for :class:`PoseVideoPipeline`: song -> 3D dance with the bundled generator."""
    from .tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained(model, device=device)

    def dancer(song, seconds=None, seed=0, genre=None, prompt=None):
        # at least 2 s: the fast audio features fail on excerpts under ~1.4 s (chroma smoothing kernel);
        # the video is cut to ``seconds`` afterwards
        seconds = None if seconds is None else max(float(seconds), 2.0)
        return pipe(song, genre=genre, prompt=prompt, seconds=seconds, seed=seed).motion

    return dancer


def _pose_video_pipeline():
    from .tasks.posevideo.pipeline import PoseVideoPipeline as Base

    class PoseVideoPipeline(Base):
        """:class:`choreogen.tasks.posevideo.PoseVideoPipeline` whose default dancer is the bundled
        3D generator (``from_pretrained(model=None)``; loaded on first use). ``pose_source="m2penc"``:
        the pose guidance comes from the M2PEnc music-to-pose encoder instead (``model`` = an M2PEnc
        checkpoint, default the bundled ``m2penc``)."""

        @classmethod
        def from_pretrained(cls, model: str | None = None, animator=None, device: str = "cpu", dancer=None,
                            pose_source: str = "teacher"):
            from .errors import ConfigError

            if pose_source not in ("teacher", "m2penc"):
                raise ConfigError(f"--pose-source must be teacher or m2penc, got {pose_source!r}")
            holder: dict = {}

            def lazy(song, **kw):
                if "f" not in holder:
                    if pose_source == "m2penc":
                        from .tasks.posevideo.m2penc import M2PEncDancer

                        holder["f"] = M2PEncDancer(model)
                    else:
                        holder["f"] = dance3d_dancer(model, device)
                return holder["f"](song, **kw)

            return cls(dancer or lazy, animator)

    return PoseVideoPipeline
