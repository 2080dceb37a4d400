"""Regenerate docs/CLI.md from the commands' own --help (python benchmarks/make_cli_doc.py).

The text is rendered in memory from this checkout's CLI (not from an installed ``choreogen``) at a
fixed width of 100 columns and without colour, so the result does not depend on the terminal;
tests/test_cli_doc.py compares it to docs/CLI.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "CLI.md"
WIDTH = 100
HEAD = """# Command-line reference

Every command prints one clear `error: <file>: <problem>` line and exits with status 2 on bad input
(no traceback, no partial output). This page is generated from the commands' own `--help`
(`python benchmarks/make_cli_doc.py`; tests/test_cli_doc.py checks that it is up to date).
"""


def helptext(*args: str) -> str:
    """``choreogen ARGS --help`` as plain text, WIDTH columns wide, no colour."""
    import typer.rich_utils as ru
    from typer.testing import CliRunner

    from choreogen.cli.app import _register_all, app

    _register_all()
    saved = (ru.MAX_WIDTH, ru.COLOR_SYSTEM, ru.FORCE_TERMINAL)
    ru.MAX_WIDTH, ru.COLOR_SYSTEM, ru.FORCE_TERMINAL = WIDTH, None, False
    try:
        res = CliRunner().invoke(app, [*args, "--help"], prog_name="choreogen", color=False,
                                 env={"COLUMNS": str(WIDTH), "LINES": "50", "TERM": "dumb", "NO_COLOR": "1"})
    finally:
        ru.MAX_WIDTH, ru.COLOR_SYSTEM, ru.FORCE_TERMINAL = saved
    if res.exit_code != 0:
        raise RuntimeError(f"choreogen {' '.join(args)} --help failed: {res.output}")
    return "\n".join(line.rstrip() for line in res.output.rstrip().splitlines())


def render() -> str:
    """The whole of docs/CLI.md as a string."""
    import typer

    from choreogen.cli.app import _register_all, app

    _register_all()
    root = typer.main.get_command(app)
    parts = [HEAD, "## choreogen\n\n```\n" + helptext() + "\n```\n"]
    for name in root.list_commands(None):
        parts.append(f"## choreogen {name}\n\n```\n{helptext(name)}\n```\n")
        sub = root.get_command(None, name)
        for subname in getattr(sub, "list_commands", lambda ctx: [])(None):
            parts.append(f"### choreogen {name} {subname}\n\n```\n{helptext(name, subname)}\n```\n")
    return "\n".join(parts)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from choreogen.fileio import atomic_write_text

    atomic_write_text(DOC, render())
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
