"""`choreogen --help` and `choreogen <command> --help` must be instant: no heavy library is imported."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "librosa", "lightning", "cv2", "scipy", "sentence_transformers", "transformers")

PROBE = """
import sys
from choreogen.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    assert e.code in (0, None), e.code
heavy = [m for m in {heavy!r} if m in sys.modules]
print("HEAVY=" + ",".join(heavy))
"""


@pytest.mark.parametrize("args", [["--help"], ["generate", "--help"], ["repair", "--help"], ["eval", "--help"],
                                  ["render", "--help"], ["train", "--help"]])
def test_help_does_not_import_heavy_libraries(args):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout
    line = [x for x in r.stdout.splitlines() if x.startswith("HEAVY=")][-1]
    assert line == "HEAVY=", f"`choreogen {' '.join(args)}` imported {line[6:]}"


def test_generate_error_for_a_missing_song_is_instant(tmp_path):
    probe = PROBE.replace("assert e.code in (0, None), e.code", "assert e.code == 2, e.code")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-c", probe.format(heavy=HEAVY), "generate", str(tmp_path / "nope.wav"),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "nope.wav: song not found" in r.stderr
    assert r.stdout.strip().splitlines()[-1] == "HEAVY="
