"""Pipeline objects of the skeleton tasks, like :class:`~choreogen.tasks.dance3d.pipeline.Dance3DPipeline`:
load once (``from_pretrained``), call many times.

    from choreogen.tasks.skeleton.pipeline import RepairPipeline, SkeletonPipeline
    fix = RepairPipeline.from_pretrained("repair-coco17")     # or a checkpoint path, or None (per layout)
    fixed = fix("kp.npz")                                      # Motion with meta["filled"] (T, J) bool
    gen = SkeletonPipeline.from_pretrained("skeleton2d")       # or skeleton3d, or a checkpoint path
    dance = gen("song.ogg", seconds=8, seed=0)                 # 30 fps Motion (coco17 px / smpl24 m)

The models come from :func:`choreogen.checkpoints.load_model` (one envelope format, cached per file).
"""
from __future__ import annotations

import os
from pathlib import Path

from ... import checkpoints
from ...errors import ConfigError, InputError
from ...motion import Motion
from .checkpoint import GENERATE, REPAIR
from .repair import DEFAULT_MIN_CONF, load_model, repair_file, repair_motion



class RepairPipeline:
    """Keypoint repair with one model (or, with no checkpoint, the shipped model of each input's
    layout). ``min_conf``: confidence below it = missing; ``tolerance``: how far (body heights) a
    present joint may move."""

    def __init__(self, checkpoint: Path | None, min_conf: float = DEFAULT_MIN_CONF, tolerance: float = 0.03):
        self.checkpoint, self.min_conf, self.tolerance = checkpoint, float(min_conf), float(tolerance)
        self.info = load_model(checkpoint)[1] if checkpoint is not None else {}

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike | None = None, **options) -> "RepairPipeline":
        """A bundled repair model name (``choreogen models``), a checkpoint path, or None."""
        if name_or_path is None:
            return cls(None, **options)
        return cls(checkpoints.resolve(name_or_path, REPAIR), **options)

    @property
    def skeleton(self) -> str | None:
        """The layout this pipeline's model repairs (None: any layout with a shipped model)."""
        return self.info.get("skeleton")

    def __call__(self, motion: Motion | str | os.PathLike, out: str | os.PathLike | None = None,
                 view: int | None = None) -> Motion:
        """Repair a Motion or a keypoint/motion file (any format ``load_motion`` reads; ``view``: the
        camera of a multi-camera pickle). With ``out`` the contract npz is written atomically."""
        if isinstance(motion, Motion):
            if out is not None:
                raise ConfigError("out= is for file inputs; save the returned Motion with choreogen.io.save_motion")
            return repair_motion(motion, checkpoint=self.checkpoint, min_conf=self.min_conf, tolerance=self.tolerance)
        if out is None:
            from ...io import load_motion

            m = load_motion(motion, view=view)
            m.meta.setdefault("source", str(motion))
            return repair_motion(m, checkpoint=self.checkpoint, min_conf=self.min_conf, tolerance=self.tolerance)
        return repair_file(motion, out, checkpoint=self.checkpoint, min_conf=self.min_conf,
                           tolerance=self.tolerance, view=view)[0]


class SkeletonPipeline:
    """Audio-driven skeleton generation (DanceFusion latent diffusion) with one model."""

    def __init__(self, checkpoint: Path, model: str):
        self.checkpoint, self.model = checkpoint, model

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike = "skeleton2d") -> "SkeletonPipeline":
        """``skeleton2d`` | ``skeleton3d`` (bundled) or a checkpoint path (its layout picks the kind)."""
        from .generate import MODELS, load_skelgen

        path = checkpoints.resolve(name_or_path, GENERATE)
        gen = load_skelgen(path)
        layout = gen.info.get("skeleton")
        kinds = [k for k, v in MODELS.items() if v == layout]
        if not kinds:
            raise InputError(f"skeleton generator for layout {layout!r}; expected one of {sorted(MODELS.values())}", path)
        return cls(path, kinds[0])

    def __call__(self, song: str | os.PathLike, seconds: float | None = None, seed: int = 0, steps: int = 20,
                 guidance: float | None = None) -> Motion:
        """See :func:`choreogen.tasks.skeleton.generate.generate_skeleton` (same arguments, same output)."""
        from .generate import generate_skeleton

        return generate_skeleton(song, model=self.model, seconds=seconds, seed=seed, steps=steps,
                                 checkpoint=self.checkpoint, guidance=guidance)
