"""``choreogen info MOTION``: what a motion file holds."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import typer


def register(app: typer.Typer) -> None:
    @app.command("info")
    def info(motion: Path = typer.Argument(..., help="Any motion file choreogen can read.")) -> None:
        """Print frames, fps, duration, skeleton and extent of a motion file."""
        from ..io import load_motion

        m = load_motion(motion)
        j = m.positions()
        typer.echo(f"{motion}: {m.num_frames} frames at {m.fps:g} fps = {m.duration:.2f} s, "
                   f"skeleton {m.skeleton} ({j.shape[1]} joints, {j.shape[2]}D), "
                   f"SMPL params: {'yes' if m.has_smpl else 'no'}, genre: {m.genre or '-'}, music: {m.music or '-'}")
        if j.shape[2] == 3:
            lo, hi = np.nanmin(j, axis=(0, 1)), np.nanmax(j, axis=(0, 1))
            typer.echo(f"extent x [{lo[0]:.2f}, {hi[0]:.2f}] y [{lo[1]:.2f}, {hi[1]:.2f}] z [{lo[2]:.2f}, {hi[2]:.2f}] m")
