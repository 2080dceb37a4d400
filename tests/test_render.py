"""The mp4 renderer: decode what it writes and check streams, length, sync, colours and framing."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
import soundfile as sf

from choreogen.errors import ChoreogenError, ConfigError, InputError
from choreogen.motion import Motion
from choreogen.io import load_motion
from choreogen.render import render_motion, resolve_music
from choreogen.render.encoder import ffmpeg_exe, probe

W, H = 320, 240


def read_frames(path) -> np.ndarray:
    """All frames (N, H, W, 3) uint8 RGB of a video."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(gen)
    w, h = meta["size"]
    return np.stack([np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in gen])


def masks(frames: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean pixel masks of the palette's limb colours (any shade)."""
    r, g, b = (frames[..., k].astype(int) for k in range(3))
    return {
        "left": (r > 110) & (r > g + 40) & (g > b + 25),          # orange
        "right": (b > 110) & (b > r + 70) & (g > r + 30),         # blue
        "centre": (r > 185) & (g > 185) & (b > 175),              # white (grid lines are darker)
        "highlight": (r > 140) & (b > 120) & (g < 90),            # magenta
    }


def walking_motion(distance=10.0, seconds=5.0, fps=30.0) -> Motion:
    """SMPL rest pose sliding ``distance`` metres along +X with swinging arms (Y-up, floor ~0)."""
    T = int(seconds * fps)
    poses = np.zeros((T, 72), np.float32)
    ph = np.sin(np.linspace(0, 6 * np.pi, T))
    poses[:, 16 * 3 + 2] = -1.2 + 0.4 * ph  # left shoulder down/up (about Z)
    poses[:, 17 * 3 + 2] = 1.2 - 0.4 * ph
    poses[:, 1] = np.pi / 2  # face the direction of travel (+X)
    trans = np.zeros((T, 3), np.float32)
    trans[:, 0] = np.linspace(0, distance, T)
    trans[:, 1] = 0.93
    return Motion(skeleton="smpl24", fps=fps, poses=poses, trans=trans, name="walk")


def test_render_tang2018_with_its_music(tang_dir, tmp_path):
    m = load_motion(tang_dir / "DANCE_W_1.npz").slice(0, 100)  # 4 s at 25 fps
    song = resolve_music(m)
    assert song is not None and song.suffix == ".mp3"
    out = render_motion(m, tmp_path / "w1.mp4", song, width=W, height=H)
    info = probe(out)
    assert info["video"] == ["h264"] and info["audio"] == ["aac"]
    assert info["size"] == (W, H) and info["fps"] == 30.0
    assert info["duration"] == pytest.approx(4.0, abs=0.05)  # the dance's length, not the song's (~3 min)
    frames = read_frames(out)
    assert len(frames) == 120
    mk = masks(frames)
    for key in ("left", "right", "centre"):
        assert mk[key].sum(axis=(1, 2)).min() > 30, f"{key} limbs missing in some frame"
    assert mk["highlight"].sum() == 0
    assert not list(tmp_path.glob(".*"))  # no temp files left


def test_figure_stays_in_frame_while_travelling_10m(tmp_path):
    m = walking_motion()
    out = render_motion(m, tmp_path / "walk.mp4", width=W, height=H, fps=15)
    frames = read_frames(out)
    assert len(frames) == 75
    mk = masks(frames)
    fig = mk["left"] | mk["right"] | mk["centre"]
    counts = fig.sum(axis=(1, 2))
    assert counts.min() > 150  # the figure is visible (not a speck) in every frame
    assert counts.max() < 3 * counts.min()  # and about the same size: the camera follows
    # no figure pixel touches the image border in any frame
    border = np.zeros((H, W), bool)
    border[:2], border[-2:], border[:, :2], border[:, -2:] = True, True, True, True
    assert not (fig & border).any()
    # the dancer stays near the middle: centroid within the central half of the frame
    ys, xs = np.nonzero(fig[-1])
    assert W * 0.25 < xs.mean() < W * 0.75 and H * 0.2 < ys.mean() < H * 0.8


def test_audio_in_sync_and_cut_to_the_dance(tmp_path):
    sr = 44100
    song = np.zeros(sr * 6, np.float32)  # 6 s of silence with a click at exactly 1.0 s
    song[sr: sr + 441] = 0.9
    sf.write(tmp_path / "click.wav", song, sr)
    m = walking_motion(distance=1.0, seconds=2.0, fps=25)  # 50 frames = 2.0 s
    out = render_motion(m, tmp_path / "c.mp4", tmp_path / "click.wav", width=W, height=H)
    assert probe(out)["duration"] == pytest.approx(2.0, abs=0.05)
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(out), "-vn", "-ac", "1", "-ar", str(sr),
                    str(tmp_path / "back.wav")], check=True)
    back, _ = sf.read(tmp_path / "back.wav")
    assert len(back) / sr == pytest.approx(2.0, abs=0.05)  # audio cut to the video
    onset = np.argmax(np.abs(back) > 0.3) / sr
    assert onset == pytest.approx(1.0, abs=0.01)


def test_short_music_keeps_full_video_length(tmp_path):
    sf.write(tmp_path / "short.wav", np.zeros(44100, np.float32), 44100)  # 1 s song
    m = walking_motion(distance=1.0, seconds=3.0, fps=30)
    out = render_motion(m, tmp_path / "s.mp4", tmp_path / "short.wav", width=W, height=H)
    assert len(read_frames(out)) == 90


