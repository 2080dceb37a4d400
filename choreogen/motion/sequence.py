"""The one in-memory motion type used everywhere in choreogen."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import InputError
from .fk import fk_axis_angle
from .frames import canonical_offset
from .skeleton import Skeleton, get_skeleton

CANONICAL_FPS = 30.0


@dataclass
class Motion:
    """A dance (or keypoint) sequence.

    Attributes:
        skeleton: joint layout name (see :mod:`choreogen.motion.skeleton`).
        fps: frames per second.
        joints: (T, J, D) joint positions, D = 3 (metres, Y-up) or 2 (pixels, image frame), or
            None if only SMPL parameters are known (computed on demand by :meth:`positions`).
        poses: (T, J*3) local axis-angle rotations (SMPL family), or None.
        trans: (T, 3) root translation in metres, or None.
        confidence: (T, J) per-joint confidence in [0, 1] (0 = missing), or None (all present).
        music: path of the music the dance belongs to, if any.
        genre: genre label, if any.
        name: short identifier (file stem).
        meta: free-form provenance (source file, seed, model id, ...).
    """

    skeleton: str
    fps: float
    joints: np.ndarray | None = None
    poses: np.ndarray | None = None
    trans: np.ndarray | None = None
    confidence: np.ndarray | None = None
    music: str | None = None
    genre: str | None = None
    name: str = "motion"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        self.fps = float(self.fps)
        if self.joints is None and self.poses is None:
            raise ValueError("a Motion needs joints or poses")

    # ---------------------------------------------------------------- basic properties
    @property
    def skel(self) -> Skeleton:
        return get_skeleton(self.skeleton)

    @property
    def num_frames(self) -> int:
        return int(len(self.joints) if self.joints is not None else len(self.poses))

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.num_frames / self.fps

    @property
    def has_smpl(self) -> bool:
        return self.poses is not None and self.trans is not None

    def positions(self) -> np.ndarray:
        """(T, J, D) joint positions (FK from poses/trans when joints are absent), float32."""
        if self.joints is None:
            self.joints = fk_axis_angle(self.poses, self.trans, self.skel).astype(np.float32)
        return self.joints

    def copy(self, **changes) -> "Motion":
        def cp(x):
            return None if x is None else np.array(x, copy=True)

        base = replace(
            self, joints=cp(self.joints), poses=cp(self.poses), trans=cp(self.trans),
            confidence=cp(self.confidence), meta=dict(self.meta),
        )
        return replace(base, **changes) if changes else base

    # ---------------------------------------------------------------- checks
    def validate(self, source: str | None = None) -> "Motion":
        """Raise :class:`InputError` (naming ``source``) on NaNs, wrong shapes or bad fps."""
        where = source or self.meta.get("source")
        sk = self.skel
        J = sk.num_joints
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise InputError(f"invalid frame rate {self.fps}", where)
        if self.joints is not None:
            j = self.joints
            if j.ndim != 3 or j.shape[1] != J or j.shape[2] not in (2, 3):
                raise InputError(f"joints must have shape (T, {J}, 2|3) for {sk.name}, got {j.shape}", where)
        if self.poses is not None:
            if self.poses.ndim != 2 or self.poses.shape[1] != J * 3:
                raise InputError(f"poses must have shape (T, {J * 3}), got {self.poses.shape}", where)
            if self.trans is None or self.trans.shape != (len(self.poses), 3):
                got = None if self.trans is None else self.trans.shape
                raise InputError(f"trans must have shape ({len(self.poses)}, 3), got {got}", where)
            if not (np.isfinite(self.poses).all() and np.isfinite(self.trans).all()):
                raise InputError("poses/trans contain NaN or infinite values", where)
        if self.num_frames < 1:
            raise InputError("motion has no frames", where)
        if self.joints is not None:
            finite = np.isfinite(self.joints).all(axis=-1)
            if self.confidence is None and not finite.all():
                raise InputError("joints contain NaN or infinite values", where)
            if self.confidence is not None:
                if self.confidence.shape != self.joints.shape[:2]:
                    raise InputError(f"confidence shape {self.confidence.shape} != {self.joints.shape[:2]}", where)
                if not finite[self.confidence > 0].all():
                    raise InputError("joints marked present contain NaN or infinite values", where)
        return self

    # ---------------------------------------------------------------- transforms
    def canonical(self, floor: str = "tracked") -> "Motion":
        """Canonical frame: root at the xz origin at frame 0, floor at y = 0 (no joint below it).

        Requires 3D Y-up data. Translation only; rotations are unchanged. ``floor``: "tracked"
        removes slow vertical drift of the capture floor, "global" shifts by the lowest point only
        (see :func:`choreogen.motion.frames.canonical_offset`).
        """
        pos = self.positions()
        if pos.shape[-1] != 3:
            raise InputError("canonicalisation needs 3D joints", self.meta.get("source"))
        off = canonical_offset(pos.astype(np.float64), self.fps, floor)
        out = self.copy()
        out.joints = (pos + off[:, None, :]).astype(np.float32)
        if out.trans is not None:
            out.trans = (out.trans + off).astype(np.float32)
        out.meta["canonical_floor"] = floor
        return out

    def resample(self, fps: float = CANONICAL_FPS) -> "Motion":
        """Resample to ``fps`` (slerp rotations, linear translation/positions)."""
        from .resample import resample_motion

        return resample_motion(self, fps)

    def slice(self, start: int, stop: int) -> "Motion":
        def s(x):
            return None if x is None else np.array(x[start:stop], copy=True)

        return replace(
            self, joints=s(self.joints), poses=s(self.poses), trans=s(self.trans),
            confidence=s(self.confidence), meta=dict(self.meta),
        )
