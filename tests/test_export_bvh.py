"""BVH export/import: exact round trips on real Tang2018 data, header facts, hand-written files."""
from __future__ import annotations

import re

import numpy as np
import pytest

from choreogen.errors import ConfigError, InputError
from choreogen.io.export import export_motion, is_canonical
from choreogen.io.bvh import guess_unit, load_bvh, parse_bvh, save_bvh
from choreogen.motion import Motion, get_skeleton
from choreogen.io import load_motion
from choreogen.motion.fk import fk_axis_angle

SMPL = get_skeleton("smpl24")


def _random_motion(skeleton="smpl24", T=40, fps=30.0, seed=0) -> Motion:
    rng = np.random.default_rng(seed)
    J = get_skeleton(skeleton).num_joints
    poses = (rng.normal(size=(T, J * 3)) * 0.4).astype(np.float32)
    trans = np.cumsum(rng.normal(size=(T, 3)) * 0.02, axis=0).astype(np.float32) + [0, 1.0, 0]
    return Motion(skeleton=skeleton, fps=fps, poses=poses, trans=trans.astype(np.float32), name="rand")


@pytest.mark.parametrize("name", ["DANCE_W_1", "DANCE_C_2"])
def test_bvh_round_trip_real_tang2018(tang_dir, tmp_path, name):
    m = load_motion(tang_dir / f"{name}.npz").canonical()
    out = save_bvh(m, tmp_path / f"{name}.bvh")
    b = load_bvh(out)
    assert b.skeleton == "smpl24" and b.fps == 25.0 and b.num_frames == m.num_frames
    ref = m.positions()
    # joints from the file's own FK and FK of the re-imported rotations both match to 1e-4 m
    assert np.abs(b.joints - ref).max() < 1e-4
    assert np.abs(fk_axis_angle(b.poses, b.trans, SMPL) - ref).max() < 1e-4
    assert np.abs(b.trans - m.trans).max() < 1e-5
    # the canonical frame survives: floor at y = 0, start at the origin
    assert is_canonical(b)


def test_bvh_centimetres_round_trip_and_unit_guess(tang_dir, tmp_path):
    m = load_motion(tang_dir / "DANCE_R_3.npz").slice(0, 300).canonical()
    save_bvh(m, tmp_path / "cm.bvh", scale=100.0)
    bvh = parse_bvh(tmp_path / "cm.bvh")
    assert guess_unit(bvh) == 100.0
    # root position channels are the translation in centimetres
    assert np.allclose(bvh.values[:, :3], m.trans * 100, atol=1e-4)
    b = load_bvh(tmp_path / "cm.bvh")
    assert b.meta["bvh_unit_per_m"] == 100.0
    assert np.abs(b.joints - m.positions()).max() < 1e-4


@pytest.mark.parametrize("fps,T", [(30.0, 9001), (25.0, 1357), (60.0, 3600), (29.97, 1000)])
def test_frames_times_frame_time_is_duration(tmp_path, fps, T):
    m = Motion(skeleton="smpl24", fps=fps, poses=np.zeros((T, 72), np.float32),
               trans=np.tile(np.float32([0, 0.95, 0]), (T, 1)))
    save_bvh(m, tmp_path / "d.bvh")
    text = (tmp_path / "d.bvh").read_text()
    frames = int(re.search(r"Frames:\s*(\d+)", text).group(1))
    frame_time = float(re.search(r"Frame Time:\s*(\S+)", text).group(1))
    assert frames == T
    assert abs(frames * frame_time - T / fps) < 1e-4  # the acceptance check allows 0.1 s
    assert load_bvh(tmp_path / "d.bvh").fps == pytest.approx(fps, rel=1e-7)


def test_header_hierarchy(tmp_path):
    save_bvh(_random_motion(T=3), tmp_path / "h.bvh", scale=100.0)
    bvh = parse_bvh(tmp_path / "h.bvh")
    names = [j.name for j in bvh.joints]
    assert sorted(names) == sorted(SMPL.joint_names) and names[0] == "pelvis"
    assert bvh.joints[0].channels == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    assert all(j.channels == ["Zrotation", "Xrotation", "Yrotation"] for j in bvh.joints[1:])
    # parents follow the SMPL tree; offsets are the rest offsets in centimetres
    for j in bvh.joints[1:]:
        k = SMPL.index(j.name)
        assert bvh.joints[j.parent].name == SMPL.joint_names[SMPL.parents[k]]
        assert np.allclose(j.offset, SMPL.offsets[k] * 100, atol=1e-6)
    leaves = {j.name for j in bvh.joints if j.end_site is not None}
    assert leaves == {"left_foot", "right_foot", "head", "left_hand", "right_hand"}
    assert bvh.values.shape == (3, 6 + 23 * 3)