def test_2d_keypoints_with_filled_highlight(tmp_path):
    # COCO-17 stick figure in image pixels (y down), 1000 px tall; joints "filled" in the first half
    base = np.array([[500, 100], [485, 85], [515, 85], [470, 95], [530, 95], [390, 200], [610, 200],
                     [330, 330], [670, 330], [300, 460], [700, 460], [440, 520], [560, 520],
                     [430, 760], [570, 760], [425, 1000], [575, 1000]], np.float32)
    T = 40
    joints = np.repeat(base[None], T, 0) + np.linspace(0, 200, T)[:, None, None] * [1, 0]
    filled = np.zeros((T, 17), bool)
    filled[: T // 2, 9] = True  # left wrist
    m = Motion(skeleton="coco17", fps=20, joints=joints.astype(np.float32), meta={"filled": filled})
    out = render_motion(m, tmp_path / "kp.mp4", width=W, height=H, fps=20)
    frames = read_frames(out)
    assert len(frames) == T
    hl = masks(frames)["highlight"].sum(axis=(1, 2))
    assert hl[: T // 2 - 1].min() > 20 and hl[T // 2 + 1:].max() == 0
    mk = masks(frames)
    assert mk["left"].sum() > 0 and mk["right"].sum() > 0
    # image y is down: the head (top of the figure) is drawn above the feet
    ys = np.nonzero(mk["centre"][0] | mk["left"][0] | mk["right"][0])[0]
    assert ys.min() < H * 0.2 and ys.max() > H * 0.8


def test_resampled_frame_count(tmp_path):
    m = walking_motion(distance=0.5, seconds=2.0, fps=25)  # 50 frames
    out = render_motion(m, tmp_path / "r.mp4", width=W, height=H, fps=24)
    assert len(read_frames(out)) == 48
    assert probe(out)["audio"] == []


@pytest.mark.parametrize("kwargs,err,match", [
    ({"width": 321}, ConfigError, "even"),
    ({"fps": 0}, ConfigError, "fps"),
    ({"music": "missing.wav"}, InputError, "not found"),
])
def test_render_bad_options(tmp_path, kwargs, err, match):
    with pytest.raises(err, match=match):
        render_motion(walking_motion(seconds=0.5), tmp_path / "o.mp4", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_render_refuses_non_mp4_and_folder(tmp_path):
    with pytest.raises(ConfigError, match="mp4"):
        render_motion(walking_motion(seconds=0.5), tmp_path / "o.avi")
    (tmp_path / "d.mp4").mkdir()
    with pytest.raises(ChoreogenError, match="folder"):
        render_motion(walking_motion(seconds=0.5), tmp_path / "d.mp4")


def test_camera_track_follows_constant_speed_exactly():
    from choreogen.render.camera import smooth_track

    x = np.linspace(0.0, 10.0, 150)
    assert np.abs(smooth_track(x, 24.0) - x).max() < 1e-9  # no lag at the ends
    step = np.r_[np.zeros(60), np.ones(60)]
    y = smooth_track(step, 6.0)
    assert np.all(np.diff(y) >= -1e-12) and y[0] == pytest.approx(0) and y[-1] == pytest.approx(1)
    assert y[59] == pytest.approx(0.5 - 0.5 / 6.0 / np.sqrt(2 * np.pi) * 1.0, abs=0.05)


def test_repaired_file_draws_filled_joints_in_highlight(tmp_path):
    """A repair output stores filled joints with confidence 0 and a `filled` mask: they must be drawn
    (magenta) where they are, not skipped as undetected."""
    from choreogen.io import save_motion

    base = np.array([[500, 100], [485, 85], [515, 85], [470, 95], [530, 95], [390, 200], [610, 200],
                     [330, 330], [670, 330], [300, 460], [700, 460], [440, 520], [560, 520],
                     [430, 760], [570, 760], [425, 1000], [575, 1000]], np.float32)
    T, WRIST = 10, 9
    joints = np.repeat(base[None], T, 0)
    conf = np.ones((T, 17), np.float32)
    filled = np.zeros((T, 17), bool)
    filled[:, WRIST] = True
    conf[filled] = 0.0  # as choreogen.tasks.skeleton.repair writes it
    m = Motion(skeleton="coco17", fps=10, joints=joints, confidence=conf)
    save_motion(m, tmp_path / "rep.npz", extra={"filled": filled})
    back = load_motion(tmp_path / "rep.npz")
    assert back.meta["filled"][:, WRIST].all() and back.confidence[0, WRIST] == 0
    frame = read_frames(render_motion(back, tmp_path / "rep.mp4", width=W, height=H, fps=10, clock=False))[0]
    # where the 2D renderer puts the wrist: the figure's bounding box fitted into the frame, 6 % margin
    lo, hi = base.min(0), base.max(0)
    scale = min(W * 0.88 / (hi[0] - lo[0]), H * 0.88 / (hi[1] - lo[1]))
    u, v = (base[WRIST] - (lo + hi) / 2) * scale + [W / 2, H / 2]
    yy, xx = np.mgrid[:H, :W]
    near = (xx - u) ** 2 + (yy - v) ** 2 <= 6 ** 2
    mk = masks(frame[None])["highlight"][0]
    assert mk[near].sum() >= 10  # magenta at the filled wrist
    assert mk.sum() > mk[near].sum()  # and along the bone to the elbow
    far = (xx - u) ** 2 + (yy - v) ** 2 > 60 ** 2
    assert mk[far].sum() == 0  # nothing else is highlighted
