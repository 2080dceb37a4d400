"""2D keypoint files -> :class:`~choreogen.motion.Motion` (joints (T, J, 2), confidence (T, J)).

Accepted formats (documented precisely in docs/DATA.md):

* OpenPose JSON folder: one ``*_keypoints.json`` per frame with ``people[0]``'s
  ``pose_keypoints_2d`` (BODY_25: 75 numbers, COCO-18: 54, COCO-17: 51), optionally
  ``hand_left_keypoints_2d`` / ``hand_right_keypoints_2d`` (63 each) and ``face_keypoints_2d`` (210).
  Body + both hands + face -> ``openpose137``; BODY_25 or COCO-18 body only -> ``body25``
  (COCO-18 is re-indexed; mid-hip and feet get confidence 0); COCO-17 -> ``coco17``.
  Frames with no person (and gaps in the frame numbers) -> all-zero confidence.
* One JSON file: a list of frames (or {"frames": [...], "fps", "width", "height"}), each frame
  a flat list [x, y, c, ...] or {"keypoints": [...]} (COCO style; COCO results with ``image_id``
  and ``score`` keep the best-scoring person per image) or a list of MediaPipe landmark dicts
  {"x", "y", "z", "visibility"} (or {"landmarks"|"pose_landmarks": [...]}); null/[] = no person.
* MediaPipe CSV: one row per frame, 33 x (x, y, visibility) or 33 x (x, y, z, visibility)
  numbers, optionally after a ``frame``/``time`` column, with or without a header row.

Coordinates stay in the file's units: pixels (OpenPose, COCO) or MediaPipe's normalised [0, 1]
image coordinates unless ``width``/``height`` are known (then pixels). Image frame: y down.
"""
from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import require_file
from ..motion import Motion
from ..motion.skeleton import get_skeleton
from .naming import natural_key

# COCO-18 (OpenPose COCO model) index -> BODY_25 index
COCO18_TO_BODY25 = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
_BODY_LAYOUT = {75: ("body25", 25), 54: ("coco18", 18), 51: ("coco17", 17)}
_FRAME_NO = re.compile(r"(\d+)_keypoints\.json$")


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("not a text JSON file", path) from None
    except ValueError as e:
        raise InputError(f"invalid JSON ({e})", path) from None
    except OSError as e:
        raise InputError(f"cannot read file ({e.__class__.__name__})", path) from None


