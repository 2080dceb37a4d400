"""A perspective camera that follows a dancer smoothly and keeps every joint in view.

World frame: choreogen's canonical frame (metres, Y-up, floor at y = 0). The camera has a fixed
orientation (``yaw`` degrees around the vertical from the +Z axis, looking down by ``pitch``
degrees) and a fixed distance; only its position moves, following the dancer's root smoothed over
time with a Gaussian (non-causal, so the camera does not lag). Because orientation and height never
change, the horizon sits on a fixed image row and per-pixel floor distances are constant, which the
floor renderer uses. Image frame: pixels, x right, y down, origin top-left.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d


@dataclass
class FollowCamera:
    """Pinhole camera: ``uv = c + f * (R (p - eye_t))_{xy} / (R (p - eye_t))_z``.

    Attributes:
        width, height: image size in pixels.
        focal: focal length in pixels.
        rot: (3, 3) world -> camera rotation; rows = right, down, forward (unit vectors).
        targets: (T, 3) look-at point per frame (metres).
        offset: (3,) eye position relative to the target (metres); eye_t = targets[t] + offset.
    """

    width: int
    height: int
    focal: float
    rot: np.ndarray
    targets: np.ndarray
    offset: np.ndarray

    @property
    def eyes(self) -> np.ndarray:
        """(T, 3) camera centres."""
        return self.targets + self.offset

    def to_camera(self, points: np.ndarray, frames: np.ndarray | slice | int) -> np.ndarray:
        """World points (N, ..., 3) at ``frames`` (N frames) -> camera coordinates (N, ..., 3)."""
        eyes = self.eyes[frames]
        rel = points - eyes.reshape(eyes.shape[:1] + (1,) * (points.ndim - 2) + (3,))
        return rel @ self.rot.T

    def project_camera(self, pc: np.ndarray, near: float = 0.05) -> np.ndarray:
        """Camera coordinates (..., 3) -> pixel coordinates (..., 2) (depth clamped at ``near``)."""
        z = np.maximum(pc[..., 2:3], near)
        return pc[..., :2] * (self.focal / z) + np.array([self.width / 2.0, self.height / 2.0])

    def project(self, points: np.ndarray, frames) -> tuple[np.ndarray, np.ndarray]:
        """World points (N, J, 3) for frames -> (pixels (N, J, 2), depth (N, J) metres)."""
        pc = self.to_camera(points, frames)
        return self.project_camera(pc), pc[..., 2]

    @property
    def horizon_row(self) -> float:
        """Image row of the horizon (the vanishing line of the floor plane)."""
        fwd, down = self.rot[2], self.rot[1]
        # a horizontal direction d far away projects to v = cy + f * (down.d) / (fwd.d); take d = fwd
        # flattened onto the floor, which lies in the camera's vertical plane
        d = np.array([fwd[0], 0.0, fwd[2]])
        return self.height / 2.0 + self.focal * float(down @ d) / float(fwd @ d)


def look_rotation(yaw_deg: float, pitch_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """(rotation world -> camera, unit vector from target to eye) for a camera at ``yaw``/``pitch``.

    yaw 0 puts the camera on the +Z side (SMPL's rest pose faces +Z, so the dancer is seen from the
    front); positive pitch looks down.
    """
    y, p = np.deg2rad(yaw_deg), np.deg2rad(pitch_deg)
    back = np.array([np.sin(y) * np.cos(p), np.sin(p), np.cos(y) * np.cos(p)])
    fwd = -back
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd]), back


def follow_camera(joints: np.ndarray, fps: float, width: int, height: int, *, yaw: float = 25.0,
                  pitch: float = 12.0, fov_deg: float = 40.0, smooth_s: float = 0.8,
                  margin: float = 0.06, visible: np.ndarray | None = None) -> FollowCamera:
    """Build a :class:`FollowCamera` for a canonical (T, J, 3) sequence.

    The look-at point follows the root's xz position smoothed by a Gaussian of ``smooth_s`` seconds
    at a fixed height (mid-body). The distance starts from the body height and grows by 8 % steps
    until every joint of every frame (``visible`` (T, J) bool selects which) projects inside the
    image with ``margin`` (fraction of the image size) to spare.
    """
    T = len(joints)
    vis = np.isfinite(joints).all(-1) if visible is None else (visible & np.isfinite(joints).all(-1))
    jj = np.where(vis[..., None], joints, np.nan)
    root = joints[:, 0].copy()
    bad = ~np.isfinite(root).all(-1)
    if bad.any():  # missing root: centre of the visible joints (or the previous root)
        centre = np.nanmean(jj, axis=1)
        root[bad] = centre[bad]
        root = _fill_nan(root)
    targets = np.empty((T, 3))
    sigma = max(smooth_s * fps, 1e-3)
    targets[:, 0] = smooth_track(root[:, 0], sigma)
    targets[:, 2] = smooth_track(root[:, 2], sigma)
    top = float(np.nanpercentile(np.nanmax(jj[..., 1], axis=1), 95)) if vis.any() else 1.7
    top = max(top, 0.5)
    targets[:, 1] = 0.5 * top
    rot, back = look_rotation(yaw, pitch)
    focal = 0.5 * height / np.tan(np.deg2rad(fov_deg) / 2.0)
    dist = 0.5 * top / np.tan(np.deg2rad(fov_deg) / 2.0) / 0.75
    mx, my = margin * width, margin * height
    cam = FollowCamera(width, height, focal, rot, targets, back * dist)
    pts = jj if vis.any() else np.zeros((T, 1, 3))
    for _ in range(60):
        cam.offset = back * dist
        uv, z = cam.project(pts, slice(None))
        ok = np.isnan(z) | ((z > 0.3) & (uv[..., 0] >= mx) & (uv[..., 0] <= width - mx)
                            & (uv[..., 1] >= my) & (uv[..., 1] <= height - my))
        if ok.all():
            break
        dist *= 1.08
    return cam


def smooth_track(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing (``sigma`` in frames) of a (T,) track without bias at the ends.

    The track is padded by point reflection (``2 x[0] - x[k]``), so a dancer moving at constant
    speed is followed exactly, also in the first and last seconds.
    """
    x = np.asarray(x, np.float64)
    n = min(len(x) - 1, int(4 * sigma) + 1)
    if n < 1:
        return x.copy()
    pad = np.concatenate([2 * x[0] - x[n:0:-1], x, 2 * x[-1] - x[-2:-n - 2:-1]])
    return gaussian_filter1d(pad, sigma, mode="nearest")[n:n + len(x)]


def _fill_nan(x: np.ndarray) -> np.ndarray:
    """Forward/backward fill NaN rows of (T, D)."""
    out = x.copy()
    good = np.isfinite(out).all(-1)
    if not good.any():
        return np.zeros_like(out)
    idx = np.where(good, np.arange(len(out)), 0)
    np.maximum.accumulate(idx, out=idx)
    out = out[idx]
    first = int(np.argmax(good))
    out[:first] = x[first]
    return out
