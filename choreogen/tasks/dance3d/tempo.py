"""Tempo augmentation of a prepared dataset (issue #12): the same dances at other tempi.

For every *training* sequence of a prepared folder (:mod:`choreogen.data.prepare`) and every playback
rate r in ``factors`` (default 0.8, 0.9, 1.1, 1.25), the music is time-stretched with its pitch kept
(librosa phase vocoder, :func:`choreogen.eval.rhythm.stretch_audio`, at the feature sample rate
fps x 512 Hz) and the capture is played r times faster (:func:`choreogen.eval.rhythm.stretch_motion`:
rotations slerped, translation interpolated, at 30 fps), so faster music comes with correspondingly
faster motion. Both are then processed exactly as ``choreogen data prepare`` does (canonical frame,
EDGE vector, music features for exactly the motion's frames). Val/test sequences are kept only at
rate 1, so validation losses stay comparable with the source folder.

The output is an ordinary prepared folder (same format version, windows, manifest) whose sequences
are the originals plus ``NAME@r`` copies (``"tempo_rate"`` in each sequence record), so training needs
no new code path: ``choreogen train OUT ...``. ``features`` may differ from the source's (e.g.
``"fast35+rhythm"``: every sequence's music features are recomputed in that kind).

Cost: one phase vocoder per sequence and rate; Tang2018 (39 train minutes, 4 rates) takes a few
minutes on one thread. Command line::

    choreogen data tempo data_prepared/tang2018_fast35 --out data_prepared/tang2018_tempo \
        [--features fast35+rhythm] [--factors 0.8,0.9,1.1,1.25]
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from ...data.prepare import FORMAT_VERSION, MANIFEST, window_count
from ...data.splitting import SPLIT_CODES
from ...data.windows import load_manifest

DEFAULT_FACTORS = (0.8, 0.9, 1.1, 1.25)


def stretched_sequence(motion_path: str, music_path: str, rate: float, fps: float = 30.0,
                       features: str = "fast35") -> tuple[np.ndarray, np.ndarray]:
    """One capture and its music at playback rate ``rate`` -> (motion features (T, Dm) float32,
    music features (T, Da) float32), both at ``fps`` (T ~ original frames / rate)."""
    from ...audio import load_audio, music_features
    from ...eval.rhythm import stretch_audio, stretch_motion
    from ...io import load_motion
    from ...motion.representation import encode

    m = load_motion(motion_path).resample(fps)
    if abs(rate - 1.0) > 1e-9:
        m = stretch_motion(m, rate)
    m = m.canonical()
    mot = encode(m.poses, m.trans, m.skel).astype(np.float32)
    sr = int(round(fps * 512))
    y, sr = load_audio(music_path, sr=sr)
    ys = stretch_audio(y, sr, rate)
    mus = np.asarray(music_features((ys, sr), kind=features, fps=fps, n_frames=len(mot), cache=False), np.float32)
    return mot, mus


def reference_rate(music_path: str, genre: str | None, reference: dict, fps: float = 30.0) -> float:
    """Playback rate that takes a song to its genre's reference tempo (:mod:`choreogen.audio.tempo_norm`)."""
    from ...audio import load_audio
    from ...audio.tempo_norm import canonical_rate, estimate_bpm
    from .tempo_play import reference_for

    y, sr = load_audio(music_path, sr=int(round(fps * 512)))
    return canonical_rate(estimate_bpm(y, sr), reference_for(reference, genre))


