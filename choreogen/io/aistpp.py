"""AIST++-compatible motion pickle export.

AIST++ stores one dance per ``.pkl``: a dict with ``smpl_poses`` (N, 72) float64 SMPL axis-angle
(24 joints x 3), ``smpl_trans`` (N, 3) float64 root translation and ``smpl_scaling`` (1,) float64;
real-world translation is ``smpl_trans / smpl_scaling``. AIST++ motions are **60 fps**, Y-up, and
tools that read these files (aistplusplus_api, FACT/mint, Bailando, EDGE's data prep) assume that
rate because the file does not record it. We therefore write metres with ``smpl_scaling = [1.0]``
and resample to 60 fps (slerp for rotations, linear for translation) unless ``keep_fps=True``, in
which case the frames are written at the motion's own rate and the reader must be told that rate.

SMPL-H / FineDance motions (52 joints) are written as SMPL 24: the 22 body joints are copied and
SMPL's two hand joints (22, 23) get the identity rotation (finger rotations have no SMPL slot).
"""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..fileio import atomic_path
from ..motion.sequence import Motion

AISTPP_FPS = 60.0


def smpl24_params(motion: Motion) -> tuple[np.ndarray, np.ndarray]:
    """(T, 72) SMPL-24 axis-angle poses and (T, 3) translation (metres) from an SMPL-family motion."""
    src = motion.meta.get("source")
    if motion.poses is None or motion.trans is None:
        raise ConfigError(f"AIST++ export needs SMPL rotations (poses + trans); this {motion.skeleton} motion "
                          "has only joint positions (export it as npz instead)", src)
    T = motion.num_frames
    if motion.skeleton == "smpl24":
        poses = np.asarray(motion.poses, np.float64)
    elif motion.skeleton == "smplh52":
        poses = np.zeros((T, 72))
        poses[:, :66] = np.asarray(motion.poses, np.float64)[:, :66]
    else:
        raise ConfigError(f"AIST++ export needs an SMPL skeleton (smpl24 or smplh52), got {motion.skeleton}", src)
    return poses, np.asarray(motion.trans, np.float64)


def save_aistpp(motion: Motion, path: str | os.PathLike, keep_fps: bool = False) -> Path:
    """Write ``motion`` as an AIST++ motion pickle (atomically); see the module docstring.

    Args:
        motion: SMPL-family motion (poses (T, J*3) axis-angle, trans (T, 3) metres, Y-up).
        path: output ``.pkl``.
        keep_fps: keep the motion's frame rate instead of resampling to AIST++'s 60 fps.
    """
    motion.validate()
    m = motion if keep_fps or abs(motion.fps - AISTPP_FPS) < 1e-9 else motion.resample(AISTPP_FPS)
    poses, trans = smpl24_params(m)
    data = {
        "smpl_poses": poses,
        "smpl_trans": trans,
        "smpl_scaling": np.array([1.0]),
    }
    with atomic_path(path, suffix=".pkl") as tmp:
        with open(tmp, "wb") as f:
            pickle.dump(data, f, protocol=4)
    return Path(path)
