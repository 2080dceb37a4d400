"""``choreogen data ...``: dataset preparation and inspection."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    data = typer.Typer(help="Datasets: turn a dataset into training windows, inspect prepared data.",
                       no_args_is_help=True)

    @data.command("prepare")
    def prepare(
        root: Path = typer.Argument(..., help="Dataset folder."),
        fmt: str = typer.Option(..., "--format", "-f", help="tang2018 | aistpp | finedance | folder"),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder (motion.npy, music.npy, windows.npy, manifest.json)."),
        window: float = typer.Option(5.0, help="Window length in seconds."),
        stride: float = typer.Option(0.5, help="Stride between windows in seconds."),
        fps: float = typer.Option(30.0, help="Frame rate of the prepared sequences."),
        features: str = typer.Option("baseline35", help="Music feature kind (choreogen.audio.music_features)."),
        jobs: int = typer.Option(1, help="Worker processes."),
        force: bool = typer.Option(False, "--force", help="Rebuild even if the output is up to date."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        """Turn a dataset into memory-mapped training windows with aligned music features."""
        from ..data.prepare import prepare_dataset

        def log(msg: str) -> None:
            typer.echo(f"warning: {msg}", err=True)

        m = prepare_dataset(root, fmt, out, window=window, stride=stride, fps=fps, features=features,
                            jobs=jobs, progress=not quiet, force=force, log=log)
        t = m["totals"]
        if m["status"] == "up to date":
            typer.echo(f"{out}: up to date ({t['sequences']} sequences, {t['windows']} windows)")
            return
        typer.echo(
            f"{out}: {t['sequences']} sequences, {t['frames']} frames at {m['fps']:g} fps, "
            f"{t['windows']} windows of {m['window_frames']} frames (train {t['train_windows']}, "
            f"val {t['val_windows']}" + (f", test {t['test_windows']}" if t["test_windows"] else "")
            + f"), motion {m['motion_dim']}-D, music {m['music_dim']}-D, "
            f"{t['skipped']} skipped, {m['build_seconds']:.1f} s")

    @data.command("tempo")
    def tempo(
        src: Path = typer.Argument(..., help="Prepared dataset folder (choreogen data prepare)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output prepared folder (originals + NAME@r copies)."),
        factors: str = typer.Option("0.8,0.9,1.1,1.25", help="Playback rates of the training sequences, comma-separated."),
        features: Optional[str] = typer.Option(None, help="Music feature kind of the output (default: the source's)."),
        normalise: Optional[Path] = typer.Option(None, "--normalise", help="JSON of reference tempi per genre "
                                                 "(benchmarks/tempo_reference.py): bring every sequence to its genre's "
                                                 "reference tempo first (training data of a tempo-normalised model)."),
    ) -> None:
        """Tempo augmentation: every training dance also at other tempi (music time-stretched with its
        pitch kept, motion played correspondingly faster or slower)."""
        from ..errors import ConfigError
        from ..tasks.dance3d.tempo import augment_prepared

        try:
            rates = [float(x) for x in factors.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(f"--factors must be numbers separated by commas, got {factors!r}") from None
        if not rates or not all(0.25 <= r <= 4.0 for r in rates):
            raise ConfigError(f"--factors must be playback rates between 0.25 and 4, got {factors!r}")
        if not (Path(src) / "manifest.json").exists():
            raise ConfigError(f"{src} is not a prepared dataset (no manifest.json); run `choreogen data prepare` first")
        reference = None
        if normalise is not None:
            import json

            try:
                ref = json.loads(Path(normalise).read_text(encoding="utf-8"))
                reference = {str(k): float(v) for k, v in ref.get("reference", ref).items()}
            except (OSError, ValueError, AttributeError, TypeError) as e:
                raise ConfigError(f"{normalise}: not a JSON of reference tempi ({e.__class__.__name__})") from None
            if "*" not in reference or not all(v > 0 for v in reference.values()):
                raise ConfigError(f"{normalise}: reference tempi need a '*' entry and positive BPM values")
        m = augment_prepared(src, out, rates, features, reference=reference)
        t = m["totals"]
        typer.echo(f"{out}: {t['sequences']} sequences, {t['frames']} frames, {t['train_windows']} train / "
                   f"{t['val_windows']} val windows, music {m['music_dim']}-D ({m['features']}), {m['build_seconds']} s")

    @data.command("m2penc")
    def m2penc(
        tang2018: Path = typer.Argument(..., help="Tang2018 folder (DANCE_*.npz + .mp3): real captures + their music."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder: train.npz, val.npz."),
        music: Optional[Path] = typer.Option(None, help="Extra songs for the teacher: MUSIC/*/*/song.ogg."),
        rates: str = typer.Option("0.87,1.0,1.15", help="Playback rates of the real train captures, comma-separated."),
        model: Optional[str] = typer.Option(None, help="Teacher 3D generator (default: the bundled default, dance3d-latent; the shipped M2PEnc used dance3d)."),
        max_songs: Optional[int] = typer.Option(None, help="Only the first N songs of each split (quick runs)."),
    ) -> None:
        """M2PEnc's synthetic pose set (SDGPip): the teacher's dances + real captures as canonical 2D
        poses with their music features (docs/VIDEO.md)."""
        from ..api import dance3d_dancer
        from ..errors import ConfigError
        from ..tasks.posevideo import sdgpip

        try:
            rr = [float(x) for x in rates.split(",") if x.strip()]
        except ValueError:
            raise ConfigError(f"--rates must be numbers separated by commas, got {rates!r}") from None
        if not rr or not all(0.5 <= r <= 2.0 for r in rr):
            raise ConfigError(f"--rates must be playback rates between 0.5 and 2, got {rates!r}")
        teach = dance3d_dancer(model)
        summ = sdgpip.build(tang2018, out, lambda song, genre=None: teach(song, genre=genre), music_root=music,
                            rates=rr, max_songs=max_songs, log=lambda s: typer.echo(s, err=True))
        typer.echo(f"{out}: train {summ['train']['sequences']} sequences ({summ['train']['minutes']} min), "
                   f"val {summ['val']['sequences']} ({summ['val']['minutes']} min)")

    @data.command("info")
    def info(path: Path = typer.Argument(..., help="Prepared dataset folder.")) -> None:
        """Summarise a prepared dataset folder (manifest)."""
        from ..data.windows import load_manifest

        m = load_manifest(path)
        t = m["totals"]
        typer.echo(f"{path}: {m['dataset']} from {m['root']}")
        typer.echo(f"  {t['sequences']} sequences, {t['frames']} frames at {m['fps']:g} fps "
                   f"({t['frames'] / m['fps'] / 60:.1f} min), skeleton {m['skeleton']}")
        typer.echo(f"  windows: {t['windows']} x {m['window_frames']} frames, stride {m['stride_frames']} "
                   f"(train {t['train_windows']}, val {t['val_windows']}, test {t['test_windows']})")
        typer.echo(f"  motion {m['motion_dim']}-D, music {m['features']} {m['music_dim']}-D, "
                   f"genres: {', '.join(m['genres']) or '-'}")
        for s in m["skipped"]:
            typer.echo(f"  skipped {s['name']}: {s['reason']}")

    app.add_typer(data, name="data")
