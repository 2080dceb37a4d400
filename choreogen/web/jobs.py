"""Jobs for the web app: a bounded worker pool, unguessable ids, real progress, a results folder with
size and age limits. A job only calls the library: :class:`Dance3DPipeline` (generation, editing
constraints from :mod:`choreogen.tasks.dance3d.editing`) and the exporters in :mod:`choreogen.io`.

Each job owns ``<root>/<id>/``; its outputs are written with temp file + rename, and a failed job's
folder is removed (nothing half-written is ever served).
"""
from __future__ import annotations

import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ChoreogenError

DOWNLOADS = {"npz": "dance.npz", "bvh": "dance.bvh", "glb": "dance.glb", "mp4": "dance.mp4"}


class Busy(Exception):
    """The queue is full: the client should retry later (HTTP 503)."""


@dataclass
class Job:
    id: str
    folder: Path
    params: dict
    status: str = "queued"  # queued | running | done | failed
    step: int = 0
    total: int = 0
    error: str | None = None
    created: float = field(default_factory=time.time)
    seconds: float | None = None
    frames: int | None = None
    fps: float | None = None
    parent: str | None = None

    def public(self) -> dict:
        d = {"id": self.id, "status": self.status, "step": self.step, "total": self.total,
             "progress": (self.step / self.total) if self.total else (1.0 if self.status == "done" else 0.0),
             "error": self.error, "seconds": self.seconds, "frames": self.frames, "fps": self.fps,
             "parent": self.parent, "params": self.params}
        if self.status == "done":
            d["downloads"] = {k: f"/api/jobs/{self.id}/{k}" for k in DOWNLOADS} | {"song": f"/api/jobs/{self.id}/song"}
        return d


class JobManager:
    """Runs generation jobs on ``workers`` threads with at most ``max_queued`` waiting.

    ``pipeline_factory()`` returns the (cached) :class:`Dance3DPipeline`; results live under ``root``,
    pruned to ``max_bytes`` and ``max_age_s`` (oldest first) whenever a job is submitted.
    """

    def __init__(self, root: Path, pipeline_factory, workers: int = 1, max_queued: int = 4,
                 max_bytes: int = 2 << 30, max_age_s: float = 24 * 3600):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.pipeline_factory = pipeline_factory
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="choreogen-job")
        self.capacity = workers + max_queued
        self.max_bytes, self.max_age_s = max_bytes, max_age_s
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.pipe_lock = threading.Lock()
        self.render_lock = threading.Lock()

    # ---------------------------------------------------------------- bookkeeping
    def active(self) -> int:
        return sum(j.status in ("queued", "running") for j in list(self.jobs.values()))

    def new_folder(self) -> tuple[str, Path]:
        jid = secrets.token_urlsafe(16)
        folder = self.root / jid
        folder.mkdir()
        return jid, folder

    def get(self, jid: str) -> Job | None:
        return self.jobs.get(jid)

    def prune(self) -> None:
        now = time.time()
        with self.lock:
            done = sorted((j for j in list(self.jobs.values()) if j.status in ("done", "failed")), key=lambda j: j.created)
            size = sum(_du(j.folder) for j in done)
            for j in done:
                if now - j.created > self.max_age_s or size > self.max_bytes:
                    size -= _du(j.folder)
                    shutil.rmtree(j.folder, ignore_errors=True)
                    self.jobs.pop(j.id, None)

    def submit(self, jid: str, folder: Path, params: dict, song: Path, constraint_fn=None, parent: str | None = None) -> Job:
        """Queue a generation of ``song`` with ``params`` (genre, seconds, seed, steps); ``constraint_fn(pipe)``
        builds an editing constraint. Raises :class:`Busy` (and removes ``folder``) when full."""
        self.prune()
        with self.lock:
            if self.active() >= self.capacity:
                shutil.rmtree(folder, ignore_errors=True)
                raise Busy(f"busy: {self.active()} dances are being made or waiting; try again in a minute")
            job = Job(jid, folder, params, parent=parent)
            self.jobs[jid] = job
        self.pool.submit(self._run, job, song, constraint_fn)
        return job

    # ---------------------------------------------------------------- the work
    def _run(self, job: Job, song: Path, constraint_fn) -> None:
        from ..io.bvh import save_bvh
        from ..io.core import save_motion
        from ..io.gltf import save_glb

        job.status = "running"
        try:
            pipe = self.pipeline_factory()

            def progress(i: int, n: int) -> None:
                job.step, job.total = i, n

            p = job.params
            constraint = constraint_fn(pipe) if constraint_fn else None
            with self.pipe_lock:  # one sampler at a time on the shared model
                res = pipe(song, genre=p.get("genre") or None, prompt=p.get("prompt") or None, seconds=p.get("seconds"),
                           seed=int(p.get("seed", 0)), steps=p.get("steps"), constraint=constraint, progress=progress)
            m = res.motion
            save_motion(m, job.folder / DOWNLOADS["npz"])
            save_bvh(m, job.folder / DOWNLOADS["bvh"])
            save_glb(m, job.folder / DOWNLOADS["glb"])
            job.seconds, job.frames, job.fps = m.duration, m.num_frames, m.fps
            job.step = job.total = max(job.total, 1)
            job.status = "done"
        except ChoreogenError as e:
            self._fail(job, f"error: {e.problem}")
        except Exception as e:  # noqa: BLE001 - a job never takes the server down
            self._fail(job, f"error: internal failure ({e.__class__.__name__}: {e})")

    def _fail(self, job: Job, msg: str) -> None:
        for f in job.folder.glob("dance.*"):
            f.unlink(missing_ok=True)
        job.error, job.status = msg, "failed"

    def render_mp4(self, job: Job) -> Path:
        """The dance as mp4 with its music (rendered once, on first download)."""
        from ..io import load_motion
        from ..render import render_motion

        out = job.folder / DOWNLOADS["mp4"]
        with self.render_lock:
            if not out.exists():
                m = load_motion(job.folder / DOWNLOADS["npz"])
                render_motion(m, out, music=job.folder / "song")
        return out

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def _du(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*") if f.is_file()) if folder.exists() else 0
