"""Motion files in and out: one registry of readers and writers.

``load_motion(path)`` reads any supported file (contract npz, BVH, AIST++ / FineDance SMPL,
keypoint json/csv/pkl or a folder of OpenPose json) into a :class:`choreogen.motion.Motion`;
``save_motion`` writes the output contract npz; :mod:`.export` writes BVH / AIST++ pkl / npz.
``motion`` never imports this room back.
"""
from .core import load_motion, save_motion

__all__ = ["load_motion", "save_motion"]