def _numbers(x, path: Path, what: str) -> np.ndarray:
    try:
        a = np.asarray(x if x is not None else [], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{what} is not a list of numbers", path) from None
    return a


def _split_xyc(flat: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    a = flat.reshape(n, 3)
    xy = a[:, :2]
    c = a[:, 2]
    bad = ~np.isfinite(a).all(axis=1)
    c = np.clip(np.nan_to_num(c, nan=0.0), 0.0, 1.0)
    c[bad] = 0.0
    return np.where(bad[:, None], 0.0, xy), c


def _openpose_person(person: dict, path: Path) -> dict:
    if not isinstance(person, dict):
        raise InputError("people[0] is not an object", path)
    out = {"pose": _numbers(person.get("pose_keypoints_2d"), path, "pose_keypoints_2d")}
    for key, short in (("hand_left_keypoints_2d", "lh"), ("hand_right_keypoints_2d", "rh"),
                       ("face_keypoints_2d", "face")):
        out[short] = _numbers(person.get(key), path, key)
    return out


def load_keypoint_folder(path: str | os.PathLike, fps: float = 30.0, person: int = 0) -> Motion:
    """Read an OpenPose JSON folder (one ``*_keypoints.json`` per frame) at ``fps`` frames/s.

    Returns joints (T, J, 2) in pixels (image frame, y down) and confidence (T, J) in [0, 1] for
    the layout described in the module docstring; ``person`` picks ``people[person]``.
    """
    root = Path(path)
    if not root.exists():
        raise InputError("keypoint folder not found", root)
    if not root.is_dir():
        raise InputError("expected a folder of OpenPose *_keypoints.json files", root)
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"invalid frame rate {fps}", root)
    files = sorted(root.glob("*_keypoints.json"), key=lambda f: natural_key(f.name))
    if not files:
        files = sorted(root.glob("*.json"), key=lambda f: natural_key(f.name))
    if not files:
        raise InputError("no OpenPose *_keypoints.json files in the folder", root)
    # frame numbers (OpenPose writes <video>_<12 digits>_keypoints.json); gaps become empty frames
    nums = [_FRAME_NO.search(f.name) for f in files]
    if all(nums):
        idx = np.array([int(n.group(1)) for n in nums])
        if len(set(idx.tolist())) != len(idx):
            idx = np.arange(len(files))
        idx -= idx.min()
    else:
        idx = np.arange(len(files))
    T = int(idx.max()) + 1
    frames: list[dict | None] = [None] * T
    for f, k in zip(files, idx):
        d = _read_json(f)
        if not isinstance(d, dict) or not isinstance(d.get("people", []), list):
            raise InputError("not an OpenPose keypoint file (no 'people' list)", f)
        people = d.get("people", [])
        if len(people) > person:
            frames[k] = _openpose_person(people[person], f) | {"file": f}
    return _assemble_openpose(frames, fps, root)


def _assemble_openpose(frames: list[dict | None], fps: float, root: Path) -> Motion:
    present = [fr for fr in frames if fr is not None and fr["pose"].size]
    if not present:
        raise InputError("no person detected in any frame", root)
    n = present[0]["pose"].size
    if n not in _BODY_LAYOUT:
        raise InputError(f"unknown joint layout: pose_keypoints_2d has {n} numbers "
                         "(expected 75 BODY_25, 54 COCO-18 or 51 COCO-17)", present[0]["file"])
    body, nb = _BODY_LAYOUT[n]
    full = body != "coco17" and any(fr["lh"].size == 63 and fr["rh"].size == 63 and fr["face"].size == 210
                                    for fr in present)
    skeleton = "openpose137" if full else ("coco17" if body == "coco17" else "body25")
    J = get_skeleton(skeleton).num_joints
    T = len(frames)
    joints = np.zeros((T, J, 2))
    conf = np.zeros((T, J))
    for t, fr in enumerate(frames):
        if fr is None or not fr["pose"].size:
            continue
        if fr["pose"].size != n:
            raise InputError(f"pose_keypoints_2d has {fr['pose'].size} numbers, earlier frames have {n}", fr["file"])
        xy, c = _split_xyc(fr["pose"], nb)
        if body == "coco18":
            joints[t, COCO18_TO_BODY25], conf[t, COCO18_TO_BODY25] = xy, c
        else:
            joints[t, :nb], conf[t, :nb] = xy, c
        if full:
            for key, start, cnt in (("lh", 25, 21), ("rh", 46, 21), ("face", 67, 70)):
                a = fr[key]
                if a.size == 3 * cnt:
                    joints[t, start:start + cnt], conf[t, start:start + cnt] = _split_xyc(a, cnt)
                elif a.size:
                    raise InputError(f"{key} keypoints have {a.size} numbers, expected {3 * cnt}", fr["file"])
    empty = sum(1 for fr in frames if fr is None or not fr["pose"].size)
    m = Motion(skeleton=skeleton, fps=fps, joints=joints.astype(np.float32), confidence=conf.astype(np.float32),
               name=root.name, meta={"source": str(root), "format": "openpose-json", "body_layout": body,
                                     "frames_without_person": empty, "units": "pixels"})
    return m.validate(str(root))


# ---------------------------------------------------------------------------------- single file
_COUNT_LAYOUT = {17: "coco17", 25: "body25", 137: "openpose137", 33: "mediapipe33"}


def load_keypoint_file(path: str | os.PathLike, fps: float | None = None,
                       width: float | None = None, height: float | None = None) -> Motion:
    """Read one keypoint JSON or MediaPipe CSV file (formats in the module docstring).

    ``fps``: frames per second (default: the file's ``fps`` entry, else 30). ``width``/``height``:
    image size to turn MediaPipe's normalised coordinates into pixels (default: the file's
    ``width``/``height`` entries, else coordinates stay normalised).
    """
    p = require_file(path, "keypoint file")
    suf = p.suffix.lower()
    if suf == ".csv":
        joints, conf, info = _mediapipe_csv(p)
    elif suf == ".json":
        joints, conf, info = _keypoint_json(p)
    else:
        raise InputError(f"unsupported keypoint file type '{suf}' (expected .json or .csv)", p)
    fps = float(fps or info.get("fps") or 30.0)
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"invalid frame rate {fps}", p)
    units = info.get("units", "pixels")
    width = width or info.get("width")
    height = height or info.get("height")
    if units == "normalized" and width and height:
        joints = joints * np.array([float(width), float(height)])
        units = "pixels"
    J = joints.shape[1]
    if J not in _COUNT_LAYOUT:
        raise InputError(f"unknown joint layout with {J} keypoints (known: 17, 25, 33, 137)", p)
    m = Motion(skeleton=_COUNT_LAYOUT[J], fps=fps, joints=joints.astype(np.float32),
               confidence=conf.astype(np.float32), name=p.stem,
               meta={"source": str(p), "format": info["format"], "units": units,
                     "frames_without_person": int((conf.max(axis=1) == 0).sum())})
    return m.validate(str(p))


