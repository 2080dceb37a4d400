"""Damage simulation, baselines, the repair VAE (tiny), masked losses and checkpoints."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig, kl_divergence, masked_recon_loss
from choreogen.motion.skeleton import get_skeleton
from choreogen.tasks.skeleton import baselines, damage


def _walk(T=60, J=17, D=2, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None]
    base = rng.normal(size=(1, J, D)) * 50
    return (base + 20 * np.sin(0.1 * t + rng.uniform(0, 6, size=(1, J, D)))).astype(np.float64)


def test_joint_groups_partition_every_layout():
    for name in ("coco17", "body25", "openpose137", "mediapipe33", "smpl24"):
        sk = get_skeleton(name)
        g = damage.joint_groups(sk)
        allj = np.sort(np.concatenate(list(g.values())))
        assert np.array_equal(allj, np.arange(sk.num_joints)), name
        assert {"left_arm", "right_arm", "left_leg", "right_leg", "head"} <= set(g), name
    g = damage.joint_groups(get_skeleton("coco17"))
    assert list(g["left_leg"]) == [11, 13, 15] and list(g["head"]) == [0, 1, 2, 3, 4]


def test_drop_random_exact_rate_and_only_present():
    rng = np.random.default_rng(0)
    present = np.ones((100, 17), bool)
    present[:, 0] = False
    out = damage.drop_random(present, 0.15, rng)
    assert (present.sum() - out.sum()) == round(0.15 * present.sum())
    assert not (out & ~present).any()


def test_drop_frame_runs_hides_whole_frames_in_runs():
    rng = np.random.default_rng(1)
    out = damage.drop_frame_runs(np.ones((200, 17), bool), 0.2, 10, rng)
    empty = ~out.any(1)
    assert empty.sum() == 40 and not empty[0] and not empty[-1]
    starts = np.flatnonzero(np.diff(empty.astype(int)) == 1)
    assert len(starts) == 4  # four separate 10-frame runs


def test_swap_left_right_is_the_mirror_permutation():
    sk = get_skeleton("coco17")
    x = _walk()
    out, sw = damage.swap_left_right(x, sk, 1, 5, np.random.default_rng(2))
    assert 1 <= sw.sum() <= 5
    np.testing.assert_array_equal(out[sw][:, 5], x[sw][:, 6])  # left shoulder <- right shoulder
    np.testing.assert_array_equal(out[~sw], x[~sw])


def test_leave_frame_removes_joints_beyond_a_border_only():
    rng = np.random.default_rng(3)
    x = _walk()
    for _ in range(10):
        out = damage.leave_frame(x, np.ones(x.shape[:2], bool), 20, rng)
        lost = ~out
        assert lost.any()
        rows = np.flatnonzero(lost.any(1))
        assert rows.max() - rows.min() < 20  # one run


def test_simulate_damages_and_zeroes_hidden():
    sk = get_skeleton("coco17")
    x = _walk(T=64)
    valid = np.ones(x.shape[:2], bool)
    valid[:, 3] = False
    dx, obs = damage.simulate(x, valid, sk, np.random.default_rng(4))
    assert dx.shape == x.shape and dx.dtype == np.float32
    assert not obs[:, 3].any() and obs.sum() < valid.sum()
    assert np.all(dx[~obs] == 0)


def test_body_scale_is_vertical_extent():
    x = np.zeros((10, 3, 2))
    x[:, 1, 1] = 100.0
    x[:, 2, 1] = 40.0
    assert damage.body_scale(x) == pytest.approx(100.0)


def test_linear_interpolation_is_exact_on_linear_motion():
    T = 30
    t = np.arange(T, dtype=np.float64)
    x = np.stack([np.stack([2 * t + j, -t + 3 * j], -1) for j in range(5)], 1)  # (T,5,2) linear in time
    present = np.ones((T, 5), bool)
    present[5:15, 2] = False
    present[20:25, :] = False
    out = baselines.interpolate_linear(np.where(present[..., None], x, 0), present)
    np.testing.assert_allclose(out, x, atol=1e-9)


def test_interpolation_holds_ends_and_fills_never_seen_joint():
    x = _walk(T=20, J=4)
    present = np.ones((20, 4), bool)
    present[:3, 0] = False
    present[:, 1] = False
    out = baselines.interpolate_linear(x, present)
    np.testing.assert_allclose(out[:3, 0], np.repeat(x[3:4, 0], 3, 0))
    np.testing.assert_allclose(out[:, 1], x[:, [0, 2, 3]].mean(1) * 0 + out[:, 1])  # finite
    assert np.isfinite(out).all()


def test_savgol_removes_jitter():
    rng = np.random.default_rng(5)
    x = _walk(T=120)
    noisy = x + rng.normal(0, 2.0, x.shape)
    present = np.ones(x.shape[:2], bool)
    sm = baselines.savgol_smooth(noisy, present)
    assert np.abs(sm - x).mean() < 0.7 * np.abs(noisy - x).mean()


def _tiny(masking=True, J=5, D=2, d=16, latent=4, residual=True):
    torch.manual_seed(0)
    return SkeletonVAE(SkeletonVAEConfig(num_joints=J, dim=D, d_model=d, n_heads=2, spatial_layers=1,
                                         temporal_layers=1, decoder_layers=1, latent_dim=latent, max_frames=16,
                                         masking=masking, residual=residual))


def test_vae_shapes_and_missing_joints_have_no_influence():
    m = _tiny().eval()
    x = torch.randn(2, 12, 5, 2)
    present = torch.ones(2, 12, 5, dtype=torch.bool)
    present[0, 3, 1] = False
    present[1, 4:6] = False  # two frames with nobody
    out = m(x, present, sample=False)
    assert out["recon"].shape == (2, 12, 5, 2) and out["mu"].shape == (2, 12, 4)
    assert torch.isfinite(out["recon"]).all()
    x2 = x.clone()
    x2[0, 3, 1] = 1e3  # garbage in a missing slot changes nothing
    x2[1, 4:6] = -1e3
    torch.testing.assert_close(m(x2, present, sample=False)["recon"], out["recon"])
    m2 = _tiny(masking=False).eval()  # without masking it is only zero-filled (eq. 6)
    torch.testing.assert_close(m2(x2, present, sample=False)["recon"], m2(x, present, sample=False)["recon"])
    m2_changed = m2(x, present.clone().fill_(True), sample=False)["recon"]
    assert not torch.allclose(m2_changed, m2(x, present, sample=False)["recon"])


def test_vae_all_missing_window_is_finite():
    m = _tiny().eval()
    out = m(torch.randn(1, 8, 5, 2), torch.zeros(1, 8, 5, dtype=torch.bool), sample=False)
    assert torch.isfinite(out["recon"]).all()


def test_masked_losses_known_values():
    r = torch.zeros(1, 2, 2)
    t = torch.tensor([[[3.0, 4.0], [1.0, 1.0]]])
    mask = torch.tensor([[True, False]])
    assert masked_recon_loss(r, t, mask, "mse").item() == pytest.approx(25.0)
    assert masked_recon_loss(r, t, mask, "l1").item() == pytest.approx(7.0)
    assert masked_recon_loss(r, t, torch.ones(1, 2, dtype=torch.bool), "l1").item() == pytest.approx(4.5)
    assert kl_divergence(torch.zeros(3, 4), torch.zeros(3, 4)).item() == pytest.approx(0.0)
    # KL of N(1, e^1) per channel: -0.5 (1 + 1 - 1 - e)
    assert kl_divergence(torch.ones(1, 2), torch.ones(1, 2)).item() == pytest.approx(2 * -0.5 * (1 - np.e), rel=1e-5)


def test_tiny_vae_learns_to_fill_missing_joints():
    """A few hundred steps on smooth synthetic motion: hidden joints get close to the truth."""
    torch.manual_seed(0)
    T, J = 12, 5
    t = torch.arange(T)[:, None, None].float()
    m = _tiny(d=32, latent=8, residual=False)  # the pure VAE (no interpolation reference)
    opt = torch.optim.AdamW(m.parameters(), 3e-3)

    def batch(n):
        ph = torch.rand(n, 1, J, 2) * 6
        x = 0.5 * torch.sin(0.3 * t + ph)
        present = torch.rand(n, T, J) > 0.2
        return x, present

    for _ in range(300):
        x, p = batch(32)
        out = m(x, p)
        loss = masked_recon_loss(out["recon"], x, torch.ones_like(p), "l1") + 1e-4 * kl_divergence(out["mu"], out["logvar"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    m.eval()
    x, p = batch(64)
    rec = m(x, p, sample=False)["recon"]
    err = (rec - x).norm(dim=-1)[~p].mean().item()
    baseline = x.norm(dim=-1)[~p].mean().item()  # predicting zero
    assert err < 0.5 * baseline


def test_residual_model_starts_as_linear_interpolation():
    m = _tiny().eval()
    x = torch.randn(2, 12, 5, 2, dtype=torch.float64).float()
    p = torch.rand(2, 12, 5) > 0.4
    p[:, 0] = p[:, -1] = True
    with torch.no_grad():
        rec = m(x, p, sample=False)["recon"].numpy()
    for b in range(2):
        ref = baselines.interpolate_linear(np.where(p[b, ..., None].numpy(), x[b].numpy(), 0), p[b].numpy())
        np.testing.assert_allclose(rec[b], ref, atol=1e-5)


def test_checkpoint_round_trip_and_bad_files(tmp_path):
    from choreogen.errors import InputError
    from choreogen.tasks.skeleton.checkpoint import load_vae, save_vae

    m = _tiny(residual=False).eval()
    p = save_vae(m, tmp_path / "m.safetensors", {"skeleton": "coco17"})
    m2, info = load_vae(p)
    assert info == {"skeleton": "coco17"} and m2.cfg == m.cfg
    x, pr = torch.randn(1, 6, 5, 2), torch.ones(1, 6, 5, dtype=torch.bool)
    torch.testing.assert_close(m2(x, pr, sample=False)["recon"], m(x, pr, sample=False)["recon"])
    (tmp_path / "bad.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="bad.safetensors"):
        load_vae(tmp_path / "bad.safetensors")
    with pytest.raises(InputError, match="not found"):
        load_vae(tmp_path / "none.safetensors")


def test_cubic_interpolation_beats_linear_on_smooth_motion_and_keeps_present():
    rng = np.random.default_rng(3)
    T = 90
    t = np.arange(T)[:, None, None]
    x = np.sin(0.15 * t + rng.uniform(0, 6, (1, 4, 2))) * rng.uniform(0.5, 2, (1, 4, 2))
    present = rng.random((T, 4)) > 0.25
    present[0] = present[-1] = True
    hid = ~present
    xin = np.where(present[..., None], x, 0.0)
    lin = baselines.interpolate_linear(xin, present)
    for method in ("akima", "makima", "pchip", "spline"):
        cub = baselines.interpolate_cubic(xin, present, method)
        np.testing.assert_array_equal(cub[present], x[present])
        e_cub = np.linalg.norm(cub - x, axis=-1)[hid].mean()
        e_lin = np.linalg.norm(lin - x, axis=-1)[hid].mean()
        assert e_cub < 0.5 * e_lin, method
    # exact on linear motion, linear hold at the ends, < 3 present frames -> linear
    y = np.broadcast_to(2.0 * t + 1.0, (T, 4, 2)).copy()
    p2 = present.copy()
    p2[:5, 1] = False
    p2[:, 2] = False
    p2[10, 2] = p2[50, 2] = True
    out = baselines.interpolate_cubic(np.where(p2[..., None], y, 0), p2)
    inside = ~p2 & (np.arange(T)[:, None] > 4)
    inside[:, 2] = False
    np.testing.assert_allclose(out[inside], y[inside], atol=1e-9)
    np.testing.assert_allclose(out[:5, 1], np.repeat(y[5:6, 1], 5, 0))
    np.testing.assert_allclose(out[:, 2], baselines.interpolate_linear(np.where(p2[..., None], y, 0), p2)[:, 2])
    with pytest.raises(ValueError):
        baselines.interpolate_cubic(y, p2, "quintic")


def test_weighted_masked_loss_known_value():
    r = torch.zeros(1, 2, 2)
    t = torch.tensor([[[3.0, 4.0], [1.0, 1.0]]])
    mask = torch.ones(1, 2, dtype=torch.bool)
    w = torch.tensor([[4.0, 1.0]])
    # (4 * 7 + 1 * 2) / 5
    assert masked_recon_loss(r, t, mask, "l1", weight=w).item() == pytest.approx(6.0)


def test_cubic_residual_model_starts_at_the_given_base_and_requires_it():
    torch.manual_seed(0)
    m = SkeletonVAE(SkeletonVAEConfig(num_joints=5, dim=2, d_model=16, n_heads=2, temporal_layers=1, decoder_layers=1,
                                      latent_dim=4, max_frames=16, base="cubic", out_scale=0.05)).eval()
    x = torch.randn(2, 12, 5, 2)
    p = torch.rand(2, 12, 5) > 0.4
    base = torch.randn(2, 12, 5, 2)
    with torch.no_grad():
        rec = m(x, p, sample=False, base=base)["recon"]
    torch.testing.assert_close(rec, torch.where(p[..., None], x, base))
    with pytest.raises(ValueError, match="base="):
        m(x, p, sample=False)
    with pytest.raises(ValueError, match="base must be"):
        SkeletonVAE(SkeletonVAEConfig(base="quadratic"))


def test_old_checkpoint_config_loads_as_linear_base():
    cfg = SkeletonVAEConfig.from_dict({"num_joints": 17, "dim": 2, "d_model": 32})  # written before base/out_scale
    assert cfg.base == "linear" and cfg.out_scale == 1.0


def test_damaged_windows_cubic_base_is_the_akima_fill_of_the_damaged_span():
    from choreogen.motion.skeleton import get_skeleton
    from choreogen.tasks.skeleton.damage import DamageConfig
    from choreogen.tasks.skeleton.data import DamagedWindows, Sequence

    j = _walk(T=200, J=17, D=2).astype(np.float32) + 300
    ds = DamagedWindows([Sequence(j, np.ones(j.shape[:2], bool), 30.0, "w")], get_skeleton("coco17"), 16, 8,
                        damage=DamageConfig(p_jitter=0.0, p_swap=0.0), seed=1, base="cubic", margin=8)
    e_base, e_lin = [], []
    for i in range(8):
        it = ds[i]
        p = it["present"].numpy()
        x = it["x"].numpy()
        assert it["base"].shape == it["x"].shape
        np.testing.assert_allclose(it["base"].numpy()[p], x[p], atol=1e-5)
        # without jitter the hidden joints of the base are the spline of the clean walk: closer
        # to the target than linear interpolation inside the window
        e_base += list(np.linalg.norm(it["base"].numpy() - it["target"].numpy(), axis=-1)[~p])
        e_lin += list(np.linalg.norm(baselines.interpolate_linear(x, p) - it["target"].numpy(), axis=-1)[~p])
    assert len(e_base) > 20 and np.mean(e_base) < 0.7 * np.mean(e_lin)


def test_finite_differences_known_values():
    from choreogen.models.skeleton_vae import _central_diff, _second_diff

    x = (torch.arange(6, dtype=torch.float32) ** 2).view(1, 6, 1)  # 0 1 4 9 16 25
    torch.testing.assert_close(_central_diff(x).flatten(), torch.tensor([1.0, 2, 4, 6, 8, 9]))
    torch.testing.assert_close(_second_diff(x).flatten(), torch.tensor([0.0, 2, 2, 2, 2, 0]))


def test_conditional_decoder_ignores_missing_slots_and_uses_the_reference():
    torch.manual_seed(0)
    cfg = SkeletonVAEConfig(num_joints=5, dim=2, d_model=16, n_heads=2, temporal_layers=1, decoder_layers=1,
                            latent_dim=4, max_frames=16, base="cubic", out_scale=0.05, cond_decoder=True,
                            parents=[-1, 0, 1, 0, 3], motion_features=True)
    m = SkeletonVAE(cfg).eval()
    x, base = torch.randn(2, 12, 5, 2), torch.randn(2, 12, 5, 2)
    p = torch.rand(2, 12, 5) > 0.4
    with torch.no_grad():
        torch.testing.assert_close(m(x, p, sample=False, base=base)["recon"], torch.where(p[..., None], x, base))
        m.head[-1].weight.normal_(0, 0.5)  # as if trained: the correction is no longer zero
        out = m(x, p, sample=False, base=base)["recon"]
        x2 = torch.where(p[..., None], x, torch.full_like(x, 1e3))
        torch.testing.assert_close(m(x2, p, sample=False, base=base)["recon"], out)
        assert not torch.allclose(m(x, p, sample=False, base=base + 0.1)["recon"], out)
    with pytest.raises(ValueError, match="cond_decoder"):
        SkeletonVAE(SkeletonVAEConfig(cond_decoder=True))


def test_no_mask_ablation_sees_only_zero_filled_observation():
    """The "w/o mask" ablation (Table 3) is never told what is missing: the cubic reference is not
    used and an untrained model returns M * X (eq. 6), whatever ``base`` holds."""
    torch.manual_seed(0)
    cfg = SkeletonVAEConfig(num_joints=5, dim=2, d_model=16, n_heads=2, temporal_layers=1, decoder_layers=1,
                            latent_dim=4, max_frames=16, base="cubic", out_scale=1.0, cond_decoder=True,
                            parents=[-1, 0, 1, 0, 3], masking=False)
    m = SkeletonVAE(cfg).eval()
    x = torch.randn(2, 12, 5, 2)
    p = torch.rand(2, 12, 5) > 0.4
    x = torch.where(p[..., None], x, torch.zeros(()))
    with torch.no_grad():
        a = m(x, p, sample=False, base=torch.randn(2, 12, 5, 2))["recon"]
        b = m(x, p, sample=False, base=torch.randn(2, 12, 5, 2))["recon"]
    torch.testing.assert_close(a, x)
    torch.testing.assert_close(a, b)