def augment_prepared(src: str | os.PathLike, out: str | os.PathLike, factors=DEFAULT_FACTORS,
                     features: str | None = None, log=print, reference: dict | None = None) -> dict:
    """Write a tempo-augmented copy of the prepared folder ``src`` into ``out``; returns its manifest.

    ``factors``: playback rates added for the training sequences (rate 1 is always kept).
    ``features``: music feature kind of the output (default: the source's).
    ``reference``: reference BPM per genre (``"*"`` for others; :mod:`choreogen.audio.tempo_norm`): every
    sequence, val included, is first brought to its genre's reference tempo (rate c instead of 1, the
    factors then multiply c), the training data of a tempo-normalised generator."""
    import torch

    torch.set_num_threads(1)
    src_p, out_p = Path(src), Path(out)
    man = load_manifest(src_p)
    fps, W, S = float(man["fps"]), int(man["window_frames"]), int(man["stride_frames"])
    kind = features or man.get("features", man.get("feature_kind"))
    same_kind = kind == man.get("features", man.get("feature_kind"))
    motion_src = np.load(src_p / "motion.npy", mmap_mode="r")
    music_src = np.load(src_p / "music.npy", mmap_mode="r")
    t0 = time.perf_counter()
    out_p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_p.name}.", suffix=".tmp", dir=out_p.parent))
    try:
        parts, seqs = [], []
        for s in man["sequences"]:
            c = reference_rate(s["music"], s.get("genre"), reference, fps) if reference else 1.0
            rates = [c] + ([c * float(r) for r in factors] if s["split"] == "train" else [])
            for r in rates:
                if r == 1.0 and same_kind:
                    mot = np.asarray(motion_src[s["offset"]:s["offset"] + s["frames"]], np.float32)
                    mus = np.asarray(music_src[s["offset"]:s["offset"] + s["frames"]], np.float32)
                else:
                    mot, mus = stretched_sequence(s["motion_path"], s["music"], r, fps, kind)
                if len(mot) < W:
                    continue
                i = len(parts)
                np.save(tmp / f"{i}.motion.npy", mot)
                np.save(tmp / f"{i}.music.npy", mus)
                parts.append(len(mot))
                rec = dict(s)
                rec.update(name=s["name"] if r == rates[0] else f"{s['name']}@{r:.4g}", frames=int(len(mot)), tempo_rate=r)
                seqs.append(rec)
                log(f"{rec['name']}: {len(mot)} frames ({time.perf_counter() - t0:.0f} s)")
        total = int(sum(parts))
        Dm = int(np.load(tmp / "0.motion.npy", mmap_mode="r").shape[1])
        Da = int(np.load(tmp / "0.music.npy", mmap_mode="r").shape[1])
        mot = np.lib.format.open_memmap(tmp / "motion.npy", mode="w+", dtype=np.float32, shape=(total, Dm))
        mus = np.lib.format.open_memmap(tmp / "music.npy", mode="w+", dtype=np.float32, shape=(total, Da))
        rows, off = [], 0
        for i, (F, rec) in enumerate(zip(parts, seqs)):
            mot[off:off + F] = np.load(tmp / f"{i}.motion.npy")
            mus[off:off + F] = np.load(tmp / f"{i}.music.npy")
            os.remove(tmp / f"{i}.motion.npy")
            os.remove(tmp / f"{i}.music.npy")
            n = window_count(F, W, S)
            code = SPLIT_CODES[rec["split"]]
            rows.append(np.stack([np.full(n, i, np.int64), off + S * np.arange(n, dtype=np.int64),
                                  np.full(n, code, np.int64)], axis=1))
            rec.update(offset=off, windows=int(n))
            off += F
        mot.flush()
        mus.flush()
        del mot, mus
        win = np.concatenate(rows)
        np.save(tmp / "windows.npy", win)
        counts = {f"{k}_windows": int((win[:, 2] == v).sum()) for k, v in SPLIT_CODES.items()}
        new = dict(man)
        new.update(features=kind, feature_kind=kind, music_dim=Da, motion_dim=Dm, sequences=seqs,
                   tempo_augmentation={"source": str(src_p.resolve()), "factors": [float(r) for r in factors],
                                       "method": "librosa.effects.time_stretch (pitch kept) + slerp motion resampling"},
                   totals={**man["totals"], "sequences": len(seqs), "frames": total, "windows": int(len(win)), **counts},
                   tempo_reference=dict(reference or {}),
                   fingerprint=f"tempo:{man.get('fingerprint')}:{kind}:{','.join(f'{r:g}' for r in factors)}"
                               + (f":ref:{json.dumps(reference, sort_keys=True)}" if reference else ""),
                   build_seconds=round(time.perf_counter() - t0, 1), format_version=FORMAT_VERSION)
        (tmp / MANIFEST).write_text(json.dumps(new, indent=1) + "\n", encoding="utf-8")
        if out_p.exists():
            shutil.rmtree(out_p)
        os.replace(tmp, out_p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return new
