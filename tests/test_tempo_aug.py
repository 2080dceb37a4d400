"""Issue #12 fix options: rhythm conditioning columns, tempo-augmented data, widened --init, end to end
on tiny models (seconds)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.audio.rhythm_cond import rhythm_columns, with_rhythm
from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig
from choreogen.tasks.dance3d.widen import widen_music_input, widens

FPS = 30.0


def test_rhythm_columns_phase_and_tempo():
    T = 300
    onehot = np.zeros(T)
    onehot[np.arange(0, T, 15)] = 1  # 120 BPM at 30 fps
    r = rhythm_columns(onehot, FPS)
    assert r.shape == (T, 5) and r.dtype == np.float32
    beats = np.arange(0, T, 15)
    np.testing.assert_allclose(r[beats, 0], 0, atol=1e-5)  # sin of the beat phase
    np.testing.assert_allclose(r[beats, 1], 1, atol=1e-5)
    np.testing.assert_allclose(r[beats[1::2], 3], -1, atol=1e-5)  # two-beat phase: every other beat at pi
    np.testing.assert_allclose(r[7, 0], np.sin(2 * np.pi * 7 / 15), atol=1e-5)  # linear between beats
    np.testing.assert_allclose(r[:, 4], 0, atol=1e-6)  # log2(120 / 120)
    onehot = np.zeros(T)
    onehot[np.arange(0, T, 10)] = 1  # 180 BPM
    np.testing.assert_allclose(rhythm_columns(onehot, FPS)[:, 4], np.log2(1.5), atol=1e-5)
    assert not rhythm_columns(np.zeros(T), FPS).any()  # silence: zeros
    f = np.zeros((T, 35), np.float32)
    f[:, 34] = onehot
    assert with_rhythm(f, FPS).shape == (T, 40)


def test_widened_music_input_computes_the_same_function():
    torch.manual_seed(0)
    cfg = DenoiserConfig(d_model=32, n_layers=1, n_heads=2, ff_mult=2, dropout=0.0, patch=5, motion_dim=151,
                         music_dim=35, n_genres=4)
    old = DanceDenoiser(cfg).eval()
    for p in old.parameters():  # the output head starts at zero: randomise everything
        torch.nn.init.normal_(p, std=0.05)
    new = DanceDenoiser(DenoiserConfig(**{**cfg.__dict__, "music_dim": 40})).eval()
    assert widens("fast35", "fast35+rhythm") and not widens("fast35", "mel")
    new.load_state_dict(widen_music_input(old.state_dict(), 35, 40, 5))
    x = torch.randn(2, 30, 151)
    t = torch.tensor([10, 500])
    mus = torch.randn(2, 30, 35)
    extra = torch.cat([mus, torch.randn(2, 30, 5)], -1)
    with torch.no_grad():
        a = old(x, t, music=mus, genre=torch.tensor([0, 1]))
        b = new(x, t, music=extra, genre=torch.tensor([0, 1]))
    assert a.abs().max() > 1e-3
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _song(path, seconds, bpm, sr=15360):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.05 * np.sin(2 * np.pi * 330 * t)
    for b in np.arange(0, seconds, 60 / bpm):
        i = int(b * sr)
        y[i:i + 600] += np.hanning(1200)[600:] * 0.8
    sf.write(path, y.astype(np.float32), sr)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from choreogen.data.prepare import prepare_dataset

    root = tmp_path_factory.mktemp("ds")
    for i in range(3):
        T = int(8 * FPS)
        t = np.arange(T) / FPS
        poses = np.zeros((T, 72), np.float32)
        for j in range(24):
            poses[:, 3 * j] = 0.3 * np.sin(2 * np.pi * 1.0 * t + j)
        trans = np.stack([0.0 * t, 0.95 + 0.0 * t, 0.2 * t], 1).astype(np.float32)  # 0.2 m/s forward
        np.savez(root / f"seq{i}.npz", poses=poses, trans=trans, fps=np.float32(30), genre=np.array("waltz"))
        _song(root / f"seq{i}.wav", 8.0, bpm=120)
    out = tmp_path_factory.mktemp("prep") / "p"
    prepare_dataset(root, "folder", out, window=1.0, stride=0.5, features="fast35", progress=False)
    return out


@pytest.fixture(scope="module")
def augmented(prepared, tmp_path_factory):
    from choreogen.tasks.dance3d.tempo import augment_prepared

    out = tmp_path_factory.mktemp("aug") / "a"
    augment_prepared(prepared, out, factors=(0.8, 1.25), features="fast35+rhythm", log=lambda s: None)
    return out


def test_tempo_augmented_folder(prepared, augmented):
    from choreogen.data.windows import PreparedWindows

    m = json.loads((augmented / "manifest.json").read_text())
    src = json.loads((prepared / "manifest.json").read_text())
    assert m["music_dim"] == 40 and m["features"] == "fast35+rhythm"
    by = {s["name"]: s for s in m["sequences"]}
    n_train = sum(s["split"] == "train" for s in src["sequences"])
    assert len(by) == len(src["sequences"]) + 2 * n_train
    mot = np.load(augmented / "motion.npy")
    mus = np.load(augmented / "music.npy")
    s1, s_fast, s_slow = by["seq0"], by["seq0@1.25"], by["seq0@0.8"]
    assert abs(s_fast["frames"] - s1["frames"] / 1.25) <= 2 and abs(s_slow["frames"] - s1["frames"] / 0.8) <= 2
    # rate 1 = the source's arrays
    so = next(s for s in src["sequences"] if s["name"] == "seq0")
    np.testing.assert_array_equal(mot[s1["offset"]:s1["offset"] + s1["frames"]],
                                  np.load(prepared / "motion.npy")[so["offset"]:so["offset"] + so["frames"]])

    def speed(s):  # forward root speed (feature column 6 = root z), m/s
        z = mot[s["offset"]:s["offset"] + s["frames"], 6]
        return float(np.median(np.diff(z)) * FPS)

    assert speed(s1) == pytest.approx(0.2, rel=0.02)
    assert speed(s_fast) == pytest.approx(0.25, rel=0.02)
    assert speed(s_slow) == pytest.approx(0.16, rel=0.02)

    def bpm(s):  # the tempo column of the music features
        return 120 * 2 ** float(np.median(mus[s["offset"]:s["offset"] + s["frames"], 39]))

    assert bpm(s_fast) / bpm(s1) == pytest.approx(1.25, rel=0.08)
    assert bpm(s_slow) / bpm(s1) == pytest.approx(0.8, rel=0.08)
    ds = PreparedWindows(augmented, split="train")
    assert ds[0]["music"].shape == (30, 40)


def test_train_with_widened_init_and_generate(prepared, augmented, tmp_path):
    from choreogen.tasks.dance3d.pipeline import generate_dance
    from choreogen.tasks.dance3d.checkpoint import load_generator
    from choreogen.tasks.dance3d.config import GeneratorConfig
    from choreogen.tasks.dance3d.train import train_generator

    tiny = {"model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_mult": 2, "dropout": 0.0, "patch": 5, "music_layers": 1},
            "diffusion": {"num_steps": 100, "sample_steps": 3, "guidance": 1.5},
            "train": {"batch_size": 4, "max_steps": 2, "val_every": 2, "ckpt_every": 2, "warmup_steps": 1, "lr": 1e-3}}
    base = train_generator(prepared, tmp_path / "base", GeneratorConfig.from_dict(tiny), progress=False, limit_val_batches=1)
    path = train_generator(augmented, tmp_path / "tempo", GeneratorConfig.from_dict(tiny), progress=False,
                           limit_val_batches=1, init=base)
    g = load_generator(path)
    assert g.config.music_features == "fast35+rhythm" and g.config.model.music_dim == 40
    w0 = load_generator(base).model.music_in.weight.detach()
    w1 = g.model.music_in.weight.detach().reshape(w0.shape[0], 5, 40)
    assert torch.allclose(w1[:, :, :35], w0.reshape(w0.shape[0], 5, 35), atol=0.05)  # started from the base weights
    song = tmp_path / "song.wav"
    _song(song, 3.0, bpm=100)
    r = generate_dance(song, path, seconds=2.5, seed=0)
    assert r.motion.num_frames == 75 and np.isfinite(r.motion.positions()).all()


def test_cli_data_tempo(prepared, tmp_path):
    from typer.testing import CliRunner

    from choreogen.cli.app import _register_all, app, main

    _register_all()
    out = tmp_path / "t"
    r = CliRunner().invoke(app, ["data", "tempo", str(prepared), "--out", str(out), "--factors", "1.25"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "manifest.json").read_text())
    assert m["tempo_augmentation"]["factors"] == [1.25] and any(s["name"].endswith("@1.25") for s in m["sequences"])
    for bad, msg in ((["--factors", "fast"], "must be numbers"), (["--factors", "9"], "between 0.25 and 4")):
        with pytest.raises(SystemExit) as e:
            main(["data", "tempo", str(prepared), "--out", str(tmp_path / "u"), *bad])
        assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["data", "tempo", str(tmp_path), "--out", str(tmp_path / "u")])
    assert e.value.code == 2 and not (tmp_path / "u").exists()
