"""Audio room: decoding, frame-aligned music features, beats/downbeats/tempo, music encoders.

Public API::

    load_audio(path, sr=None, mono=True, min_duration=0.0, require_sound=False) -> (y, sr)
    music_features(source, kind="baseline35", fps=30.0, n_frames=None, cache=True) -> (T, D) float32
    feature_dim(kind) -> int
    beat_times(source) / downbeat_times(source) -> seconds;  tempo(source) -> BPM
    analyze_beats(source) -> BeatAnalysis(tempo, beats, downbeats, meter, method, duration)
    MusicEncoder, register_encoder(name, factory), get_encoder(name, weights=None)
    example_song() -> Path

``source`` is an audio file path or an in-memory ``(y, sr)`` pair. See docs/AUDIO.md.
"""
from __future__ import annotations

from pathlib import Path

from .beats import BeatAnalysis, analyze_beats, annotation_offset, beat_times, downbeat_times, tempo
from .cache import cache_stats, default_cache_dir
from .decode import audio_info, load_audio
from .encoders import (MusicEncoder, SafetensorsEncoder, TorchScriptEncoder, available_encoders, get_encoder,
                       register_encoder)
from .features import KINDS, feature_dim, music_features

_ASSETS = Path(__file__).resolve().parents[1] / "assets" / "music"


def example_song() -> Path:
    """Path of the bundled 30 s example song (Sectoid, "Metal madness", MIT; see its ATTRIBUTION.md)."""
    p = _ASSETS / "example.ogg"
    if not p.is_file():  # pragma: no cover - broken installation
        from ..errors import ConfigError

        raise ConfigError("the bundled example song is missing from the installation", p)
    return p


def example_song_beats() -> dict:
    """The chart beat/downbeat times of the example song (seconds, see ATTRIBUTION.md)."""
    import json

    return json.loads((_ASSETS / "example_beats.json").read_text(encoding="utf-8"))


__all__ = ["BeatAnalysis", "KINDS", "MusicEncoder", "SafetensorsEncoder", "TorchScriptEncoder", "analyze_beats",
           "annotation_offset", "audio_info", "available_encoders", "beat_times", "cache_stats",
           "default_cache_dir", "downbeat_times", "example_song", "example_song_beats", "feature_dim",
           "get_encoder", "load_audio", "music_features", "register_encoder", "tempo"]
