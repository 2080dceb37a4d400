"""Regenerate docs/CLI.md from the commands' own --help (python benchmarks/make_cli_doc.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXE = Path(sys.executable).with_name("choreogen")
HEAD = """# Command-line reference

Every command prints one clear `error: <file>: <problem>` line and exits with status 2 on bad input
(no traceback, no partial output). This page is generated from the commands' own `--help`
(`python benchmarks/make_cli_doc.py`).
"""


def helptext(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    return subprocess.run([str(EXE), *args, "--help"], capture_output=True, text=True, env=env).stdout.rstrip()


def main() -> None:
    from choreogen.cli.app import COMMAND_MODULES

    parts = [HEAD, "## choreogen\n\n```\n" + helptext() + "\n```\n"]
    for name in COMMAND_MODULES:
        text = helptext(name)
        if not text:
            continue
        parts.append(f"## choreogen {name}\n\n```\n{text}\n```\n")
        if name == "data":
            parts.append("### choreogen data prepare\n\n```\n" + helptext("data", "prepare") + "\n```\n")
    (ROOT / "docs" / "CLI.md").write_text("\n".join(parts))


if __name__ == "__main__":
    main()
