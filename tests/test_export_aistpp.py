"""AIST++ pickle export: format, 60 fps resampling, round trip through load_motion."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from choreogen.errors import ConfigError
from choreogen.io.export import export_motion
from choreogen.io.aistpp import save_aistpp
from choreogen.motion import Motion, get_skeleton
from choreogen.io import load_motion
from choreogen.motion.fk import fk_axis_angle

SMPL = get_skeleton("smpl24")


def test_aistpp_real_tang2018_resampled_to_60fps(tang_dir, tmp_path):
    m = load_motion(tang_dir / "DANCE_T_2.npz").slice(0, 251).canonical()  # 10 s at 25 fps
    out = export_motion(m, "aistpp", tmp_path / "t2.pkl")
    with open(out, "rb") as f:
        d = pickle.load(f)
    assert set(d) == {"smpl_poses", "smpl_trans", "smpl_scaling"}
    assert d["smpl_poses"].shape == (601, 72) and d["smpl_poses"].dtype == np.float64
    assert d["smpl_trans"].shape == (601, 3) and np.array_equal(d["smpl_scaling"], [1.0])
    # instants common to both rates (every 0.2 s: 25 fps frame 5k == 60 fps frame 12k) agree exactly
    j60 = fk_axis_angle(d["smpl_poses"], d["smpl_trans"], SMPL)
    assert np.abs(j60[::12] - m.positions()[::5]).max() < 1e-4
    # and the official reader convention (trans / scaling, 60 fps) through our loader
    back = load_motion(out)
    assert back.fps == 60.0 and back.num_frames == 601 and back.skeleton == "smpl24"
    assert np.abs(back.positions()[::12] - m.positions()[::5]).max() < 1e-4


def test_aistpp_keep_fps_is_exact(tmp_path):
    rng = np.random.default_rng(1)
    m = Motion(skeleton="smpl24", fps=30, poses=(rng.normal(size=(12, 72)) * 0.3).astype(np.float32),
               trans=rng.normal(size=(12, 3)).astype(np.float32))
    save_aistpp(m, tmp_path / "k.pkl", keep_fps=True)
    with open(tmp_path / "k.pkl", "rb") as f:
        d = pickle.load(f)
    assert np.array_equal(d["smpl_poses"], m.poses.astype(np.float64))
    assert np.array_equal(d["smpl_trans"], m.trans.astype(np.float64))


def test_aistpp_smplh52_drops_fingers(tmp_path):
    rng = np.random.default_rng(2)
    m = Motion(skeleton="smplh52", fps=60, poses=(rng.normal(size=(5, 156)) * 0.3).astype(np.float32),
               trans=np.zeros((5, 3), np.float32))
    save_aistpp(m, tmp_path / "h.pkl")
    with open(tmp_path / "h.pkl", "rb") as f:
        d = pickle.load(f)
    assert np.array_equal(d["smpl_poses"][:, :66], m.poses[:, :66].astype(np.float64))
    assert np.all(d["smpl_poses"][:, 66:] == 0)


def test_aistpp_needs_rotations(tmp_path):
    m = Motion(skeleton="coco17", fps=60, joints=np.zeros((3, 17, 2), np.float32))
    with pytest.raises(ConfigError, match="only joint positions"):
        save_aistpp(m, tmp_path / "x.pkl")
    assert not (tmp_path / "x.pkl").exists()
