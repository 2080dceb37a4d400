"""``choreogen data prepare``: a dataset -> memory-mappable training arrays + manifest.

Per sequence: load, resample to ``fps`` (30), canonical frame (Y-up, floor at y = 0, root at the
xz origin at frame 0), encode with :func:`choreogen.motion.representation.encode`
(4 contacts + 3 root + J x 6D, float32) and compute music features with
:func:`choreogen.audio.music_features` for exactly the same number of frames.

Output folder (whole sequences, not copies of overlapping windows):

* ``motion.npy`` (F_total, Dm) float32 -- all kept sequences, concatenated;
* ``music.npy`` (F_total, Da) float32 -- frame-aligned music features;
* ``windows.npy`` (N, 3) int64 -- rows [sequence index, global start frame, split code]
  (0 train, 1 val, 2 test); a sequence of F frames gives ``floor((F - W) / S) + 1`` windows of W
  frames with stride S (none if F < W: the sequence is skipped);
* ``manifest.json`` -- written last; see :func:`prepare_dataset`.

The folder is built in a temporary sibling and renamed into place, so it is never partial.
Re-running with the same inputs and parameters is a no-op ("up to date"); any changed parameter,
file size or modification time triggers a rebuild.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Callable

import numpy as np

from .. import __version__
from ..fileio import sha256_file
from ..errors import ChoreogenError, ConfigError, InputError
from .datasets import Source, _check_fmt, get_split, list_sources, load_source
from .splitting import SPLIT_CODES

FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def _stat(p: Path | None) -> list | None:
    if p is None:
        return None
    try:
        st = p.stat()
    except OSError:
        return [str(p), None, None]
    return [str(p.resolve()), st.st_size, st.st_mtime_ns]


def _frames(seconds: float, fps: float, what: str) -> int:
    n = int(round(seconds * fps))
    if not np.isfinite(seconds) or n < 1:
        raise ConfigError(f"--{what} must be at least one frame ({1 / fps:.3f} s at {fps:g} fps), got {seconds}")
    return n


def window_count(frames: int, window: int, stride: int) -> int:
    """Number of windows of ``window`` frames, stride ``stride``, in a sequence of ``frames``."""
    return 0 if frames < window else (frames - window) // stride + 1


# ------------------------------------------------------------------------------- one sequence
def _process_one(job: tuple) -> dict:
    """Worker: load + encode + music features of one sequence; writes its part files.

    Returns a dict with either ``error`` or the sequence record. Never raises for user-data
    problems (they are reported and the sequence is skipped).
    """
    src, fmt, root, fps, features, part_dir, idx = job
    import torch

    torch.set_num_threads(1)
    try:
        return _encode_one(src, fmt, root, fps, features, Path(part_dir), idx)
    except ChoreogenError as e:
        return {"name": src.name, "error": str(e)}
    except (OSError, ValueError, RuntimeError, EOFError, KeyError) as e:
        # decoder/audio back-ends raise plain errors on corrupt files: report, never fatal
        return {"name": src.name, "error": f"{src.motion_path}: {e.__class__.__name__}: {e}".splitlines()[0]}


def _encode_one(src: Source, fmt: str, root, fps: float, features: str, part_dir: Path, idx: int) -> dict:
    from ..audio import music_features
    from ..motion.representation import encode

    m = load_source(src, fmt, root)
    if not m.has_smpl or not m.skel.kinematic:
        raise InputError("has no SMPL rotations (poses/trans); training windows need them", src.motion_path)
    source_fps = m.fps
    m = m.resample(fps).canonical()
    feats = encode(m.poses, m.trans, m.skel)
    if not np.isfinite(feats).all():
        raise InputError("motion features contain NaN or infinite values", src.motion_path)
    T = len(feats)
    mus = np.asarray(music_features(m.music, kind=features, fps=fps, n_frames=T), dtype=np.float32)
    if mus.ndim != 2 or mus.shape[0] != T:
        raise InputError(f"music features have shape {mus.shape}, expected ({T}, D)", m.music)
    if not np.isfinite(mus).all():
        raise InputError("music features contain NaN or infinite values", m.music)
    np.save(part_dir / f"{idx}.motion.npy", feats.astype(np.float32))
    np.save(part_dir / f"{idx}.music.npy", mus)
    return {
        "name": src.name, "genre": m.genre, "frames": T, "skeleton": m.skeleton,
        "motion_dim": int(feats.shape[1]), "music_dim": int(mus.shape[1]),
        "source_fps": float(source_fps), "motion_path": str(src.motion_path), "music": str(m.music),
        "motion_sha256": sha256_file(src.motion_path), "music_sha256": sha256_file(m.music),
    }


# ------------------------------------------------------------------------------- whole dataset
def _fingerprint(params: dict, sources: list[Source], splits: dict[str, int], skipped) -> str:
    desc = {
        "params": params,
        "sources": [[s.name, _stat(s.motion_path), _stat(s.music_path), s.genre] for s in sources],
        "splits": sorted(splits.items()),
        "skipped": skipped,
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()


def _read_manifest(out: Path) -> dict | None:
    p = out / MANIFEST
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prepare_dataset(
    root: str | os.PathLike,
    fmt: str,
    out: str | os.PathLike,
    *,
    window: float = 5.0,
    stride: float = 0.5,
    fps: float = 30.0,
    features: str = "baseline35",
    jobs: int = 1,
    progress: bool = True,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Prepare training windows; returns the manifest (with ``status`` "built" or "up to date").

    Args:
        root: dataset folder; fmt: "tang2018" | "aistpp" | "finedance" | "folder".
        out: output folder (created; replaced atomically when rebuilt).
        window, stride: seconds (rounded to whole frames at ``fps``).
        fps: frame rate of the stored sequences (canonical 30).
        features: music feature kind passed to :func:`choreogen.audio.music_features`.
        jobs: worker processes (1 = in this process).
        force: rebuild even if the manifest says the output is up to date.
        log: called with one line per skipped file (default: no output).

    Manifest keys: format_version, choreogen_version, feature_version, dataset, root, fps, window_frames,
    stride_frames, window_s, stride_s, features (kind), feature_kind, music_dim, motion_dim, skeleton, genres,
    sequences [{name, genre, genre_index, split, offset, frames, windows, motion_path, music,
    motion_sha256, music_sha256}], skipped [{name, reason}], totals {sequences, frames, windows,
    train_windows, val_windows, test_windows, skipped}, fingerprint, build_seconds.
    """
    log = log or (lambda s: None)
    fmt = _check_fmt(fmt)
    root_p = Path(root)
    out_p = Path(out)
    if not np.isfinite(fps) or fps <= 0:
        raise ConfigError(f"--fps must be positive, got {fps}")
    W = _frames(window, fps, "window")
    S = _frames(stride, fps, "stride")
    if jobs < 1:
        raise ConfigError(f"--jobs must be at least 1, got {jobs}")

    sources, skipped_pre = list_sources(root_p, fmt)
    split = get_split(fmt, root_p)
    code_of: dict[str, int] = {}
    for part, names in split.items():
        for n in names:
            code_of.setdefault(n, SPLIT_CODES[part])
    skipped: list[dict] = [{"name": n, "reason": r} for n, r in skipped_pre]
    todo: list[Source] = []
    for s in sources:
        if s.name not in code_of:
            if fmt == "aistpp":
                skipped.append({"name": s.name, "reason": "not in any official AIST++ split list"})
                continue
            code_of[s.name] = SPLIT_CODES["train"]  # e.g. extra files in a Tang2018-style folder
        todo.append(s)

    params = {"format_version": FORMAT_VERSION, "choreogen_version": __version__, "dataset": fmt,
              "fps": float(fps), "window_frames": W, "stride_frames": S, "features": features,
              "feature_version": _feature_version()}
    fp = _fingerprint(params, todo, {s.name: code_of[s.name] for s in todo}, skipped)
    if out_p.exists() and not out_p.is_dir():
        raise ConfigError("output path exists and is not a folder", out_p)
    old = _read_manifest(out_p) if out_p.exists() else None
    if out_p.exists() and old is None and any(out_p.iterdir()):
        raise ConfigError("output folder is not empty and holds no prepared dataset (manifest.json)", out_p)
    if old is not None and not force and old.get("fingerprint") == fp and _complete(out_p):
        old["status"] = "up to date"
        return old

    t0 = time.perf_counter()
    out_p.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_p.name}.", suffix=".tmp", dir=out_p.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private (0700); the result is a normal folder
    try:
        manifest = _build(tmp, root_p, fmt, todo, code_of, skipped, params, fp, jobs, progress, log)
        manifest["build_seconds"] = round(time.perf_counter() - t0, 3)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _swap_into_place(tmp, out_p)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    manifest["status"] = "built"
    return manifest


