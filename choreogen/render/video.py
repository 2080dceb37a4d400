"""Render a motion to an H.264 mp4 with its music: ``render_motion(motion, "out.mp4", music=...)``.

3D motions (metres, Y-up) are first put in the canonical frame (floor at y = 0) and drawn with a
follow camera (:mod:`.camera`) over a fogged floor grid with a soft shadow; 2D keypoint motions
(pixels, y down) are scaled once to fit the frame and drawn in image space. Left limbs are orange,
right limbs blue, the centre line white; joints flagged in ``highlight`` (e.g. the ``filled`` mask of
a repaired keypoint file) are magenta. Frames are streamed to ffmpeg one by one: memory does not
grow with the video's length beyond the motion itself.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from ..errors import ChoreogenError, ConfigError
from ..fileio import atomic_path
from ..motion.sequence import Motion
from .camera import follow_camera
from .draw import PALETTE, FigureStyle, FloorRenderer, draw_figure, draw_time
from .encoder import VideoWriter, check_audio


def resolve_music(motion: Motion) -> Path | None:
    """The motion's own music file (``motion.music``, relative paths taken from the motion's folder)."""
    if not motion.music:
        return None
    p = Path(motion.music)
    if not p.is_absolute() and not p.exists() and motion.meta.get("source"):
        p = Path(motion.meta["source"]).parent / p
    return p


def _time_grid(n_in: int, fps_in: float, fps_out: float):
    """Output frame count (round(T * fps_out / fps_in)) and lerp indices/weights into the input."""
    n_out = max(1, int(round(n_in * fps_out / fps_in)))
    t = np.arange(n_out) * (fps_in / fps_out)
    i0 = np.clip(np.floor(t).astype(np.int64), 0, n_in - 1)
    i1 = np.clip(i0 + 1, 0, n_in - 1)
    w = np.clip(t - i0, 0.0, 1.0)
    return n_out, i0, i1, w


def _sample(x: np.ndarray, i0, i1, w) -> np.ndarray:
    ww = w.reshape((-1,) + (1,) * (x.ndim - 1))
    return (x[i0] * (1 - ww) + x[i1] * ww).astype(np.float32)


def render_motion(motion: Motion, out: str | os.PathLike, music: str | os.PathLike | None = None, *,
                  width: int = 640, height: int = 480, fps: float = 30.0,
                  highlight: np.ndarray | None = None, progress: bool = False, preset: str = "superfast",
                  crf: int = 20, yaw: float | None = None, pitch: float = 12.0, clock: bool = True,
                  music_offset: float = 0.0) -> Path:
    """Render ``motion`` to ``out`` (.mp4, H.264 yuv420p [+ AAC music]) atomically; returns the path.

    Args:
        motion: 3D (T, J, 3) metres Y-up, or 2D (T, J, 2) pixels; any fps (resampled to ``fps``).
        music: audio file muxed from time 0 and cut to the dance's duration (None: silent).
            Use :func:`resolve_music` for the motion's own song.
        width, height: even frame size in pixels; fps: output frame rate.
        highlight: (T, J) bool joints to draw in the highlight colour; default
            ``motion.meta["filled"]`` when present.
        progress: show a tqdm progress bar on stderr.
        preset, crf: libx264 speed preset and quality (lower crf = better).
        yaw, pitch: 3D camera direction in degrees (yaw 0 = on the +Z side, i.e. in front of SMPL's
            rest pose; None = 25 degrees to the dancer's left of the way they face in the first 2 s).
        clock: draw an mm:ss.s clock in a corner.
        music_offset: seconds into ``music`` where the motion starts (``motion.meta["music_offset_s"]``
            for a dance generated from an excerpt, ``generate --start``).

    The video has exactly round(T * fps / motion.fps) frames, i.e. the motion's duration to within
    half a frame; all joints of every frame stay inside the image.
    """
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise ConfigError("the video output must be an .mp4 file", out)
    if out.is_dir():
        raise ChoreogenError("the output path is a folder; give a file name", out)
    for name, v in (("width", width), ("height", height)):
        if int(v) != v or v < 64 or v > 8192 or v % 2:
            raise ConfigError(f"--{name} must be an even number of pixels between 64 and 8192, got {v}")
    if not (np.isfinite(fps) and 1 <= fps <= 240):
        raise ConfigError(f"--fps must be between 1 and 240, got {fps}")
    motion.validate()
    if not (np.isfinite(music_offset) and music_offset >= 0):
        raise ConfigError(f"the music offset must be >= 0 seconds, got {music_offset}")
    if music is not None:
        check_audio(music)
    src = motion.meta.get("source")
    if motion.positions().shape[-1] == 3:
        from ..io.export import to_canonical

        motion = to_canonical(motion)
    joints = np.asarray(motion.positions(), np.float64)
    T, J, D = joints.shape
    visible = np.isfinite(joints).all(-1)
    hl = highlight if highlight is not None else motion.meta.get("filled")
    if hl is not None:
        hl = np.asarray(hl, bool)
        if hl.shape != (T, J):
            raise ConfigError(f"highlight mask must have shape {(T, J)}, got {hl.shape}", src)
    if motion.confidence is not None:
        # a repaired file stores its filled joints with confidence 0: draw them (highlighted) anyway
        visible &= (motion.confidence > 0) if hl is None else ((motion.confidence > 0) | hl)
    n_out, i0, i1, w = _time_grid(T, motion.fps, fps)
    jj = _sample(np.where(visible[..., None], joints, 0.0), i0, i1, w)
    vis = visible[i0] & visible[i1]
    hl_out = None if hl is None else hl[np.where(w < 0.5, i0, i1)]
    style = FigureStyle.for_skeleton(motion.skel)
    frames = _frames_3d(motion, jj, vis, hl_out, style, width, height, fps, yaw, pitch, clock) if D == 3 \
        else _frames_2d(jj, vis, hl_out, style, width, height, fps, clock)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=n_out, unit="frame", desc=f"render {out.name}", file=sys.stderr, dynamic_ncols=True)
    try:
        with atomic_path(out, suffix=".mp4") as tmp:
            with VideoWriter(tmp, width, height, fps, n_out / fps, music, preset=preset, crf=crf,
                             audio_offset=music_offset) as vw:
                for img in frames:
                    vw.write(img)
                    if bar is not None:
                        bar.update(1)
    except OSError as e:
        raise ChoreogenError(f"cannot write the video ({e.strerror or e.__class__.__name__})", out) from None
    finally:
        if bar is not None:
            bar.close()
    return out


def _head_points(sk, jj: np.ndarray, vis: np.ndarray, style):
    """(T, 2, 3) head-ball centre and nose point per frame (or None) and (T,) validity."""
    if style.head is None:
        return None, None
    names = sk.joint_names
    h = jj[:, style.head].astype(np.float64)
    ok = vis[:, style.head].copy()
    if style.neck is not None:
        d = h - jj[:, style.neck]
        h = h + 0.07 * d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-6)
    fwd = np.zeros_like(h)
    if "left_shoulder" in names and "right_shoulder" in names:
        ls, rs = names.index("left_shoulder"), names.index("right_shoulder")
        fwd = np.cross(jj[:, ls] - jj[:, rs], [0.0, 1.0, 0.0])  # SMPL: left = +X, facing +Z
        fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-6)
        fwd[~(vis[:, ls] & vis[:, rs])] = 0.0
    nose = h + 0.085 * fwd - [0.0, 0.015, 0.0]
    return np.stack([h, nose], 1), ok


def facing_yaw(sk, jj: np.ndarray, vis: np.ndarray, fps: float, seconds: float = 2.0) -> float:
    """Yaw (degrees, 0 = +Z) the dancer faces on average over the first ``seconds`` (0 if unknown).

    Facing = (left shoulder - right shoulder) x up, as for SMPL's rest pose (left = +X, faces +Z).
    """
    names = sk.joint_names
    if "left_shoulder" not in names or "right_shoulder" not in names:
        return 0.0
    ls, rs = names.index("left_shoulder"), names.index("right_shoulder")
    n = max(1, int(seconds * fps))
    ok = vis[:n, ls] & vis[:n, rs]
    f = np.cross(jj[:n, ls] - jj[:n, rs], [0.0, 1.0, 0.0])[ok]
    f = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-9)
    s = f.sum(0) if len(f) else np.zeros(3)
    if np.hypot(s[0], s[2]) < 1e-6:
        return 0.0
    return float(np.degrees(np.arctan2(s[0], s[2])))


def _frames_3d(motion, jj, vis, hl, style, W, H, fps, yaw, pitch, clock):
    if yaw is None:  # see the dancer from the front (and a little from their left) at the start
        yaw = facing_yaw(motion.skel, jj, vis, fps) + 25.0
    cam = follow_camera(jj, fps, W, H, yaw=yaw, pitch=pitch, visible=vis)
    floor = FloorRenderer(cam)
    feet = motion.skel.foot_indices()[:2]
    heads, head_ok = _head_points(motion.skel, jj, vis, style)
    img = np.empty((H, W, 3), np.uint8)
    radii2f = 2.0 * style.radii * cam.focal
    J = jj.shape[1]
    for k in range(len(jj)):
        floor.render(k, img)
        p, v = jj[k], vis[k]
        ground = [i for i in [0, *feet] if v[i]]
        if ground:
            xz = p[ground][:, [0, 2]].astype(np.float64)
            spread = float(np.ptp(xz, axis=0).max()) if len(ground) > 1 else 0.0
            floor.shadow(img, k, xz.mean(0), 0.28 + 0.5 * min(spread, 1.0))
        pts = p if heads is None else np.concatenate([p, heads[k]])
        uv, z = cam.project(pts[None].astype(np.float64), slice(k, k + 1))
        uv, z = uv[0], np.maximum(z[0], 0.2)
        thick = radii2f / z[style.bones].mean(1)
        head_uv = nose_uv = None
        head_px = 0.0
        if heads is not None and head_ok[k]:
            head_uv, head_px = uv[J], 0.1 * cam.focal / z[J]
            nose_uv = uv[J + 1] if z[J + 1] < z[J] - 0.02 else None
        draw_figure(img, uv[:J], z[:J], style, thick, v, None if hl is None else hl[k], head_uv, head_px, nose_uv)
        if clock:
            draw_time(img, k / fps)
        yield img


def _frames_2d(jj, vis, hl, style, W, H, fps, clock):
    pts = jj[vis]
    if len(pts) == 0:
        lo, hi = np.zeros(2), np.ones(2)
    else:
        lo, hi = pts.min(0), pts.max(0)
    m = 0.06
    scale = min(W * (1 - 2 * m) / max(hi[0] - lo[0], 1e-6), H * (1 - 2 * m) / max(hi[1] - lo[1], 1e-6))
    centre = (lo + hi) / 2
    uv_all = (jj - centre) * scale + np.array([W / 2, H / 2])
    ext = [np.ptp(uv_all[k][vis[k], 1]) for k in range(0, len(jj), max(1, len(jj) // 200)) if vis[k].sum() > 1]
    body_px = float(np.median(ext)) if ext else H * 0.5
    thick = np.maximum(2.0, 2.0 * style.radii / 1.7 * body_px)
    t = np.linspace(0, 1, H)[:, None, None]
    bg = ((1 - t) * np.asarray(PALETTE.sky_top, float) + t * np.asarray(PALETTE.floor, float))
    bg = np.ascontiguousarray(np.broadcast_to(bg, (H, W, 3))).astype(np.uint8)
    img = np.empty_like(bg)
    depth = np.ones(jj.shape[1])
    for k in range(len(jj)):
        np.copyto(img, bg)
        draw_figure(img, uv_all[k], depth, style, thick, vis[k], None if hl is None else hl[k])
        if clock:
            draw_time(img, k / fps)
        yield img
