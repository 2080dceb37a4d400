"""``choreogen render MOTION [--music SONG] --out FILE.mp4``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("render")
    def render(
        motion: Path = typer.Argument(..., help="Any motion file choreogen reads (contract npz, Tang2018 npz, "
                                                "AIST++ pkl, FineDance npy, BVH, keypoints)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output .mp4 (default: <motion name>.mp4 here)."),
        music: Optional[Path] = typer.Option(None, "--music", "-m",
                                             help="Song to mux (default: the motion's own music, if it names one)."),
        no_music: bool = typer.Option(False, "--no-music", help="Render without sound."),
        width: int = typer.Option(640, help="Frame width in pixels (even)."),
        height: int = typer.Option(480, help="Frame height in pixels (even)."),
        fps: float = typer.Option(30.0, help="Video frame rate (the motion is resampled to it)."),
        preset: str = typer.Option("superfast", help="libx264 preset: ultrafast, superfast, veryfast, faster, ..."),
        crf: int = typer.Option(20, help="libx264 quality (lower = better, larger)."),
        yaw: Optional[float] = typer.Option(None, help="Camera yaw in degrees (default: from the dancer's front)."),
        pitch: float = typer.Option(12.0, help="Camera looks down by this many degrees."),
        progress: bool = typer.Option(True, "--progress/--quiet", help="Show a progress bar."),
        view: Optional[int] = typer.Option(None, "--view", help="Camera view of a multi-camera keypoint pickle "
                                                               "(AIST++ keypoints2d has 9: 0-8; default 0)."),
    ) -> None:
        """Render a motion to an H.264 mp4 (3D figure, floor grid, follow camera) with its music in sync."""
        from ..errors import ConfigError
        from ..io import load_motion
        from ..render import render_motion, resolve_music

        if preset not in ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"):
            raise ConfigError(f"unknown --preset '{preset}'")
        if music is not None and no_music:
            raise ConfigError("--music and --no-music contradict each other")
        from .cmd_repair import note_view

        m = load_motion(motion, view=view)
        note_view(m, view)
        song, offset = music, 0.0
        if song is None and not no_music:
            song = resolve_music(m)
            offset = float(m.meta.get("music_offset_s", 0.0))  # a dance of an excerpt starts there
            if song is not None and not song.is_file():
                typer.echo(f"warning: {motion}: its music {m.music} is missing (looked for {song}); "
                           "rendering without sound (give the song with --music)", err=True)
                song = None
        out = out if out is not None else Path(motion.stem + ".mp4")
        path = render_motion(m, out, song, width=width, height=height, fps=fps, preset=preset, crf=crf,
                             yaw=yaw, pitch=pitch, progress=progress, music_offset=offset if song is not None else 0.0)
        typer.echo(f"wrote {path} ({m.duration:.2f} s at {fps:g} fps, {width}x{height}, "
                   f"music: {song if song is not None else 'none'})")
