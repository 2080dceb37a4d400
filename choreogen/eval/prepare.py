"""Bring motions to a protocol's conventions: joints, frame rates, clips, music.

A :class:`Clip` is one evaluated sample: joint positions (metres, Y-up, SMPL joint order, origin
*not yet* applied) at the protocol's feature, BAS and physics (30 fps) frame rates, plus the music
it belongs to and where the clip starts in that music.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..motion.resample import lerp_frames
from .physics import PHYSICS_FPS
from .protocols import Protocol

AUDIO_EXTS = (".wav", ".mp3", ".ogg", ".flac", ".m4a")


@dataclass
class Clip:
    """One evaluated sample. Arrays: (T, J, 3) float64 at the stated fps."""

    name: str
    feat: np.ndarray         # at protocol.feature_fps
    beat: np.ndarray         # at protocol.bas_fps
    phys: np.ndarray         # at 30 fps (all available SMPL joints, up to 24)
    music: str | None
    start_s: float           # clip start within the music, seconds (motion.meta["music_offset_s"] + clip start)


def _source(m) -> str:
    return str(m.meta.get("source") or m.name)


def _runs(ok: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of the runs of True in a 1-D bool array."""
    d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _ranges(frames: list[tuple[int, int]]) -> str:
    return ", ".join(f"{a}" if b - a == 1 else f"{a}-{b - 1}" for a, b in frames)


def valid_part(motion, min_frames: int = 3):
    """The longest run of frames without NaN/inf of ``motion`` (a tracking gap in a real capture).

    Returns ``(motion_or_None, note_or_None)``: the motion itself and None when every frame is
    valid; the cropped motion (its ``music_offset_s`` moved to the run's start) and a note naming
    the dropped frames; or None and a note when fewer than ``min_frames`` valid frames remain.
    """
    T = motion.num_frames
    if motion.has_smpl:
        ok = np.isfinite(motion.poses).all(-1) & np.isfinite(motion.trans).all(-1)
    else:
        ok = np.isfinite(np.asarray(motion.joints)).all(axis=(-1, -2))
    if ok.all():
        return motion, None
    src = _source(motion)
    bad = _runs(~ok)
    runs = _runs(ok)
    what = f"{src}: frames {_ranges(bad)} of {T} contain NaN"
    if not runs or max(b - a for a, b in runs) < min_frames:
        return None, f"{what}; no usable part, file dropped"
    a, b = max(runs, key=lambda r: (r[1] - r[0], -r[0]))
    out = motion.slice(a, b)
    out.meta["music_offset_s"] = float(motion.meta.get("music_offset_s", 0.0)) + a / motion.fps
    out.meta["valid_frames"] = [a, b]
    return out, f"{what}; evaluating frames {a}-{b - 1} ({(b - a) / motion.fps:.1f} s), dropping {T - (b - a)}"


def positions_at(motion, fps: float, resample: str = "slerp_fk") -> np.ndarray:
    """(T, J, 3) float64 Y-up positions of ``motion`` at ``fps``.

    ``slerp_fk``: SMPL motions are resampled by slerp of the joint rotations and FK (exact bone
    lengths, :meth:`Motion.resample`); others (or ``linear``) by linear joint interpolation.
    """
    if abs(motion.fps - fps) < 1e-9:
        P = motion.positions()
    elif resample == "slerp_fk" and motion.has_smpl:
        P = motion.resample(fps).positions()
    else:
        P = lerp_frames(np.asarray(motion.positions(), np.float64), motion.fps, fps)
    P = np.asarray(P, np.float64)
    if P.ndim != 3 or P.shape[-1] != 3:
        raise InputError(f"3D metrics need 3D joints, got shape {P.shape}", _source(motion))
    return P


def select_joints(P: np.ndarray, skeleton: str, joints: int, source: str) -> np.ndarray:
    """SMPL-order joints for a protocol: 24 (SMPL) or 22 (body of SMPL/SMPL-H/SMPL-X)."""
    if skeleton == "smpl24":
        return P[:, :joints]
    if skeleton == "smplh52":
        if joints == 24:
            raise InputError("this protocol needs 24 SMPL joints; SMPL-H motions have 22 body joints "
                             "(use a 22-joint protocol such as finedance-lodge)", source)
        return P[:, :22]
    raise InputError(f"3D dance metrics need an SMPL-family skeleton (smpl24/smplh52), got '{skeleton}'", source)


def find_music(motion, music_dir: str | os.PathLike | None) -> str | None:
    """The audio file for a motion: ``music_dir/<stem>.<ext>`` first, then the motion's own ``music``."""
    stems = [motion.name]
    if music_dir is not None:
        for stem in stems:
            for ext in AUDIO_EXTS:
                p = Path(music_dir) / f"{stem}{ext}"
                if p.is_file():
                    return str(p)
    if motion.music:
        p = Path(motion.music)
        if p.is_file():
            return str(p)
        if not p.is_absolute() and motion.meta.get("source"):
            q = Path(motion.meta["source"]).parent / p.name
            if q.is_file():
                return str(q)
    return None


def make_clips(motion, protocol: Protocol, music: str | None, is_gt: bool) -> list[Clip]:
    """Clips of one motion under ``protocol`` (see :class:`~choreogen.eval.protocols.Protocol`)."""
    src = _source(motion)
    feat = select_joints(positions_at(motion, protocol.feature_fps, protocol.resample), motion.skeleton,
                         protocol.joints, src)
    beat = select_joints(positions_at(motion, protocol.bas_fps, protocol.resample), motion.skeleton,
                         protocol.joints, src)
    phys = positions_at(motion, PHYSICS_FPS, protocol.resample)
    phys = phys[:, :24] if motion.skeleton == "smpl24" else phys[:, :22]
    L = protocol.clip_frames
    if L is None or (is_gt and not protocol.gt_clip) or len(feat) <= L:
        starts = [0]
        L = len(feat) if (L is None or (is_gt and not protocol.gt_clip)) else min(L, len(feat))
    elif protocol.windows == "crop":
        starts = [0]
    else:
        starts = list(range(0, len(feat) - L + 1, L))
    offset = float(motion.meta.get("music_offset_s", 0.0))   # where the motion starts in its music
    clips = []
    for k, s in enumerate(starts):
        t0, dur = s / protocol.feature_fps, L / protocol.feature_fps

        def cut(P, fps):
            a = int(round(t0 * fps))
            return P[a:a + int(round(dur * fps))]

        name = motion.name if len(starts) == 1 else f"{motion.name}#{k}"
        clips.append(Clip(name, feat[s:s + L], cut(beat, protocol.bas_fps), cut(phys, PHYSICS_FPS), music,
                          offset + t0))
    if len(clips[0].feat) < 3:
        raise InputError(f"motion is too short for evaluation ({len(clips[0].feat)} frames at "
                         f"{protocol.feature_fps:g} fps; at least 3 needed)", src)
    return clips