def _feature_version() -> str:
    """Version of the music feature code (part of the fingerprint: new feature code -> rebuild)."""
    try:
        from ..audio import cache as audio_cache
    except ImportError:
        return "unknown"
    return str(getattr(audio_cache, "FEATURE_VERSION", "unknown"))


def _complete(out: Path) -> bool:
    return all((out / f).is_file() for f in ("motion.npy", "music.npy", "windows.npy", MANIFEST))


def _swap_into_place(tmp: Path, out: Path) -> None:
    if out.exists():
        trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        trash.rmdir()
        os.replace(out, trash)
        os.replace(tmp, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, out)


def _run_jobs(jobs_args: list[tuple], jobs: int, progress: bool):
    from tqdm import tqdm

    bar = tqdm(total=len(jobs_args), desc="prepare", unit="seq", disable=not progress, leave=False)
    try:
        if jobs == 1:
            for a in jobs_args:
                yield _process_one(a)
                bar.update(1)
        else:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as ex:
                for r in ex.map(_process_one, jobs_args):
                    yield r
                    bar.update(1)
    finally:
        bar.close()


def _build(tmp: Path, root: Path, fmt: str, todo: list[Source], code_of: dict[str, int], skipped: list[dict],
           params: dict, fp: str, jobs: int, progress: bool, log) -> dict:
    parts = tmp / "parts"
    parts.mkdir()
    W, S = params["window_frames"], params["stride_frames"]
    args = [(s, fmt, str(root), params["fps"], params["features"], str(parts), i) for i, s in enumerate(todo)]
    kept: list[tuple[int, dict]] = []
    dims: tuple | None = None
    for i, rec in enumerate(_run_jobs(args, jobs, progress)):
        if "error" in rec:
            skipped.append({"name": rec["name"], "reason": rec["error"]})
            log(f"skipped {rec['name']}: {rec['error']}")
            continue
        d = (rec["skeleton"], rec["motion_dim"], rec["music_dim"])
        if dims is None:
            dims = d
        if d != dims:
            reason = (f"{rec['motion_path']}: skeleton/feature dims {d} differ from the dataset's {dims}")
            skipped.append({"name": rec["name"], "reason": reason})
            log(f"skipped {rec['name']}: {reason}")
            continue
        if rec["frames"] < W:
            reason = f"{rec['motion_path']}: {rec['frames']} frames, shorter than one window ({W})"
            skipped.append({"name": rec["name"], "reason": reason})
            log(f"skipped {rec['name']}: {reason}")
            continue
        kept.append((i, rec))
    if not kept:
        first = skipped[0]["reason"] if skipped else "no sequences"
        raise InputError(f"no usable sequences in the dataset (first problem: {first})", root)

    total = sum(r["frames"] for _, r in kept)
    _, Dm, Da = dims
    mot = np.lib.format.open_memmap(tmp / "motion.npy", mode="w+", dtype=np.float32, shape=(total, Dm))
    mus = np.lib.format.open_memmap(tmp / "music.npy", mode="w+", dtype=np.float32, shape=(total, Da))
    genres = _genre_list(fmt, [r.get("genre") for _, r in kept])
    inv_split = {v: k for k, v in SPLIT_CODES.items()}
    rows: list[np.ndarray] = []
    seqs: list[dict] = []
    off = 0
    for si, (i, rec) in enumerate(kept):
        F = rec["frames"]
        mot[off:off + F] = np.load(parts / f"{i}.motion.npy")
        mus[off:off + F] = np.load(parts / f"{i}.music.npy")
        n = window_count(F, W, S)
        code = code_of[rec["name"]]
        starts = off + S * np.arange(n, dtype=np.int64)
        rows.append(np.stack([np.full(n, si, np.int64), starts, np.full(n, code, np.int64)], axis=1))
        g = rec.get("genre")
        seqs.append({
            "name": rec["name"], "genre": g, "genre_index": genres.index(g) if g in genres else -1,
            "split": inv_split[code], "offset": off, "frames": F, "windows": int(n),
            "source_fps": rec["source_fps"],
            "motion_path": rec["motion_path"], "music": rec["music"],
            "motion_sha256": rec["motion_sha256"], "music_sha256": rec["music_sha256"],
        })
        off += F
    mot.flush()
    mus.flush()
    del mot, mus
    win = np.concatenate(rows, axis=0)
    np.save(tmp / "windows.npy", win)
    shutil.rmtree(parts)
    counts = {f"{k}_windows": int((win[:, 2] == v).sum()) for k, v in SPLIT_CODES.items()}
    return {
        **params,
        "root": str(root.resolve()),
        "window_s": W / params["fps"], "stride_s": S / params["fps"],
        "feature_kind": params["features"], "music_dim": int(Da),
        "motion_dim": int(Dm), "skeleton": dims[0], "genres": genres,
        "representation": "4 foot contacts + 3 root position (m, canonical Y-up) + J x 6D (first two columns)",
        "split_codes": SPLIT_CODES,
        "sequences": seqs, "skipped": skipped,
        "totals": {"sequences": len(seqs), "frames": int(total), "windows": int(len(win)), **counts,
                   "skipped": len(skipped)},
        "fingerprint": fp,
    }


def _genre_list(fmt: str, found: list[str | None]) -> list[str]:
    from .datasets import AISTPP_GENRES, TANG_GENRES

    if fmt == "aistpp":
        return list(AISTPP_GENRES.values())
    if fmt == "tang2018":
        extra = sorted({g for g in found if g and g not in TANG_GENRES})
        return list(TANG_GENRES) + extra
    return sorted({g for g in found if g})
