"""``choreogen repair KEYPOINTS --out FILE``: fill missing joints and remove jitter."""
from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("repair")
    def repair(
        keypoints: Path = typer.Argument(..., help="Keypoint/motion file or folder: OpenPose JSON folder, COCO/AIST++ "
                                                   "pickle, MediaPipe CSV/JSON, or a choreogen .npz."),
        out: Path = typer.Option(..., "--out", "-o", help="Output .npz (joints, confidence, filled flags)."),
        checkpoint: Path = typer.Option(None, "--checkpoint", help="Repair model (.safetensors); default: the "
                                                                   "shipped model for the file's joint layout."),
        min_conf: float = typer.Option(0.3, "--min-conf", help="Joints with a lower confidence count as missing."),
        tolerance: float = typer.Option(0.03, "--tolerance", help="How far a present joint may move, in body heights."),
        view: int = typer.Option(None, "--view", help="Camera view of a multi-camera keypoint pickle "
                                                     "(AIST++ keypoints2d has 9: 0-8; default 0)."),
    ) -> None:
        """Fill missing joints and remove jitter with the DanceFusion repair VAE; flags filled joints."""
        from ..errors import ConfigError
        from ..tasks.skeleton.repair import repair_file

        if not 0.0 <= min_conf <= 1.0:
            raise ConfigError(f"--min-conf must be in [0, 1], got {min_conf}")
        if tolerance < 0:
            raise ConfigError(f"--tolerance must be >= 0, got {tolerance}")
        if out.suffix.lower() != ".npz":
            raise ConfigError("the output must be a .npz file", out)
        m, p = repair_file(keypoints, out, checkpoint=checkpoint, min_conf=min_conf, tolerance=tolerance, view=view)
        note_view(m, view)
        typer.echo(f"{p}: {m.num_frames} frames, {m.skeleton}; {m.meta['repair']['summary']}")


def note_view(m, view) -> None:
    """Say which camera of a multi-camera keypoint file was used (stderr)."""
    views = m.meta.get("views")
    if views and views > 1:
        how = "" if view is not None else " (the default; choose with --view N)"
        typer.echo(f"note: camera view {m.meta.get('view', 0)} of {views} (0-{views - 1}){how}", err=True)
