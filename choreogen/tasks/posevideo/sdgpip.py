"""SDGPip at CPU scale: paired (music features, 2D pose) sequences for training M2PEnc.

M2PEnc's synthetic data set (paper section 3.1) renders a teacher's dances for many songs into pose
guidance. Here the pose is stored as COCO-17 keypoints in a fixed *canonical frame*; the guidance
maps are rendered from them on the fly while training (:mod:`choreogen.video.guidance`), so a data
set of an hour of dance is a few MB.

Sources (one sequence each):
* ``teacher``: the default 3D generator (``dance3d-latent`` since 2026-12-03; the shipped M2PEnc was trained on
  ``dance3d``, the default then; seed 0, the song's genre) dancing each song;
* ``capture``: real Tang2018 captures with their music, also played ``rates`` times as fast (music
  time-stretched with the pitch kept, the dance resampled by the same factor), so the data can
  show that faster music is danced faster.

Canonical frame (:func:`canonical_2d`): a CANON x CANON pixel image, orthographic front view of the
first frame's facing (:func:`choreogen.video.retarget.project_3d`), PX_PER_M pixels per metre, the
floor (tracked, y = 0) at pixel row FLOOR_Y, the pelvis' sideways travel removed by subtracting its
2-s moving average (sway and steps stay, ballroom travel across the room goes). Frames at FPS (15,
the paper's rate).

File (:func:`save` / :func:`load`), one ``.npz``: ``keypoints`` (F, 17, 2) float32 canonical px,
``music`` (F, Dm) float32 (``fast35+rhythm``, 40-D at FPS), ``seqs`` (S, 2) int64 (start, length),
``names``, ``genres``, ``sources`` (S,) str.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ...errors import InputError
from ...fileio import atomic_path
from ...filters import uniform_filter1d
from ...motion import Motion
from ...motion.frames import tracked_floor
from ...video.body2d import to_coco17
from ...video.retarget import project_3d, resample

FPS = 15.0
CANON = 256
PX_PER_M = 112.0
FLOOR_Y = 236.0
MUSIC_KIND = "fast35+rhythm"
TRAVEL_S = 2.0


@dataclass
class PoseSet:
    keypoints: np.ndarray  # (F, 17, 2) float32 canonical pixels
    music: np.ndarray  # (F, Dm) float32
    seqs: np.ndarray  # (S, 2) int64 start, length
    names: list
    genres: list
    sources: list

    def sequence(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        s, n = self.seqs[i]
        return self.keypoints[s:s + n], self.music[s:s + n]


def canonical_2d(joints: np.ndarray, fps: float, skeleton: str = "smpl24") -> np.ndarray:
    """(T, J, 3) metres Y-up joints at ``fps`` -> (T', 17, 2) float32 canonical pixels at FPS."""
    j = np.asarray(joints, np.float64)
    h = j[..., 1] - tracked_floor(j, fps)[:, None]
    p = project_3d(j)  # (T, J, 2): x = dancer's left, y = -height (floor drift not removed)
    x = p[..., 0]
    pel = 0.5 * (x[:, 1] + x[:, 2])  # SMPL hips
    x = x - uniform_filter1d(pel, size=max(1, int(round(TRAVEL_S * fps))))[:, None]
    k = np.stack([CANON / 2 + PX_PER_M * x, FLOOR_Y - PX_PER_M * h], -1)
    k = to_coco17(k, skeleton)
    return resample(k, fps, FPS).astype(np.float32)


def _features(source, n: int) -> np.ndarray:
    from ...audio.features import music_features

    return music_features(source, MUSIC_KIND, fps=FPS, n_frames=n)


def teacher_items(songs: Iterable[tuple[str, str, str | None]], dancer: Callable[..., Motion],
                  log: Callable[[str], None] = lambda s: None) -> list[tuple]:
    """[(name, song path, genre or None)] -> [(name, genre, "teacher", keypoints, music)].

    ``dancer(song, genre=...) -> Motion`` (3D, metres): e.g. the bundled generator, seed 0."""
    out = []
    for name, song, genre in songs:
        m = dancer(song, genre=genre)
        k = canonical_2d(m.positions(), m.fps, m.skeleton)
        out.append((name, genre or "", "teacher", k, _features(song, len(k))))
        log(f"teacher {name}: {len(k) / FPS:.0f} s")
    return out


def capture_items(motions: Iterable[Motion], rates: Iterable[float] = (1.0,),
                  log: Callable[[str], None] = lambda s: None) -> list[tuple]:
    """Real captures (with ``.music``) -> [(name@rate, genre, "capture", keypoints, music)]."""
    from ...audio.source import MusicSource
    from ...eval.rhythm import stretch_audio, stretch_motion

    out = []
    for m in motions:
        sr = 22050
        y = MusicSource(m.music).audio(sr)
        for r in rates:
            mm = stretch_motion(m, r) if abs(r - 1) > 1e-9 else m
            k = canonical_2d(mm.positions(), mm.fps, mm.skeleton)
            yy = stretch_audio(y, sr, r)
            out.append((f"{m.name}@{r:g}", m.genre or "", "capture", k, _features((yy, sr), len(k))))
            log(f"capture {m.name} x{r:g}: {len(k) / FPS:.0f} s")
    return out


def save(path: str | os.PathLike, items: list[tuple]) -> Path:
    """[(name, genre, source, keypoints (T,17,2), music (T,Dm))] -> one npz (temp file + rename)."""
    if not items:
        raise InputError("no sequences to save", path)
    lens = [len(it[3]) for it in items]
    seqs = np.stack([np.cumsum([0] + lens[:-1]), lens], 1).astype(np.int64)
    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, keypoints=np.concatenate([it[3] for it in items]).astype(np.float32),
                     music=np.concatenate([it[4] for it in items]).astype(np.float32), seqs=seqs,
                     names=np.array([it[0] for it in items]), genres=np.array([it[1] for it in items]),
                     sources=np.array([it[2] for it in items]))
    return Path(path)


