"""`choreogen generate` says what it did when that differs from what was typed (no silent surprises)."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from choreogen.io import load_motion


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    sr = 22050
    t = np.arange(int(4.0 * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.mod(t, 0.5) < 0.05)
    p = tmp_path_factory.mktemp("song") / "clicks.wav"
    sf.write(p, y.astype(np.float32), sr)
    return p


FAST = ["--no-video", "--no-bvh", "--steps", "4"]


def test_start_near_the_end_says_the_dance_is_shorter(song, tmp_path, run_cli):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", "--start", "2", "--seconds", "5", *FAST])
    assert code == 0, err
    m = load_motion(tmp_path / "o" / "clicks.npz")
    assert m.duration == pytest.approx(2.0, abs=0.05)
    assert "the dance is 2.0 s long, shorter than the 5 s asked" in err


def test_free_text_genre_says_which_label(song, tmp_path, run_cli):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", "--seconds", "2", "--genre",
                              "a slow Viennese waltz", *FAST])
    assert code == 0, err
    assert load_motion(tmp_path / "o" / "clicks.npz").genre == "waltz"
    assert "genre: understood 'a slow Viennese waltz' as waltz" in err
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "p", "--seconds", "2", "--genre", "waltz", *FAST])
    assert code == 0 and "understood" not in err  # an exact label needs no note


def test_editing_says_it_takes_the_reference_length(song, tmp_path, run_cli):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "ref", "--seconds", "1.5", *FAST])
    assert code == 0, err
    ref = tmp_path / "ref" / "clicks.npz"
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "ed", "--keep-joints", "upper", "--reference", ref,
                              *FAST])
    assert code == 0, err
    assert load_motion(tmp_path / "ed" / "clicks.npz").duration == pytest.approx(1.5, abs=0.05)
    assert f"the dance takes the length of the reference {ref}, 1.5 s" in err


@pytest.mark.parametrize("name", ["x.mp4", "dance.NPZ", "a.bvh"])
def test_out_that_looks_like_a_file_is_refused(song, tmp_path, run_cli, name):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / name, *FAST])
    assert code == 2 and "must be a folder" in err and name in err and "Traceback" not in err
    assert not (tmp_path / name).exists()
