"""Editing constraints (inpainting masks) for generation: joint-wise and temporal.

All constraints live in the model's feature space (canonical frame, 30 fps): per frame
``[4 contacts | 3 root position | J x 6D rotations]``. A mask entry of 1 means "keep the reference
value", 0 means "let the model generate it". Three builders:

* :func:`keep_joints` -- keep some joints of a reference dance for its whole length and generate
  the others (e.g. ``"upper"``: keep pelvis orientation, root trajectory and upper body, generate
  the legs and foot contacts; ``"lower"``: keep root, legs and contacts, generate the upper body).
* :func:`inbetween` -- keep clip A at the start and clip B after a gap; generate the gap.
* :func:`continue_from` -- keep a given dance as the first frames and continue it.

Reference motions need SMPL rotations (``poses``/``trans``): contract npz with poses, Tang2018
npz, AIST++ pkl, FineDance npy or our BVH.
"""
from __future__ import annotations

import numpy as np
import torch

from ...errors import ConfigError, InputError
from ...motion.representation import N_CONTACT, encode, feature_dim
from ...motion.sequence import Motion
from ...motion.skeleton import get_skeleton
from .pipeline import Constraint

UPPER = ["spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head", "left_shoulder",
         "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand"]
LOWER = ["left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot"]


def _features(motion: Motion, skeleton: str, fps: float) -> np.ndarray:
    src = motion.meta.get("source", motion.name)
    if not motion.has_smpl:
        raise InputError("editing needs SMPL rotations (poses + trans); this file only has joint positions", src)
    if motion.skeleton != skeleton:
        raise InputError(f"reference skeleton {motion.skeleton} does not match the model's {skeleton}", src)
    m = motion.resample(fps)
    m = m.canonical(floor="global")
    return encode(m.poses, m.trans, get_skeleton(skeleton))


def joint_names_for(spec: str, skeleton: str) -> list[str]:
    sk = get_skeleton(skeleton)
    s = spec.strip().lower()
    if s in ("body", "hands"):
        if sk.num_joints != 52:
            raise ConfigError(f"'{s}' needs a body + hands model (smplh52); this model's skeleton is {skeleton} "
                              f"({sk.num_joints} joints, no hands)")
        return list(sk.joint_names[:22] if s == "body" else sk.joint_names[22:])
    names = UPPER if s == "upper" else LOWER if s == "lower" else [n.strip() for n in s.split(",") if n.strip()]
    bad = [n for n in names if n not in sk.joint_names]
    if bad or not names:
        raise ConfigError(f"unknown joints {bad or spec!r} (use 'upper', 'lower' or names from: {', '.join(sk.joint_names)})")
    return names


def keep_joints(reference: Motion, joints: str, skeleton: str = "smpl24", fps: float = 30.0,
                keep_root: bool = True) -> Constraint:
    """Keep ``joints`` ("upper", "lower", for smplh52 "body" (generate the hands) or "hands", or
    comma-separated names) of ``reference``. "hands" generates the body but keeps no root."""
    sk = get_skeleton(skeleton)
    names = joint_names_for(joints, skeleton)
    keep_root = keep_root and joints.strip().lower() != "hands"
    f = _features(reference, skeleton, fps)
    mask = np.zeros_like(f)
    for n in names:
        j = sk.index(n)
        mask[:, N_CONTACT + 3 + 6 * j: N_CONTACT + 3 + 6 * (j + 1)] = 1
    if keep_root:
        mask[:, N_CONTACT: N_CONTACT + 3] = 1
        mask[:, N_CONTACT + 3: N_CONTACT + 9] = 1  # pelvis orientation
    if set(names) >= {"left_ankle", "right_ankle"}:
        mask[:, :N_CONTACT] = 1
    return Constraint(torch.as_tensor(f), torch.as_tensor(mask), f"keep joints: {joints}")


def inbetween(clip_a: Motion, clip_b: Motion, gap_seconds: float, skeleton: str = "smpl24", fps: float = 30.0) -> Constraint:
    """Clip A, then ``gap_seconds`` to generate, then clip B (B keeps its position relative to A)."""
    if not gap_seconds > 0:
        raise ConfigError(f"--gap must be positive, got {gap_seconds}")
    a = clip_a.resample(fps)
    b = clip_b.resample(fps)
    if not (a.has_smpl and b.has_smpl):
        raise InputError("in-betweening needs SMPL rotations in both clips", a.meta.get("source"))
    # one canonical frame for both: shift by A's canonical offset
    ja = a.positions()
    off = np.array([-ja[0, 0, 0], -min(ja[..., 1].min(), b.positions()[..., 1].min()), -ja[0, 0, 2]], np.float32)
    sk = get_skeleton(skeleton)
    fa = encode(a.poses, a.trans + off, sk)
    fb = encode(b.poses, b.trans + off, sk)
    gap = int(round(gap_seconds * fps))
    T = len(fa) + gap + len(fb)
    known = np.zeros((T, feature_dim(sk)), np.float32)
    mask = np.zeros_like(known)
    known[: len(fa)] = fa
    mask[: len(fa)] = 1
    known[len(fa) + gap:] = fb
    mask[len(fa) + gap:] = 1
    return Constraint(torch.as_tensor(known), torch.as_tensor(mask), f"in-between {len(fa)} + {gap} + {len(fb)} frames")


def continue_from(motion: Motion, skeleton: str = "smpl24", fps: float = 30.0) -> Constraint:
    """Keep ``motion`` as the first frames; the model continues it."""
    f = _features(motion, skeleton, fps)
    return Constraint(torch.as_tensor(f), torch.ones(f.shape), f"continue {len(f)} frames")


def regenerate_range(motion: Motion, start_s: float, end_s: float, skeleton: str = "smpl24",
                     fps: float = 30.0) -> Constraint:
    """Keep ``motion`` everywhere except ``[start_s, end_s)`` seconds, which the model regenerates
    (in-betweening inside one dance: what is around the range is kept exactly)."""
    f = _features(motion, skeleton, fps)
    a, b = int(round(start_s * fps)), int(round(end_s * fps))
    if not (np.isfinite(start_s) and np.isfinite(end_s) and 0 <= a < b <= len(f)):
        raise ConfigError(f"the range to regenerate must lie inside the dance (0 to {len(f) / fps:.2f} s), "
                          f"got {start_s:g} to {end_s:g} s")
    mask = np.ones_like(f)
    mask[a:b] = 0
    return Constraint(torch.as_tensor(f), torch.as_tensor(mask), f"regenerate {a}-{b} of {len(f)} frames")
