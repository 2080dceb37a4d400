"""Paired (music, video) data for the latent-flow route (issue 16), M2PEnc's SDGPip idea at CPU scale.

Synthetic clips: real Tang2018 captures (25 fps SMPL, with their songs) drive the pose-video route
(:func:`choreogen.video.retarget.fit` + :class:`choreogen.video.animator.GeometricAnimator`) on many
reference appearances (photos, first frames of real clips) -> 64x64 RGB frames at 10 fps, paired
frame by frame with the song's ``fast35+rhythm`` features (40-D, 10 fps). Rendering is done at
128x128 and area-downsampled to 64x64. The dancer's floor travel is high-passed (3 s moving average
removed from the root's x/z) so the person stays in the frame; each 12 s chunk is retargeted anew
(its first frame's neck on the photo's neck).
A second driver (:func:`generated_sequence`): the 3D generator's dances to the training songs, also
played 0.8x / 1.25x as fast (tempo-following dances to music at tempi the captures never had).
Real clips: frames squared (edge-padded), resized to 64x64, re-timed to 10 fps (nearest frame).

A prepared split is one ``.npz`` (:func:`save_split` / :func:`load_split`):

* ``frames`` (F, 64, 64, 3) uint8 RGB, all clips concatenated;
* ``clips`` (C, 3) int64: start frame, length, photo index (-1: a real clip with no source photo);
* ``music`` (F, 40) float32 music features of each frame (zeros for clips without music);
* ``has_music`` (C,) bool; ``photos`` (R, 64, 64, 3) uint8 the source appearances;
* ``names`` (C,) and ``photo_names`` (R,) str.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FPS = 10.0
SIZE = 64
RENDER = 128
MUSIC_KIND = "fast35+rhythm"
MUSIC_DIM = 40


@dataclass
class Split:
    frames: np.ndarray
    clips: np.ndarray
    music: np.ndarray
    has_music: np.ndarray
    photos: np.ndarray
    names: list = field(default_factory=list)
    photo_names: list = field(default_factory=list)

    def clip(self, i: int) -> np.ndarray:
        s, n, _ = self.clips[i]
        return self.frames[s:s + n]

    def clip_music(self, i: int) -> np.ndarray:
        s, n, _ = self.clips[i]
        return self.music[s:s + n]


def to_small(img: np.ndarray, size: int = SIZE) -> np.ndarray:
    """(H, W, 3) uint8 -> (size, size, 3) uint8: squared (edge-padded) then area-resized."""
    import cv2

    from ...video.reference import square

    sq = square(img, max(img.shape[:2]))
    return cv2.resize(sq, (size, size), interpolation=cv2.INTER_AREA)


def read_clip(path: str | Path, fps: float = FPS, size: int = SIZE, max_s: float | None = None) -> np.ndarray:
    """A video file -> (T, size, size, 3) uint8 at ``fps`` (nearest source frame to k / fps)."""
    from ...eval.video import read_frames

    frames, src_fps = read_frames(path)
    dur = len(frames) / src_fps if max_s is None else min(max_s, len(frames) / src_fps)
    n = max(1, int(np.floor(dur * fps + 1e-6)))
    idx = np.minimum(np.round(np.arange(n) / fps * src_fps).astype(int), len(frames) - 1)
    return np.stack([to_small(frames[i], size) for i in idx])


def scaled_reference(ref, size: int):
    """A :class:`~choreogen.video.reference.Reference` rescaled to ``size`` (image, mask, keypoints)."""
    import cv2

    from ...video.reference import Reference

    s = size / ref.size
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    return Reference(cv2.resize(ref.image, (size, size), interpolation=interp),
                     cv2.resize(ref.mask, (size, size), interpolation=interp), ref.keypoints * s,
                     ref.confidence.copy(), ref.source, dict(ref.meta))


def calm_travel(motion, window_s: float = 3.0):
    """Copy of an SMPL motion with the root's x/z minus its ``window_s`` moving average (local
    steps and sways kept, travel across the floor removed)."""
    from ...filters import uniform_filter1d

    tr = np.asarray(motion.trans, np.float64).copy()
    w = max(1, int(round(window_s * motion.fps)))
    for c in (0, 2):
        tr[:, c] -= uniform_filter1d(tr[:, c], w)
    return motion.copy(trans=tr.astype(np.float32))


def render_chunk(motion, ref128, size: int = SIZE, fps: float = FPS) -> np.ndarray:
    """Animate ``ref128`` (a RENDER-sized Reference) with ``motion`` -> (T, size, size, 3) uint8 at ``fps``."""
    import cv2

    from ...video.animator import GeometricAnimator
    from ...video.retarget import fit

    drv = fit(motion, ref128.keypoints, ref128.confidence, fps=fps)
    anim = GeometricAnimator()
    anim.prepare(ref128)
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in anim.animate(drv)])


def synth_sequence(npz: Path, refs: list, rng: np.random.Generator, chunk_s: float = 12.0,
                   max_s: float | None = None) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """One Tang2018 sequence -> [(name, photo index, frames (T, 64, 64, 3), music (T, 40))] chunks,
    each with a randomly drawn appearance from ``refs`` [(photo index, Reference at RENDER)]."""
    from ...audio.features import music_features
    from ...io.core import load_npz

    feats = music_features(npz.with_suffix(".mp3"), MUSIC_KIND, fps=FPS)
    return synth_motion(load_npz(npz), feats, npz.stem, refs, rng, chunk_s, max_s)


def synth_motion(motion, feats: np.ndarray, name: str, refs: list, rng: np.random.Generator, chunk_s: float = 12.0,
                 max_s: float | None = None) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """A dance (SMPL :class:`~choreogen.motion.Motion`, any fps) and its music's features (T, 40) at ``FPS``
    -> chunks of ``chunk_s`` seconds as :func:`synth_sequence`; the floor travel is calmed first."""
    m = calm_travel(motion)
    dur = min(m.duration, len(feats) / FPS) if max_s is None else min(m.duration, len(feats) / FPS, max_s)
    out = []
    step = int(round(chunk_s * m.fps))
    for c0 in range(0, int(dur * m.fps) - int(2 * m.fps), step):
        c1 = min(c0 + step, int(dur * m.fps))
        pi, ref = refs[int(rng.integers(len(refs)))]
        frames = render_chunk(m.slice(c0, c1), ref)
        f0 = int(round(c0 / m.fps * FPS))
        n = min(len(frames), len(feats) - f0)
        out.append((f"{name}@{c0 / m.fps:.0f}s", pi, frames[:n], feats[f0:f0 + n]))
    return out


def generated_sequence(song: Path, rate: float, refs: list, rng: np.random.Generator, dancer,
                       chunk_s: float = 12.0, max_s: float | None = None):
    """A generated dance to ``song`` played ``rate`` times as fast (pitch kept) -> chunks as
    :func:`synth_sequence`, named ``<song>@<rate>x~gen``. ``dancer``: audio file -> SMPL Motion (the caller's
    3D generator, e.g. ``lambda wav: choreogen.api.generate(wav).motion``; it should follow the tempo).
    SDGPip's second driver: new dances to the same songs, and songs at tempi the captures never had."""
    import tempfile

    import soundfile

    from ...audio import load_audio
    from ...audio.features import music_features
    from ...eval.rhythm import stretch_audio

    sr = 22050
    y, sr = load_audio(song, sr=sr)
    if abs(rate - 1.0) > 1e-9:
        y = stretch_audio(y, sr, rate)
    if max_s is not None:
        y = y[: int(max_s * sr)]
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / f"{song.stem}.wav"
        soundfile.write(str(wav), y, sr)
        motion = dancer(wav)
    feats = music_features((y, sr), MUSIC_KIND, fps=FPS, cache=False)
    return synth_motion(motion, feats, f"{song.stem}@{rate:g}x~gen", refs, rng, chunk_s, max_s)


def save_split(path: Path, items: list, photos: np.ndarray, photo_names: list) -> None:
    """items: [(name, photo index or -1, frames (T, 64, 64, 3), music (T, 40) or None)] -> one npz."""
    from ...fileio import atomic_path

    frames = np.concatenate([it[2] for it in items])
    starts = np.cumsum([0] + [len(it[2]) for it in items])[:-1]
    clips = np.array([[s, len(it[2]), it[1]] for s, it in zip(starts, items)], np.int64)
    music = np.concatenate([it[3] if it[3] is not None else np.zeros((len(it[2]), MUSIC_DIM), np.float32)
                            for it in items]).astype(np.float32)
    has = np.array([it[3] is not None for it in items])
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, frames=frames, clips=clips, music=music, has_music=has, photos=photos,
                 names=np.array([it[0] for it in items]), photo_names=np.array(photo_names))


def load_split(path: str | Path) -> Split:
    d = np.load(path, allow_pickle=False)
    return Split(d["frames"], d["clips"], d["music"], d["has_music"], d["photos"], list(d["names"]),
                 list(d["photo_names"]))
