"""Motion core on real data: FK parity with EDGE, canonical frame, resampling, rotations."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.errors import InputError
from choreogen.motion import get_skeleton
from choreogen.io import load_motion, save_motion
from choreogen.motion import rotations as rot
from choreogen.motion.fk import bone_lengths, fk_axis_angle
from choreogen.motion.frames import camera_to_yup, yup_to_camera, yup_to_zup, zup_to_yup
from choreogen.motion.representation import Normalizer, decode_to_smpl, encode, feature_dim

SMPL = get_skeleton("smpl24")


def test_fk_matches_edge_golden(golden_dir):
    g = np.load(golden_dir / "fk_edge.npz")
    r = np.load(golden_dir / "inputs" / "real_motions.npz")
    J = fk_axis_angle(r["poses25"], r["trans25"], SMPL)
    assert np.abs(J - g["fk_edge_float64"]).max() < 1e-6
    assert np.abs(J - g["fk_edge_float32"]).max() < 1e-5


@pytest.mark.parametrize("name", ["DANCE_W_1", "DANCE_C_2", "DANCE_R_3", "DANCE_T_2"])
def test_tang_fk_plausible_and_canonical(tang_dir, name):
    m = load_motion(tang_dir / f"{name}.npz")
    c = m.canonical()
    j = c.positions()
    bl = bone_lengths(j, SMPL)
    # rigid bones: constant over time to float precision
    assert bl.std(axis=0).max() < 1e-5
    # plausible body: femur ~0.38-0.42 m, standing height (head over ankles) 1.3-1.9 m
    femur = np.linalg.norm(j[:, 4] - j[:, 1], axis=-1)
    assert 0.3 < femur.mean() < 0.5
    height = j[:, 15, 1] - np.minimum(j[:, 7, 1], j[:, 8, 1])
    assert 1.2 < np.median(height) < 1.9
    # canonical frame: floor at 0, feet on the floor most of the time, root starts at xz origin
    assert j[..., 1].min() == pytest.approx(0.0, abs=1e-6)
    feet_low = np.minimum.reduce([j[:, k, 1] for k in (7, 8, 10, 11)])
    assert np.median(feet_low) < 0.08
    assert np.allclose(j[0, 0, [0, 2]], 0.0, atol=1e-6)


def test_resample_25_to_30_preserves_motion(tang_dir):
    m = load_motion(tang_dir / "DANCE_C_2.npz").slice(0, 251)  # 10 s
    m30 = m.resample(30)
    assert m30.num_frames == 301
    assert m30.duration == pytest.approx(m.duration, abs=1 / 25)
    j25, j30 = m.positions(), m30.positions()
    # frames at common instants (every 0.2 s: 25 fps frame 5k == 30 fps frame 6k) agree exactly
    assert np.abs(j25[::5] - j30[::6]).max() < 1e-4
    # in-between frames: close to the linear interpolation of the neighbours (smooth dance)
    t = np.arange(len(j30)) * 25 / 30
    i0 = np.floor(t).astype(int).clip(0, len(j25) - 2)
    w = (t - i0)[:, None, None]
    lin = (1 - w) * j25[i0] + w * j25[i0 + 1]
    assert np.abs(lin - j30).max() < 0.05
    assert np.abs(lin - j30).mean() < 0.003
    # bone lengths are exact after slerp + FK
    assert bone_lengths(j30, SMPL).std(0).max() < 1e-5


def test_axis_angle_large_norm_wrap():
    aa = torch.tensor([[0.0, 0.0, 1.5 * np.pi], [4.0, -3.0, 2.0]], dtype=torch.float64)
    w = rot.wrap_axis_angle(aa)
    assert (w.norm(dim=-1) <= np.pi + 1e-9).all()
    assert torch.allclose(rot.axis_angle_to_matrix(aa), rot.axis_angle_to_matrix(w), atol=1e-10)
    assert torch.allclose(w[0], torch.tensor([0.0, 0.0, -0.5 * np.pi], dtype=torch.float64))


def test_rotation_round_trips():
    g = torch.Generator().manual_seed(0)
    aa = (torch.rand(100, 3, generator=g, dtype=torch.float64) - 0.5) * 2
    R = rot.axis_angle_to_matrix(aa)
    assert torch.allclose(rot.sixd_to_matrix(rot.matrix_to_sixd(R)), R, atol=1e-10)
    assert torch.allclose(rot.quat_to_matrix(rot.axis_angle_to_quat(aa)), R, atol=1e-10)
    assert torch.allclose(rot.matrix_to_axis_angle(R), aa, atol=1e-9)
    q = rot.axis_angle_to_quat(aa)
    assert torch.allclose(rot.quat_xyzw(rot.quat_wxyz(q)), q)


def test_frame_converters_roundtrip_and_direction():
    p = np.array([[1.0, 2.0, 3.0]])
    assert np.allclose(yup_to_zup(p), [[1.0, -3.0, 2.0]])
    assert np.allclose(zup_to_yup(yup_to_zup(p)), p)
    assert np.allclose(yup_to_camera(p), [[1.0, -2.0, -3.0]])
    assert np.allclose(camera_to_yup(yup_to_camera(p)), p)


def test_representation_roundtrip(tang_dir):
    m = load_motion(tang_dir / "DANCE_R_2.npz").slice(0, 150).canonical()
    f = encode(m.poses, m.trans, SMPL)
    assert f.shape == (150, feature_dim(SMPL)) == (150, 151)
    poses, trans, joints = decode_to_smpl(f, SMPL)
    assert np.abs(joints - m.positions()).max() < 1e-4
    # contacts: a ballroom dancer has at least one planted foot most of the time
    assert f[:, :4].max(axis=1).mean() > 0.3
    n = Normalizer.fit(f)
    z = n.normalize(f)
    assert z.min() >= -1 - 1e-6 and z.max() <= 1 + 1e-6
    assert np.allclose(n.denormalize(z), f, atol=1e-5)
    n2 = Normalizer.from_state_dict(n.state_dict())
    assert np.allclose(n2.lo, n.lo)


def test_contract_npz_roundtrip(tmp_path, tang_dir):
    m = load_motion(tang_dir / "DANCE_W_3.npz").slice(0, 50).resample(30).canonical()
    m.meta.update(seed=3, model="test")
    out = save_motion(m, tmp_path / "x.npz")
    back = load_motion(out)
    assert back.skeleton == "smpl24" and back.fps == 30.0
    assert np.array_equal(back.joints, m.positions())
    assert np.array_equal(back.poses, m.poses)
    d = np.load(out)
    assert str(d["seed"]) == "3" and str(d["model"]) == "test" and str(d["genre"]) == "waltz"
    assert not list(tmp_path.glob(".*tmp*"))


def test_bad_motion_files(tmp_path):
    bad = tmp_path / "nan.npz"
    j = np.zeros((10, 24, 3), np.float32)
    j[3, 4, 1] = np.nan
    np.savez(bad, joints=j, fps=30.0, skeleton="smpl24")
    with pytest.raises(InputError, match="NaN"):
        load_motion(bad)
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, joints=np.zeros((10, 7, 3)), fps=30.0)
    with pytest.raises(Exception, match="7 joints"):
        load_motion(wrong)
    txt = tmp_path / "t.npz"
    txt.write_text("hello")
    with pytest.raises(InputError, match="t.npz"):
        load_motion(txt)
    with pytest.raises(InputError, match="not found"):
        load_motion(tmp_path / "missing.npz")


def test_atomic_outputs_get_normal_permissions(tmp_path):
    import os
    import stat

    from choreogen.fileio import atomic_write_text

    old = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(p.stat().st_mode) == 0o644


def test_torch_conversions_match_roma():
    import roma

    g = torch.Generator().manual_seed(3)
    R = roma.random_rotmat(2000, dtype=torch.float64, generator=g) if "generator" in roma.random_rotmat.__code__.co_varnames else roma.random_rotmat(2000, dtype=torch.float64)
    # include identity and near-pi rotations (the hard cases)
    near_pi = rot.axis_angle_to_matrix(torch.tensor([[np.pi - 1e-7, 0, 0], [0, 0, np.pi], [0, 0, 0.0]], dtype=torch.float64))
    R = torch.cat([R, near_pi])
    ours, ref = rot.matrix_to_axis_angle(R), roma.rotmat_to_rotvec(R)
    assert torch.allclose(rot.axis_angle_to_matrix(ours), R, atol=1e-9)
    small = ref.norm(dim=-1) < np.pi - 1e-3  # away from pi the vector is unique
    assert torch.allclose(ours[small], ref[small], atol=1e-9)
    d6 = torch.randn(500, 6, dtype=torch.float64, generator=g)
    assert torch.allclose(rot.sixd_to_matrix(d6), roma.special_gramschmidt(d6.reshape(500, 3, 2)), atol=1e-10)


def test_generation_path_does_not_import_roma():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from choreogen.motion.representation import decode_to_smpl; "
            "from choreogen.motion import get_skeleton; decode_to_smpl(np.zeros((4, 151), np.float32), get_skeleton('smpl24')); "
            "print('roma' in sys.modules, 'torch._dynamo' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def test_mirror_features_mirrors_the_dance(tang_dir):
    """Mirrored features decode to the mirrored, left/right-swapped joints of the original."""
    from choreogen.motion.representation import decode, mirror_features

    m = load_motion(tang_dir / "DANCE_W_1.npz").canonical().slice(0, 90)
    sk = get_skeleton("smpl24")
    f = torch.as_tensor(encode(m.poses, m.trans, sk), dtype=torch.float64)
    fm = mirror_features(f, sk)
    j = decode(f, sk)["joints"].numpy()
    jm = decode(fm, sk)["joints"].numpy()
    want = j[:, sk.mirror] * np.array([-1.0, 1.0, 1.0])
    # SMPL's rest offsets are symmetric to within a few millimetres
    assert np.abs(jm - want).max() < 0.02
    assert np.abs(jm - want).mean() < 0.005
    # the features really change (not the identity), contacts swap, and mirroring twice is identity
    assert np.abs(fm - f).max() > 0.1
    np.testing.assert_array_equal(fm[:, :4].numpy(), f[:, [1, 0, 3, 2]].numpy())
    np.testing.assert_allclose(mirror_features(fm, sk).numpy(), f.numpy(), atol=1e-6)


def _walker(T=20):
    """SMPL rest pose standing at the origin (metres)."""
    from choreogen.motion import Motion

    return Motion(skeleton="smpl24", fps=30.0, poses=np.zeros((T, 72), np.float32),
                  trans=np.tile(np.float32([0.0, 0.93, 0.0]), (T, 1)))


@pytest.mark.parametrize("change,match", [
    (lambda d: d.update(fps=np.float64(1e9)), "implausible frame rate"),
    (lambda d: d.update(joints=d["joints"] + np.float32([5000.0, 0, 0])), "implausible joint coordinates"),
    (lambda d: d.update(joints=d["joints"] * 100), "implausible body size"),  # centimetres labelled metres
])
def test_implausible_metadata_is_an_input_error(tmp_path, change, match, run_cli):
    from choreogen.errors import InputError

    j = _walker().positions().astype(np.float32)
    d = {"joints": j, "fps": np.float64(30.0)}
    np.savez(tmp_path / "ok.npz", **d)
    assert load_motion(tmp_path / "ok.npz").fps == 30.0
    change(d)
    np.savez(tmp_path / "bad.npz", **d)
    with pytest.raises(InputError, match=match) as e:
        load_motion(tmp_path / "bad.npz")
    assert "bad.npz" in str(e.value)
    code, out, err = run_cli(["render", tmp_path / "bad.npz", "-o", tmp_path / "bad.mp4", "--quiet"])
    assert code == 2 and match in err and "bad.npz" in err and "Traceback" not in err
    assert not (tmp_path / "bad.mp4").exists()


def test_implausible_root_translation_and_pixels_still_load(tmp_path):
    from choreogen.errors import InputError
    from choreogen.motion import Motion

    m = _walker()
    m.trans[:, 0] = 1e5  # 100 km
    with pytest.raises(InputError, match="implausible root translation"):
        m.validate("far.npz")
    # 2D keypoints in pixels of a 4K video (values up to ~3800) are fine
    kp = np.random.default_rng(0).uniform(0, 3800, size=(5, 17, 2)).astype(np.float32)
    save_motion(Motion(skeleton="coco17", fps=60.0, joints=kp), tmp_path / "kp.npz")
    back = load_motion(tmp_path / "kp.npz")
    assert back.fps == 60.0 and np.array_equal(back.joints, kp)
    with pytest.raises(InputError, match="implausible 2D keypoint"):
        Motion(skeleton="coco17", fps=60.0, joints=kp * 1e3).validate("huge.npz")
