"""The ``choreogen`` command line.

Each sub-command lives in its own module of this package and exposes ``register(app)``; this file
only assembles them and turns user errors into one clean message and a non-zero exit code.
"""
from __future__ import annotations

import importlib
import sys

import typer

from ..errors import ChoreogenError

app = typer.Typer(
    name="choreogen",
    help="Music to dance: generate, repair, evaluate, render and export dances.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

@app.callback()
def _root() -> None:
    """Music to dance: generate, repair, evaluate, render and export dances."""


# Sub-command modules, in the order they appear in --help.
COMMAND_MODULES = [
    "generate", "generate_batch", "train", "train_skeleton", "repair", "keypoints", "video", "render", "export", "features", "data", "eval", "info", "models", "demo", "serve",
]
_registered = False


def _register_all() -> None:
    global _registered
    if _registered:
        return
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"{__package__}.cmd_{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__package__}.cmd_{name}":
                continue  # command not built yet in this checkout
            raise
        mod.register(app)
    _registered = True


def error(message: str, code: int = 2) -> None:
    """Print a one-line error to stderr and exit with ``code`` (no traceback)."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[bold red]error:[/] {escape(message)}")
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    _register_all()
    try:
        app(args=argv, standalone_mode=True)
    except ChoreogenError as e:
        error(str(e))
    except KeyboardInterrupt:
        error("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
