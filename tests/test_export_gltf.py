"""glTF binary export: read back with pygltflib, FK of the stored channels vs the motion's joints."""
from __future__ import annotations

import shutil

import numpy as np
import pygltflib
import pytest

from choreogen.errors import ConfigError
from choreogen.io import load_motion
from choreogen.io.gltf import glb_joint_positions, read_glb_animation, save_glb
from choreogen.motion import Motion, get_skeleton


def _random_motion(T=30, fps=30.0, seed=0) -> Motion:
    rng = np.random.default_rng(seed)
    J = get_skeleton("smpl24").num_joints
    poses = (rng.normal(size=(T, J * 3)) * 0.6).astype(np.float32)
    trans = (np.cumsum(rng.normal(size=(T, 3)) * 0.02, axis=0) + [0, 1.0, 0]).astype(np.float32)
    return Motion(skeleton="smpl24", fps=fps, poses=poses, trans=trans, name="rand")


def test_glb_random_motion_fk_matches(tmp_path):
    m = _random_motion()
    out = save_glb(m, tmp_path / "r.glb")
    a = read_glb_animation(out)
    assert a.rotations.shape == (30, 24, 4) and a.names[0] == get_skeleton("smpl24").joint_names[0]
    np.testing.assert_allclose(a.times, np.arange(30) / 30.0, atol=1e-6)  # keyframes at the motion's fps
    assert np.abs(glb_joint_positions(a) - m.positions()).max() < 1e-4
    # the file is a valid glTF with a skin (24 joints, 24 inverse bind matrices) and a mesh using it
    g = pygltflib.GLTF2().load_binary(str(out))
    assert len(g.skins[0].joints) == 24 and g.accessors[g.skins[0].inverseBindMatrices].count == 24
    body = [n for n in g.nodes if n.mesh is not None][0]
    assert body.skin == 0 and g.extras["fps"] == 30.0 and g.extras["frames"] == 30
    prim = g.meshes[0].primitives[0]
    assert prim.attributes.JOINTS_0 is not None and prim.attributes.WEIGHTS_0 is not None
    # quaternion signs continuous over time (no flips that would make LINEAR interpolation spin)
    assert np.all(np.sum(a.rotations[1:] * a.rotations[:-1], axis=-1) >= 0)


def test_glb_cli_real_tang2018(tang_dir, tmp_path, run_cli):
    src = tang_dir / "DANCE_C_3.npz"
    code, out, err = run_cli(["export", src, "--format", "glb", "--out", tmp_path / "c3.glb"])
    assert code == 0, err and "glb" in out
    ref = load_motion(src).canonical()
    a = read_glb_animation(tmp_path / "c3.glb")
    assert len(a.times) == ref.num_frames
    np.testing.assert_allclose(np.diff(a.times), 1 / 25.0, atol=1e-5)
    assert np.abs(glb_joint_positions(a) - ref.positions()).max() < 1e-4
    # format from the suffix
    code, _, err = run_cli(["export", src, "--out", tmp_path / "d.glb"])
    assert code == 0, err and (tmp_path / "d.glb").stat().st_size > 1000


def test_glb_refuses_positions_only(tmp_path):
    m = _random_motion()
    pts = Motion(skeleton="smpl24", fps=30.0, joints=m.positions(), name="pts")
    with pytest.raises(ConfigError, match="joint rotations"):
        save_glb(pts, tmp_path / "p.glb")
    assert not list(tmp_path.iterdir())


def test_fbx_without_blender_is_one_clear_message(tmp_path, run_cli, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    from choreogen.io.export import export_motion

    export_motion(_random_motion(), "npz", tmp_path / "r.npz")

    with pytest.raises(ConfigError, match="FBX export needs Blender"):
        export_motion(_random_motion(), "fbx", tmp_path / "r.fbx")
    assert not (tmp_path / "r.fbx").exists()
    code, out, err = run_cli(["export", tmp_path / "r.npz", "--out", tmp_path / "r.fbx"])
    assert code == 2 and "FBX export needs Blender" in err and not (tmp_path / "r.fbx").exists()
