"""Repair pipeline, CLI and evaluation protocol on tiny models and synthetic keypoints."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.errors import ChoreogenError, InputError
from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig
from choreogen.motion import Motion
from choreogen.io import load_motion, save_motion
from choreogen.tasks.skeleton import baselines, evaluate
from choreogen.tasks.skeleton.checkpoint import save_vae
from choreogen.tasks.skeleton.repair import _windows, reconstruct, repair_file, repair_motion


def _kp(T=50, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None]
    j = 500 + rng.normal(size=(1, 17, 2)) * 80 + 30 * np.sin(0.2 * t + rng.uniform(0, 6, (1, 17, 2)))
    conf = rng.uniform(0.5, 1.0, size=(T, 17))
    conf[rng.random((T, 17)) < 0.1] = 0.05
    conf[10:13] = 0.0  # no person in three frames
    return Motion(skeleton="coco17", fps=30, joints=j.astype(np.float32), confidence=conf.astype(np.float32),
                  name="kp", meta={"source": "kp.npz"})


def test_windows_cover_every_frame():
    for T in (16, 17, 40, 100):
        s = _windows(T, 16)
        cov = np.zeros(T, int)
        for a in s:
            cov[a:a + 16] += 1
        assert cov.min() >= 1 and s[-1] + 16 == T


def test_reconstruct_is_translation_and_scale_equivariant(tiny_ckpt):
    from choreogen.tasks.skeleton.repair import load_model

    model, _ = load_model(tiny_ckpt)
    m = _kp()
    present = m.confidence >= 0.3
    a = reconstruct(model, m.joints, present, 16)
    b = reconstruct(model, m.joints * 2.0 + 100.0, present, 16)
    np.testing.assert_allclose(b, a * 2.0 + 100.0, rtol=1e-4, atol=1e-2)


def test_repair_motion_fills_and_keeps_present_within_tolerance(tiny_ckpt):
    m = _kp()
    r = repair_motion(m, checkpoint=tiny_ckpt, tolerance=0.03)
    present = m.confidence >= 0.3
    filled = r.meta["filled"]
    assert np.array_equal(filled, ~present)
    assert np.isfinite(r.joints).all()
    from choreogen.tasks.skeleton.damage import body_scale

    s = body_scale(m.joints, present)
    move = np.linalg.norm(r.joints - m.joints, axis=-1)[present]
    assert move.max() <= 0.03 * s + 1e-3
    assert r.meta["repair"]["empty_frames"] == [10, 11, 12]
    assert "no person" in r.meta["repair"]["summary"]
    assert (r.confidence[filled] == 0).all()


def test_repair_file_writes_filled_flag(tiny_ckpt, tmp_path):
    src = tmp_path / "in.npz"
    save_motion(_kp(), src)
    r, p = repair_file(src, tmp_path / "out.npz", checkpoint=tiny_ckpt)
    back = load_motion(p)
    assert back.meta["filled"].shape == (50, 17) and back.meta["filled"].sum() == r.meta["filled"].sum()
    d = np.load(p)
    assert d["filled"].dtype == bool


def test_bad_inputs_raise_clear_errors(tiny_ckpt, tmp_path):
    m = _kp()
    with pytest.raises(InputError, match="every joint is missing"):
        repair_motion(m.copy(confidence=np.zeros_like(m.confidence)), checkpoint=tiny_ckpt)
    with pytest.raises(InputError, match="shorter than one repair window"):
        repair_motion(m.slice(0, 10), checkpoint=tiny_ckpt)
    wrong = Motion(skeleton="body25", fps=30, joints=np.zeros((40, 25, 2), np.float32), meta={"source": "w.json"})
    with pytest.raises(InputError, match=r"w.json.*25 joints"):
        repair_motion(wrong, checkpoint=tiny_ckpt)
    with pytest.raises(ChoreogenError, match="no shipped repair model"):
        repair_motion(Motion(skeleton="smplh52", fps=30, joints=np.zeros((40, 52, 3), np.float32)))
    # NaN/inf in joints marked present is rejected by the loader, and nothing is written
    bad = tmp_path / "nan.npz"
    j = m.joints.copy()
    j[5, 3] = np.inf
    np.savez(bad, joints=j, confidence=m.confidence, fps=np.float32(30), skeleton=np.array("coco17"))
    out = tmp_path / "never.npz"
    with pytest.raises(InputError, match="nan.npz.*NaN or infinite"):
        repair_file(bad, out, checkpoint=tiny_ckpt)
    assert not out.exists()


def test_cli_repair_success_and_error(tiny_ckpt, tmp_path):
    from choreogen.cli.app import main

    src = tmp_path / "in.npz"
    save_motion(_kp(), src)
    out = tmp_path / "o.npz"
    with pytest.raises(SystemExit) as e:
        main(["repair", str(src), "--out", str(out), "--checkpoint", str(tiny_ckpt)])
    assert e.value.code in (0, None) and out.exists()
    with pytest.raises(SystemExit) as e:
        main(["repair", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "x.npz"), "--checkpoint", str(tiny_ckpt)])
    assert e.value.code == 2 and not (tmp_path / "x.npz").exists()


def test_evaluate_protocol_known_answer():
    """Interpolation is exact on motion linear in time; a method returning zeros is not."""
    T = 120
    t = np.arange(T, dtype=np.float64)[:, None, None]
    j = (np.arange(17 * 2).reshape(1, 17, 2) * 10.0 + 100) + t * np.linspace(-1, 1, 34).reshape(1, 17, 2)
    j[..., 1] += np.arange(17)[None, :] * 20  # body height 320
    seqs = [(j, np.ones((T, 17), bool))]
    res = evaluate.evaluate(seqs, {"linear": baselines.interpolate_linear, "zero": lambda x, o: np.zeros_like(x)},
                            [("random", 0.1, 0), ("frames", 0.1, 10)], with_fid=False)
    assert set(res) == {"random@0.1", "frames-run10@0.1"}
    for r in res.values():
        assert r["linear"]["mse"] < 1e-4 and r["zero"]["mse"] > 0.1
        assert r["linear"]["n_hidden"] == r["zero"]["n_hidden"] > 0


def test_body25_goes_through_the_coco17_joints(tiny_ckpt, monkeypatch):
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.skeleton import repair as pipeline

    monkeypatch.setattr(pipeline, "default_checkpoint", lambda name: tiny_ckpt)
    coco = _kp()
    b25 = get_skeleton("body25")
    idx = [b25.joint_names.index(n) for n in get_skeleton("coco17").joint_names]
    j = np.zeros((50, 25, 2), np.float32)
    c = np.zeros((50, 25), np.float32)
    j[:, idx], c[:, idx] = coco.joints, coco.confidence
    m = Motion(skeleton="body25", fps=30, joints=j, confidence=c, meta={"source": "b25.json"})
    r = repair_motion(m)
    ref = repair_motion(coco, checkpoint=tiny_ckpt)
    np.testing.assert_allclose(r.joints[:, idx], ref.joints, atol=1e-4)
    assert r.meta["filled"].shape == (50, 25) and r.meta["filled"][:, b25.index("neck")].all()


def test_untrained_cubic_model_fills_with_the_akima_spline_of_the_whole_sequence(tmp_path):
    """A ``base="cubic"`` model starts at the sequence-wide Akima fill (windows cut from it, blended)."""
    torch.manual_seed(0)
    m = SkeletonVAE(SkeletonVAEConfig(num_joints=17, dim=2, d_model=16, n_heads=2, temporal_layers=1, decoder_layers=1,
                                      latent_dim=4, max_frames=16, base="cubic", out_scale=0.05)).eval()
    ck = save_vae(m, tmp_path / "cubic.safetensors", {"skeleton": "coco17", "window": 16})
    kp = _kp(T=70)
    present = kp.confidence >= 0.3
    r = repair_motion(kp, checkpoint=ck, tolerance=0.03)
    ref = baselines.interpolate_cubic(np.where(present[..., None], kp.joints, 0.0), present)
    np.testing.assert_allclose(r.joints[~present], ref[~present], rtol=0, atol=1e-3)
    np.testing.assert_allclose(r.joints[present], kp.joints[present], atol=1e-3)


def _multiview_pickle(path, views=3, T=40):
    """An AIST++-style keypoints2d pickle: camera v is the same dancer shifted by 1000 * v pixels."""
    import pickle

    base = _kp(T)
    kp = np.zeros((views, T, 17, 3), np.float32)
    for v in range(views):
        kp[v, ..., :2] = base.joints + 1000.0 * v
        kp[v, ..., 2] = base.confidence
    with open(path, "wb") as f:
        pickle.dump({"keypoints2d": kp, "timestamps": np.arange(T) * 1e6 / 60}, f)
    return base


def test_cli_repair_view_choice_is_said_and_offered(tiny_ckpt, tmp_path, run_cli):
    src = tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl"
    base = _multiview_pickle(src)
    code, out, err = run_cli(["repair", src, "--out", tmp_path / "v0.npz", "--checkpoint", tiny_ckpt])
    assert code == 0, err
    assert "camera view 0 of 3 (0-2) (the default; choose with --view N)" in err
    code, out, err = run_cli(["repair", src, "--out", tmp_path / "v2.npz", "--checkpoint", tiny_ckpt, "--view", "2"])
    assert code == 0, err
    assert "camera view 2 of 3" in err and "default" not in err
    v0, v2 = load_motion(tmp_path / "v0.npz"), load_motion(tmp_path / "v2.npz")
    present = base.confidence >= 0.3
    np.testing.assert_allclose(v2.joints[present] - v0.joints[present], 2000.0, atol=1.0)  # the chosen camera
    code, out, err = run_cli(["repair", src, "--out", tmp_path / "bad.npz", "--checkpoint", tiny_ckpt, "--view", "5"])
    assert code == 2 and "view 5 out of range (the file has 3 views)" in err and not (tmp_path / "bad.npz").exists()
    save_motion(base, tmp_path / "one.npz")
    code, out, err = run_cli(["repair", tmp_path / "one.npz", "--out", tmp_path / "x.npz", "--checkpoint", tiny_ckpt,
                              "--view", "1"])
    assert code == 2 and "only multi-camera keypoint pickles" in err
