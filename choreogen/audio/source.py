"""A music source: an audio file path or an in-memory ``(y, sr)`` pair, decoded on demand."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

from ..errors import ConfigError, InputError
from .cache import array_digest, file_digest
from .decode import check_audio, load_audio

Source = Union[str, os.PathLike, tuple]  # path, or (y (N,) | (C, N) float, sr Hz)

DEFAULT_MIN_DURATION = 0.5  # seconds; shorter music is refused by features and beat analysis


class MusicSource:
    """Wraps a path or ``(y, sr)``; decodes/resamples lazily and remembers its content digest."""

    def __init__(self, source: Source, min_duration: float = DEFAULT_MIN_DURATION, require_sound: bool = False):
        self.min_duration = min_duration
        self.require_sound = require_sound
        self._digest: str | None = None
        self._decoded: dict[int, np.ndarray] = {}
        if isinstance(source, tuple):
            if len(source) != 2:
                raise ConfigError("an in-memory music source must be a (samples, sample_rate) pair")
            y, sr = source
            y = np.asarray(y)
            if y.ndim == 2:
                # (C, N) as librosa; accept (N, C) with few channels too
                y = y.mean(axis=0) if y.shape[0] <= y.shape[1] else y.mean(axis=1)
            if y.ndim != 1 or not np.issubdtype(y.dtype, np.number):
                raise InputError(f"in-memory audio must be a 1-D or 2-D numeric array, got shape {y.shape}")
            if not isinstance(sr, (int, np.integer)) or int(sr) <= 0:
                raise ConfigError(f"sample rate must be a positive integer, got {sr!r}")
            y = np.ascontiguousarray(y, dtype=np.float32)
            if not np.isfinite(y).all():
                raise InputError("in-memory audio contains NaN or infinite samples")
            self.path: Path | None = None
            self.name = "<array>"
            self._y, self._sr = y, int(sr)
            check_audio(y, self._sr, None, min_duration=min_duration, require_sound=require_sound)
        else:
            self.path = Path(source)
            self.name = str(source)
            self._y, self._sr = None, None

    @property
    def stem(self) -> str:
        return self.path.stem if self.path is not None else ""

    def digest(self) -> str:
        if self._digest is None:
            if self.path is not None:
                from ..fileio import require_file

                require_file(self.path, "audio file")
                self._digest = file_digest(self.path)
            else:
                self._digest = array_digest(self._y, self._sr)
        return self._digest

    def audio(self, sr: int) -> np.ndarray:
        """Mono float32 samples at ``sr`` Hz (decoded once per rate)."""
        sr = int(sr)
        if sr in self._decoded:
            return self._decoded[sr]
        if self.path is not None:
            y, _ = load_audio(self.path, sr=sr, min_duration=self.min_duration, require_sound=self.require_sound)
        else:
            import soxr

            y = self._y if sr == self._sr else soxr.resample(self._y, self._sr, sr, quality="HQ").astype(np.float32)
        self._decoded[sr] = y
        return y

    def duration(self) -> float:
        """Duration in seconds (decodes at the native or an already decoded rate)."""
        if self._y is not None:
            return len(self._y) / self._sr
        if self._decoded:
            sr, y = next(iter(self._decoded.items()))
            return len(y) / sr
        from .decode import audio_info

        info = audio_info(self.path)
        if info.duration is not None:
            return info.duration
        y = self.audio(22050)
        return len(y) / 22050
