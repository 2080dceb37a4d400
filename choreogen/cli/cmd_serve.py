"""``choreogen serve``: the local web app (page + HTTP API, see docs/WEB.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on (127.0.0.1 = this machine only)."),
        port: int = typer.Option(8000, help="TCP port."),
        results: Path = typer.Option(Path("out/web"), help="Folder for the jobs' results (pruned by size and age)."),
        workers: int = typer.Option(1, min=1, help="Dances generated at the same time."),
        queue: int = typer.Option(4, min=0, help="Jobs that may wait; more get 503 busy."),
        max_gb: float = typer.Option(2.0, help="Results folder size limit in GB (oldest jobs removed first)."),
        max_age_h: float = typer.Option(24.0, help="Results are removed after this many hours."),
        model: Optional[str] = typer.Option(None, help="Bundled model name or checkpoint path (default: the bundled one)."),
    ) -> None:
        """Start the web app: drop a song, watch the dance in 3D synced to the music, edit, download."""
        import uvicorn

        from ..fileio import check_output_dir
        from ..web.app import create_app

        check_output_dir(results)
        web = create_app(results, workers=workers, max_queued=queue, model=model,
                         max_bytes=int(max_gb * 1e9), max_age_s=max_age_h * 3600)
        typer.echo(f"choreogen: open http://{host}:{port}/  (API description: /docs, /openapi.json)")
        uvicorn.run(web, host=host, port=port, log_level="warning")
