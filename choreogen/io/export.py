"""Exporting motions: BVH (Blender, MotionBuilder, Maya), glTF binary / FBX, AIST++ pickles and the contract npz.

``export_motion(motion, fmt, out)`` is the one entry point the CLI uses; the per-format writers are
:func:`choreogen.io.bvh.save_bvh`, :func:`choreogen.io.gltf.save_glb`, :func:`choreogen.io.fbx.save_fbx`,
:func:`choreogen.io.aistpp.save_aistpp` and
:func:`choreogen.motion.save_motion`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..errors import ChoreogenError, ConfigError
from ..motion.sequence import Motion

FORMATS = {"bvh": ".bvh", "glb": ".glb", "fbx": ".fbx", "npz": ".npz", "aistpp": ".pkl"}


def is_canonical(motion: Motion, tol: float = 1e-3) -> bool:
    """True if a 3D motion already has its floor at y = 0 and its root at the xz origin at frame 0."""
    j = motion.positions()
    if j.shape[-1] != 3:
        return True
    return abs(float(np.nanmin(j[..., 1]))) < tol and bool(np.all(np.abs(j[0, 0, [0, 2]]) < tol))


def to_canonical(motion: Motion) -> Motion:
    """The motion in choreogen's canonical frame (floor at y = 0, root starting at the xz origin).

    2D keypoint motions and motions that are already canonical are returned unchanged. Raw captures
    such as Tang2018 (floor around -0.6 m, drifting) get :meth:`Motion.canonical` (tracked floor).
    """
    if is_canonical(motion):
        return motion
    return motion.canonical()


def check_output(out: str | os.PathLike) -> Path:
    """Refuse an output path that is a folder (the rename would fail after all the work)."""
    p = Path(out)
    if p.is_dir():
        raise ChoreogenError("the output path is a folder; give a file name", p)
    return p


def export_motion(motion: Motion, fmt: str, out: str | os.PathLike, *, scale: float = 1.0,
                  keep_fps: bool = False, canonical: bool = True) -> Path:
    """Write ``motion`` to ``out`` in ``fmt`` (``bvh`` | ``glb`` | ``fbx`` | ``npz`` | ``aistpp``); returns the path.

    Args:
        scale: BVH unit factor (1 = metres, 100 = centimetres); ignored by the other formats.
        keep_fps: AIST++ only: keep the motion's rate instead of resampling to 60 fps.
        canonical: first move 3D motions into the canonical frame (floor at y = 0, start at the
            origin); False keeps the file's own coordinates.
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format '{fmt}' (choose from {', '.join(FORMATS)})")
    check_output(out)
    if canonical:
        motion = to_canonical(motion)
    try:
        return _write(motion, fmt, out, scale, keep_fps)
    except OSError as e:  # e.g. a read-only or special file system: one clear message
        raise ChoreogenError(f"cannot write the output ({e.strerror or e.__class__.__name__})", out) from None


def _write(motion: Motion, fmt: str, out, scale: float, keep_fps: bool) -> Path:
    if fmt == "bvh":
        from .bvh import save_bvh

        return save_bvh(motion, out, scale=scale)
    if fmt == "glb":
        from .gltf import save_glb

        return save_glb(motion, out)
    if fmt == "fbx":
        from .fbx import save_fbx

        return save_fbx(motion, out)
    if fmt == "aistpp":
        from .aistpp import save_aistpp

        return save_aistpp(motion, out, keep_fps=keep_fps)
    from .core import save_motion

    extra = None
    if isinstance(motion.meta.get("filled"), np.ndarray):  # keep the repair mask as its own entry
        motion = motion.copy()
        extra = {"filled": motion.meta.pop("filled")}
    return save_motion(motion, out, extra=extra)


__all__ = ["FORMATS", "check_output", "export_motion", "is_canonical", "to_canonical"]
