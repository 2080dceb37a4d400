"""Decode any common audio file into a float32 waveform, in bounded memory.

Formats: whatever libsndfile reads (wav, flac, ogg vorbis/opus, mp3, aiff, ...) through
``soundfile``; anything else (m4a/aac, wma, video containers, ...) through the ffmpeg binary that
``imageio-ffmpeg`` bundles (``imageio_ffmpeg.get_ffmpeg_exe()``), so no system ffmpeg is needed.

Memory: the file is decoded block by block (``BLOCK_FRAMES`` frames at a time), each block is
mixed to mono in float32 and pushed through a streaming soxr resampler (``soxr.ResampleStream``,
quality "HQ", bit-identical to the one-shot ``soxr.resample`` that ``librosa.load`` uses). Only
the final float32 output array is ever held in full: a 10-minute 44.1 kHz stereo song needs about
106 MB at the native rate (26.5 M samples x 4 bytes), 37 MB at 15360 Hz.

Every problem with the file raises :class:`~choreogen.errors.InputError` naming the file.
"""
from __future__ import annotations

import contextlib
import os
import re
import struct
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import ConfigError, InputError
from ..fileio import require_file

BLOCK_FRAMES = 1 << 17  # 131072 frames per decoded block (~3 s at 44.1 kHz)
SILENCE_PEAK = 1e-4  # peak |amplitude| at or below this counts as silent (-80 dBFS)


@dataclass
class AudioInfo:
    """What the decoder learnt about a file before decoding it."""

    samplerate: int
    channels: int
    frames: int | None  # None when the container does not say (ffmpeg streams)
    backend: str  # "soundfile" or "ffmpeg"

    @property
    def duration(self) -> float | None:
        return None if self.frames is None else self.frames / self.samplerate


# --------------------------------------------------------------------------------------------
# soundfile backend
# --------------------------------------------------------------------------------------------
def _sf_open(path: Path):
    """Open with soundfile; return None if libsndfile does not recognise the format."""
    import soundfile as sf

    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        return None


def _sf_blocks(f, path: Path) -> Iterator[np.ndarray]:
    """Yield (n, channels) float32 blocks; raise InputError if decoding stops early."""
    import soundfile as sf

    got = 0
    try:
        while True:
            block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
            if block.shape[0] == 0:
                break
            got += block.shape[0]
            yield block
    except (sf.LibsndfileError, RuntimeError) as e:
        raise InputError(
            f"truncated or corrupt audio: decoding failed after {got / f.samplerate:.2f} s "
            f"of {f.frames / f.samplerate:.2f} s ({_short(str(e))})", path) from None
    # libsndfile's frame count is exact for PCM/FLAC/Vorbis and estimated for mp3: allow 1 %
    if f.frames > 0 and got < f.frames - max(0.01 * f.frames, 0.05 * f.samplerate):
        raise InputError(
            f"truncated audio: the header says {f.frames / f.samplerate:.2f} s but only "
            f"{got / f.samplerate:.2f} s could be decoded", path)


