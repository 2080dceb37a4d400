"""The HTTP API and page of ``choreogen serve`` (FastAPI; OpenAPI description at ``/openapi.json``).

Songs are sent as the raw request body (``POST /api/jobs?genre=..&seconds=..``, any content type),
so that the size limit is enforced while the body streams in; the stored file is always named
``song`` inside the job's folder (the client's filename is only echoed in messages, never a path).
The content is sniffed by decoding it with :func:`choreogen.audio.load_audio` before a job is queued;
a bad file is answered ``400 {"error": "error: <name>: <problem>"}`` (the CLI's message).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Literal, Optional

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from ..errors import ChoreogenError
from .jobs import DOWNLOADS, Busy, JobManager

STATIC = Path(__file__).resolve().parent / "static"
MEDIA = {"npz": "application/octet-stream", "bvh": "text/plain", "glb": "model/gltf-binary", "mp4": "video/mp4"}


class Limits(BaseModel):
    max_upload_bytes: int = 50 << 20
    max_song_seconds: float = 15 * 60.0
    max_dance_seconds: float = 60.0


class EditRequest(BaseModel):
    mode: Literal["range", "keep_upper", "keep_lower"]
    start: float = 0.0
    end: float = 0.0
    seed: int = 1


def _clean_name(name: str | None) -> str:
    """A display name for messages only: the last path part, safe characters, at most 60."""
    base = re.split(r"[\\/]", name or "song")[-1]
    return re.sub(r"[^A-Za-z0-9._ -]", "_", base)[:60] or "song"


def create_app(results: Path, workers: int = 1, max_queued: int = 4, limits: Limits | None = None,
               model: str | None = None, max_bytes: int = 2 << 30, max_age_s: float = 24 * 3600) -> FastAPI:
    """The app; ``results`` is the job folder root (pruned to ``max_bytes`` / ``max_age_s``)."""
    limits = limits or Limits()
    cache: dict = {}

    def pipeline():
        if "pipe" not in cache:
            from ..tasks.dance3d.pipeline import Dance3DPipeline

            cache["pipe"] = Dance3DPipeline.from_pretrained(model)
        return cache["pipe"]

    jobs = JobManager(Path(results), pipeline, workers=workers, max_queued=max_queued, max_bytes=max_bytes,
                      max_age_s=max_age_s)
    app = FastAPI(title="choreogen", version="0.1.0",
                  description="Music to dance: upload a song, follow the job, download npz/BVH/glTF/mp4, edit.")
    app.state.jobs = jobs

    def bad(status: int, msg: str):
        return JSONResponse({"error": msg}, status_code=status)

    def job_or_404(jid: str):
        job = jobs.get(jid)
        if job is None:
            raise HTTPException(404, "no such job (unknown id, or expired)")
        return job

    @app.get("/api/info", summary="Genres and limits")
    def info() -> dict:
        return {"genres": pipeline().genres, "limits": limits.model_dump(), "downloads": list(DOWNLOADS)}

    @app.post("/api/jobs", summary="Start a dance: raw song bytes as the body, or example=true")
    async def create_job(request: Request, genre: str = "", seconds: float = Query(8.0, gt=0), seed: int = 0,
                         steps: Optional[int] = Query(None, ge=1, le=1000), example: bool = False,
                         filename: str = "song", prompt: str = ""):
        from starlette.concurrency import run_in_threadpool

        if seconds > limits.max_dance_seconds:
            return bad(400, f"error: seconds: at most {limits.max_dance_seconds:g} s per dance, got {seconds:g}")
        if jobs.active() >= jobs.capacity:
            return bad(503, "busy: the queue is full; try again in a minute")
        name = "example.ogg" if example else _clean_name(filename)
        jid, folder = jobs.new_folder()
        song = folder / "song"
        try:
            if example:
                from ..audio import example_song

                shutil.copyfile(example_song(), song)
            else:
                size = 0
                with open(song, "wb") as fh:
                    async for chunk in request.stream():
                        size += len(chunk)
                        if size > limits.max_upload_bytes:
                            raise ChoreogenError(f"file too large (over {_size(limits.max_upload_bytes)})")
                        fh.write(chunk)
                if size == 0:
                    raise ChoreogenError("empty upload (no bytes)")
                await run_in_threadpool(_check_song, song, limits.max_song_seconds)
        except ChoreogenError as e:
            shutil.rmtree(folder, ignore_errors=True)
            code = 413 if "too large" in e.problem else 400
            return bad(code, f"error: {name}: {e.problem}")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        understood = ""
        if genre and prompt:
            shutil.rmtree(folder, ignore_errors=True)
            return bad(400, "error: give genre or prompt, not both")
        if prompt:  # as `choreogen generate --prompt`
            from ..tasks.dance3d.pipeline import resolve_prompt

            try:
                understood = (await run_in_threadpool(resolve_prompt, pipeline().generator, prompt))[1].describe()
            except ChoreogenError as e:
                shutil.rmtree(folder, ignore_errors=True)
                return bad(400, f"error: {e.problem}")
        elif genre:  # the page's one field: a genre label, or else (3+ words) a free-text prompt
            from ..tasks.dance3d.pipeline import resolve_genre, resolve_prompt

            try:
                resolve_genre(pipeline().generator, genre)
            except ChoreogenError as e:
                if len(genre.split()) < 3:  # a label attempt ("polka"): say it is not one of the model's
                    shutil.rmtree(folder, ignore_errors=True)
                    return bad(400, f"error: {e.problem}")
                try:
                    idx, match = await run_in_threadpool(resolve_prompt, pipeline().generator, genre)
                    prompt, genre, understood = genre, "", match.describe()
                except ChoreogenError as e:
                    shutil.rmtree(folder, ignore_errors=True)
                    return bad(400, f"error: {e.problem}")
        params = {"genre": genre, "prompt": prompt, "understood": understood, "seconds": seconds, "seed": seed,
                  "steps": steps, "song": name}
        try:
            job = jobs.submit(jid, folder, params, song)
        except Busy as e:
            return bad(503, str(e))
        return JSONResponse(job.public(), status_code=202)

    @app.get("/api/jobs/{jid}", summary="Job status and progress (sampler steps done / total)")
    def job_status(jid: str) -> dict:
        return job_or_404(jid).public()

    @app.post("/api/jobs/{jid}/edit", summary="Edit a finished dance: regenerate a time range, or keep upper/lower body")
    def edit(jid: str, req: EditRequest):
        src = job_or_404(jid)
        if src.status != "done":
            return bad(409, "error: the dance is not finished yet")
        from ..io import load_motion
        from ..tasks.dance3d import editing

        ref = load_motion(src.folder / DOWNLOADS["npz"])
        cfg = pipeline().config
        try:
            if req.mode == "range":
                constraint = editing.regenerate_range(ref, req.start, req.end, cfg.skeleton, cfg.fps)
            else:
                constraint = editing.keep_joints(ref, req.mode.split("_")[1], cfg.skeleton, cfg.fps)
        except ChoreogenError as e:
            return bad(400, f"error: {e.problem}")
        if jobs.active() >= jobs.capacity:
            return bad(503, "busy: the queue is full; try again in a minute")
        nid, folder = jobs.new_folder()
        shutil.copyfile(src.folder / "song", folder / "song")
        params = dict(src.params, seed=req.seed, seconds=ref.duration, edit=req.model_dump())
        try:
            job = jobs.submit(nid, folder, params, folder / "song", constraint_fn=lambda pipe: constraint, parent=jid)
        except Busy as e:
            return bad(503, str(e))
        return JSONResponse(job.public(), status_code=202)

    @app.get("/api/jobs/{jid}/{kind}", summary="Download: npz | bvh | glb | mp4 | song")
    def download(jid: str, kind: str):
        job = job_or_404(jid)
        if kind == "song":
            return FileResponse(job.folder / "song", media_type="application/octet-stream")
        if kind not in DOWNLOADS:
            raise HTTPException(404, f"unknown download '{kind}' (npz, bvh, glb, mp4, song)")
        if job.status != "done":
            return bad(409, "error: the dance is not finished yet")
        path = jobs.render_mp4(job) if kind == "mp4" else job.folder / DOWNLOADS[kind]
        return FileResponse(path, media_type=MEDIA[kind], filename=f"choreogen_{jid[:8]}.{kind}")

    app.mount("/", StaticFiles(directory=STATIC, html=True), name="static")
    return app


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 1000:.0f} kB"


def _check_song(path: Path, max_seconds: float) -> None:
    """Sniff the content: probe the duration (limit) and decode it as the pipeline will."""
    from ..audio import load_audio
    from ..audio.decode import audio_info
    from ..tasks.dance3d.pipeline import MIN_SONG_SECONDS

    d = audio_info(path).duration
    if d is not None and d > max_seconds:
        raise ChoreogenError(f"song too long ({d:.0f} s; at most {max_seconds:.0f} s)")
    load_audio(path, min_duration=MIN_SONG_SECONDS, require_sound=True)
