"""Readers for dataset file formats -> :class:`~choreogen.motion.Motion`.

* :func:`load_pickle_motion` -- AIST++ SMPL motion pickles (and AIST++-style fragments) and
  AIST++ ``keypoints2d`` pickles (read with a restricted, data-only unpickler);
* :func:`load_finedance_npy` -- FineDance ``motion/NNN.npy`` (T, 315) or (T, 319);
* :func:`load_keypoint_folder`, :func:`load_keypoint_file` -- OpenPose / COCO / MediaPipe
  keypoints (implemented in :mod:`choreogen.io.keypoints`).

Results are validated but keep the source frame rate and frame; callers resample/canonicalise.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ..errors import InputError
from ..fileio import require_file
from ..motion import Motion
from ..motion.rotations import matrix_to_axis_angle, sixd_to_matrix
from .naming import AUDIO_EXTS, aistpp_genre, aistpp_music_name, finedance_genre
from .keypoints import load_keypoint_file, load_keypoint_folder
from .safe_pickle import safe_load_pickle

__all__ = [
    "load_pickle_motion", "load_finedance_npy", "load_keypoint_folder", "load_keypoint_file",
    "finedance_sixd_to_axis_angle", "axis_angle_to_finedance_sixd", "SMPLX_NEUTRAL_PELVIS",
]

AISTPP_FPS = 60.0
FINEDANCE_FPS = 30.0
# Rest position of the pelvis of the neutral SMPL-X model (METRICS_SPEC section 12, a numeric fact):
# FineDance stores SMPL-X ``transl``; the pelvis joint lands at transl + this vector.
SMPLX_NEUTRAL_PELVIS = (0.003123, -0.351407, 0.012037)


def _find_music(path: Path, stem: str, folders=("wav", "music", "music_wav", "audio")) -> str | None:
    """Audio ``stem.<ext>`` in a sibling music folder of ``path``'s folder, in it, or beside ``path``."""
    cands: list[Path] = []
    for base in (path.parent.parent, path.parent):
        cands += [base / f / stem for f in folders]
    cands.append(path.parent / stem)
    for c in cands:
        for ext in AUDIO_EXTS:
            p = c.with_name(c.name + ext)
            if p.exists():
                return str(p)
    return None