def load(path: str | os.PathLike) -> PoseSet:
    """Read a file written by :func:`save` (no pickle); InputError naming it when it is not one."""
    p = Path(path)
    if not p.is_file():
        raise InputError("pose data set not found", p)
    try:
        with np.load(p, allow_pickle=False) as d:
            s = PoseSet(d["keypoints"], d["music"], d["seqs"], list(d["names"]), list(d["genres"]),
                        list(d["sources"]))
    except (OSError, ValueError, KeyError) as e:
        raise InputError(f"not an M2PEnc pose data set ({e.__class__.__name__})", p) from None
    if s.keypoints.ndim != 3 or s.keypoints.shape[1:] != (17, 2) or len(s.music) != len(s.keypoints):
        raise InputError("not an M2PEnc pose data set (array shapes)", p)
    return s


def build(tang_root: str | os.PathLike, out_dir: str | os.PathLike, dancer: Callable[..., Motion],
          music_root: str | os.PathLike | None = None, rates: Iterable[float] = (0.87, 1.0, 1.15),
          max_songs: int | None = None, log: Callable[[str], None] = lambda s: None) -> dict:
    """Write ``out_dir``/val.npz and train.npz (the fixed tang2018 split; see the module doc).

    train: teacher dances of the train songs and of every ``music_root``/*/*/song.ogg, plus the real
    train captures at each of ``rates``; val: teacher dance + capture (rate 1) of each val song.
    ``dancer(song, genre=...) -> Motion``: the teacher (genre None for songs without one)."""
    from ...data.datasets import iter_dataset
    from ...data.splitting import fixed_split

    split = fixed_split("tang2018")
    caps = {n: m for n, m, err in iter_dataset(tang_root, "tang2018") if m is not None}
    if not caps:
        raise InputError("no Tang2018 sequences found", tang_root)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for part in ("val", "train"):
        names = [n for n in split[part] if n in caps][:max_songs]
        songs = [(n, str(caps[n].music), caps[n].genre) for n in names]
        if part == "train" and music_root is not None:
            songs += [(p.parent.name, str(p), None) for p in sorted(Path(music_root).glob("*/*/song.ogg"))]
        items = teacher_items(songs, dancer, log=log)
        items += capture_items([caps[n] for n in names], list(rates) if part == "train" else [1.0], log=log)
        save(out / f"{part}.npz", items)
        summary[part] = {"sequences": len(items), "minutes": round(sum(len(i[3]) for i in items) / FPS / 60, 1)}
        log(f"{part}: {summary[part]}")
    return summary
