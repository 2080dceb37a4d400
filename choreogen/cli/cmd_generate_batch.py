"""``choreogen generate-batch SONG_OR_FOLDER...``: one model, many songs (npz + BVH per song)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("generate-batch")
    def generate_batch(
        inputs: List[Path] = typer.Argument(..., help="Songs and/or folders of songs (wav, mp3, ogg, flac, m4a)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder: <song>.npz and <song>.bvh per song."),
        genre: Optional[str] = typer.Option(None, help="Genre label for every song."),
        seconds: Optional[float] = typer.Option(None, help="Dance this many seconds of each song (default: whole songs)."),
        seed: int = typer.Option(0, help="Seed of every song (a song's dance equals `generate SONG --seed` for it)."),
        steps: Optional[int] = typer.Option(None, help="DDIM steps (default: the model's)."),
        model: str = typer.Option("default", "--model", help="'default', a bundled name or a checkpoint path."),
        devices: int = typer.Option(1, help="Processes sharing the songs (Lightning predict: gloo on CPUs, one GPU each with --device cuda)."),
        device: str = typer.Option("cpu", help="cpu, cuda, cuda:N or mps (several processes: cpu or cuda)."),
        no_bvh: bool = typer.Option(False, "--no-bvh", help="Skip the BVH files."),
    ) -> None:
        """Generate a dance for every song with one loaded model; resumable (done songs are skipped),
        a failing song is reported and the others go on (exit 2 if any failed)."""
        from rich.console import Console

        from ..fileio import check_output_dir
        from ..tasks.dance3d.batch import BatchOptions, collect_songs, generate_batch as run

        con = Console(stderr=True)
        songs = collect_songs(inputs)
        check_output_dir(out)
        from ..device import check_device

        device = check_device(device)
        opt = BatchOptions(device=device, checkpoint=None if model == "default" else model, genre=genre, seconds=seconds,
                           seed=seed, steps=steps, bvh=not no_bvh)

        def progress(i, n):
            con.print(f"[{i}/{n}] done", markup=False, highlight=False)

        outcomes = run(songs, out, opt, devices=devices, progress=progress)
        failed = [o for o in outcomes if o["status"] == "failed"]
        for o in failed:
            con.print(f"error: {o['error']}", markup=False, highlight=False, soft_wrap=True)
        n_ok = sum(o["status"] == "ok" for o in outcomes)
        n_skip = sum(o["status"] == "skipped" for o in outcomes)
        con.print(f"{n_ok} generated, {n_skip} already done, {len(failed)} failed -> {out}/", markup=False,
                  highlight=False)
        if failed:
            raise typer.Exit(2)
