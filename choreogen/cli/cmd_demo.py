"""``choreogen demo``: the bundled default model dancing to the bundled example song."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("out/demo"), "--out", "-o", help="Output folder."),
        seed: int = typer.Option(0, help="Random seed."),
        genre: str = typer.Option("chacha", help="Genre of the default model (waltz, rumba, chacha, tango)."),
    ) -> None:
        """Generate a dance (npz, BVH, mp4 with music) for the bundled example song."""
        import time

        from rich.console import Console

        from ..audio import example_song
        from ..io.bvh import save_bvh
        from ..fileio import staged_dir
        from ..tasks.dance3d.pipeline import generate_dance
        from ..io import save_motion
        from ..render import render_motion

        con = Console(stderr=True)
        song = example_song()
        t0 = time.perf_counter()
        res = generate_dance(song, genre=genre, seed=seed)
        t_gen = time.perf_counter() - t0
        m = res.motion
        with staged_dir(out) as tmp:
            save_motion(m, tmp / "example.npz")
            save_bvh(m, tmp / "example.bvh")
            t1 = time.perf_counter()
            render_motion(m, tmp / "example.mp4", music=song)
            t_render = time.perf_counter() - t1
        con.print(f"[bold]demo[/]: {m.duration:.1f} s {m.genre or ''} dance for {song.name} generated in {t_gen:.1f} s "
                  f"(x{m.duration / t_gen:.1f} real time), rendered in {t_render:.1f} s")
        for f in ("example.npz", "example.bvh", "example.mp4"):
            con.print(f"  {out / f}")
