"""RepairPipeline / SkeletonPipeline: load once, call many times, same output as the functions."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.errors import ChoreogenError
from choreogen.motion import Motion
from choreogen.io import load_motion, save_motion
from choreogen.tasks.skeleton.pipeline import RepairPipeline, SkeletonPipeline
from choreogen.tasks.skeleton.repair import repair_motion


def _kp(T=40):
    rng = np.random.default_rng(0)
    t = np.arange(T)[:, None, None]
    j = 500 + rng.normal(size=(1, 17, 2)) * 80 + 30 * np.sin(0.2 * t + rng.uniform(0, 6, (1, 17, 2)))
    conf = np.ones((T, 17), np.float32)
    conf[rng.random((T, 17)) < 0.15] = 0.0
    return Motion(skeleton="coco17", fps=30, joints=j.astype(np.float32), confidence=conf, name="kp",
                  meta={"source": "kp.npz"})


def test_repair_pipeline_matches_function_and_writes_files(tiny_ckpt, tmp_path):
    pipe = RepairPipeline.from_pretrained(tiny_ckpt, tolerance=0.02)
    assert pipe.skeleton == "coco17"
    m = _kp()
    a = pipe(m)
    b = repair_motion(m, checkpoint=tiny_ckpt, tolerance=0.02)
    assert np.array_equal(a.joints, b.joints) and np.array_equal(a.meta["filled"], m.confidence < 0.3)
    src = save_motion(m, tmp_path / "kp.npz")
    out = pipe(src, out=tmp_path / "fixed.npz")
    back = load_motion(tmp_path / "fixed.npz")
    assert np.allclose(back.joints, a.joints, atol=1e-5) and np.allclose(out.joints, a.joints)
    assert np.allclose(pipe(src).joints, a.joints, atol=1e-5)


def test_pipelines_refuse_wrong_models(tiny_ckpt, tmp_path):
    with pytest.raises(ChoreogenError, match="not a skeleton.repair model"):
        RepairPipeline.from_pretrained("skeleton2d")
    with pytest.raises(ChoreogenError, match="not a skeleton.generate model"):
        SkeletonPipeline.from_pretrained("repair-coco17")
    with pytest.raises(ChoreogenError, match="not found"):
        RepairPipeline.from_pretrained(tmp_path / "none.safetensors")
    with pytest.raises(ChoreogenError, match="out= is for file inputs"):
        RepairPipeline.from_pretrained(tiny_ckpt)(_kp(), out=tmp_path / "x.npz")


def test_skeleton_pipeline_is_the_function(tmp_path):
    from choreogen.api import example_song
    from choreogen.tasks.skeleton.generate import generate_skeleton

    pipe = SkeletonPipeline.from_pretrained("skeleton3d")
    assert pipe.model == "skeleton3d"
    a = pipe(example_song(), seconds=2.0, seed=1, steps=3)
    b = generate_skeleton(example_song(), model="skeleton3d", seconds=2.0, seed=1, steps=3)
    assert a.joints.shape == b.joints.shape == (60, 24, 3) and np.array_equal(a.joints, b.joints)
    c = pipe(example_song(), seconds=2.0, seed=2, steps=3)
    assert not np.allclose(a.joints, c.joints)


def test_api_exposes_the_pipelines():
    import choreogen.api as api

    assert api.RepairPipeline is RepairPipeline and api.SkeletonPipeline is SkeletonPipeline
    assert api.Dance3DPipeline.__name__ == "Dance3DPipeline"
