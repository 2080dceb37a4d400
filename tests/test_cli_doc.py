"""docs/CLI.md is the CLI's own --help: it cannot drift from the code."""
from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("make_cli_doc", ROOT / "benchmarks" / "make_cli_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_reference_is_up_to_date():
    gen = _generator()
    want = gen.render()
    assert gen.render() == want  # deterministic
    have = (ROOT / "docs" / "CLI.md").read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(have.splitlines(True), want.splitlines(True), "docs/CLI.md", "--help", n=1))
    assert have == want, ("docs/CLI.md is stale; regenerate it with `python benchmarks/make_cli_doc.py`:\n"
                          + diff[:3000])


def test_cli_reference_has_every_option():
    text = _generator().render()
    for opt in ("--smooth-root", "--device", "--keep-joints", "--min-conf", "--protocol"):
        assert opt in text
    assert "\x1b[" not in text  # no colour codes
    assert max(len(line) for line in text.splitlines()) <= 100