def _frame_points(fr, p: Path, t: int):
    """One JSON frame -> (points (J, 2), conf (J,), kind) or None for 'no person'."""
    if fr is None:
        return None
    if isinstance(fr, dict):
        for key in ("keypoints", "landmarks", "pose_landmarks", "pose_keypoints_2d"):
            if key in fr:
                return _frame_points(fr[key], p, t)
        if "people" in fr:  # an OpenPose frame inside a list
            ppl = fr["people"]
            return _frame_points(ppl[0].get("pose_keypoints_2d") if ppl else None, p, t)
        raise InputError(f"frame {t}: no keypoints/landmarks entry", p)
    if not isinstance(fr, list):
        raise InputError(f"frame {t}: expected a list or an object, got {type(fr).__name__}", p)
    if not fr:
        return None
    if isinstance(fr[0], dict):  # MediaPipe landmarks
        try:
            xy = np.array([[float(lm["x"]), float(lm["y"])] for lm in fr])
            c = np.array([float(lm.get("visibility", lm.get("presence", 1.0))) for lm in fr])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"frame {t}: landmarks need numeric 'x' and 'y'", p) from None
        return xy, c, "mediapipe"
    a = _numbers(fr, p, f"frame {t}")
    if a.size % 3:
        raise InputError(f"frame {t}: {a.size} numbers is not a multiple of 3 (x, y, confidence)", p)
    a = a.reshape(-1, 3)
    return a[:, :2], a[:, 2], "flat"


def _keypoint_json(p: Path):
    d = _read_json(p)
    info: dict = {"format": "keypoint-json"}
    if isinstance(d, dict):
        info.update({k: d[k] for k in ("fps", "width", "height") if isinstance(d.get(k), (int, float))})
        if "people" in d:
            frames = [d]
        else:
            frames = d.get("frames", d.get("annotations"))
        if not isinstance(frames, list):
            raise InputError("JSON object has no 'frames' list", p)
    elif isinstance(d, list):
        frames = d
    else:
        raise InputError("expected a JSON list of frames", p)
    if frames and all(isinstance(f, dict) and "image_id" in f and "keypoints" in f for f in frames):
        frames = _coco_results(frames)
        info["format"] = "coco-json"
    pts = [_frame_points(fr, p, t) for t, fr in enumerate(frames)]
    if not frames or all(x is None for x in pts):
        raise InputError("no keypoints in any frame", p)
    J = next(x[0].shape[0] for x in pts if x is not None)
    kinds = {x[2] for x in pts if x is not None}
    joints = np.zeros((len(pts), J, 2))
    conf = np.zeros((len(pts), J))
    for t, x in enumerate(pts):
        if x is None:
            continue
        if x[0].shape[0] != J:
            raise InputError(f"frame {t} has {x[0].shape[0]} keypoints, frame 0 has {J}", p)
        joints[t], conf[t] = x[0], x[1]
    if "mediapipe" in kinds:
        info["format"] = "mediapipe-json"
        info["units"] = "normalized"
    elif conf.size and np.all(np.isin(conf, (0.0, 1.0, 2.0))) and conf.max() == 2.0:
        conf = (conf > 0).astype(np.float64)  # COCO ground-truth visibility flags v in {0, 1, 2}
    bad = ~np.isfinite(joints).all(axis=-1) | ~np.isfinite(conf)
    conf = np.clip(np.nan_to_num(conf), 0.0, 1.0)
    conf[bad] = 0.0
    joints[bad] = 0.0
    return joints, conf, info