def _wav_truncation(path: Path) -> tuple[float, float] | None:
    """For a RIFF/WAVE file whose data chunk claims more bytes than the file holds, return
    (declared seconds, available seconds); else None. libsndfile silently shortens such files."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block_align = rate = 0
            while True:
                hdr = fh.read(8)
                if len(hdr) < 8:
                    return None
                cid, csize = hdr[:4], struct.unpack("<I", hdr[4:])[0]
                if cid == b"fmt ":
                    fmt = fh.read(min(csize, 16))
                    if len(fmt) < 16:
                        return None
                    _, _, rate, _, block_align = struct.unpack("<HHIIH", fmt[:14])
                    fh.seek(csize - 16 + (csize & 1), 1)
                elif cid == b"data":
                    avail = size - fh.tell()
                    if csize in (0, 0xFFFFFFFF) or not block_align or not rate or csize <= avail + 1:
                        return None
                    return csize / block_align / rate, avail / block_align / rate
                else:
                    fh.seek(csize + (csize & 1), 1)
    except OSError:
        return None


def _looks_like_mp3(path: Path) -> bool:
    if path.suffix.lower() in (".mp3", ".mp2", ".mpga"):
        return True
    with open(path, "rb") as fh:
        b = fh.read(3)
    return b == b"ID3" or (len(b) >= 2 and b[0] == 0xFF and (b[1] & 0xE0) == 0xE0)


@contextlib.contextmanager
def _capture_c_stderr(enabled: bool):
    """Capture what C libraries (libmpg123) print on file descriptor 2 during the block.

    Yields a dict whose "text" is filled on exit. Lines that are not mpg123 chatter ("Note:",
    "Warning:", "[src/libmpg123...]") are written back to the real stderr.
    """
    out: dict[str, str] = {"text": ""}
    if not enabled:
        yield out
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield out
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            out["text"] = tmp.read().decode("utf-8", "replace")
    chatter = re.compile(r"^\s*(Note:|Warning:|\[src/|.*mpg123)")
    other = [ln for ln in out["text"].splitlines() if ln.strip() and not chatter.match(ln)]
    if other:
        sys.stderr.write("\n".join(other) + "\n")


# --------------------------------------------------------------------------------------------
# ffmpeg backend
# --------------------------------------------------------------------------------------------
_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "3.0(back)": 3, "quad": 4,
                    "quad(side)": 4, "4.0": 4, "5.0": 5, "5.0(side)": 5, "4.1": 5, "5.1": 6,
                    "5.1(side)": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8, "7.1(wide)": 8,
                    "downmix": 2}


def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary (imageio-ffmpeg), or a system one if that is missing."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # pragma: no cover - imageio-ffmpeg is a hard dependency
        import shutil

        exe = shutil.which("ffmpeg")
        if exe is None:
            raise ConfigError("no ffmpeg binary: install imageio-ffmpeg") from None
        return exe


def _short(msg: str, limit: int = 160) -> str:
    msg = re.sub(r"\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", msg)  # ffmpeg "[dec:aac @ 0x...]" prefixes
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def _ffmpeg_probe(path: Path) -> AudioInfo:
    """Read sample rate and channel count of the first audio stream from ffmpeg's banner."""
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
    text = proc.stderr.decode("utf-8", "replace")
    m = re.search(r"Stream #\S+.*?: Audio: (.*)", text)
    if m is None:
        last = [ln for ln in text.strip().splitlines() if ln.strip()]
        if "Stream #" in text:
            raise InputError("not an audio file (no audio stream found)", path)
        reason = _short(last[-1]) if last else "unknown format"
        # ffmpeg prefixes the reason with the path: keep only the problem
        reason = reason.replace(f"{path}: ", "")
        raise InputError(f"not a readable audio file ({reason})", path)
    fields = [s.strip() for s in m.group(1).split(",")]
    sr = next((int(f.split()[0]) for f in fields if f.endswith(" Hz")), None)
    channels = None
    for fld in fields:
        key = fld.split(" ")[0]
        if key in _LAYOUT_CHANNELS:
            channels = _LAYOUT_CHANNELS[key]
            break
        mc = re.match(r"(\d+) channels", fld)
        if mc:
            channels = int(mc.group(1))
            break
    if not sr:
        raise InputError("cannot determine the audio sample rate", path)
    return AudioInfo(samplerate=sr, channels=channels or 0, frames=None, backend="ffmpeg")


