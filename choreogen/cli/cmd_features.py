"""``choreogen features SONG --out F.npy``: frame-aligned music features (and beats) of a song."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("features")
    def features(
        song: Path = typer.Argument(..., help="Audio file: wav, mp3, ogg, flac, m4a, ..."),
        out: Path = typer.Option(..., "--out", "-o", help="Output .npy: (T, D) float32, row k at time k / fps."),
        kind: str = typer.Option("baseline35", "--kind", "-k",
                                 help="baseline35 (35-D EDGE), mel (80-D log-mel), baseline35+mel, or an "
                                      "encoder name (torchscript, safetensors, wav2clip, clap, jukebox, mert) "
                                      "used with --weights."),
        fps: float = typer.Option(30.0, "--fps", help="Frame rate of the features (the motion's fps)."),
        weights: Optional[Path] = typer.Option(None, "--weights", help="User weights for a learned encoder."),
        beats_out: Optional[Path] = typer.Option(None, "--beats-out",
                                                 help="Also write tempo, beat and downbeat times (s) as JSON."),
        no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the feature cache."),
    ) -> None:
        """Compute music features aligned to a motion frame rate; print shape, tempo and beat count."""
        import json

        import numpy as np

        from ..audio import KINDS, analyze_beats, get_encoder, music_features
        from ..audio.features import _check_fps
        from ..audio.source import MusicSource
        from ..errors import ConfigError
        from ..fileio import atomic_path

        fps = _check_fps(fps)
        if out.suffix != ".npy":
            raise ConfigError("the output must be a .npy file", out)
        src = MusicSource(song)
        cache = not no_cache
        if kind in KINDS and weights is None:
            feats = music_features(src, kind=kind, fps=fps, cache=cache)
        else:
            enc = get_encoder(kind, weights)
            y = src.audio(22050)
            n = max(1, int(round(len(y) / 22050 * fps)))
            feats = enc.encode(y, 22050, fps, n)
        info = analyze_beats(src, cache=cache)
        with atomic_path(out) as tmp:
            np.save(tmp, np.ascontiguousarray(feats, dtype=np.float32))
        if beats_out is not None:
            with atomic_path(beats_out) as tmp:
                tmp.write_text(json.dumps({"song": str(song), **info.to_dict()}, indent=1), encoding="utf-8")
        typer.echo(f"{out}: {feats.shape[0]} x {feats.shape[1]} float32 ({kind}, {fps:g} fps, "
                   f"{feats.shape[0] / fps:.2f} s); tempo {info.tempo:.1f} BPM, {len(info.beats)} beats, "
                   f"{len(info.downbeats)} downbeats (meter {info.meter}/4)"
                   + (f"; beats -> {beats_out}" if beats_out else ""))
