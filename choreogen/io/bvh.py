"""BVH export and import (Biovision hierarchy, the format Blender, MotionBuilder and Maya read).

Writing (:func:`save_bvh`): the skeleton's kinematic tree (SMPL 24 joints, SMPL-H 52 joints, or a
generic tree read from a BVH) with

* ``OFFSET`` = rest offsets of the skeleton times ``scale`` (default 1.0: **metres**; 100 gives
  centimetres), **Y-up** (Blender's importer converts Y-up to its Z-up by default);
* the root with 6 channels ``Xposition Yposition Zposition Zrotation Xrotation Yrotation`` and every
  other joint with 3 rotation channels in the same **ZXY** order, i.e. the local rotation matrix is
  ``R = Rz(z) @ Rx(x) @ Ry(y)`` (intrinsic Z, then X, then Y; angles in degrees, unwrapped over time
  so that curves have no 360-degree jumps);
* an ``End Site`` for every leaf joint (half the leaf's own bone, pointing the same way);
* ``Frames`` = motion frames, ``Frame Time`` = 1 / fps written with 10 decimals.

The motion must carry rotations (``poses`` (T, J*3) axis-angle + ``trans`` (T, 3), metres). Motions
with only joint positions are refused with a clear error: choreogen does not fit rotations to
points.

Reading (:func:`load_bvh`): any BVH with one ``ROOT``, ``JOINT``/``End Site`` blocks and per-joint
channel lists in any order. Root position channels are absolute positions (Blender's convention);
a non-root joint with position channels uses them instead of its offset. The unit is guessed from
the rest-pose height (metres, centimetres, millimetres or inches; see :func:`guess_unit`) unless
``scale`` is given. If the joint names and tree are SMPL's (``smpl24`` / ``smplh52``) the Motion
carries ``poses``/``trans`` on that skeleton; otherwise a generic kinematic skeleton named
``bvh<J>_<hash>`` is registered for this process and the Motion carries joints and rotations on it.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from ..errors import ConfigError, InputError
from ..fileio import atomic_path, require_file
from ..motion.sequence import Motion
from ..motion.skeleton import SKELETONS, Skeleton

EULER_ORDER = "ZXY"  # channel order written for every joint
_UNITS = {"m": 1.0, "cm": 100.0, "mm": 1000.0, "in": 39.37007874}
_HUMAN_HEIGHT_M = 1.6  # rest-pose vertical extent used to guess units


# ------------------------------------------------------------------------------------------ writing
def _children(parents) -> list[list[int]]:
    kids: list[list[int]] = [[] for _ in parents]
    for j, p in enumerate(parents):
        if p >= 0:
            kids[p].append(j)
    return kids


def _dfs_order(parents) -> list[int]:
    """Joint indices in BVH (depth-first, pre-order) order; the channel columns follow it."""
    kids = _children(parents)
    roots = [j for j, p in enumerate(parents) if p < 0]
    if len(roots) != 1:
        raise ConfigError(f"BVH needs a skeleton with exactly one root, got {len(roots)}")
    order, stack = [], [roots[0]]
    while stack:
        j = stack.pop()
        order.append(j)
        stack.extend(reversed(kids[j]))
    return order


def _end_site(offset: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(offset)
    return offset * 0.5 if n > 1e-6 else np.array([0.0, 0.05, 0.0])


def _hierarchy_text(sk: Skeleton, offsets: np.ndarray, scale: float) -> str:
    kids = _children(sk.parents)
    lines: list[str] = ["HIERARCHY"]
    rot = " ".join(f"{a}rotation" for a in EULER_ORDER)

    def fmt(v):
        return " ".join(f"{x * scale:.8f}" for x in v)

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        kind = "ROOT" if sk.parents[j] < 0 else "JOINT"
        lines.append(f"{ind}{kind} {sk.joint_names[j]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}\tOFFSET {fmt(offsets[j])}")
        if kind == "ROOT":
            lines.append(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition {rot}")
        else:
            lines.append(f"{ind}\tCHANNELS 3 {rot}")
        for c in kids[j]:
            emit(c, depth + 1)
        if not kids[j]:
            lines.append(f"{ind}\tEnd Site")
            lines.append(f"{ind}\t{{")
            lines.append(f"{ind}\t\tOFFSET {fmt(_end_site(offsets[j]))}")
            lines.append(f"{ind}\t}}")
        lines.append(f"{ind}}}")

    emit(_dfs_order(sk.parents)[0], 0)
    return "\n".join(lines) + "\n"


def _unwrap_degrees(angles: np.ndarray) -> np.ndarray:
    """Remove 360-degree jumps along time (axis 0) so animation curves are continuous."""
    return np.rad2deg(np.unwrap(np.deg2rad(angles), axis=0)) if len(angles) > 1 else angles


def require_rotations(motion: Motion, what: str) -> None:
    """ConfigError (naming the source file) unless ``motion`` has a kinematic skeleton with rest offsets
    and joint rotations (SMPL ``poses`` + ``trans``), as every rotation-based export (``what``) needs."""
    sk, src = motion.skel, motion.meta.get("source")
    if not sk.kinematic or sk.offsets is None:
        raise ConfigError(f"{what} export needs a kinematic skeleton with rest offsets; {sk.name} is a keypoint "
                          "layout (export it as npz instead)", src)
    if motion.poses is None or motion.trans is None:
        raise ConfigError(f"{what} export needs joint rotations (SMPL poses + trans); this {sk.name} motion has "
                          "only joint positions (export it as npz instead)", src)
    motion.validate()


def save_bvh(motion: Motion, path: str | os.PathLike, scale: float = 1.0) -> Path:
    """Write ``motion`` (SMPL-family or BVH-derived kinematic skeleton) as a BVH file, atomically.

    Args:
        motion: needs ``poses`` (T, J*3) local axis-angle and ``trans`` (T, 3) root position in
            metres, Y-up (use :meth:`Motion.canonical` first to put the floor at y = 0).
        path: output ``.bvh``.
        scale: unit factor applied to offsets and root positions (1 = metres, 100 = centimetres).

    Returns the path. Frame Time = 1 / ``motion.fps``.
    """
    sk = motion.skel
    if not np.isfinite(scale) or scale <= 0:
        raise ConfigError(f"BVH scale must be a positive number, got {scale}")
    require_rotations(motion, "BVH")
    T, J = motion.num_frames, sk.num_joints
    order = _dfs_order(sk.parents)
    rotmats = Rotation.from_rotvec(np.asarray(motion.poses, np.float64).reshape(T * J, 3))
    # intrinsic 'ZXY' in scipy: R = Rz @ Rx @ Ry, angles returned in the order (z, x, y)
    eul = rotmats.as_euler(EULER_ORDER, degrees=True).reshape(T, J, 3)
    eul = _unwrap_degrees(eul)
    cols = [np.asarray(motion.trans, np.float64) * scale] + [eul[:, j] for j in order]
    data = np.concatenate(cols, axis=1)
    buf = io.StringIO()
    buf.write(_hierarchy_text(sk, np.asarray(sk.offsets, np.float64), scale))
    buf.write(f"MOTION\nFrames: {T}\nFrame Time: {1.0 / motion.fps:.10f}\n")
    np.savetxt(buf, data, fmt="%.6f", delimiter=" ")
    with atomic_path(path, suffix=".bvh") as tmp:
        tmp.write_text(buf.getvalue(), encoding="ascii")
    return Path(path)


# ------------------------------------------------------------------------------------------ reading
@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end_site: np.ndarray | None = None


@dataclass
class BvhData:
    """Raw content of a BVH file: joints in file order, (T, C) channel values, frame time (s)."""

    joints: list[BvhJoint]
    frame_time: float
    values: np.ndarray

    def column_slices(self) -> list[slice]:
        out, c = [], 0
        for jt in self.joints:
            out.append(slice(c, c + len(jt.channels)))
            c += len(jt.channels)
        return out


_TOKEN = re.compile(r"[{}]|[^\s{}]+")
_VALID_CHANNELS = {f"{a}{k}" for a in "XYZ" for k in ("position", "rotation")}


def parse_bvh(path: str | os.PathLike) -> BvhData:
    """Parse a BVH file into :class:`BvhData`; any defect raises :class:`InputError`."""
    p = require_file(path, "BVH file")
    try:
        text = p.read_text(encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, OSError) as e:
        raise InputError(f"not a text BVH file ({e.__class__.__name__})", p) from None
    head, sep, motion_text = text.partition("MOTION")
    tokens = _TOKEN.findall(head)
    if not tokens or tokens[0].upper() != "HIERARCHY" or not sep:
        raise InputError("not a BVH file (expected a HIERARCHY section followed by MOTION)", p)
    joints: list[BvhJoint] = []
    stack: list[int] = []  # open joint blocks (-1 = an End Site block)
    i, n = 1, len(tokens)

    def nums(k: int) -> list[float]:
        nonlocal i
        try:
            vals = [float(t) for t in tokens[i:i + k]]
        except ValueError:
            raise InputError(f"bad number in the hierarchy near '{' '.join(tokens[i:i + k])}'", p) from None
        if len(vals) != k:
            raise InputError("hierarchy ends in the middle of a block", p)
        i += k
        return vals

    pending: tuple[str, str] | None = None
    try:
        while i < n:
            t = tokens[i]
            up = t.upper()
            i += 1
            if up in ("ROOT", "JOINT"):
                if up == "ROOT" and joints:
                    raise InputError("BVH files with more than one ROOT are not supported", p)
                pending = ("joint", tokens[i])
                i += 1
            elif up == "END":
                if tokens[i].upper() != "SITE":
                    raise InputError("expected 'End Site'", p)
                pending = ("end", "")
                i += 1
            elif t == "{":
                if pending is None:
                    raise InputError("unexpected '{' in the hierarchy", p)
                if pending[0] == "joint":
                    parent = next((s for s in reversed(stack) if s >= 0), -1)
                    if parent < 0 and joints:
                        raise InputError("JOINT outside the ROOT block", p)
                    joints.append(BvhJoint(pending[1], parent, np.zeros(3)))
                    stack.append(len(joints) - 1)
                else:
                    if not stack or stack[-1] < 0:
                        raise InputError("End Site outside a joint", p)
                    stack.append(-1)
                pending = None
            elif t == "}":
                if not stack:
                    raise InputError("unbalanced '}' in the hierarchy", p)
                stack.pop()
            elif up == "OFFSET":
                off = np.array(nums(3))
                if not stack:
                    raise InputError("OFFSET outside a block", p)
                if stack[-1] < 0:
                    joints[next(s for s in reversed(stack) if s >= 0)].end_site = off
                else:
                    joints[stack[-1]].offset = off
            elif up == "CHANNELS":
                k = int(tokens[i])
                i += 1
                chans = tokens[i:i + k]
                i += k
                bad = [c for c in chans if c not in _VALID_CHANNELS]
                if bad or len(chans) != k or not stack or stack[-1] < 0:
                    raise InputError(f"bad CHANNELS line ({' '.join(chans) or 'empty'})", p)
                joints[stack[-1]].channels = list(chans)
            else:
                raise InputError(f"unexpected token '{t}' in the hierarchy", p)
    except IndexError:
        raise InputError("hierarchy ends in the middle of a block", p) from None
    except ValueError:
        raise InputError("bad CHANNELS count", p) from None
    if stack or not joints:
        raise InputError("unbalanced braces or no joints in the hierarchy", p)

    m = re.match(r"\s*Frames:\s*(\S+)\s*Frame\s+Time:\s*(\S+)", motion_text, flags=re.IGNORECASE)
    if not m:
        raise InputError("MOTION section lacks 'Frames:' / 'Frame Time:'", p)
    try:
        frames, frame_time = int(m.group(1)), float(m.group(2))
        flat = np.array(motion_text[m.end():].split(), dtype=np.float64)
    except ValueError:
        raise InputError("non-numeric values in the MOTION section", p) from None
    if not (np.isfinite(frame_time) and frame_time > 0):
        raise InputError(f"invalid Frame Time {m.group(2)}", p)
    C = sum(len(jt.channels) for jt in joints)
    if frames < 1 or C == 0:
        raise InputError("BVH has no frames or no channels", p)
    if flat.size != frames * C:
        raise InputError(f"MOTION declares {frames} frames x {C} channels but holds {flat.size} values", p)
    if not np.isfinite(flat).all():
        raise InputError("MOTION values contain NaN or infinite numbers", p)
    return BvhData(joints, frame_time, flat.reshape(frames, C))


def bvh_local_transforms(bvh: BvhData) -> tuple[np.ndarray, np.ndarray]:
    """Per-joint local rotations (T, J, 3, 3) and translations (T, J, 3) in file units."""
    T, J = len(bvh.values), len(bvh.joints)
    rots = np.tile(np.eye(3), (T, J, 1, 1))
    locs = np.empty((T, J, 3))
    for j, (jt, sl) in enumerate(zip(bvh.joints, bvh.column_slices())):
        vals = bvh.values[:, sl]
        locs[:, j] = jt.offset
        rot_idx = [k for k, c in enumerate(jt.channels) if c.endswith("rotation")]
        pos_idx = {c[0]: k for k, c in enumerate(jt.channels) if c.endswith("position")}
        if rot_idx:
            seq = "".join(jt.channels[k][0] for k in rot_idx)
            rots[:, j] = Rotation.from_euler(seq, vals[:, rot_idx], degrees=True).as_matrix()
        for a, k in pos_idx.items():
            locs[:, j, "XYZ".index(a)] = vals[:, k]
    return rots, locs


def bvh_fk(rots: np.ndarray, locs: np.ndarray, parents: list[int]) -> np.ndarray:
    """World joint positions (T, J, 3) from local rotations/translations (parents precede children)."""
    T, J = locs.shape[:2]
    pos = np.empty((T, J, 3))
    glob = np.empty((T, J, 3, 3))
    for j, p in enumerate(parents):
        if p < 0:
            pos[:, j], glob[:, j] = locs[:, j], rots[:, j]
        else:
            pos[:, j] = np.einsum("tab,tb->ta", glob[:, p], locs[:, j]) + pos[:, p]
            glob[:, j] = glob[:, p] @ rots[:, j]
    return pos


def guess_unit(bvh: BvhData) -> float:
    """Unit factor (file units per metre) from the rest-pose height: 1, 100, 1000 or 39.37."""
    parents = [jt.parent for jt in bvh.joints]
    rest = bvh_fk(np.tile(np.eye(3), (1, len(parents), 1, 1)),
                  np.stack([jt.offset for jt in bvh.joints])[None], parents)[0]
    tips = [rest[j] + jt.end_site for j, jt in enumerate(bvh.joints) if jt.end_site is not None]
    pts = np.concatenate([rest, np.array(tips).reshape(-1, 3)])
    height = float(np.ptp(pts[:, 1]))
    if height <= 0:
        return 1.0
    return min(_UNITS.values(), key=lambda u: abs(np.log(height / u) - np.log(_HUMAN_HEIGHT_M)))


def _match_smpl(names: list[str], parents: list[int]) -> Skeleton | None:
    for key in ("smpl24", "smplh52"):
        sk = SKELETONS[key]
        if sorted(names) != sorted(sk.joint_names):
            continue
        idx = {nm: k for k, nm in enumerate(names)}
        ok = all(
            (sk.parents[j] < 0 and parents[idx[nm]] < 0)
            or (sk.parents[j] >= 0 and parents[idx[nm]] == idx[sk.joint_names[sk.parents[j]]])
            for j, nm in enumerate(sk.joint_names)
        )
        if ok:
            return sk
    return None


def _generic_skeleton(bvh: BvhData, unit: float) -> Skeleton:
    names = [jt.name for jt in bvh.joints]
    parents = [jt.parent for jt in bvh.joints]
    offsets = np.stack([jt.offset for jt in bvh.joints]) / unit
    key = hashlib.sha1(repr((names, parents, np.round(offsets, 6).tolist())).encode()).hexdigest()[:8]
    name = f"bvh{len(names)}_{key}"
    if name not in SKELETONS:
        SKELETONS[name] = Skeleton(name=name, joint_names=tuple(names), parents=tuple(parents),
                                   offsets=offsets, kinematic=True)
    return SKELETONS[name]


def _nice_fps(frame_time: float) -> float:
    fps = 1.0 / frame_time
    r = round(fps)
    return float(r) if r > 0 and abs(fps - r) < 1e-4 * fps else fps


def load_bvh(path: str | os.PathLike, scale: float | None = None) -> Motion:
    """Read a BVH file into a :class:`Motion` (metres, the file's own axes, fps = 1 / Frame Time).

    Args:
        path: ``.bvh`` file.
        scale: file units per metre (100 for centimetres); None guesses it (:func:`guess_unit`).

    Returns a validated Motion: joints (T, J, 3) from the file's own FK; for SMPL-named trees also
    ``poses`` (T, J*3) axis-angle in skeleton order and ``trans`` (T, 3) = root position.
    """
    bvh = parse_bvh(path)
    unit = guess_unit(bvh) if scale is None else float(scale)
    if not np.isfinite(unit) or unit <= 0:
        raise ConfigError(f"BVH scale must be a positive number, got {scale}")
    names = [jt.name for jt in bvh.joints]
    parents = [jt.parent for jt in bvh.joints]
    if len(set(names)) != len(names):
        raise InputError("BVH joint names are not unique", path)
    rots, locs = bvh_local_transforms(bvh)
    joints = bvh_fk(rots, locs, parents) / unit
    sk = _match_smpl(names, parents)
    if sk is None:
        sk = _generic_skeleton(bvh, unit)
    order = [names.index(nm) for nm in sk.joint_names]
    T, J = len(bvh.values), len(order)
    rotvec = Rotation.from_matrix(rots[:, order].reshape(T * J, 3, 3)).as_rotvec().reshape(T, J * 3)
    non_root_pos = any(c.endswith("position") for jt in bvh.joints if jt.parent >= 0 for c in jt.channels)
    meta = {"source": str(path), "format": "bvh", "bvh_unit_per_m": unit}
    if non_root_pos:
        meta["bvh_note"] = "non-root position channels: poses alone do not reproduce the joints"
    m = Motion(
        skeleton=sk.name, fps=_nice_fps(bvh.frame_time), joints=joints[:, order].astype(np.float32),
        poses=rotvec.astype(np.float32), trans=(locs[:, order[0]] / unit).astype(np.float32),
        name=Path(path).stem, meta=meta,
    )
    return m.validate(str(path))