def _ffmpeg_blocks(path: Path, info: AudioInfo) -> Iterator[np.ndarray]:
    """Stream (n, channels) float32 blocks from ffmpeg's stdout (raw f32le at the native rate)."""
    ch = info.channels or 1
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-vn", "-map",
           "0:a:0", "-f", "f32le", "-acodec", "pcm_f32le"]
    if info.channels == 0:  # unknown layout: let ffmpeg mix down
        cmd += ["-ac", "1"]
    cmd += ["-ar", str(info.samplerate), "pipe:1"]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        frame_bytes = 4 * ch
        chunk = BLOCK_FRAMES * frame_bytes
        rest = b""
        try:
            assert proc.stdout is not None
            while True:
                data = proc.stdout.read(chunk)
                if not data:
                    break
                data = rest + data
                n = len(data) // frame_bytes
                rest = data[n * frame_bytes:]
                if n:
                    yield np.frombuffer(data[: n * frame_bytes], dtype="<f4").reshape(n, ch)
        finally:
            if proc.poll() is None:
                proc.stdout.close()  # type: ignore[union-attr]
            rc = proc.wait()
        err.seek(0)
        msg = err.read().decode("utf-8", "replace").strip()
    if rc != 0:
        raise InputError(f"ffmpeg could not decode the audio ({_short(msg.splitlines()[-1] if msg else f'exit {rc}')})",
                         path)
    if msg and re.search(r"(?i)(invalid data|error while decoding|truncat|corrupt|partial file)", msg):
        raise InputError(f"truncated or corrupt audio ({_short(msg.splitlines()[-1])})", path)


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Sample rate, channels and (if known) frame count of an audio file, without decoding it."""
    p = require_file(path, "audio file")
    f = _sf_open(p)
    if f is not None:
        with f:
            return AudioInfo(f.samplerate, f.channels, f.frames, "soundfile")
    return _ffmpeg_probe(p)


def load_audio(path: str | os.PathLike, sr: int | None = None, mono: bool = True,
               min_duration: float = 0.0, require_sound: bool = False) -> tuple[np.ndarray, int]:
    """Decode an audio file to float32 samples in [-1, 1].

    Args:
        path: wav, flac, ogg, mp3, m4a, ... of any length and sample rate.
        sr: output sample rate in Hz; ``None`` keeps the file's native rate. Resampling uses soxr
            "HQ" (as ``librosa.load``), streamed block by block.
        mono: mix all channels to one by averaging (as ``librosa.to_mono``). With ``mono=False``
            the result has shape (channels, N).
        min_duration: raise :class:`InputError` (with the duration) if the audio is shorter, in s.
        require_sound: raise :class:`InputError` if the audio is silent (peak <= 1e-4, -80 dBFS).

    Returns:
        ``(y, sr)``: y float32 (N,) (or (C, N) if ``mono=False``) and the sample rate in Hz.
    """
    p = require_file(path, "audio file")
    if sr is not None:
        if not isinstance(sr, (int, np.integer)) or isinstance(sr, bool) or int(sr) <= 0:
            raise ConfigError(f"sample rate must be a positive integer, got {sr!r}")
        sr = int(sr)

    trunc = _wav_truncation(p)
    if trunc is not None:
        raise InputError(f"truncated audio: the header says {trunc[0]:.2f} s but the file holds only "
                         f"{trunc[1]:.2f} s", p)
    mp3 = _looks_like_mp3(p)
    with _capture_c_stderr(mp3) as captured:
        f = _sf_open(p)
        if f is not None:
            with f:
                info = AudioInfo(f.samplerate, f.channels, f.frames, "soundfile")
                if info.frames == 0:
                    raise InputError("the file holds no decodable audio samples (empty or truncated)", p)
                y = _collect(_sf_blocks(f, p), info, sr, mono, p)
    if f is not None and mp3:
        errs = [ln for ln in captured["text"].splitlines() if "error" in ln.lower()]
        if errs:
            reason = errs[-1].split("error:")[-1].strip() if "error:" in errs[-1] else errs[-1]
            raise InputError(f"corrupt mp3 audio (decoder: {_short(reason)})", p)
    if f is None:
        info = _ffmpeg_probe(p)
        y = _collect(_ffmpeg_blocks(p, info), info, sr, mono, p)
    out_sr = sr or info.samplerate
    n = y.shape[-1]
    if n == 0:
        raise InputError("no audio could be decoded (0 samples)", p)
    if not np.isfinite(y).all():
        raise InputError("the audio contains NaN or infinite samples", p)
    np.clip(y, -1.0, 1.0, out=y)
    check_audio(y, out_sr, p, min_duration=min_duration, require_sound=require_sound)
    return y, out_sr


def check_audio(y: np.ndarray, sr: int, path: str | os.PathLike | None = None, min_duration: float = 0.0,
                require_sound: bool = False) -> None:
    """Raise :class:`InputError` if ``y`` (N,) or (C, N) at ``sr`` Hz is too short or silent."""
    dur = y.shape[-1] / sr
    if min_duration and dur < min_duration:
        raise InputError(f"audio is too short: {dur:.2f} s (at least {min_duration:g} s needed)", path)
    if require_sound:
        peak = float(np.abs(y).max()) if y.size else 0.0
        if peak <= SILENCE_PEAK:
            raise InputError(f"audio is silent (peak amplitude {peak:.1e})", path)


def _collect(blocks: Iterator[np.ndarray], info: AudioInfo, sr: int | None, mono: bool, path: Path) -> np.ndarray:
    """Mix, resample and gather blocks into one preallocated float32 array (grown if needed)."""
    import soxr

    in_sr = info.samplerate
    out_ch = 1 if (mono or info.channels in (0, 1)) else info.channels
    ratio = 1.0 if sr is None else sr / in_sr
    stream = None if sr is None or sr == in_sr else soxr.ResampleStream(in_sr, sr, out_ch, dtype="float32",
                                                                        quality="HQ")
    cap = int(np.ceil(info.frames * ratio)) + 16 if info.frames else int(60 * (sr or in_sr))
    buf = np.empty((cap, out_ch), dtype=np.float32)
    n = 0

    def put(chunk: np.ndarray) -> None:
        nonlocal buf, n
        if chunk.ndim == 1:
            chunk = chunk[:, None]
        m = chunk.shape[0]
        if n + m > buf.shape[0]:
            grow = max(n + m, int(buf.shape[0] * 1.5))
            new = np.empty((grow, out_ch), dtype=np.float32)
            new[:n] = buf[:n]
            buf = new
        buf[n:n + m] = chunk
        n += m

    for block in blocks:
        if out_ch == 1 and block.shape[1] > 1:
            block = block.mean(axis=1, dtype=np.float32)[:, None]
        block = np.ascontiguousarray(block, dtype=np.float32)
        if stream is not None:
            block = stream.resample_chunk(block if out_ch > 1 else block[:, 0])
        put(block)
    if stream is not None:
        put(stream.resample_chunk(np.zeros((0, out_ch) if out_ch > 1 else 0, dtype=np.float32), last=True))
    y = buf[:n]
    if n < buf.shape[0] // 2:  # do not keep a much larger buffer alive
        y = y.copy()
    return np.ascontiguousarray(y[:, 0]) if out_ch == 1 else np.ascontiguousarray(y.T)