def _coco_results(items: list[dict]) -> list:
    """COCO keypoint results/annotations -> one frame per image_id (best ``score`` person)."""
    best: dict = {}
    for it in items:
        k = it["image_id"]
        if k not in best or it.get("score", 0.0) > best[k].get("score", 0.0):
            best[k] = it
    keys = sorted(best)
    if all(isinstance(k, int) for k in keys):  # fill missing image ids with empty frames
        return [best[k]["keypoints"] if k in best else None for k in range(keys[0], keys[-1] + 1)]
    return [best[k]["keypoints"] for k in keys]


_TIME_COLS = {"frame", "frame_index", "frame_idx", "index", "time", "time_s", "timestamp", "t", "time_ms",
              "timestamp_ms"}


def _mediapipe_csv(p: Path):
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"cannot read CSV ({e.__class__.__name__})", p) from None
    if not rows:
        raise InputError("CSV file has no rows", p)
    header = None
    if not _is_number(rows[0][0]):
        header = [h.strip().lower() for h in rows[0]]
        rows = rows[1:]
    if not rows:
        raise InputError("CSV file has a header but no data rows", p)
    ncol = len(rows[0])
    drop: list[int] = []
    time_col = None
    if header is not None:
        if len(header) != ncol:
            raise InputError(f"header has {len(header)} columns, data rows have {ncol}", p)
        drop = [i for i, h in enumerate(header) if h in _TIME_COLS]
        times = [i for i in drop if header[i].startswith("time") or header[i] == "t"]
        time_col = times[0] if times else None
    elif ncol in (100, 133):
        drop = [0]
    keep = [i for i in range(ncol) if i not in drop]
    per = len(keep) / 33
    if per not in (3, 4):
        raise InputError(f"MediaPipe CSV needs 33 x (x, y, visibility) or 33 x (x, y, z, visibility) values per row, "
                         f"got {len(keep)}", p)
    data = np.zeros((len(rows), ncol))
    for t, r in enumerate(rows):
        if len(r) != ncol:
            raise InputError(f"row {t + 1 + (header is not None)} has {len(r)} columns, expected {ncol}", p)
        try:
            data[t] = [float(c) if c.strip() else np.nan for c in r]
        except ValueError:
            raise InputError(f"row {t + 1 + (header is not None)} has a non-numeric value", p) from None
    a = data[:, keep].reshape(len(rows), 33, int(per))
    joints, conf = a[..., :2], a[..., -1]
    bad = ~np.isfinite(joints).all(axis=-1) | ~np.isfinite(conf)
    conf = np.clip(np.nan_to_num(conf), 0.0, 1.0)
    conf[bad] = 0.0
    joints = np.where(bad[..., None], 0.0, joints)
    info: dict = {"format": "mediapipe-csv", "units": "normalized"}
    if time_col is not None and len(rows) > 1:
        tt = data[:, time_col]
        dt = np.median(np.diff(tt))
        if np.isfinite(dt) and dt > 0:
            info["fps"] = (1000.0 if header[time_col].endswith("ms") else 1.0) / dt
    return joints, conf, info


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False
