"""Motion: skeletons, rotations, forward kinematics, frames, resampling, representations.

Reading and writing motion files is :mod:`choreogen.io` (``load_motion`` / ``save_motion``);
this room imports nothing above it (only ``errors``, ``fileio`` and ``filters``).
"""
from .sequence import CANONICAL_FPS, Motion
from .skeleton import SKELETONS, Skeleton, get_skeleton

__all__ = ["CANONICAL_FPS", "Motion", "SKELETONS", "Skeleton", "get_skeleton"]