def _as_array(d: dict, key: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(d[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"entry '{key}' is not a numeric array", path) from None


# ---------------------------------------------------------------------------------- AIST++ pkl
def load_pickle_motion(path: str | os.PathLike, view: int = 0) -> Motion:
    """Read an AIST++ pickle.

    * SMPL motion (``smpl_poses`` (N, 72) axis-angle, ``smpl_trans`` (N, 3), ``smpl_scaling`` (1,)
      optional, default 1): returns skeleton ``smpl24`` at 60 fps with ``trans = smpl_trans /
      smpl_scaling`` in metres, Y-up (AIST++'s frame). Music ``m<GG><n>.<ext>`` from the sequence
      name is looked up in a sibling ``wav``/``music`` folder or beside the file; genre from the
      name (``gBR`` -> ``break``).
    * keypoints2d (``keypoints2d`` (9 cams, T, 17, 3) = [x, y, confidence], ``det_scores``,
      ``timestamps`` in microseconds): skeleton ``coco17``, joints (T, 17, 2) in pixels of camera
      ``view`` (image frame, y down), confidence (T, 17) = the third column clipped to [0, 1]
      (0 where a value is NaN); 60 fps (or the rate implied by ``timestamps``).
    """
    p = require_file(path, "motion pickle")
    d = safe_load_pickle(p)
    if not isinstance(d, dict):
        raise InputError(f"expected a dict in the pickle, got {type(d).__name__}", p)
    name = p.stem
    if "keypoints2d" in d:
        return _keypoints2d(d, p, view)
    if "smpl_poses" not in d or "smpl_trans" not in d:
        keys = ", ".join(map(str, d.keys()))
        raise InputError(f"not an AIST++ pickle: no 'smpl_poses'/'smpl_trans' or 'keypoints2d' (keys: {keys})", p)
    poses = _as_array(d, "smpl_poses", p)
    trans = _as_array(d, "smpl_trans", p)
    if poses.ndim == 3 and poses.shape[1:] == (24, 3):
        poses = poses.reshape(len(poses), 72)
    if poses.ndim != 2 or poses.shape[1] != 72:
        raise InputError(f"smpl_poses must have shape (N, 72), got {poses.shape}", p)
    if trans.shape != (len(poses), 3):
        raise InputError(f"smpl_trans must have shape ({len(poses)}, 3), got {trans.shape}", p)
    scaling = 1.0
    if "smpl_scaling" in d and d["smpl_scaling"] is not None:
        s = _as_array(d, "smpl_scaling", p).reshape(-1)
        if s.size != 1 or not np.isfinite(s[0]) or s[0] <= 0:
            raise InputError(f"smpl_scaling must be one positive number, got {s.tolist()[:3]}", p)
        scaling = float(s[0])
    mname = aistpp_music_name(name)
    m = Motion(
        skeleton="smpl24", fps=AISTPP_FPS,
        poses=poses.astype(np.float32), trans=(trans / scaling).astype(np.float32),
        music=_find_music(p, mname) if mname else None, genre=aistpp_genre(name), name=name,
        meta={"source": str(p), "format": "aistpp-pkl", "smpl_scaling": scaling},
    )
    return m.validate(str(p))


def _keypoints2d(d: dict, p: Path, view: int) -> Motion:
    kp = _as_array(d, "keypoints2d", p)
    if kp.ndim == 3:
        kp = kp[None]
    if kp.ndim != 4 or kp.shape[2] != 17 or kp.shape[3] != 3:
        raise InputError(f"keypoints2d must have shape (cams, T, 17, 3), got {kp.shape}", p)
    if not -kp.shape[0] <= view < kp.shape[0]:
        raise InputError(f"camera view {view} out of range (the file has {kp.shape[0]} views)", p)
    k = kp[view]
    bad = ~np.isfinite(k).all(axis=-1)
    conf = np.clip(np.nan_to_num(k[..., 2], nan=0.0), 0.0, 1.0)
    conf[bad] = 0.0
    joints = np.where(bad[..., None], 0.0, k[..., :2])
    fps = AISTPP_FPS
    ts = d.get("timestamps")
    if ts is not None:
        t = np.asarray(ts, dtype=np.float64).reshape(-1)
        if len(t) == len(k) and len(t) > 1 and np.all(np.diff(t) > 0):
            implied = 1e6 * (len(t) - 1) / (t[-1] - t[0])
            if abs(implied - AISTPP_FPS) / AISTPP_FPS > 0.01:
                fps = float(implied)
    meta = {"source": str(p), "format": "aistpp-keypoints2d", "view": int(view), "views": int(kp.shape[0]),
            "units": "pixels"}
    if d.get("det_scores") is not None:
        ds = np.asarray(d["det_scores"], dtype=np.float32)
        if ds.ndim == 2 and ds.shape[1] == len(k):
            meta["det_scores"] = ds[view].tolist()
    mname = aistpp_music_name(p.stem)
    m = Motion(
        skeleton="coco17", fps=fps, joints=joints.astype(np.float32), confidence=conf.astype(np.float32),
        music=_find_music(p, mname) if mname else None, genre=aistpp_genre(p.stem), name=p.stem, meta=meta,
    )
    return m.validate(str(p))


# ---------------------------------------------------------------------------------- FineDance
def finedance_sixd_to_axis_angle(d6: np.ndarray) -> np.ndarray:
    """FineDance/EDGE 6D (pytorch3d ``matrix_to_rotation_6d``: the first two ROWS of R, i.e.
    [R00, R01, R02, R10, R11, R12]) -> axis-angle (..., 3), Gram-Schmidt as pytorch3d does.

    choreogen's own 6D is the first two COLUMNS (:mod:`choreogen.motion.rotations`); the row
    vectors of R are the columns of R^T, so we rebuild R^T with our routine and transpose.
    """
    d = torch.as_tensor(np.asarray(d6, dtype=np.float64))
    rows = d.reshape(*d.shape[:-1], 2, 3)  # [row0, row1]
    ours_of_rt = rows.transpose(-1, -2).reshape(*d.shape[:-1], 6)  # columns of R^T, row-major
    R = sixd_to_matrix(ours_of_rt).transpose(-1, -2)
    return matrix_to_axis_angle(R).numpy()


def axis_angle_to_finedance_sixd(aa: np.ndarray) -> np.ndarray:
    """Inverse of :func:`finedance_sixd_to_axis_angle` (..., 3) -> (..., 6): first two rows of R."""
    from ..motion.rotations import axis_angle_to_matrix

    R = axis_angle_to_matrix(torch.as_tensor(np.asarray(aa, dtype=np.float64)))
    return R[..., :2, :].reshape(*R.shape[:-2], 6).numpy()


def load_finedance_npy(path: str | os.PathLike, root_offset=SMPLX_NEUTRAL_PELVIS) -> Motion:
    """Read a FineDance motion ``.npy``.

    Layout: (T, 315) = [transl (3) | 52 x 6D] or (T, 319) = [4 foot contacts | the 315], 30 fps,
    joints in the SMPL-H 52 order (22 body + 15 left-hand + 15 right-hand; skeleton ``smplh52``),
    metres, Y-up. The 6D is EDGE/pytorch3d's (first two rows; see
    :func:`finedance_sixd_to_axis_angle`). ``transl`` is SMPL-X's, so the pelvis sits at
    ``transl + root_offset`` (neutral SMPL-X rest pelvis by default; pass (0, 0, 0) to keep the
    raw values); canonicalisation removes this constant anyway.

    Music ``music_wav/NNN.wav`` of the dataset layout (``motion/NNN.npy``) or beside the file;
    genre from ``label_json/NNN.json`` when present.
    """
    p = require_file(path, "FineDance motion file")
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(f"not a readable .npy file ({e.__class__.__name__})", p) from None
    if not isinstance(a, np.ndarray) or a.ndim != 2 or a.shape[1] not in (315, 319):
        shape = getattr(a, "shape", None)
        raise InputError(f"FineDance motion must have shape (T, 315) or (T, 319), got {shape}", p)
    if not np.issubdtype(a.dtype, np.number):
        raise InputError(f"FineDance motion must be numeric, got dtype {a.dtype}", p)
    a = a.astype(np.float64)
    if a.shape[1] == 319:
        a = a[:, 4:]
    if not np.isfinite(a).all():
        bad = int(np.argwhere(~np.isfinite(a))[0, 0])
        raise InputError(f"motion contains NaN or infinite values (first at frame {bad})", p)
    if len(a) < 1:
        raise InputError("motion has no frames", p)
    T = len(a)
    trans = a[:, :3] + np.asarray(root_offset, dtype=np.float64)
    d6 = a[:, 3:].reshape(T, 52, 6)
    if (np.linalg.norm(d6[..., :3], axis=-1) < 1e-6).any() or (np.linalg.norm(d6[..., 3:], axis=-1) < 1e-6).any():
        raise InputError("6D rotations contain zero vectors (not rotations)", p)
    poses = finedance_sixd_to_axis_angle(d6).reshape(T, 156)
    root = p.parent.parent if p.parent.name == "motion" else p.parent
    m = Motion(
        skeleton="smplh52", fps=FINEDANCE_FPS, poses=poses.astype(np.float32), trans=trans.astype(np.float32),
        music=_find_music(p, p.stem), genre=finedance_genre(root, p.stem), name=p.stem,
        meta={"source": str(p), "format": "finedance-npy", "root_offset": [float(x) for x in root_offset]},
    )
    return m.validate(str(p))
