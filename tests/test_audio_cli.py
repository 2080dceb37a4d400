"""``choreogen features``: output file, beats json, clean one-line errors without partial output."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import soundfile as sf

from test_audio_features import SR, click_track


def _run(*args, env_cache):
    import os

    env = {**os.environ, "CHOREOGEN_CACHE": str(env_cache)}
    return subprocess.run([sys.executable, "-m", "choreogen.cli", *args], capture_output=True, text=True, env=env)


def test_features_cli(tmp_path):
    y, times = click_track(bpm=120.0, seconds=6.0)
    sf.write(tmp_path / "c.wav", y, SR)
    r = _run("features", str(tmp_path / "c.wav"), "--out", str(tmp_path / "f.npy"), "--beats-out",
             str(tmp_path / "b.json"), env_cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    F = np.load(tmp_path / "f.npy")
    assert F.shape == (180, 35) and F.dtype == np.float32
    assert "180 x 35" in r.stdout and "tempo 120" in r.stdout
    b = json.loads((tmp_path / "b.json").read_text())
    assert abs(b["tempo_bpm"] - 120) < 2 and abs(len(b["beats"]) - len(times)) <= 1
    assert b["meter"] in (3, 4) and len(b["downbeats"]) >= 1
    r = _run("features", str(tmp_path / "c.wav"), "--kind", "mel", "--fps", "25", "--out", str(tmp_path / "m.npy"),
             env_cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    assert np.load(tmp_path / "m.npy").shape == (150, 80)


def test_features_cli_errors(tmp_path):
    (tmp_path / "x.mp3").write_text("definitely not audio\n" * 20)
    r = _run("features", str(tmp_path / "x.mp3"), "--out", str(tmp_path / "f.npy"), env_cache=tmp_path / "c")
    assert r.returncode == 2
    assert r.stderr.strip().startswith("error:") and str(tmp_path / "x.mp3") in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "f.npy").exists() and not list(tmp_path.glob(".f.npy*"))
    sf.write(tmp_path / "short.wav", np.full(SR // 10, 0.2, np.float32), SR)
    r = _run("features", str(tmp_path / "short.wav"), "--out", str(tmp_path / "f.npy"), env_cache=tmp_path / "c")
    assert r.returncode == 2 and "too short: 0.10 s" in r.stderr
    r = _run("features", str(tmp_path / "short.wav"), "--kind", "mert", "--out", str(tmp_path / "f.npy"),
             env_cache=tmp_path / "c")
    assert r.returncode == 2 and "weights" in r.stderr and "Traceback" not in r.stderr
