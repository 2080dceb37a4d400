"""Many songs, one model: batch generation for data sets and studies.

:func:`generate_batch` loads the generator once and writes ``OUT/<song stem>.npz`` (+ ``.bvh``)
for every song, each exactly what ``choreogen generate SONG --seed S`` writes for it (same seed
per song, so a song's dance does not depend on which other songs are in the batch). With
``devices > 1`` the songs are shared between processes by the training room's Lightning predict
loop (:func:`choreogen.training.runner.predict`, ``ddp_spawn``: gloo on CPUs, NCCL on GPUs).

Resumable: songs whose npz already exists are skipped. A song that fails (undecodable, too short)
is reported with its clear message and the others go on; every output is written atomically, and
the per-song outcome is kept in ``OUT/.batch/<stem>.json`` (read back for the summary).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import lightning as L

from ...errors import ChoreogenError, ConfigError, InputError
from ...fileio import atomic_write_text

AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".opus")


def collect_songs(inputs: list[str | os.PathLike]) -> list[Path]:
    """Songs from files and folders (a folder: its audio files, sorted, not recursive). Two songs
    with the same file stem would write the same outputs: refused (ConfigError)."""
    songs: list[Path] = []
    for x in inputs:
        p = Path(x)
        if p.is_dir():
            found = sorted(q for q in p.iterdir() if q.is_file() and q.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise InputError(f"folder has no audio files ({', '.join(AUDIO_SUFFIXES)})", p)
            songs += found
        elif p.is_file():
            songs.append(p)
        else:
            raise InputError("song not found", p)
    stems: dict[str, Path] = {}
    for s in songs:
        if s.stem in stems and stems[s.stem].resolve() != s.resolve():
            raise ConfigError(f"two songs are named '{s.stem}' ({stems[s.stem]} and {s}): their outputs would collide")
        stems[s.stem] = s
    return list(dict.fromkeys(p.resolve() for p in songs))


@dataclass
class BatchOptions:
    """Per-song generation options (as ``choreogen generate``)."""

    checkpoint: str | None = None
    genre: str | None = None
    seconds: float | None = None
    seed: int = 0
    steps: int | None = None
    bvh: bool = True
    device: str = "cpu"  # "cpu" or "cuda": with devices > 1 each process takes its own GPU


def _status_path(out: Path, song: Path) -> Path:
    return out / ".batch" / f"{song.stem}.json"


def generate_one(pipe, song: Path, out: Path, opt: BatchOptions) -> dict:
    """Generate and write one song's outputs; the outcome dict is also written to ``.batch/``."""
    from ...io import save_motion

    npz = out / f"{song.stem}.npz"
    if npz.exists():
        done = _status_path(out, song)
        if done.exists():  # done by this run in another process, or by an earlier run: keep its outcome
            return json.loads(done.read_text())
        status = {"song": str(song), "status": "skipped", "npz": str(npz)}
    else:
        try:
            res = pipe(song, genre=opt.genre, seconds=opt.seconds, seed=opt.seed, steps=opt.steps)
            m = res.motion
            if opt.bvh:
                from ...io.bvh import save_bvh

                save_bvh(m, out / f"{song.stem}.bvh")
            save_motion(m, npz)  # last: its presence means the song is done
            status = {"song": str(song), "status": "ok", "npz": str(npz), "seconds": m.duration,
                      "wall_s": res.seconds_wall}
        except ChoreogenError as e:
            status = {"song": str(song), "status": "failed", "error": str(e)}
    atomic_write_text(_status_path(out, song), json.dumps(status))
    return status


def _collate(items):
    return list(items)


class _BatchPredictor(L.LightningModule):
    """predict_step = generate the songs of a batch; the model is loaded in each process."""

    def __init__(self, out: str, opt: BatchOptions):
        super().__init__()
        self.out, self.opt, self._pipe = Path(out), opt, None

    def predict_step(self, batch, batch_idx):
        if self._pipe is None:
            from .pipeline import Dance3DPipeline

            dev = "cpu" if self.opt.device == "cpu" else f"cuda:{self.local_rank}"
            self._pipe = Dance3DPipeline.from_pretrained(self.opt.checkpoint, device=dev)
        return [generate_one(self._pipe, Path(s), self.out, self.opt) for s in batch]


def generate_batch(songs: list[Path], out: str | os.PathLike, opt: BatchOptions, devices: int = 1,
                   progress=None) -> list[dict]:
    """Generate every song into the folder ``out`` (created); returns one outcome dict per song
    (``status`` ok | skipped | failed, with ``error``). ``progress(i, n)`` after each song (one process)."""
    out = Path(out)
    if devices < 1:
        raise ConfigError(f"--devices must be at least 1, got {devices}")
    if devices > 1 and opt.device not in ("cpu", "cuda"):
        raise ConfigError(f"--device for several processes must be cpu or cuda (one GPU each), got {opt.device!r}")
    (out / ".batch").mkdir(parents=True, exist_ok=True)
    for s in songs:  # a stale outcome must not be mistaken for this run's
        _status_path(out, s).unlink(missing_ok=True)
    if devices == 1:
        from .pipeline import Dance3DPipeline

        pipe = Dance3DPipeline.from_pretrained(opt.checkpoint, device=opt.device)
        outcomes = []
        for i, s in enumerate(songs):
            outcomes.append(generate_one(pipe, s, out, opt))
            if progress:
                progress(i + 1, len(songs))
        return outcomes
    from torch.utils.data import DataLoader

    from ...training.runner import RunConfig, predict

    loader = DataLoader([str(s) for s in songs], batch_size=1, shuffle=False, collate_fn=_collate)
    run = RunConfig(max_steps=0, devices=devices, strategy="ddp_spawn",
                    accelerator="cpu" if opt.device == "cpu" else "gpu")
    predict(_BatchPredictor(str(out), opt), loader, run)
    outcomes = []
    for s in songs:
        p = _status_path(out, s)
        outcomes.append(json.loads(p.read_text()) if p.exists() else {"song": str(s), "status": "failed",
                                                                      "error": "no outcome written (worker died)"})
    return outcomes
