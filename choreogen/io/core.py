"""Reading any supported motion file into a :class:`Motion`, and writing the output contract.

Output contract (every command that writes motion): ``<name>.npz`` with

* ``joints`` (T, J, 3) float32 -- metres, Y-up, floor at y = 0 (2D keypoints: (T, J, 2) pixels);
* ``fps`` () float32, ``skeleton`` () str;
* ``poses`` (T, J*3) float32 axis-angle and ``trans`` (T, 3) float32 metres, where available;
* ``confidence`` (T, J) float32 where known, ``filled`` (T, J) bool for repaired keypoints;
* provenance: ``music``, ``genre``, ``seed``, ``model`` (str; "" when unknown) and ``meta_json``.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError
from ..fileio import atomic_path, require_file
from ..motion.sequence import Motion
from ..motion.skeleton import SKELETONS, skeleton_for_joint_count

CONTRACT_VERSION = 1


def save_motion(motion: Motion, path: str | os.PathLike, extra: dict | None = None) -> Path:
    """Write ``motion`` as a contract npz (atomically). Returns the path."""
    j = motion.positions()
    data: dict[str, np.ndarray] = {
        "joints": np.asarray(j, np.float32),
        "fps": np.float32(motion.fps),
        "skeleton": np.array(motion.skeleton),
        "music": np.array(motion.music or ""),
        "genre": np.array(motion.genre or ""),
        "seed": np.array(str(motion.meta.get("seed", ""))),
        "model": np.array(str(motion.meta.get("model", ""))),
        "contract_version": np.int32(CONTRACT_VERSION),
        "meta_json": np.array(json.dumps(motion.meta, default=str)),
    }
    if motion.poses is not None and motion.trans is not None:
        data["poses"] = np.asarray(motion.poses, np.float32)
        data["trans"] = np.asarray(motion.trans, np.float32)
    if motion.confidence is not None:
        data["confidence"] = np.asarray(motion.confidence, np.float32)
    for k, v in (extra or {}).items():
        data[k] = np.asarray(v)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **data)
    return Path(path)


def _str(d, key, default=""):
    return str(d[key]) if key in d.files else default


def load_npz(path: Path) -> Motion:
    try:
        d = np.load(path, allow_pickle=False)
        files = d.files
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise InputError(f"not a readable .npz file ({e.__class__.__name__})", path) from None
    try:
        if "joints" in files:  # our contract (or a joints-only npz)
            joints = np.asarray(d["joints"], np.float32)
            if joints.ndim != 3:
                raise InputError(f"joints must have shape (T, J, 2|3), got {joints.shape}", path)
            sk = _str(d, "skeleton") or skeleton_for_joint_count(joints.shape[1]).name
            if sk not in SKELETONS:
                raise InputError(f"unknown joint layout '{sk}'", path)
            meta = json.loads(_str(d, "meta_json", "{}") or "{}")
            meta["source"] = str(path)
            if "filled" in files:
                meta["filled"] = np.asarray(d["filled"], bool)
            m = Motion(
                skeleton=sk,
                fps=float(d["fps"]) if "fps" in files else 30.0,
                joints=joints,
                poses=np.asarray(d["poses"], np.float32) if "poses" in files else None,
                trans=np.asarray(d["trans"], np.float32) if "trans" in files else None,
                confidence=np.asarray(d["confidence"], np.float32) if "confidence" in files else None,
                music=_str(d, "music") or None,
                genre=_str(d, "genre") or None,
                name=path.stem,
                meta=meta,
            )
        elif "poses" in files and "trans" in files:  # Tang2018 / generic SMPL npz
            poses = np.asarray(d["poses"], np.float32)
            trans = np.asarray(d["trans"], np.float32)
            if poses.ndim != 2 or poses.shape[1] % 3:
                raise InputError(f"poses must have shape (T, J*3), got {poses.shape}", path)
            sk = skeleton_for_joint_count(poses.shape[1] // 3)
            if not sk.kinematic:
                raise InputError(f"poses with {poses.shape[1] // 3} joints are not an SMPL layout", path)
            fps = float(d["fps"]) if "fps" in files else None
            if fps is None:
                raise InputError("SMPL npz has no 'fps' entry; cannot tell its frame rate", path)
            audio = None
            for ext in (".mp3", ".wav", ".ogg", ".flac", ".m4a"):
                if path.with_suffix(ext).exists():
                    audio = str(path.with_suffix(ext))
                    break
            m = Motion(
                skeleton=sk.name, fps=fps, poses=poses, trans=trans, music=audio,
                genre=_str(d, "genre") or None, name=path.stem,
                meta={"source": str(path), "format": "smpl-npz"},
            )
        else:
            raise InputError(f"npz has neither 'joints' nor 'poses'+'trans' (keys: {', '.join(files)})", path)
    except InputError:
        raise
    except (ValueError, KeyError, OSError, zipfile.BadZipFile) as e:
        raise InputError(f"cannot read motion ({e.__class__.__name__}: {e})", path) from None
    return m.validate(str(path))


def load_motion(path: str | os.PathLike, *, view: int | None = None) -> Motion:
    """Load any motion file choreogen understands.

    Supported: contract ``.npz`` (ours), Tang2018/SMPL ``.npz`` (poses, trans, fps), AIST++ motion
    ``.pkl`` (smpl_poses/smpl_trans/smpl_scaling, 60 fps) and AIST++ ``keypoints2d`` pickles,
    FineDance ``.npy`` (T, 315|319), ``.bvh``, and OpenPose/COCO JSON keypoint folders.
    The result is validated (shapes, NaNs) but not canonicalised or resampled.
    ``view``: camera of a multi-camera keypoint file (AIST++ ``keypoints2d``: 9 views; default 0);
    ``meta["view"]``/``meta["views"]`` say which was used and how many there are.
    """
    p = Path(path)
    if view is not None:
        if p.suffix.lower() != ".pkl" or p.is_dir():
            raise ConfigError("a camera view was given, but only multi-camera keypoint pickles "
                              "(AIST++ keypoints2d) have views", p)
        from .formats import load_pickle_motion

        m = load_pickle_motion(p, view=view)
        if "views" not in m.meta:
            raise ConfigError("a camera view was given, but this pickle is not a multi-camera keypoint file", p)
        return m
    if p.is_dir():
        from .formats import load_keypoint_folder

        return load_keypoint_folder(p)
    require_file(p, "motion file")
    suf = p.suffix.lower()
    if suf == ".npz":
        return load_npz(p)
    if suf == ".pkl":
        from .formats import load_pickle_motion

        return load_pickle_motion(p)
    if suf == ".npy":
        from .formats import load_finedance_npy

        return load_finedance_npy(p)
    if suf == ".bvh":
        from .bvh import load_bvh

        return load_bvh(p)
    if suf in (".json", ".csv"):
        from .formats import load_keypoint_file

        return load_keypoint_file(p)
    raise InputError(
        f"unsupported motion file type '{suf or '(none)'}' (expected .npz, .pkl, .npy, .bvh, .json, .csv "
        "or a keypoint folder)", p)
