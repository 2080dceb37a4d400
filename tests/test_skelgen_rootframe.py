"""The skeleton generator's per-frame root frame (choreogen.tasks.skeleton.rootframe): exact inverses on
real captures, stitching without per-window shifts, training items, and generation with a tiny model."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig
from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig
from choreogen.tasks.skeleton.rootframe import from_root_frame, stitch_root_frame, to_root_frame


def _capture(tang_dir, n=200):
    from choreogen.io import load_motion

    return load_motion(tang_dir / "DANCE_W_1.npz").resample(30).canonical().positions()[:n].astype(np.float64)


def test_round_trip_on_a_real_capture(tang_dir):
    j = _capture(tang_dir)
    x = to_root_frame(j, "smpl24", 30.0)
    assert x.shape == (200, 25, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0, [0, 2]], 0.0, atol=1e-6)  # the pelvis is the origin of its frame
    np.testing.assert_allclose(x[:, :24, 1], j[..., 1], atol=1e-6)  # heights above the floor kept
    np.testing.assert_allclose(x[:-1, 24, [0, 2]], np.diff(j[:, 0, [0, 2]], axis=0) * 30.0, atol=1e-4)  # m/s
    assert (x[:, 24, 1] == 0).all()
    back = from_root_frame(x, 30.0, start=j[0, 0])
    np.testing.assert_allclose(back, j, atol=1e-4)  # float32 storage, integrated over 200 frames


def test_root_velocity_in_units_per_second():
    T = 30
    j = np.zeros((T, 24, 3))
    j[:, :, 0] = 0.02 * np.arange(T)[:, None]  # 2 cm per frame in x = 0.6 m/s at 30 fps
    j[:, :, 1] = np.linspace(0, 1.6, 24)[None]
    x = to_root_frame(j, "smpl24", 30.0)
    np.testing.assert_allclose(x[:, 24, 0], 0.6, rtol=1e-5)
    np.testing.assert_allclose(x[:, 24, 2], 0.0, atol=1e-7)
    with pytest.raises(ValueError, match="2 frames"):
        to_root_frame(j[:1], "smpl24", 30.0)


def test_2d_root_is_the_mid_hip():
    rng = np.random.default_rng(0)
    j = rng.normal(size=(10, 17, 2))
    x = to_root_frame(j, "coco17", 30.0)
    assert x.shape == (10, 18, 2)
    np.testing.assert_allclose(x[:, [11, 12]].mean(1), 0.0, atol=1e-6)  # both image axes relative
    np.testing.assert_allclose(from_root_frame(x, 30.0, start=j[0, [11, 12]].mean(0)), j, atol=1e-5)


def test_stitching_needs_no_shift(tang_dir):
    """Windows cut from one root-frame sequence (any overlap) stitch back to the sequence itself."""
    j = _capture(tang_dir, 150)
    x = to_root_frame(j, "smpl24", 30.0).astype(np.float64)
    W, O = 40, 16
    starts = list(range(0, 150 - W + 1, W - O))
    starts.append(starts[-1] + W - O)
    pad = np.concatenate([x, np.repeat(x[-1:], starts[-1] + W - 150, 0)])
    local = np.stack([pad[s:s + W] for s in starts])
    out = stitch_root_frame(local, starts, 150, 30.0)
    np.testing.assert_allclose(out, j - j[0, 0] * np.array([1, 0, 1]), atol=1e-4)
    # a window that disagrees in travel moves the rest of the dance, not a single frame (no jump)
    local[2, :, 24, 0] += 0.3
    moved = stitch_root_frame(local, starts, 150, 30.0)
    step = np.linalg.norm(np.diff(moved[:, 0], axis=0), axis=-1)
    assert step.max() < np.linalg.norm(np.diff(j[:, 0], axis=0), axis=-1).max() + 0.3 / 30.0 + 1e-6


def test_music_windows_in_the_root_frame(tang_dir):
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.skeleton.data import Sequence
    from choreogen.tasks.skeleton.train_skelgen import MusicWindows

    j = _capture(tang_dir, 120)
    seq = Sequence(name="w1", joints=j, valid=np.ones(j.shape[:2], bool), fps=30.0)
    music = [np.zeros((120, 35), np.float32)]
    ds = MusicWindows([seq], music, get_skeleton("smpl24"), 64, 8, seed=0, frame="root")
    it = ds[0]
    assert it["x"].shape == (64, 25, 3) and it["valid"].shape == (64, 25) and it["valid"].all()
    back = from_root_frame(it["x"].numpy(), 30.0)
    d = lambda a: np.linalg.norm(a[:, :, None] - a[:, None], axis=-1)  # noqa: E731
    # the window comes back as a rigid motion of a stretch of the capture (y rotation + translation)
    best = min(np.abs(d(back) - d(j[t:t + 64])).max() for t in range(0, 120 - 64 + 1))
    assert best < 1e-4
    with pytest.raises(ValueError, match="frame"):
        MusicWindows([seq], music, get_skeleton("smpl24"), 64, 8, frame="centre")


@pytest.mark.filterwarnings("ignore:You are trying to `self.log()`")
def test_kinetic_vae_module_learns(tang_dir):
    from choreogen.tasks.skeleton.train_skelgen import KineticVAEModule

    j = _capture(tang_dir, 160)
    x = torch.tensor(np.stack([to_root_frame(j[a:a + 16], "smpl24", 30.0) for a in range(0, 145, 16)]))
    batch = {"x": x, "valid": torch.ones(x.shape[:3], dtype=torch.bool)}
    cfg = SkeletonVAEConfig(num_joints=25, dim=3, d_model=16, n_heads=2, temporal_layers=1, decoder_layers=1,
                            latent_dim=4, max_frames=16, residual=False)
    torch.manual_seed(0)
    m = KineticVAEModule(cfg.to_dict())
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = m.training_step(batch, 0).item()
    for _ in range(40):
        opt.zero_grad()
        m.training_step(batch, 0).backward()
        opt.step()
    assert m.training_step(batch, 0).item() < 0.5 * first


def test_generate_with_a_root_frame_model(tmp_path):
    from choreogen.tasks.skeleton import generate_skeleton
    from choreogen.tasks.skeleton.generate import SkelGen, save_skelgen

    sr = 22050
    t = np.arange(4 * sr) / sr
    sf.write(tmp_path / "s.wav", (0.3 * np.sin(2 * np.pi * 220 * t) * (t * 2 % 1 < 0.1)).astype(np.float32), sr)
    torch.manual_seed(0)
    vae = SkeletonVAE(SkeletonVAEConfig(num_joints=25, dim=3, d_model=16, n_heads=2, temporal_layers=1,
                                        decoder_layers=1, latent_dim=4, max_frames=16, residual=False))
    den = DanceDenoiser(DenoiserConfig(motion_dim=4, music_dim=35, d_model=16, n_layers=1, n_heads=2, dropout=0.0))
    torch.nn.init.normal_(den.out.weight, std=0.3)
    stats = {"music_mean": torch.zeros(35), "music_std": torch.ones(35) * 5,
             "latent_mean": torch.zeros(4), "latent_std": torch.ones(4)}
    info = {"skeleton": "smpl24", "dim": 3, "fps": 30.0, "window": 16, "overlap": 8, "music_kind": "baseline35",
            "num_steps": 100, "schedule": "cosine", "guidance": 2.0, "frame": "root", "inpaint": True}
    ck = save_skelgen(SkelGen(vae.eval(), den.eval(), stats, info), tmp_path / "g.safetensors")
    m = generate_skeleton(tmp_path / "s.wav", model="skeleton3d", seed=1, steps=4, checkpoint=ck)
    assert m.joints.shape == (120, 24, 3) and np.isfinite(m.joints).all()
    assert abs(m.joints[..., 1].min()) < 1e-5
    again = generate_skeleton(tmp_path / "s.wav", model="skeleton3d", seed=1, steps=4, checkpoint=ck)
    assert np.array_equal(m.joints, again.joints)


def test_joint_smooth_removes_jitter_not_motion():
    from choreogen.tasks.skeleton.generate import smooth_joints

    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    track = np.stack([np.sin(2 * np.pi * 0.5 * t), 0.9 + 0 * t, 0.3 * t], -1)[:, None, :].repeat(3, 1)
    noisy = track + rng.normal(scale=0.01, size=track.shape)
    assert smooth_joints(noisy, 0.0) is noisy  # 0 = off
    out = smooth_joints(noisy, 1.0)
    acc = lambda a: np.abs(np.diff(a, 2, axis=0)).mean()  # noqa: E731
    assert acc(out) < 0.5 * acc(noisy)  # jitter (frame-to-frame noise) damped
    assert np.abs(out - track)[5:-5].max() < 0.02  # the 0.5 Hz motion and the travel are kept


def test_cli_train_skeleton_refuses_an_unknown_frame(run_cli, tmp_path):
    out = tmp_path / "run"
    code, _, err = run_cli(["train-skeleton", "--layout", "smpl24", "--data", tmp_path, "--out", out, "--frame", "centre"])
    assert code == 2 and "frame must be 'window' or 'root'" in err and "Traceback" not in err
    assert not out.exists()
