"""Batch generation: one model, many songs, one process or two (Lightning predict, gloo)."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from choreogen.api import example_song
from choreogen.errors import ChoreogenError
from choreogen.io import load_motion
from choreogen.tasks.dance3d.batch import BatchOptions, collect_songs, generate_batch
from choreogen.tasks.dance3d.pipeline import generate_dance

OPT = BatchOptions(seconds=2.0, seed=5, steps=2)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    d = tmp_path_factory.mktemp("songs")
    shutil.copy(example_song(), d / "a.ogg")
    shutil.copy(example_song(), d / "b.ogg")
    (d / "broken.wav").write_text("not audio")
    (d / "notes.txt").write_text("ignored: not an audio suffix")
    return d


def test_collect_songs_expands_folders_and_refuses_collisions(songs, tmp_path):
    got = collect_songs([songs])
    assert [p.name for p in got] == ["a.ogg", "b.ogg", "broken.wav"]
    (tmp_path / "a.wav").write_bytes(b"x")
    with pytest.raises(ChoreogenError, match="two songs are named 'a'"):
        collect_songs([songs, tmp_path / "a.wav"])
    with pytest.raises(ChoreogenError, match="song not found"):
        collect_songs([tmp_path / "missing.ogg"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ChoreogenError, match="no audio files"):
        collect_songs([tmp_path / "empty"])


def test_batch_equals_single_generation_and_resumes(songs, tmp_path):
    out = tmp_path / "out"
    res = generate_batch(collect_songs([songs]), out, OPT)
    by = {r["song"].rsplit("/", 1)[-1]: r for r in res}
    assert by["a.ogg"]["status"] == by["b.ogg"]["status"] == "ok"
    assert by["broken.wav"]["status"] == "failed" and "broken.wav" in by["broken.wav"]["error"]
    assert not (out / "broken.npz").exists() and (out / "a.bvh").exists()
    single = generate_dance(songs / "a.ogg", seconds=2.0, seed=5, steps=2).motion
    a = load_motion(out / "a.npz")
    assert a.joints.shape == single.joints.shape and np.allclose(a.joints, single.joints, atol=1e-6)
    again = generate_batch(collect_songs([songs / "a.ogg"]), out, OPT)
    assert again[0]["status"] == "skipped"


def test_two_processes_share_the_songs(songs, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    lst = [songs / "a.ogg", songs / "b.ogg", songs / "broken.wav"]
    r1 = generate_batch(lst, one, OPT, devices=1)
    r2 = generate_batch(lst, two, OPT, devices=2)
    assert [r["status"] for r in r2] == [r["status"] for r in r1] == ["ok", "ok", "failed"]
    for n in ("a", "b"):
        assert np.array_equal(load_motion(one / f"{n}.npz").joints, load_motion(two / f"{n}.npz").joints)


def test_cli_reports_failures_with_exit_2(songs, tmp_path):
    from choreogen.cli.app import app, _register_all

    _register_all()
    r = CliRunner().invoke(app, ["generate-batch", str(songs), "--out", str(tmp_path / "o"), "--seconds", "2",
                                 "--steps", "2", "--no-bvh"])
    assert r.exit_code == 2, r.output
    assert "broken.wav" in r.output and "2 generated, 0 already done, 1 failed" in r.output
    assert (tmp_path / "o" / "b.npz").exists() and not (tmp_path / "o" / "a.bvh").exists()


def test_generate_takes_a_folder(songs, tmp_path):
    from choreogen.cli.app import app, _register_all

    _register_all()
    d = tmp_path / "two"
    d.mkdir()
    shutil.copy(songs / "a.ogg", d / "x.ogg")
    r = CliRunner().invoke(app, ["generate", str(d), "--out", str(tmp_path / "o"), "--seconds", "2", "--steps", "2",
                                 "--seed", "5"])
    assert r.exit_code == 0, r.output
    assert np.array_equal(load_motion(tmp_path / "o" / "x.npz").joints,
                          generate_dance(d / "x.ogg", seconds=2.0, seed=5, steps=2).motion.joints)
    r = CliRunner().invoke(app, ["generate", str(d), "--out", str(tmp_path / "p"), "--prompt", "a waltz"])
    assert r.exit_code != 0 and "apply to one song" in str(r.exception or r.output)


def test_batch_device_is_checked(songs, tmp_path):
    from choreogen.cli.app import main

    for dev in ("tpu", "cuda:7"):  # unknown, or no such GPU on this CPU machine
        with pytest.raises(SystemExit) as e:
            main(["generate-batch", str(songs / "a.ogg"), "--out", str(tmp_path / "o"), "--device", dev])
        assert e.value.code == 2 and not (tmp_path / "o").exists()
    with pytest.raises(ChoreogenError, match="cpu or cuda"):
        generate_batch([songs / "a.ogg"], tmp_path / "p", BatchOptions(device="mps"), devices=2)
    assert not (tmp_path / "p").exists()
