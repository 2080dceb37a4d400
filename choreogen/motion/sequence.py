"""The one in-memory motion type used everywhere in choreogen."""
from __future__ import annotations

import contextlib
import contextvars
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..errors import InputError
from .fk import fk_axis_angle
from .frames import canonical_offset
from .skeleton import Skeleton, get_skeleton

CANONICAL_FPS = 30.0
# Plausibility limits of motion metadata (Motion.validate): beyond them a file is mislabelled or
# corrupt, and silently rendering or evaluating it would only produce nonsense.
MAX_FPS = 1000.0            # frames per second
MAX_COORD_M = 1000.0        # 3D joints / root translation: 1 km from the origin
MAX_BODY_M = 10.0           # 3D: a body larger than 10 m across (median frame) is not in metres
MAX_COORD_2D = 100_000.0    # 2D keypoints: pixels (several thousand) or normalised units
_NAN_FRAMES_OK = contextvars.ContextVar("choreogen_nan_frames_ok", default=False)


@contextlib.contextmanager
def nan_frames_allowed():
    """Within this block, :meth:`Motion.validate` (and so every loader) accepts NaN frames.

    For callers that handle tracking gaps themselves (the evaluation's ground truth: it keeps the
    valid part, :func:`choreogen.eval.prepare.valid_part`); every other check still applies.
    """
    token = _NAN_FRAMES_OK.set(True)
    try:
        yield
    finally:
        _NAN_FRAMES_OK.reset(token)


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
        if self.fps > MAX_FPS:
            raise InputError(f"implausible frame rate {self.fps:g} fps (expected at most {MAX_FPS:g})", where)
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
            if not _NAN_FRAMES_OK.get() and not (np.isfinite(self.poses).all() and np.isfinite(self.trans).all()):
                raise InputError("poses/trans contain NaN or infinite values", where)
        if self.num_frames < 1:
            raise InputError("motion has no frames", where)
        if self.joints is not None:
            finite = np.isfinite(self.joints).all(axis=-1)
            if self.confidence is None and not finite.all() and not _NAN_FRAMES_OK.get():
                raise InputError("joints contain NaN or infinite values", where)
            if self.confidence is not None:
                if self.confidence.shape != self.joints.shape[:2]:
                    raise InputError(f"confidence shape {self.confidence.shape} != {self.joints.shape[:2]}", where)
                if not finite[self.confidence > 0].all() and not _NAN_FRAMES_OK.get():
                    raise InputError("joints marked present contain NaN or infinite values", where)
        self._check_scale(where)
        return self

    def _check_scale(self, where) -> None:
        """Raise on coordinates no real motion has (kilometres of 3D travel, giant bodies, huge pixels)."""
        t = None if self.trans is None else np.abs(self.trans[np.isfinite(self.trans)])
        if t is not None and t.size:
            far = float(t.max())
            if far > MAX_COORD_M:
                raise InputError(f"implausible root translation: {far:.3g} m from the origin (expected metres, "
                                 f"at most {MAX_COORD_M:g} m)", where)
        if self.joints is None or not self.joints.size:
            return
        j = np.asarray(self.joints)
        ok = np.isfinite(j).all(-1)
        if self.confidence is not None:
            ok &= self.confidence > 0
        if not ok.any():
            return
        if j.shape[-1] == 2:
            far = float(np.abs(j[ok]).max())
            if far > MAX_COORD_2D:
                raise InputError(f"implausible 2D keypoint coordinates: up to {far:.3g} (expected pixels or "
                                 f"normalised units, at most {MAX_COORD_2D:g})", where)
            return
        far = float(np.abs(j[ok]).max())
        if far > MAX_COORD_M:
            raise InputError(f"implausible joint coordinates: {far:.3g} m from the origin (expected metres, "
                             f"at most {MAX_COORD_M:g} m)", where)
        jj = np.where(ok[..., None], j, np.nan)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames
            size = np.nanmax(jj, axis=1) - np.nanmin(jj, axis=1)  # (T, 3) per-frame extent
            body = float(np.nanmedian(np.nanmax(size, axis=-1)))
        if np.isfinite(body) and body > MAX_BODY_M:
            raise InputError(f"implausible body size: {body:.3g} m across (expected metres; a file in "
                             "centimetres or millimetres?)", where)

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
