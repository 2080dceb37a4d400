"""``choreogen export`` end to end: formats, defaults, clean errors with no partial output."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from choreogen.io.bvh import load_bvh
from choreogen.io import load_motion


def test_export_tang_to_bvh_npz_and_back(tang_dir, tmp_path, run_cli):
    src = tang_dir / "DANCE_C_3.npz"
    code, out, err = run_cli(["export", src, "--format", "bvh", "--out", tmp_path / "c3.bvh"])
    assert code == 0, err
    b = load_bvh(tmp_path / "c3.bvh")
    ref = load_motion(src).canonical()
    assert b.num_frames == ref.num_frames and b.fps == 25.0
    assert np.abs(b.joints - ref.positions()).max() < 1e-4
    # BVH -> contract npz, format taken from the suffix
    code, out, err = run_cli(["export", tmp_path / "c3.bvh", "--out", tmp_path / "c3.npz"])
    assert code == 0, err
    n = load_motion(tmp_path / "c3.npz")
    assert np.abs(n.positions() - ref.positions()).max() < 1e-4 and n.has_smpl


def test_export_keeps_coordinates_with_no_canonical(tang_dir, tmp_path, run_cli):
    src = tang_dir / "DANCE_C_3.npz"
    code, _, err = run_cli(["export", src, "-f", "bvh", "-o", tmp_path / "raw.bvh", "--no-canonical",
                            "--scale", "100"])
    assert code == 0, err
    raw = load_motion(src)
    b = load_bvh(tmp_path / "raw.bvh")
    assert b.meta["bvh_unit_per_m"] == 100.0
    assert np.abs(b.joints - raw.positions()).max() < 1e-4


@pytest.mark.parametrize("make,args,msg", [
    (lambda d: (d / "x.wav").write_text("not audio"), ["{d}/x.wav", "-f", "bvh", "-o", "{d}/o.bvh"],
     "unsupported motion file type"),
    (lambda d: np.savez(d / "nan.npz", joints=np.full((3, 24, 3), np.nan, np.float32), fps=30.0),
     ["{d}/nan.npz", "-f", "npz", "-o", "{d}/o.npz"], "NaN"),
    (lambda d: np.savez(d / "shape.npz", poses=np.zeros((3, 70), np.float32), trans=np.zeros((3, 3)), fps=30.0),
     ["{d}/shape.npz", "-f", "bvh", "-o", "{d}/o.bvh"], "poses"),
    (lambda d: np.savez(d / "kp.npz", joints=np.zeros((3, 17, 2), np.float32), fps=30.0),
     ["{d}/kp.npz", "-f", "bvh", "-o", "{d}/o.bvh"], "keypoint layout"),
    (lambda d: np.savez(d / "ok.npz", joints=np.zeros((3, 17, 2), np.float32), fps=30.0),
     ["{d}/ok.npz", "-f", "usd", "-o", "{d}/o.usd"], "unknown export format"),
    (lambda d: (d / "file").write_text("x"), ["{d}/file", "-f", "npz", "-o", "{d}/o.npz"],
     "unsupported motion file type"),
])
def test_export_bad_inputs(tmp_path, run_cli, make, args, msg):
    make(tmp_path)
    before = set(tmp_path.iterdir())
    code, _, err = run_cli(["export"] + [a.format(d=tmp_path) for a in args])
    assert code == 2
    assert "error:" in err and msg in err and "Traceback" not in err
    assert set(tmp_path.iterdir()) == before  # no partial output, no temp files


def test_export_unwritable_output_subprocess(tmp_path):
    np.savez(tmp_path / "ok.npz", joints=np.zeros((3, 17, 2), np.float32), fps=30.0)
    (tmp_path / "blocker").write_text("a file where a folder should be")
    r = subprocess.run([sys.executable, "-m", "choreogen.cli", "export", str(tmp_path / "ok.npz"), "-f", "npz",
                        "-o", str(tmp_path / "blocker" / "o.npz")], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("error:") and "Traceback" not in r.stderr and "blocker" in r.stderr
