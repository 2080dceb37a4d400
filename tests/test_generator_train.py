"""Generator training (Lightning), checkpoints, resume, DDP (gloo, 2 CPU processes) and generation
with a tiny model trained by the tests themselves."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file, save_file

from choreogen.errors import ChoreogenError, ConfigError, InputError
from choreogen.motion import get_skeleton
from choreogen.checkpoints import read_metadata
from choreogen.tasks.dance3d.checkpoint import load_generator
from choreogen.tasks.dance3d.config import GeneratorConfig

TINY = {"model": {"d_model": 32, "n_layers": 1, "n_heads": 2, "ff_mult": 2, "dropout": 0.0, "patch": 2, "music_layers": 1},
        "diffusion": {"num_steps": 100, "sample_steps": 4, "guidance": 1.5},
        "train": {"batch_size": 8, "max_steps": 12, "val_every": 6, "ckpt_every": 6, "warmup_steps": 2, "lr": 1e-3}}


def _song(path: Path, seconds: float, bpm: float = 120.0, sr: int = 22050):
    t = np.arange(int(seconds * sr)) / sr
    y = 0.1 * np.sin(2 * np.pi * 220 * t)
    for b in np.arange(0, seconds, 60 / bpm):
        i = int(b * sr)
        y[i:i + 800] += np.hanning(1600)[800:] * 0.8
    sf.write(path, y.astype(np.float32), sr)


def _dance(seconds: float, fps: float = 30.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    T = int(seconds * fps)
    t = np.arange(T) / fps
    poses = np.zeros((T, 72), np.float32)
    for j in range(24):  # smooth periodic joint rotations
        poses[:, 3 * j:3 * j + 3] = 0.3 * np.sin(2 * np.pi * (1 + j % 3) * t[:, None] / 2 + rng.uniform(0, 6, 3))
    trans = np.stack([0.3 * np.sin(t), 0.95 + 0.02 * np.sin(4 * t), 0.2 * t], 1).astype(np.float32)
    return poses, trans


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    from choreogen.data.prepare import prepare_dataset

    root = tmp_path_factory.mktemp("ds")
    for i in range(5):
        poses, trans = _dance(6.0, seed=i)
        np.savez(root / f"seq{i}.npz", poses=poses, trans=trans, fps=np.float32(30), genre=np.array("waltz" if i % 2 else "rumba"))
        _song(root / f"seq{i}.wav", 6.0, bpm=100 + 10 * i)
    out = tmp_path_factory.mktemp("prep") / "p"
    prepare_dataset(root, "folder", out, window=1.0, stride=0.5, features="mel", progress=False)
    return out


@pytest.fixture(scope="module")
def trained(prepared, tmp_path_factory):
    from choreogen.tasks.dance3d.train import train_generator

    out = tmp_path_factory.mktemp("run")
    cfg = GeneratorConfig.from_dict(TINY)
    path = train_generator(prepared, out, cfg, progress=False, limit_val_batches=2)
    return out, path


def test_training_writes_self_describing_checkpoint(trained, prepared):
    out, path = trained
    assert path.exists() and (out / "last.ckpt").exists()
    meta = read_metadata(path)
    assert meta["format"] == "choreogen.checkpoint" and meta["task"] == "dance3d"
    cfg = json.loads(meta["config"])
    assert cfg["window"] == 30 and cfg["music_features"] == "mel" and cfg["skeleton"] == "smpl24"
    assert sorted(cfg["genres"]) == ["rumba", "waltz"]
    prov = json.loads(meta["provenance"])
    assert prov["data"]["train_windows"] > 0
    from pathlib import Path

    assert Path(prov["data"]["prepared"]).is_absolute() and Path(prov["data"]["prepared"]) == Path(prepared).resolve()
    assert Path(prov["data"]["root"]).is_absolute()
    assert prov["steps"] == 12
    g = load_generator(path)
    assert g.config.model.motion_dim == 151 and g.config.model.music_dim == 80
    assert g.normalizer.lo.shape == (151,) and (g.normalizer.hi >= g.normalizer.lo).all()
    # validation ran and logged real loss values
    metrics = (out / "logs").rglob("metrics.csv")
    text = "".join(p.read_text() for p in metrics)
    assert "val/loss" in text and "train/foot" in text


def test_resume_continues_from_last_checkpoint(prepared, tmp_path):
    from choreogen.tasks.dance3d.train import train_generator

    cfg = GeneratorConfig.from_dict({**TINY, "train": {**TINY["train"], "max_steps": 6}})
    train_generator(prepared, tmp_path, cfg, progress=False, limit_val_batches=1)
    ck = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    assert ck["global_step"] == 6
    w6 = load_file(str(tmp_path / "model.safetensors"))
    train_generator(prepared, tmp_path, cfg, progress=False, resume=True, max_steps=10, limit_val_batches=1)
    ck = torch.load(tmp_path / "last.ckpt", map_location="cpu", weights_only=True)
    assert ck["global_step"] == 10
    prov = json.loads(read_metadata(tmp_path / "model.safetensors")["provenance"])
    assert prov["steps"] == 10
    w10 = load_file(str(tmp_path / "model.safetensors"))
    assert any(not torch.equal(w6[k], w10[k]) for k in w6)


def test_ddp_two_cpu_processes(prepared, tmp_path):
    cfg = tmp_path / "tiny.json"
    cfg.write_text(json.dumps({**TINY, "train": {**TINY["train"], "max_steps": 4, "batch_size": 4}}))
    exe = Path(sys.executable).with_name("choreogen")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([str(exe), "train", str(prepared), "--out", str(tmp_path / "run"), "--config", str(cfg),
                        "--accelerator", "cpu", "--devices", "2", "--strategy", "ddp"],
                       capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    log_text = r.stdout + r.stderr
    assert "distributed_backend=gloo" in log_text and "MEMBER: 2/2" in log_text, log_text[-2000:]
    prov = json.loads(read_metadata(tmp_path / "run" / "model.safetensors")["provenance"])
    assert prov["steps"] == 4
    log = "".join(p.read_text() for p in (tmp_path / "run" / "logs").rglob("hparams.yaml"))
    assert "config" in log


def test_generate_with_tiny_model_is_deterministic(trained, tmp_path):
    from choreogen.tasks.dance3d.pipeline import generate_dance

    _, path = trained
    song = tmp_path / "s.wav"
    _song(song, 4.0)
    a = generate_dance(song, path, seed=3, genre="waltz").motion
    b = generate_dance(song, path, seed=3, genre="waltz").motion
    c = generate_dance(song, path, seed=4, genre="waltz").motion
    assert a.num_frames == 120 and a.fps == 30.0 and a.genre == "waltz"
    assert np.array_equal(a.joints, b.joints)
    assert not np.array_equal(a.joints, c.joints)
    assert np.isfinite(a.joints).all() and a.joints[..., 1].min() >= -1e-5
    d = generate_dance(song, path, seed=3, seconds=2.0, steps=2, guidance=1.0).motion
    assert d.num_frames == 60
    # --smooth: same dance, less frame-to-frame acceleration; recorded in the output's meta
    r = generate_dance(song, path, seed=3, genre="waltz", smooth=0, foot_lock=False, stage_radius=None).motion
    s = generate_dance(song, path, seed=3, genre="waltz", smooth=2.0, foot_lock=False, stage_radius=None).motion

    def acc(m):
        j = m.positions() - m.positions()[:, :1]
        return float(np.abs(j[2:] - 2 * j[1:-1] + j[:-2]).mean())
    assert s.meta["smooth"] == 2.0 and s.meta["smooth_root"] == 2.0 and r.meta["smooth"] == 0.0
    assert acc(s) < 0.7 * acc(r)


def test_generate_bad_inputs(trained, tmp_path):
    from choreogen.tasks.dance3d.pipeline import generate_dance

    _, path = trained
    song = tmp_path / "s.wav"
    _song(song, 3.0)
    with pytest.raises(ConfigError, match="steps"):
        generate_dance(song, path, steps=0)
    with pytest.raises(ConfigError, match="guidance"):
        generate_dance(song, path, guidance=float("nan"))
    with pytest.raises(ConfigError, match="unknown genre 'salsa'"):
        generate_dance(song, path, genre="salsa")
    with pytest.raises(ConfigError, match="--smooth"):
        generate_dance(song, path, smooth=-1)
    short = tmp_path / "short.wav"
    _song(short, 0.5)
    with pytest.raises(InputError, match="short.wav"):
        generate_dance(short, path)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(22050 * 3, np.float32), 22050)
    with pytest.raises(InputError, match="silent"):
        generate_dance(silent, path)


def test_incompatible_or_corrupt_checkpoint(trained, tmp_path):
    _, path = trained
    sd = load_file(str(path))
    meta = read_metadata(path)
    bad = json.loads(meta["config"])
    bad["model"]["d_model"] = 64
    save_file(sd, str(tmp_path / "bad.safetensors"), metadata={**meta, "config": json.dumps(bad)})
    with pytest.raises(InputError, match="do not match its config"):
        load_generator(tmp_path / "bad.safetensors")
    bad2 = json.loads(meta["config"])
    bad2["model"]["unknown_knob"] = 1
    save_file(sd, str(tmp_path / "bad2.safetensors"), metadata={**meta, "config": json.dumps(bad2)})
    with pytest.raises(InputError, match="incompatible"):
        load_generator(tmp_path / "bad2.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ChoreogenError, match="junk.safetensors"):
        load_generator(junk)
    with pytest.raises(InputError, match="not found"):
        load_generator(tmp_path / "missing.safetensors")


def test_init_from_exported_checkpoint(trained, prepared, tmp_path):
    from choreogen.tasks.dance3d.train import train_generator

    _, path = trained
    cfg = GeneratorConfig.from_dict({**TINY, "train": {**TINY["train"], "max_steps": 1, "lr": 1e-12, "warmup_steps": 1}})
    out = train_generator(prepared, tmp_path, cfg, progress=False, init=path, limit_val_batches=1)
    a, b = load_file(str(path)), load_file(str(out))
    # one step at a negligible learning rate: the weights are the initial ones
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a if k.startswith("model."))
    assert torch.equal(a["normaliser.lo"], b["normaliser.lo"])


def test_mirror_augmentation_and_its_normaliser(prepared):
    """mirror_prob = 1 trains on mirrored windows; the normaliser then covers them."""
    from choreogen.data.windows import PreparedWindows
    from choreogen.motion.representation import mirror_features
    from choreogen.tasks.dance3d.module import DanceDiffusionModule
    from choreogen.tasks.dance3d.train import fit_normalizer

    cfg = GeneratorConfig.from_dict({**TINY, "train": {**TINY["train"], "mirror_prob": 1.0}})
    ds = PreparedWindows(prepared, split="train", recentre=True)
    sk = get_skeleton("smpl24")
    lo, hi = fit_normalizer(ds)
    lo_m, hi_m = fit_normalizer(ds, mirror_skeleton=sk)
    assert (lo_m <= lo + 1e-6).all() and (hi_m >= hi - 1e-6).all() and ((hi_m - hi) > 1e-3).any()
    x = torch.stack([ds[i]["motion"] for i in range(4)]).float()
    mirrored = mirror_features(x, sk)
    z = (mirrored - lo_m) / (hi_m - lo_m).clamp(min=1e-8) * 2 - 1
    assert z.abs().max() <= 1 + 1e-5
    d = cfg.to_dict()
    d["model"].update(motion_dim=x.shape[-1], music_dim=ds[0]["music"].shape[-1])
    module = DanceDiffusionModule(d, lo_m, hi_m)
    torch.testing.assert_close(module._augment(x), mirrored)
    d["train"]["mirror_prob"] = 0.0
    assert torch.equal(DanceDiffusionModule(d, lo_m, hi_m)._augment(x), x)
