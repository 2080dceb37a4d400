"""Motion: skeletons, rotations, forward kinematics, frames, resampling, representations, I/O."""
from .io import load_motion, save_motion
from .sequence import CANONICAL_FPS, Motion
from .skeleton import SKELETONS, Skeleton, get_skeleton

__all__ = ["CANONICAL_FPS", "Motion", "SKELETONS", "Skeleton", "get_skeleton", "load_motion", "save_motion"]
