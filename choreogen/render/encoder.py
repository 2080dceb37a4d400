"""H.264 encoding through the ffmpeg binary bundled with imageio-ffmpeg.

Frames (H, W, 3) uint8 RGB are piped to one ffmpeg process (libx264, yuv420p, ``+faststart``)
that also decodes the music and muxes it as AAC in the same call, cut to the video's duration
(``-t``), so the file's length is the dance's length whatever the song's length. A writer thread
keeps a few frames queued so drawing and encoding overlap on two cores.
"""
from __future__ import annotations

import os
import queue
import re
import subprocess
import tempfile
import threading
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import ChoreogenError, InputError


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def probe(path: str | os.PathLike) -> dict:
    """Streams and duration of a media file from ``ffmpeg -i`` (no ffprobe needed).

    Returns ``{"duration": seconds or None, "video": [codec, ...], "audio": [codec, ...],
    "fps": float or None, "size": (w, h) or None}``.
    """
    r = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", os.fspath(path)],
                       capture_output=True, text=True, errors="replace")
    err = r.stderr
    out: dict = {"duration": None, "video": [], "audio": [], "fps": None, "size": None, "log": err}
    m = re.search(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)", err)
    if m:
        out["duration"] = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    for line in err.splitlines():
        s = re.search(r"Stream #\S+.*?: (Video|Audio): (\w+)", line)
        if not s:
            continue
        out[s.group(1).lower()].append(s.group(2))
        if s.group(1) == "Video":
            f = re.search(r"(\d+(?:\.\d+)?) fps", line)
            wh = re.search(r", (\d{2,5})x(\d{2,5})", line)
            out["fps"] = float(f.group(1)) if f else None
            out["size"] = (int(wh.group(1)), int(wh.group(2))) if wh else None
    return out


def check_audio(path: str | os.PathLike) -> float | None:
    """Raise :class:`InputError` unless ``path`` is a readable audio file; return its duration (s)."""
    p = Path(path)
    if not p.is_file():
        raise InputError("music file not found", p)
    info = probe(p)
    if not info["audio"]:
        raise InputError("not a readable audio file (ffmpeg finds no audio stream)", p)
    return info["duration"]


def check_video_job(song: str | os.PathLike, out: str | os.PathLike | None,
                    min_song_s: float) -> tuple[Path | None, float | None]:
    """Checks before a song -> mp4 job writes anything: ``out`` (None = frames only) must be an .mp4 file
    name, not a folder; ``song`` a readable audio file of at least ``min_song_s`` seconds. Returns (``out``
    as a Path, the song's duration in s or None when unknown). ConfigError / ChoreogenError / InputError naming the file."""
    from ..errors import ConfigError

    if out is not None:
        out = Path(out)
        if out.suffix.lower() != ".mp4":
            raise ConfigError("the video output must be an .mp4 file", out)
        if out.is_dir():
            raise ChoreogenError("the output path is a folder; give a file name", out)
    dur = check_audio(song)
    if dur is not None and dur < min_song_s:
        raise InputError(f"the song is too short ({dur:.2f} s); give at least {min_song_s:g} s", song)
    return out, dur


def _rate(fps: float) -> str:
    f = Fraction(fps).limit_denominator(1001)
    return f"{f.numerator}/{f.denominator}"


class VideoWriter:
    """Context manager: ``with VideoWriter(path, w, h, fps, duration, audio) as vw: vw.write(frame)``.

    Args:
        path: output file (written directly; callers use :func:`choreogen.fileio.atomic_path`).
        width, height: even frame size in pixels.
        fps: frame rate of the frames written.
        duration: seconds; output (audio included) is cut to it.
        audio: optional music file muxed as AAC 160 kb/s from time 0 (of the video).
        preset, crf: libx264 speed preset and quality.
        audio_offset: seconds into ``audio`` where the video starts (a dance of an excerpt).
    """

    def __init__(self, path, width: int, height: int, fps: float, duration: float, audio=None,
                 preset: str = "veryfast", crf: int = 20, queue_size: int = 6, audio_offset: float = 0.0):
        self.path, self.size = Path(path), (height, width, 3)
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", _rate(fps),
               "-i", "pipe:0"]
        if audio is not None:
            if audio_offset > 0:
                cmd += ["-ss", f"{audio_offset:.6f}"]
            cmd += ["-i", os.fspath(audio), "-map", "0:v:0", "-map", "1:a:0",
                    "-c:a", "aac", "-b:a", "160k"]
        cmd += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
                "-t", f"{duration:.6f}", "-movflags", "+faststart", "-f", "mp4", os.fspath(path)]
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        self._q: queue.Queue = queue.Queue(maxsize=queue_size)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            buf = self._q.get()
            if buf is None:
                return
            if self._error is None:
                try:
                    self.proc.stdin.write(buf)
                except (BrokenPipeError, OSError) as e:
                    self._error = e

    def write(self, frame: np.ndarray) -> None:
        """Queue one (H, W, 3) uint8 RGB frame (copied)."""
        if frame.shape != self.size or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 {self.size}, got {frame.dtype} {frame.shape}")
        if self._error is not None:
            self._fail()
        self._q.put(frame.tobytes())

    def _stderr(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace").strip()
        return text.splitlines()[-1] if text else "no message"

    def _fail(self) -> None:
        self.abort()
        raise ChoreogenError(f"ffmpeg failed: {self._stderr()}", self.path)

    def close(self) -> None:
        """Flush, finish the file and raise :class:`ChoreogenError` if ffmpeg failed."""
        self._q.put(None)
        self._thread.join()
        if self._error is None:
            try:
                self.proc.stdin.close()
            except (BrokenPipeError, OSError) as e:
                self._error = e
        rc = self.proc.wait()
        if rc != 0 or self._error is not None:
            raise ChoreogenError(f"ffmpeg failed: {self._stderr()}", self.path)
        self._log.close()

    def abort(self) -> None:
        """Stop ffmpeg without finishing the file (the caller deletes it)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        with_thread = self._thread.is_alive()
        if with_thread:
            self._error = self._error or RuntimeError("aborted")
            try:
                while True:
                    self._q.get_nowait()
            except queue.Empty:
                pass
            self._q.put(None)
            self._thread.join()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
