"""OpenCV drawing of one video frame: fogged floor grid, soft shadow, shaded thick-limbed figure.

All images are ``uint8`` (H, W, 3) **RGB** (they are piped to ffmpeg as rgb24). Pixel coordinates
are drawn with 4 bits of sub-pixel precision (``shift=4``) and anti-aliasing so that slow motion
does not jitter by whole pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..motion.skeleton import Skeleton
from .camera import FollowCamera

SHIFT = 4
_ONE = 1 << SHIFT


@dataclass(frozen=True)
class Palette:
    """RGB colours of a render."""

    left: tuple[int, int, int] = (255, 140, 30)     # orange
    right: tuple[int, int, int] = (40, 150, 255)    # blue
    centre: tuple[int, int, int] = (225, 225, 215)  # warm white
    highlight: tuple[int, int, int] = (255, 40, 220)  # magenta: repaired ("filled") joints
    sky_top: tuple[int, int, int] = (16, 18, 26)
    floor: tuple[int, int, int] = (50, 54, 68)  # also the sky colour at the horizon
    grid: tuple[int, int, int] = (150, 158, 182)
    shadow: tuple[int, int, int] = (12, 12, 16)
    text: tuple[int, int, int] = (200, 200, 200)


PALETTE = Palette()

_FINGER = ("index", "middle", "pinky", "ring", "thumb")


def bone_radius(child: str) -> float:
    """Drawing radius (metres) of the bone ending at joint ``child`` (by name)."""
    n = child.lower()
    if any(f in n for f in _FINGER) or "face" in n or "eye" in n or "ear" in n or "mouth" in n:
        return 0.011
    if any(k in n for k in ("hand", "foot", "toe", "heel", "pinky")):
        return 0.03
    if "wrist" in n or "ankle" in n:
        return 0.042
    if "elbow" in n or "knee" in n:
        return 0.052
    if any(k in n for k in ("hip", "collar", "spine", "neck", "shoulder")):
        return 0.06
    if "head" in n or "nose" in n:
        return 0.045
    return 0.04


@dataclass
class FigureStyle:
    """Per-skeleton drawing data: bones (B, 2), their side colours, radii (m) and the head joint."""

    bones: np.ndarray
    colors: np.ndarray  # (B, 3) float RGB
    radii: np.ndarray   # (B,) metres
    head: int | None
    neck: int | None

    @classmethod
    def for_skeleton(cls, sk: Skeleton, palette: Palette = PALETTE) -> "FigureStyle":
        bones = np.array(sk.bones, dtype=np.int64).reshape(-1, 2)
        sides = sk.sides
        table = {1: palette.left, -1: palette.right, 0: palette.centre}
        colors = np.array([table[int(sides[c])] for _, c in bones], dtype=np.float64).reshape(-1, 3)
        radii = np.array([bone_radius(sk.joint_names[c]) for _, c in bones])
        names = sk.joint_names
        head = names.index("head") if "head" in names else None
        neck = names.index("neck") if "neck" in names else None
        return cls(bones, colors, radii, head, neck)


def _pt(p) -> tuple[int, int]:
    return int(round(p[0] * _ONE)), int(round(p[1] * _ONE))


def _rgb(c) -> tuple[int, int, int]:
    return int(c[0]), int(c[1]), int(c[2])


def _shade(depth, zmin, zmax):
    return 1.0 - 0.45 * (depth - zmin) / (zmax - zmin + 0.3)


def draw_figure(img: np.ndarray, uv: np.ndarray, depth: np.ndarray, style: FigureStyle,
                thickness: np.ndarray, visible: np.ndarray, highlight: np.ndarray | None = None,
                head_uv: np.ndarray | None = None, head_px: float = 0.0, nose_uv: np.ndarray | None = None,
                palette: Palette = PALETTE) -> None:
    """Draw one figure in place, far bones first (painter's algorithm).

    Args:
        uv: (J, 2) pixel positions; depth: (J,) metres from the camera (constant for 2D).
        thickness: (B,) bone widths in pixels; visible: (J,) bool; highlight: (J,) bool or None.
        head_uv, head_px: centre (2,) and radius (px) of the head ball, if any; nose_uv: (2,) a
            small dark dot on the face side of the head (drawn when it faces the camera).
    Each bone is a dark outline, a body stroke shaded darker with depth, and a lighter stripe
    towards the top (light from above), which reads as a lit cylinder.
    """
    b = style.bones
    ok = visible[b[:, 0]] & visible[b[:, 1]]
    zb = depth[b].mean(axis=1)
    zmin, zmax = (float(zb[ok].min()), float(zb[ok].max())) if ok.any() else (0.0, 1.0)
    base = style.colors
    if highlight is not None:
        hb = highlight[b[:, 0]] | highlight[b[:, 1]]
        if hb.any():
            base = np.where(hb[:, None], np.asarray(palette.highlight, float), base)
    col = base * _shade(zb, zmin, zmax)[:, None]
    body = col.astype(np.int64).tolist()
    edge = (col * 0.35).astype(np.int64).tolist()
    hi = np.minimum(col * 0.55 + 255 * 0.45, 255).astype(np.int64).tolist()
    pts = np.round(uv * _ONE).astype(np.int64).tolist()
    th = np.maximum(thickness, 1).astype(np.int64).tolist()
    order = np.flatnonzero(ok)[np.argsort(-zb[ok], kind="stable")].tolist()
    head_todo = head_uv is not None
    head_col = palette.highlight if head_todo and highlight is not None and highlight[style.head] else palette.centre
    pairs = b.tolist()
    for k in order:
        p, c = pairs[k]
        p0, p1, t = pts[p], pts[c], th[k]
        cv2.line(img, p0, p1, edge[k], t + 2, cv2.LINE_AA, SHIFT)
        cv2.line(img, p0, p1, body[k], t, cv2.LINE_AA, SHIFT)
        if t >= 5:
            lift = int(-0.22 * t * _ONE)
            cv2.line(img, (p0[0], p0[1] + lift), (p1[0], p1[1] + lift), hi[k], max(1, t // 3), cv2.LINE_AA, SHIFT)
        if head_todo and c == style.head:  # the head ball sits on its own bone
            _draw_head(img, head_uv, head_px, nose_uv, _shade(float(depth[c]), zmin, zmax), head_col)
            head_todo = False
    if head_todo:
        _draw_head(img, head_uv, head_px, nose_uv, _shade(float(depth[style.head]), zmin, zmax), head_col)
    if highlight is not None and highlight.any():
        r = int(max(3.0, float(np.max(thickness)) * 0.7) * _ONE)
        for j in np.flatnonzero(highlight & visible).tolist():
            cv2.circle(img, pts[j], r, palette.highlight, 2, cv2.LINE_AA, SHIFT)


def _draw_head(img, centre, radius, nose, shade, color) -> None:
    col = np.asarray(color, float) * max(shade, 0.5)
    c, r = _pt(centre), int(round(radius * _ONE))
    cv2.circle(img, c, r + _ONE, _rgb(col * 0.35), -1, cv2.LINE_AA, SHIFT)
    cv2.circle(img, c, r, _rgb(col), -1, cv2.LINE_AA, SHIFT)
    hi = np.minimum(col * 0.55 + 255 * 0.45, 255)
    off = int(round(0.35 * radius * _ONE))
    cv2.circle(img, (c[0] - off // 2, c[1] - off), max(_ONE, r // 3), _rgb(hi), -1, cv2.LINE_AA, SHIFT)
    if nose is not None:
        cv2.circle(img, _pt(nose), max(_ONE, int(r * 0.28)), _rgb(col * 0.3), -1, cv2.LINE_AA, SHIFT)


class FloorRenderer:
    """Background: a sky gradient and a perspective floor grid (1 m squares) fading with distance.

    Relies on the follow camera's fixed orientation and height: the horizon row and the fog of
    every floor pixel never change, so they are computed once. Each frame draws the ~2R+1 grid
    lines per axis around the camera into a one-channel intensity mask, multiplies it by the
    precomputed fog, and colours it with a lookup table (floor colour -> grid colour) in one
    ``cv2.applyColorMap`` call. The floor colour equals the sky colour at the horizon, so the fogged
    floor melts into the sky.
    """

    def __init__(self, cam: FollowCamera, palette: Palette = PALETTE, radius: float | None = None):
        self.cam, self.palette = cam, palette
        W, H = cam.width, cam.height
        dist = float(np.linalg.norm(cam.offset))
        self.radius = radius if radius is not None else float(np.ceil(dist + 6.0))
        eye_y = float(cam.eyes[0, 1])
        self.row0 = int(np.clip(np.floor(cam.horizon_row), 0, H))
        rows = np.arange(self.row0, H)
        # ray through every floor pixel -> horizontal distance where it meets the floor
        u, v = np.meshgrid((np.arange(W) + 0.5 - W / 2) / cam.focal, (rows + 0.5 - H / 2) / cam.focal)
        rays = np.stack([u, v, np.ones_like(u)], -1) @ cam.rot  # camera -> world directions
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(rays[..., 1] < -1e-9, -eye_y / rays[..., 1], np.inf)
        ground = s * np.hypot(rays[..., 0], rays[..., 2])
        near, far = 0.6 * dist, dist + 0.9 * self.radius
        clear = np.clip(1.0 - (ground - near) / (far - near), 0.0, 1.0) ** 1.5
        self.clear = np.ascontiguousarray(np.round(clear * 255)).astype(np.uint8)
        t = np.linspace(0.0, 1.0, 256)[:, None, None]
        self.lut = np.round((1 - t) * np.asarray(palette.floor, float) + t * np.asarray(palette.grid, float)
                            ).astype(np.uint8)
        hz = max(self.row0, 1)
        t = np.clip(np.arange(H) / hz, 0, 1)[:, None, None]
        sky = (1 - t) * np.asarray(palette.sky_top, float) + t * np.asarray(palette.floor, float)
        self.sky = np.ascontiguousarray(np.broadcast_to(sky, (H, W, 3))).astype(np.uint8)
        self.mask = np.zeros((H - self.row0, W), np.uint8)
        self._k = np.arange(-self.radius, self.radius + 1.0)

    def _grid_segments(self, frame: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel end points (N, 2) x 2 of the visible grid lines around the camera at ``frame``."""
        cam = self.cam
        tx, _, tz = cam.targets[frame]
        gx, gz = np.round(tx) + self._k, np.round(tz) + self._k
        n = len(self._k)
        zero = np.zeros(n)
        a = np.concatenate([np.stack([gx, zero, np.full(n, gz[0])], 1), np.stack([np.full(n, gx[0]), zero, gz], 1)])
        b = np.concatenate([np.stack([gx, zero, np.full(n, gz[-1])], 1), np.stack([np.full(n, gx[-1]), zero, gz], 1)])
        pc = cam.to_camera(np.concatenate([a, b])[None], slice(frame, frame + 1))[0]
        pa, pb = pc[: 2 * n], pc[2 * n:]
        near = 0.2
        keep = (pa[:, 2] > near) | (pb[:, 2] > near)
        pa, pb = pa[keep], pb[keep]
        for p, q in ((pa, pb), (pb, pa)):  # clip to the near plane
            bad = p[:, 2] < near
            if bad.any():
                w = (near - p[bad, 2]) / (q[bad, 2] - p[bad, 2])
                p[bad] = p[bad] + w[:, None] * (q[bad] - p[bad])
        return cam.project_camera(pa), cam.project_camera(pb)

    def render(self, frame: int, out: np.ndarray | None = None) -> np.ndarray:
        """The background of ``frame`` (a new or the given (H, W, 3) uint8 array)."""
        img = np.empty_like(self.sky) if out is None else out
        r0 = self.row0
        img[:r0] = self.sky[:r0]
        if r0 >= img.shape[0]:
            return img
        m = self.mask
        m.fill(0)
        ua, ub = self._grid_segments(frame)
        off = np.array([0.0, r0])
        pa = np.round((ua - off) * _ONE).astype(np.int64).tolist()
        pb = np.round((ub - off) * _ONE).astype(np.int64).tolist()
        for p0, p1 in zip(pa, pb):
            cv2.line(m, p0, p1, 255, 1, cv2.LINE_AA, SHIFT)
        cv2.multiply(m, self.clear, dst=m, scale=1.0 / 255.0)
        cv2.applyColorMap(m, self.lut, dst=img[r0:])
        return img

    def shadow(self, img: np.ndarray, frame: int, centre_xz: np.ndarray, radius: float) -> None:
        """Soft dark disc of ``radius`` metres on the floor around ``centre_xz`` (2,)."""
        cam = self.cam
        ang = np.linspace(0, 2 * np.pi, 20, endpoint=False)
        rings = [(radius * 1.3, 0.25), (radius * 0.75, 0.35)]
        pts = np.concatenate([np.stack([centre_xz[0] + r * np.cos(ang), np.zeros_like(ang),
                                        centre_xz[1] + r * np.sin(ang)], 1) for r, _ in rings])
        pc = cam.to_camera(pts[None], slice(frame, frame + 1))[0]
        if (pc[:, 2] < 0.2).any():
            return
        uv_all = cam.project_camera(pc).reshape(len(rings), len(ang), 2)
        for (_, alpha), uv in zip(rings, uv_all):
            x0, y0 = np.floor(uv.min(0)).astype(int) - 2
            x1, y1 = np.ceil(uv.max(0)).astype(int) + 2
            x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, img.shape[1]), min(y1, img.shape[0])
            if x1 <= x0 or y1 <= y0:
                return
            roi = img[y0:y1, x0:x1]
            over = roi.copy()
            p = np.round((uv - [x0, y0]) * _ONE).astype(np.int32)
            cv2.fillConvexPoly(over, p, _rgb(self.palette.shadow), cv2.LINE_AA, SHIFT)
            cv2.addWeighted(over, alpha, roi, 1 - alpha, 0, dst=roi)


def draw_time(img: np.ndarray, seconds: float, palette: Palette = PALETTE) -> None:
    """Small mm:ss.s clock in the bottom-left corner (for checking audio sync by eye)."""
    m, s = divmod(max(seconds, 0.0), 60.0)
    h = img.shape[0]
    scale = max(0.35, h / 900)
    cv2.putText(img, f"{int(m):02d}:{s:04.1f}", (int(8 * scale / 0.5), h - int(10 * scale / 0.5)),
                cv2.FONT_HERSHEY_SIMPLEX, scale, palette.text, 1, cv2.LINE_AA)
