"""`choreogen eval` and evaluate_motions: values, JSON keys, GT cache, music lookup, bad input."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from choreogen.cli.app import main
from choreogen.eval import evaluate_motions
from choreogen.eval.features import extract_features
from choreogen.eval.fid import diversity, fid
from choreogen.motion import Motion
from choreogen.io import load_motion, save_motion


def run(argv, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    out = capsys.readouterr()
    return e.value.code, out.out, out.err


@pytest.fixture(scope="module")
def real(golden_dir):
    return np.load(golden_dir / "inputs" / "real_motions.npz")


def write_set(folder, real, idx):
    folder.mkdir()
    for i in idx:
        name = str(real["names"][i])
        save_motion(Motion("smpl24", 60.0, joints=real["joints60"][i].astype(np.float32), name=name), folder / f"{name}.npz")


def test_cli_values_json_and_cache(tmp_path, real, capsys):
    write_set(tmp_path / "gen", real, [0, 1, 2])
    write_set(tmp_path / "gt", real, [3, 4, 5])
    out = tmp_path / "res.json"
    argv = ["eval", "--gen", str(tmp_path / "gen"), "--gt", str(tmp_path / "gt"), "--protocol", "aistpp-bailando",
            "--metrics", "fid_k,fid_g,div_k,div_g,pfc", "--bootstrap", "20", "--json", str(out),
            "--cache", str(tmp_path / "cache")]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "fid_k" in stdout and "ground truth" in stdout
    text = out.read_text()
    for key in ("fid_k", "fid_g", "div_k", "div_g"):
        assert f'"{key}"' in text
    res = json.loads(text)
    load = lambda d: [load_motion(tmp_path / d / f) for f in sorted(os.listdir(tmp_path / d))]  # noqa: E731
    gk, gg = extract_features([m.positions() for m in load("gt")], origin="zero_start")
    pk, pg = extract_features([m.positions() for m in load("gen")], origin="zero_start")
    assert res["generated"]["fid_k"] == pytest.approx(fid(gk, pk).value, rel=1e-9)
    assert res["generated"]["fid_g"] == pytest.approx(fid(gg, pg).value, rel=1e-9)
    assert res["generated"]["div_k"] == pytest.approx(diversity(gk, pk), rel=1e-9)
    assert res["ground_truth"]["div_g"] == pytest.approx(diversity(gg, gg), rel=1e-9)
    assert abs(res["ground_truth"]["fid_k"]) < 1e-3
    assert res["generated"]["n_samples"] == 3 and res["protocol"]["name"] == "aistpp-bailando"
    lo, hi = res["ci"]["generated"]["div_k"]
    assert lo <= hi
    assert res["details"]["gt_cache_hit"] is False
    assert any(p.name.startswith("gt-aistpp-bailando-") for p in (tmp_path / "cache").iterdir())
    code, _, _ = run(argv, capsys)
    res2 = json.loads(out.read_text())
    assert code == 0 and res2["details"]["gt_cache_hit"] is True
    assert res2["generated"]["fid_k"] == res["generated"]["fid_k"]


@pytest.mark.slow
def test_cli_bas_with_music_folder(tmp_path, real, golden_dir, capsys):
    write_set(tmp_path / "gen", real, [0])                       # DANCE_C_2
    write_set(tmp_path / "gt", real, [0])
    (tmp_path / "music").mkdir()
    os.symlink(golden_dir / "inputs" / "music_DANCE_C_2_20s.wav", tmp_path / "music" / "DANCE_C_2.wav")
    out = tmp_path / "r.json"
    code, _, err = run(["eval", "--gen", str(tmp_path / "gen"), "--gt", str(tmp_path / "gt"), "--music",
                        str(tmp_path / "music"), "-p", "aistpp-bailando", "--metrics", "bas", "--bootstrap", "0",
                        "--json", str(out), "--cache", str(tmp_path / "c")], capsys)
    assert code == 0, err
    res = json.loads(out.read_text())
    ref = json.loads((golden_dir / "bas.json").read_text())["bas_from_audio_DANCE_C_2"]["bailando_BAS_librosa_load"]
    assert res["generated"]["bas"] == pytest.approx(ref, rel=1e-5)
    assert res["ground_truth"]["bas"] == pytest.approx(ref, rel=1e-5)


def test_evaluate_motions_api_smpl_path(golden_dir):
    rw = np.load(golden_dir / "inputs" / "random_walks.npz")
    gt = [Motion("smpl24", 60.0, poses=rw["rw_T1200_poses"][i:i + 600], trans=rw["rw_T1200_trans"][i:i + 600],
                 name=f"gt{i}") for i in (0, 300, 600)]
    gen = [Motion("smpl24", 30.0, joints=rw["rw_set_300"][k, ::2].astype(np.float32), name=f"g{k}") for k in range(4)]
    r = evaluate_motions(gen, gt, protocol="tang2018", metrics=["fid_k", "fid_g", "div_k", "div_g", "pfc", "fsr"],
                         clip_frames=300)
    assert r["ground_truth"]["n_samples"] == 6 and r["generated"]["n_samples"] == 4
    assert abs(r["ground_truth"]["fid_k"]) < 1e-3 and r["generated"]["fid_k"] > 1
    assert "fid_g_nonconst" in r["generated"] and r["protocol"]["clip_frames"] == 300
    assert np.isfinite(r["generated"]["pfc"]) and 0 <= r["generated"]["fsr"] <= 1


def test_cli_bad_input(tmp_path, real, capsys):
    write_set(tmp_path / "gt", real, [0, 1])
    code, _, err = run(["eval", "--gen", str(tmp_path / "missing"), "--gt", str(tmp_path / "gt")], capsys)
    assert code == 2 and "error:" in err and "missing" in err and "Traceback" not in err
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "broken.npz").write_bytes(b"not a zip")
    code, _, err = run(["eval", "--gen", str(tmp_path / "gen"), "--gt", str(tmp_path / "gt")], capsys)
    assert code == 2 and "broken.npz" in err
    code, _, err = run(["eval", "--gen", str(tmp_path / "gt"), "--gt", str(tmp_path / "gt"), "-p", "nope"], capsys)
    assert code == 2 and "unknown protocol" in err
    code, _, err = run(["eval", "--gen", str(tmp_path / "gt"), "--gt", str(tmp_path / "gt"), "--metrics", "fid_x",
                        "--json", str(tmp_path / "o.json")], capsys)
    assert code == 2 and "unknown metric" in err and not (tmp_path / "o.json").exists()


def _smpl_set(folder, real, idx, nan_from=None, crop=None):
    """Tang2018-style SMPL npz files (poses, trans, fps 25) from the golden real captures."""
    folder.mkdir()
    for i in idx:
        name = str(real["names"][i])
        poses, trans = real["poses25"][i].astype(np.float32), real["trans25"][i].astype(np.float32)
        if nan_from is not None and i == idx[-1]:
            poses, trans = poses.copy(), trans.copy()
            poses[nan_from:] = np.nan  # a tracking gap to the end, as in a real held-out capture
            trans[nan_from:] = np.nan
        if crop is not None and i == idx[-1]:
            poses, trans = poses[:crop], trans[:crop]
        np.savez(folder / f"{name}.npz", poses=poses, trans=trans, fps=np.float64(25.0))
    return folder


def test_gt_with_nan_frames_is_cropped_and_reported(tmp_path, real, capsys):
    gen = _smpl_set(tmp_path / "gen", real, [0, 1])
    gt = _smpl_set(tmp_path / "gt", real, [2, 3, 4], nan_from=300)
    ref = _smpl_set(tmp_path / "gt_cropped", real, [2, 3, 4], crop=300)
    base = ["eval", "--gen", gen, "--protocol", "aistpp-bailando", "--metrics", "fid_k,div_k,pfc",
            "--bootstrap", "0", "--cache", tmp_path / "cache"]
    code, out, err = run([str(a) for a in base + ["--gt", gt, "--json", tmp_path / "r.json"]], capsys)
    assert code == 0, err
    bad = gt / f"{real['names'][4]}.npz"
    warn = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warn) == 1 and str(bad) in warn[0]
    assert "frames 300-500 of 501 contain NaN" in warn[0] and "evaluating frames 0-299" in warn[0]
    res = json.loads((tmp_path / "r.json").read_text())
    assert res["details"]["gt_nan_frames"] == [warn[0].removeprefix("warning: ground truth ")]
    assert res["ground_truth"]["n_samples"] == 3
    code, _, err = run([str(a) for a in base + ["--gt", ref, "--json", tmp_path / "ref.json"]], capsys)
    assert code == 0, err
    want = json.loads((tmp_path / "ref.json").read_text())
    for row in ("generated", "ground_truth"):
        for k in ("fid_k", "div_k", "pfc"):
            assert res[row][k] == pytest.approx(want[row][k], rel=1e-6), (row, k)
    # --strict keeps the old refusal: one message naming the file, exit 2
    code, _, err = run([str(a) for a in base + ["--gt", gt, "--strict"]], capsys)
    assert code == 2 and str(bad) in err and "NaN" in err and "Traceback" not in err


def test_gt_file_that_is_all_nan_is_dropped(tmp_path, real, capsys):
    gen = _smpl_set(tmp_path / "gen", real, [0])
    gt = _smpl_set(tmp_path / "gt", real, [2, 3], nan_from=0)
    code, out, err = run(["eval", "--gen", str(gen), "--gt", str(gt), "--protocol", "aistpp-bailando",
                          "--metrics", "div_k", "--bootstrap", "0", "--cache", str(tmp_path / "c")], capsys)
    assert code == 0, err
    assert "no usable part, file dropped" in err and f"{real['names'][3]}.npz" in err
