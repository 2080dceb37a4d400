"""``choreogen video SONG --image PHOTO --out dance.mp4``: the person in a photo dances to a song.

Default driver: a 3D dance generated for the song by the bundled model, projected and fitted to the
photo's body; ``--motion`` (any motion file) or ``--keypoints`` (a 2D keypoint file, e.g. from
``choreogen keypoints VIDEO``) drive it instead. Needs the optional extra ``choreogen[video]``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("video")
    def video(
        song: Path = typer.Argument(..., help="Music file (any format ffmpeg decodes); its audio is muxed in."),
        image: Path = typer.Option(..., "--image", "-i", help="Photo of one person (full or upper body)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 (H.264 + AAC)."),
        seconds: Optional[float] = typer.Option(None, help="Only the first S seconds (default: the whole song)."),
        seed: int = typer.Option(0, help="Random seed of the generated dance."),
        size: int = typer.Option(256, help="Frame size in pixels: 256 or 512 (square)."),
        fps: float = typer.Option(30.0, help="Frame rate of the video."),
        genre: Optional[str] = typer.Option(None, help="Genre of the generated dance (see `choreogen models`)."),
        prompt: Optional[str] = typer.Option(None, help="Free English description of the dance (instead of --genre)."),
        motion: Optional[Path] = typer.Option(None, help="Drive the photo with this dance (npz/bvh/pkl/...)."),
        keypoints: Optional[Path] = typer.Option(None, help="Drive the photo with a 2D keypoint file (coco17/mediapipe33)."),
        model: Optional[str] = typer.Option(None, "--model", help="Dance model for generation (default: bundled dance3d)."),
    ) -> None:
        """Animate the person in --image to SONG (geometric animator; see docs/VIDEO.md)."""
        from ..api import PoseVideoPipeline
        from ..errors import ConfigError, InputError
        from ..io import load_motion

        if motion is not None and keypoints is not None:
            raise ConfigError("give --motion or --keypoints, not both")
        drv = None
        if motion is not None:
            drv = load_motion(motion)
        if keypoints is not None:
            drv = load_motion(keypoints)
            if drv.positions().shape[-1] != 2:
                raise InputError("--keypoints needs a 2D keypoint file (use --motion for 3D dances)", keypoints)
        pipe = PoseVideoPipeline.from_pretrained(model)
        res = pipe(song, image, out, motion=drv, seconds=seconds, seed=seed, size=size, fps=fps, genre=genre,
                   prompt=prompt, progress=True)
        t = res.timings
        typer.echo(f"{out}: {len(res.driving.keypoints)} frames {size}x{size} at {fps:g} fps in {t['total']:.1f} s "
                   f"(photo {t['reference']:.1f} s, dance {t['dance']:.1f} s, video {t['animate_encode']:.1f} s)")
