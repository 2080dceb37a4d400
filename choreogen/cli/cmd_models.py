"""``choreogen models``: the bundled models with task, size, training data and validation summary."""
from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
        """List the bundled models (names usable wherever a checkpoint path is accepted)."""
        import json

        from ..checkpoints import list_models

        rows = list_models()
        if json_out:
            typer.echo(json.dumps(rows, indent=1, default=str))
            return
        for r in rows:
            val = ", ".join(f"{k}={v}" for k, v in list((r.get("validation") or {}).items())[:3])
            typer.echo(f"{r['name']:14s} {r['task']:18s} {r['size_mb'] or '-':>6} MB  steps {r.get('steps') or '?':>6}  "
                       f"{r['what']}; data: {r.get('data') or '?'}" + (f"; val: {val}" if val else ""))
