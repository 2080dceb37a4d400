"""PoseVideoPipeline: song + photo (+ optional driving motion) -> frames or an H.264 mp4 with the song.

Steps: :func:`choreogen.video.reference.analyse_photo` (keypoints + mask) ->
driving motion (given, or ``dancer(song, ...)``: a 3D dance) -> :func:`choreogen.video.retarget.fit`
-> :class:`choreogen.video.animator.Animator` (default geometric) -> frames at ``fps`` (30) ->
:class:`choreogen.render.encoder.VideoWriter` (temp file + rename: no partial mp4 on error).
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from ...errors import ChoreogenError, ConfigError
from ...fileio import atomic_path
from ...motion import Motion
from ...render.encoder import VideoWriter, check_video_job
from ...video.animator import Animator, GeometricAnimator
from ...video.reference import Reference, analyse_photo
from ...video.retarget import Driving, fit

MIN_SONG_S = 1.0


@dataclass
class PoseVideoResult:
    """frames: list of (S, S, 3) uint8 RGB (None when written to ``path``); fps; timings in seconds."""

    reference: Reference
    driving: Driving
    motion: Motion
    fps: float
    frames: list | None = None
    path: Path | None = None
    timings: dict = field(default_factory=dict)


class PoseVideoPipeline:
    """``dancer``: callable ``(song, seconds=, seed=, genre=, prompt=) -> Motion`` used when no driving
    motion is given (``choreogen.api.PoseVideoPipeline.from_pretrained()`` plugs in the bundled 3D
    generator). ``animator``: an :class:`Animator` (default :class:`GeometricAnimator`)."""

    def __init__(self, dancer: Callable[..., Motion] | None = None, animator: Animator | None = None):
        self.dancer, self.animator = dancer, animator or GeometricAnimator()

    @classmethod
    def from_pretrained(cls, dancer: Callable[..., Motion] | None = None,
                        animator: Animator | None = None) -> "PoseVideoPipeline":
        return cls(dancer, animator)

    def __call__(self, song: str | os.PathLike, image: str | os.PathLike | Reference, out: str | os.PathLike | None = None,
                 *, motion: Motion | None = None, seconds: float | None = None, seed: int = 0, size: int = 256,
                 fps: float = 30.0, genre: str | None = None, prompt: str | None = None,
                 progress: bool = False) -> PoseVideoResult:
        """Animate ``image`` to ``song``; ``motion`` drives it (else the dancer generates one).

        ``seconds``: cut to this many seconds from the start. ``out``: .mp4 to write (frames not kept);
        None returns the frames. ``size``: 256 or 512 (square frames).
        """
        t0 = time.perf_counter()
        if size not in (256, 512):
            raise ConfigError(f"--size must be 256 or 512, got {size}")
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"--seconds must be positive, got {seconds}")
        out, dur = check_video_job(song, out, MIN_SONG_S)
        ref = image if isinstance(image, Reference) else analyse_photo(image, size)
        t_ref = time.perf_counter()
        if motion is None:
            if self.dancer is None:
                raise ConfigError("no driving motion given and no dancer configured")
            motion = self.dancer(song, seconds=seconds, seed=seed, genre=genre, prompt=prompt)
        t_dance = time.perf_counter()
        drv = fit(motion, ref.keypoints, ref.confidence, fps=fps)
        n = len(drv.keypoints)
        limit = [x for x in (seconds, dur) if x is not None]
        if limit:
            n = max(1, min(n, int(round(min(limit) * fps))))
        drv = Driving(drv.keypoints[:n], drv.confidence[:n], drv.fps, drv.scale, drv.meta)
        self.animator.prepare(ref)
        res = PoseVideoResult(ref, drv, motion, fps)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=n, unit="frame", desc="video", file=sys.stderr, dynamic_ncols=True)
        try:
            if out is None:
                res.frames = []
                for f in self.animator.animate(drv):
                    res.frames.append(f)
                    if bar is not None:
                        bar.update(1)
            else:
                try:
                    with atomic_path(out, suffix=".mp4") as tmp:
                        with VideoWriter(tmp, ref.size, ref.size, fps, n / fps, song, preset="veryfast") as vw:
                            for f in self.animator.animate(drv):
                                vw.write(f)
                                if bar is not None:
                                    bar.update(1)
                except OSError as e:
                    raise ChoreogenError(f"cannot write the video ({e.strerror or e.__class__.__name__})", out) from None
                res.path = out
        finally:
            if bar is not None:
                bar.close()
        t1 = time.perf_counter()
        res.timings = {"reference": t_ref - t0, "dance": t_dance - t_ref, "animate_encode": t1 - t_dance,
                       "total": t1 - t0}
        return res