def test_rotated_root_stays_rotated(tmp_path):
    T = 5
    poses = np.zeros((T, 72), np.float32)
    poses[:, 1] = np.pi / 2  # root yaw +90 degrees about Y
    trans = np.tile(np.float32([1.0, 0.9, -2.0]), (T, 1))
    m = Motion(skeleton="smpl24", fps=30, poses=poses, trans=trans)
    b = load_bvh(save_bvh(m, tmp_path / "r.bvh"))
    assert np.allclose(b.poses[:, :3], [0, np.pi / 2, 0], atol=1e-6)
    assert np.allclose(b.poses[:, 3:], 0, atol=1e-6)
    # Ry(90): (x, y, z) -> (z, y, -x); the left hip offset lands accordingly
    x, y, z = SMPL.offsets[1]
    assert np.allclose(b.joints[:, 1], np.float32([1.0 + z, 0.9 + y, -2.0 - x]), atol=1e-5)
    # the raw channels: Yrotation (last) = 90 degrees, the others 0
    v = parse_bvh(tmp_path / "r.bvh").values
    assert np.allclose(v[:, 3:6], [0, 0, 90], atol=1e-6)


def test_smplh52_round_trip(tmp_path):
    m = _random_motion("smplh52", T=20, seed=3)
    b = load_bvh(save_bvh(m, tmp_path / "h52.bvh"))
    assert b.skeleton == "smplh52"
    assert np.abs(b.joints - m.positions()).max() < 1e-4


def test_handwritten_generic_bvh(tmp_path):
    # a 3-joint chain in centimetres with XYZ channel order; root yawed +90 degrees about Z
    text = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  JOINT Spine
  {
    OFFSET 0 50 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 30 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.5
10 100 0 0 0 0 0 0 0
10 100 0 0 0 90 0 0 90
"""
    (tmp_path / "g.bvh").write_text(text)
    m = load_bvh(tmp_path / "g.bvh", scale=100.0)
    assert m.skeleton.startswith("bvh2_") and m.fps == 2.0 and m.num_frames == 2
    assert np.allclose(m.joints[0], [[0.1, 1.0, 0.0], [0.1, 1.5, 0.0]], atol=1e-6)
    # frame 1: Rz(90) maps +Y to -X, so the spine sits 0.5 m towards -X
    assert np.allclose(m.joints[1], [[0.1, 1.0, 0.0], [-0.4, 1.0, 0.0]], atol=1e-6)
    # the generic skeleton round-trips through our writer too
    b = load_bvh(save_bvh(m, tmp_path / "g2.bvh"))
    assert b.skeleton == m.skeleton
    assert np.allclose(b.joints, m.joints, atol=1e-5)


def test_joints_only_motion_is_refused(tmp_path):
    m = Motion(skeleton="coco17", fps=30, joints=np.zeros((4, 17, 3), np.float32))
    with pytest.raises(ConfigError, match="kinematic skeleton"):
        save_bvh(m, tmp_path / "x.bvh")
    m = Motion(skeleton="smpl24", fps=30, joints=np.zeros((4, 24, 3), np.float32))
    with pytest.raises(ConfigError, match="only joint positions"):
        export_motion(m, "bvh", tmp_path / "x.bvh")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("body,match", [
    ("hello world\n", "not a BVH file"),
    ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\nMOTION\nFrames: 2\n"
     "Frame Time: 0.1\n0 0 0\n", "declares 2 frames"),
    ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\nMOTION\nFrames: 1\n"
     "Frame Time: 0.1\n0 nan 0\n", "NaN"),
    ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Wrotation\n}\nMOTION\nFrames: 1\n"
     "Frame Time: 0.1\n0 0 0\n", "bad CHANNELS"),
    ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\nMOTION\nFrames: 1\n"
     "Frame Time: 0.1\n0 0 0\n", "unbalanced"),
    ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\nCHANNELS 3 Xrotation Yrotation Zrotation\n}\nMOTION\nFrames: 1\n"
     "Frame Time: 0\n0 0 0\n", "Frame Time"),
])
def test_bad_bvh_files(tmp_path, body, match):
    p = tmp_path / "bad.bvh"
    p.write_text(body)
    with pytest.raises(InputError, match=match) as e:
        load_motion(p)
    assert str(p) in str(e.value)
