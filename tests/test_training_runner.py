"""The one training runner (choreogen.training.runner) under every model: schedule values, the
skeleton models' training commands end to end (tiny budgets, real Tang2018 data), resume."""
from __future__ import annotations

import json
import math

import pytest
import torch

from choreogen.checkpoints import read, read_metadata
from choreogen.training.runner import warmup_cosine


def test_warmup_cosine_values():
    f = warmup_cosine(10, 110, 0.1)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(10) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert f(110) == pytest.approx(0.1) and f(500) == pytest.approx(0.1)


def test_train_repair_then_resume(run_cli, tmp_path, shared_data):
    out = tmp_path / "rep"
    args = ["train-repair", "--layout", "smpl24", "--data", shared_data, "--out", out, "--steps", "3", "--batch", "2"]
    code, so, se = run_cli(args)
    assert code == 0, se
    env = read(out / "model.safetensors")
    assert env.task == "skeleton.repair" and env.config["info"]["steps"] == 3
    assert read_metadata(out / "model.safetensors")["format"] == "choreogen.checkpoint"
    assert torch.load(out / "last.ckpt", map_location="cpu", weights_only=True)["global_step"] == 3
    code, so, se = run_cli(args[:-4] + ["--steps", "5", "--batch", "2"])  # same command, longer: resumes at 3
    assert code == 0, se
    assert torch.load(out / "last.ckpt", map_location="cpu", weights_only=True)["global_step"] == 5
    assert json.loads(read_metadata(out / "model.safetensors")["config"])["info"]["steps"] == 5


def test_train_skeleton_generator(run_cli, tmp_path, shared_data):
    out = tmp_path / "sg"
    code, so, se = run_cli(["train-skeleton", "--layout", "smpl24", "--data", shared_data, "--out", out,
                            "--steps", "2", "--vae-steps", "2"])
    assert code == 0, se
    env = read(out / "model.safetensors")
    assert env.task == "skeleton.generate" and env.config["info"]["steps_trained"] == 2
    assert set(env.part("normaliser.")) == {"music_mean", "music_std", "latent_mean", "latent_std"}


def test_train_repair_bad_layout(run_cli, tmp_path, shared_data):
    code, so, se = run_cli(["train-repair", "--layout", "body25", "--data", shared_data, "--out", tmp_path / "x"])
    assert code == 2 and "coco17 or smpl24" in se and not (tmp_path / "x").exists()


def test_models_lists_every_bundled_model(run_cli):
    code, so, se = run_cli(["models", "--json"])
    assert code == 0, se
    rows = {r["name"]: r for r in json.loads(so)}
    assert set(rows) == {"dance3d", "repair-coco17", "repair-smpl24", "skeleton2d", "skeleton3d", "prompt-genre",
                         "flow-lfae", "flow-video", "dance3d-latent", "m2penc", "refiner"}
    assert rows["m2penc"]["task"] == "posevideo.m2penc" and rows["m2penc"]["steps"] >= 2000
    assert rows["dance3d"]["task"] == "dance3d" and rows["dance3d"]["steps"] >= 5000
    assert rows["dance3d-latent"]["task"] == "dance3d" and rows["dance3d-latent"]["steps"] >= 5000
    assert all(0 < r["size_mb"] < 40 for r in rows.values())


def test_bundled_name_of_another_task_is_refused():
    from choreogen.errors import ConfigError
    from choreogen.tasks.dance3d.checkpoint import load_generator

    with pytest.raises(ConfigError, match="not a dance3d model"):
        load_generator("repair-smpl24")


def test_time_budget_is_per_invocation():
    """A resumed run gets its whole --minutes budget again: the budget callback ignores the elapsed time
    stored in last.ckpt (Lightning's own max_time restores it, and the resumed run stopped at once)."""
    from choreogen.training.runner import _Budget

    b = _Budget(duration={"minutes": 30.0}, interval="step")
    b.load_state_dict({"time_elapsed": {"train": 45 * 60.0, "sanity_check": 0.0, "validate": 0.0}})
    assert b._offset == 0 and b.time_remaining() > 29 * 60


def test_epoch_dataset_draws_per_epoch_unless_fixed():
    from choreogen.training.runner import EpochDataset

    class D(EpochDataset):
        def __init__(self, fixed):
            self.n, self.seed, self.fixed = 3, 7, fixed

        def __getitem__(self, i):
            return float(self.rng(i).random())

    for fixed in (False, True):
        d = D(fixed)
        a = [d[i] for i in range(len(d))]
        assert a == [d[i] for i in range(3)] and len(set(a)) == 3  # reproducible, items differ
        d.set_epoch(1)
        assert ([d[i] for i in range(3)] == a) == fixed  # a new draw each epoch, the same when fixed
