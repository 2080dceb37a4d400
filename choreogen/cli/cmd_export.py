"""``choreogen export MOTION --format bvh|glb|fbx|npz|aistpp --out FILE``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

_BY_SUFFIX = {".bvh": "bvh", ".glb": "glb", ".fbx": "fbx", ".npz": "npz", ".pkl": "aistpp"}


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        motion: Path = typer.Argument(..., help="Any motion file choreogen reads (contract npz, Tang2018 npz, "
                                                "AIST++ pkl, FineDance npy, BVH)."),
        fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                          help="bvh | glb | fbx | npz | aistpp (default: from the --out suffix)."),
        out: Optional[Path] = typer.Option(None, "--out", "-o",
                                           help="Output file (default: <motion name>.<bvh|glb|fbx|npz|pkl> here)."),
        scale: float = typer.Option(1.0, help="BVH units per metre (1 = metres, 100 = centimetres)."),
        keep_fps: bool = typer.Option(False, "--keep-fps",
                                      help="AIST++: keep the motion's frame rate instead of resampling to 60 fps."),
        canonical: bool = typer.Option(True, "--canonical/--no-canonical",
                                       help="Put 3D motions on the floor (y = 0) starting at the origin first."),
    ) -> None:
        """Export a motion to BVH (Blender/Maya/MotionBuilder), glTF binary (Unity/three.js/Blender), FBX (via Blender), an AIST++ pkl or the contract npz."""
        from ..errors import ConfigError
        from ..io.export import FORMATS, export_motion
        from ..io import load_motion

        if fmt is None:
            if out is None or out.suffix.lower() not in _BY_SUFFIX:
                raise ConfigError("say which format to write: --format bvh|glb|fbx|npz|aistpp")
            fmt = _BY_SUFFIX[out.suffix.lower()]
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise ConfigError(f"unknown export format '{fmt}' (choose from {', '.join(FORMATS)})")
        if out is None:
            out = Path(motion.stem + FORMATS[fmt])
        m = load_motion(motion)
        path = export_motion(m, fmt, out, scale=scale, keep_fps=keep_fps, canonical=canonical)
        note = ""
        if fmt == "aistpp" and not keep_fps and abs(m.fps - 60.0) > 1e-9:
            note = ", resampled to 60 fps (AIST++'s rate; --keep-fps to keep it)"
        typer.echo(f"wrote {path} ({fmt}, {m.num_frames} frames at {m.fps:g} fps = {m.duration:.2f} s{note})")
