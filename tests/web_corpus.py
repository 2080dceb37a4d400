"""The bad-upload corpus for the web app: (name, make(tmp) -> (bytes, query, headers), expected status,
expected text in the answer). Used by tests/test_web_api.py and listed in docs/WEB.md."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import soundfile as sf

from choreogen.audio import example_song


def _wav(y: np.ndarray, sr: int = 22050, subtype: str = "PCM_16") -> bytes:
    b = io.BytesIO()
    sf.write(b, y, sr, format="WAV", subtype=subtype)
    return b.getvalue()


def _tone(seconds: float, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _example() -> bytes:
    return example_song().read_bytes()


def _mp3_head() -> bytes:
    # a real MPEG audio frame header followed by garbage: looks like mp3, cannot be decoded
    return b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(300)


def _zip() -> bytes:
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w") as z:
        z.writestr("a.txt", "hello")
    return b.getvalue()


def _truncated_wav() -> bytes:
    return _wav(_tone(3.0))[:2000]


CASES = [
    ("empty body", lambda: (b"", {"filename": "song.wav"}, {}), 400, "empty upload"),
    ("text file named .wav", lambda: (b"hello, I am text\n" * 20, {"filename": "song.wav"}, {}), 400, "not a readable audio file"),
    ("truncated mp3", lambda: (_mp3_head(), {"filename": "song.mp3"}, {}), 400, "error: song.mp3:"),
    ("truncated wav (2 kB of 3 s)", lambda: (_truncated_wav(), {"filename": "cut.wav"}, {}), 400, "error: cut.wav:"),
    ("over the size limit", lambda: (bytes(300_000), {"filename": "big.wav"}, {}), 413, "file too large"),
    ("longer than the duration limit", lambda: (_example(), {"filename": "long.ogg"}, {}), 400, "song too long"),
    ("zero-length audio (valid wav, 0 samples)", lambda: (_wav(np.zeros(0, np.float32)), {"filename": "zero.wav"}, {}),
     400, "error: zero.wav:"),
    ("too short (0.5 s)", lambda: (_wav(_tone(0.5)), {"filename": "short.wav"}, {}), 400, "error: short.wav:"),
    ("silent audio (3 s of zeros)", lambda: (_wav(np.zeros(3 * 22050, np.float32)), {"filename": "silent.wav"}, {}),
     400, "silent"),
    ("path-traversal filename", lambda: (b"junk" * 10, {"filename": "../../../etc/passwd"}, {}), 400, "error: passwd:"),
    ("Windows path filename", lambda: (b"junk" * 10, {"filename": "C:\\Users\\x\\evil.wav"}, {}), 400, "error: evil.wav:"),
    ("PNG named .mp3", lambda: (b"\x89PNG\r\n\x1a\n" + bytes(200), {"filename": "pic.mp3"}, {}), 400, "error: pic.mp3:"),
    ("zip archive named .ogg", lambda: (_zip(), {"filename": "a.ogg"}, {}), 400, "error: a.ogg:"),
    ("random bytes", lambda: (np.random.default_rng(0).bytes(5000), {"filename": "noise.bin"}, {}), 400, "error: noise.bin:"),
    ("NaN samples (float wav)", lambda: (_wav(np.full(int(1.5 * 22050), np.nan, np.float32), subtype="FLOAT"), {"filename": "nan.wav"}, {}),
     400, "error: nan.wav:"),
    ("seconds = 0", lambda: (_wav(_tone(3.0)), {"filename": "ok.wav", "seconds": "0"}, {}), 422, "seconds"),
    ("seconds over the dance limit", lambda: (_wav(_tone(3.0)), {"filename": "ok.wav", "seconds": "500"}, {}), 400, "at most"),
    ("unknown genre", lambda: (_wav(_tone(3.0)), {"filename": "ok.wav", "genre": "polka"}, {}), 400, "unknown genre"),
    ("valid wav sent as image/png (content is sniffed, the type is not trusted)",
     lambda: (_wav(_tone(3.0)), {"filename": "tone.wav", "seconds": "2", "steps": "2"}, {"content-type": "image/png"}), 202, "queued"),
]
