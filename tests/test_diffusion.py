"""Diffusion room: schedule, DDIM/DDPM, guidance, inpainting, long-form stitching, denoiser."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.diffusion.sampler import ddim_sample, ddpm_sample, guided_denoiser, timestep_grid
from choreogen.diffusion.schedule import NoiseSchedule
from choreogen.tasks.dance3d.longform import LongformSampler, WindowPlan
from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig
from choreogen.motion.representation import Normalizer


def test_cosine_schedule_properties():
    s = NoiseSchedule(1000)
    ab = s.alpha_bar
    assert ab.shape == (1000,)
    assert (ab[1:] < ab[:-1]).all() and 0 < ab[-1] < 1e-3 and ab[0] > 0.99
    x0 = torch.ones(20000, 1)
    g = torch.Generator().manual_seed(0)
    xt = s.q_sample(x0, torch.full((20000,), 500), torch.randn(20000, 1, generator=g))
    assert xt.mean().item() == pytest.approx(ab[500].sqrt().item(), abs=0.02)
    assert xt.std().item() == pytest.approx((1 - ab[500]).sqrt().item(), abs=0.02)


def test_timestep_grid():
    assert timestep_grid(1000, 1) == [999]
    g = timestep_grid(1000, 50)
    assert g[0] == 999 and g[-1] == 0 and len(g) == 50 and all(a > b for a, b in zip(g, g[1:]))
    with pytest.raises(ValueError):
        timestep_grid(1000, 0)


@pytest.mark.parametrize("steps", [1, 5, 50])
def test_ddim_with_oracle_returns_target(steps):
    target = torch.linspace(-1, 1, 30).reshape(1, 10, 3)
    out = ddim_sample(lambda x, t: target.expand_as(x), (2, 10, 3), NoiseSchedule(1000), steps=steps,
                      generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, target.expand(2, 10, 3), atol=1e-5)


def test_ddpm_with_oracle_returns_target():
    target = torch.full((1, 4, 2), 0.3)
    out = ddpm_sample(lambda x, t: target.expand_as(x), (1, 4, 2), NoiseSchedule(50),
                      generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out, target, atol=1e-5)


def test_inpainting_keeps_known_values():
    known = torch.randn(1, 8, 3, generator=torch.Generator().manual_seed(1))
    mask = torch.zeros(1, 8, 3)
    mask[:, :3] = 1
    out = ddim_sample(lambda x, t: torch.zeros_like(x), (1, 8, 3), NoiseSchedule(100), steps=10,
                      known=known, mask=mask, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out[:, :3], known[:, :3])
    assert torch.allclose(out[:, 3:], torch.zeros(1, 5, 3))


def test_guidance_formula():
    def model_fn(x, t, drop_cond, c):
        return torch.where(drop_cond[:, None], torch.zeros_like(x), c.expand_as(x))

    c = torch.full((2, 3), 2.0)
    x = torch.zeros(2, 3)
    t = torch.zeros(2, dtype=torch.long)
    assert torch.allclose(guided_denoiser(model_fn, {"c": c}, 1.0)(x, t), c)
    assert torch.allclose(guided_denoiser(model_fn, {"c": c}, 2.5)(x, t), 2.5 * c)
    assert torch.allclose(guided_denoiser(model_fn, {"c": c}, 0.0)(x, t), torch.zeros(2, 3))
    # an extra term w_g (cond - cond_g): cond 2, uncond 0, cond_g 0.5 -> 0 + 2 * 2 + 3 * 1.5
    extra = [(3.0, {"c": torch.full((2, 3), 0.5)})]
    assert torch.allclose(guided_denoiser(model_fn, {"c": c}, 2.0, extra=extra)(x, t), torch.full((2, 3), 8.5))
    assert torch.allclose(guided_denoiser(model_fn, {"c": c}, 1.0, extra=extra)(x, t), torch.full((2, 3), 6.5))


def test_drop_genre_share_and_seed():
    from choreogen.tasks.dance3d.module import drop_genre

    g = torch.arange(4).repeat(500)
    assert drop_genre(g, 0.0) is g and drop_genre(None, 0.5) is None
    a = drop_genre(g, 0.25, torch.Generator().manual_seed(1))
    b = drop_genre(g, 0.25, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and 0.2 < float((a == -1).float().mean()) < 0.3
    assert torch.equal(a[a >= 0], g[a >= 0])  # kept rows keep their genre


def _walker_denoiser(x, t):
    """Oracle: every window walks +0.1 m/frame along x starting at its local origin, and keeps
    the sampler's inpainting imposes the overlap and user constraints."""
    K, W, D = x.shape
    out = torch.zeros(K, W, D)
    out[..., 4] = 0.1 * torch.arange(W, dtype=torch.float32)
    return out / 100.0  # into the normalised space of Normalizer(-100, 100)


@pytest.mark.parametrize("total,batch", [(45, None), (100, 3), (20, None)])
def test_longform_chains_windows_without_seams(total, batch):
    D = 10
    norm = Normalizer(np.full(D, -100, np.float32), np.full(D, 100, np.float32))
    plan = WindowPlan(total=total, window=20, overlap=10)
    sampler = LongformSampler(lambda mus: _walker_denoiser, norm, NoiseSchedule(100), plan)
    out = sampler.sample(torch.zeros(plan.padded, 3), steps=4, generator=torch.Generator().manual_seed(0), batch=batch)
    assert out.shape == (total, D)
    # a single global walk: root x = 0.1 * frame everywhere, across all window seams and chunks
    assert torch.allclose(out[:, 4], 0.1 * torch.arange(total, dtype=torch.float32), atol=1e-3)


def _disagreeing_factory(stride):
    """Oracle whose window k holds the constant k in channel 7 (music channel 0 = frame index)."""
    def factory(mus):
        k = (mus[:, 0, 0] / stride).round()

        def denoise(x, t):
            out = torch.zeros(x.shape)
            out[..., 7] = k[:, None]
            return out / 100.0
        return denoise
    return factory


@pytest.mark.parametrize("taper,limit", [(0, None), (None, 0.25)])
def test_longform_soft_overlap_removes_the_step_where_windows_disagree(taper, limit):
    """Windows that disagree (window k says k) are joined by a ramp with the soft overlap
    constraint; a hard constraint leaves a unit step at the end of every overlap."""
    D = 10
    norm = Normalizer(np.full(D, -100, np.float32), np.full(D, 100, np.float32))
    plan = WindowPlan(total=120, window=40, overlap=20)
    music = torch.arange(plan.padded, dtype=torch.float32)[:, None].repeat(1, 3)
    sampler = LongformSampler(_disagreeing_factory(plan.stride), norm, NoiseSchedule(100), plan, taper=taper)
    out = sampler.sample(music, steps=4, generator=torch.Generator().manual_seed(0))
    step = out[1:, 7].sub(out[:-1, 7]).abs().max().item()
    assert out[-1, 7].item() == pytest.approx(plan.n_windows - 1, abs=1e-3)  # still ends on the last window
    if limit is None:
        assert step > 0.9
    else:
        assert step < limit


def test_longform_user_constraint_sets_global_position():
    D = 10
    norm = Normalizer(np.full(D, -100, np.float32), np.full(D, 100, np.float32))
    plan = WindowPlan(total=40, window=20, overlap=10)
    known = torch.zeros(plan.padded, D)
    mask = torch.zeros(plan.padded, D)
    known[:, 4] = 5.0 + 0.1 * torch.arange(plan.padded)  # the reference dancer starts at x = 5 m
    known[:, 6] = -2.0
    mask[:5] = 1
    sampler = LongformSampler(lambda mus: _walker_denoiser, norm, NoiseSchedule(100), plan, known, mask)
    out = sampler.sample(torch.zeros(plan.padded, 3), steps=4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(out[:5, 4], known[:5, 4], atol=1e-3)
    assert torch.allclose(out[:, 4], 5.0 + 0.1 * torch.arange(40, dtype=torch.float32), atol=1e-3)
    assert torch.allclose(out[:, 6], torch.full((40,), -2.0), atol=1e-3)


def test_window_plan_counts():
    p = WindowPlan(total=900, window=150, overlap=76)
    assert p.stride == 74 and p.padded >= 900 and p.padded - p.stride < 900
    assert WindowPlan(total=10, window=150, overlap=74).n_windows == 1


def test_denoiser_shapes_condition_and_null():
    cfg = DenoiserConfig(motion_dim=12, music_dim=5, d_model=32, n_layers=2, n_heads=4, patch=2, n_genres=3, dropout=0.0)
    m = DanceDenoiser(cfg).eval()
    torch.manual_seed(0)
    for p in m.parameters():  # the output layer starts at zero; perturb everything to test routing
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(2, 8, 12)
    t = torch.tensor([5, 900])
    mus = torch.randn(2, 8, 5)
    y = m(x, t, music=mus, genre=torch.tensor([0, 2]))
    assert y.shape == (2, 8, 12)
    # music matters when conditioned, not when dropped
    y2 = m(x, t, music=mus + 1, genre=torch.tensor([0, 2]))
    assert (y - y2).abs().max() > 1e-3
    d = torch.ones(2, dtype=torch.bool)
    a = m(x, t, music=mus, genre=torch.tensor([0, 2]), drop_cond=d)
    b = m(x, t, music=mus + 1, genre=torch.tensor([1, 1]), drop_cond=d)
    assert torch.allclose(a, b, atol=1e-6)
    with pytest.raises(ValueError, match="patch"):
        m(torch.randn(1, 7, 12), t[:1], music=torch.randn(1, 7, 5))


def test_tiny_denoiser_learns():
    """A tiny model fits a fixed x0 from noisy inputs: the x0 loss must drop by 5x."""
    torch.manual_seed(0)
    cfg = DenoiserConfig(motion_dim=6, music_dim=2, d_model=32, n_layers=1, n_heads=2, patch=2, dropout=0.0)
    m = DanceDenoiser(cfg)
    s = NoiseSchedule(100)
    x0 = torch.sin(torch.linspace(0, 6, 16))[None, :, None].repeat(8, 1, 6)
    opt = torch.optim.Adam(m.parameters(), 3e-3)
    losses = []
    for _ in range(150):
        t = torch.randint(0, 100, (8,))
        xt = s.q_sample(x0, t, torch.randn_like(x0))
        loss = ((m(xt, t, music=torch.zeros(8, 16, 2)) - x0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) / 5


def test_containment_keeps_long_drift_on_stage_with_little_sliding():
    from choreogen.tasks.dance3d.postprocess import containment_shift

    fps = 30
    t = np.arange(fps * 600) / fps  # 10 minutes drifting 5 cm/s plus local motion
    xz = np.stack([0.05 * t + 0.5 * np.sin(t), 0.3 * np.cos(0.7 * t) - 0.3], 1)
    s = containment_shift(xz, 4.0, fps)
    r = np.linalg.norm(xz - s, axis=1)
    assert r.max() < 4.2  # was 30 m
    assert np.abs(np.diff(s, axis=0)).max() < 0.015  # correction speed stays around the drift speed
    assert np.abs(s[:fps * 30]).max() == 0.0  # untouched while inside the stage
    assert not containment_shift(xz[: fps * 20], 4.0, fps).any()


def test_preconditioning_identity_at_low_noise_and_scale_at_high():
    from choreogen.diffusion.precond import precondition

    s = NoiseSchedule(1000)
    x = torch.randn(3, 5, 2)
    zero = torch.zeros_like(x)
    lo = precondition(zero, x, torch.zeros(3, dtype=torch.long), s, 0.5)
    assert torch.allclose(lo, x, atol=1e-3)  # nearly noiseless input is returned as is
    hi = precondition(torch.ones_like(x), x, torch.full((3,), 999), s, 0.5)
    assert torch.allclose(hi, torch.full_like(x, 0.5), atol=0.02)  # pure noise: sigma_data * F
    assert torch.equal(precondition(x, zero, torch.zeros(3, dtype=torch.long), s, 0.0), x)  # off


def test_foot_lock_removes_root_drift_from_planted_feet(tang_dir):
    """A real dance with an added 0.5 m/s root slide: lock_feet takes the slide out of planted feet."""
    from choreogen.tasks.dance3d.postprocess import lock_feet
    from choreogen.motion import get_skeleton
    from choreogen.io import load_motion
    from choreogen.motion.representation import foot_contacts

    sk = get_skeleton("smpl24")
    m = load_motion(tang_dir / "DANCE_W_1.npz").resample(30).canonical().slice(0, 300)
    contacts = foot_contacts(m.positions(), sk)  # EDGE labels of the clean dance
    idx = sk.foot_indices()

    def planted_speed(mm):
        f = mm.positions()[:, idx]
        v = np.linalg.norm(np.diff(f[..., [0, 2]], axis=0), axis=-1) * 30
        on = (contacts[1:] > 0.5) & (contacts[:-1] > 0.5)
        return float(v[on].mean())

    drift = m.copy()
    slide = np.stack([0.5 * np.arange(300) / 30, np.zeros(300)], 1).astype(np.float32)
    drift.joints = m.positions().copy()
    drift.joints[..., 0] += slide[:, None, 0]
    drift.trans[:, 0] += slide[:, 0]
    clean, slid = planted_speed(m), planted_speed(drift)
    assert slid > clean + 0.4
    fixed = lock_feet(drift, contacts)
    assert planted_speed(fixed) < clean + 0.05  # the slide is gone from the planted feet
    assert planted_speed(fixed) < 0.5 * slid
    # poses are untouched: root-relative joints identical, only the root path changed
    rel = lambda mm: mm.positions() - mm.positions()[:, :1]
    np.testing.assert_allclose(rel(fixed), rel(drift), atol=1e-5)
    np.testing.assert_array_equal(fixed.poses, drift.poses)
    assert fixed.meta["foot_lock"] is True


def test_cached_music_keys_values_give_the_same_prediction():
    """memory_kv (computed once per window batch) == recomputing from the music tokens."""
    from choreogen.models.denoiser import DanceDenoiser, DenoiserConfig

    torch.manual_seed(0)
    m = DanceDenoiser(DenoiserConfig(motion_dim=12, music_dim=5, d_model=32, n_layers=2, n_heads=2, n_genres=3)).eval()
    for p in m.parameters():  # zero-initialised output/FiLM layers would make every path equal
        torch.nn.init.normal_(p, std=0.2)
    x = torch.randn(3, 8, 12)
    t = torch.tensor([5, 500, 999])
    g = torch.tensor([0, 2, -1])
    with torch.no_grad():
        tok = m.encode_music(torch.randn(3, 8, 5))
        drop = torch.tensor([False, True, False])
        ref = m(x, t, genre=g, drop_cond=drop, music_tokens=tok)
        null = m.null_music.expand_as(tok)
        kv = m.memory_kv(torch.where(drop[:, None, None], null, tok))
        got = m(x, t, genre=g, drop_cond=drop, music_kv=kv)
        other = m(x, t, genre=g, music_tokens=tok)  # without dropping row 1: must differ
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    assert (other[1] - ref[1]).abs().max() > 1e-3
    torch.testing.assert_close(other[0], ref[0], atol=1e-5, rtol=1e-5)


def test_out_smooth_starts_as_identity_then_filters_across_patch_borders():
    torch.manual_seed(0)
    base = DenoiserConfig(motion_dim=6, music_dim=3, d_model=16, n_layers=1, n_heads=2, patch=5, dropout=0.0)
    a = DanceDenoiser(base).eval()
    for p in a.parameters():
        torch.nn.init.normal_(p, std=0.2)
    from dataclasses import replace as _r
    b = DanceDenoiser(_r(base, out_smooth=5)).eval()
    missing, _ = b.load_state_dict(a.state_dict(), strict=False)
    assert sorted(missing) == ["smooth.bias", "smooth.weight"]
    x, t, mus = torch.randn(2, 20, 6), torch.tensor([3, 500]), torch.randn(2, 20, 3)
    with torch.no_grad():
        ya = a(x, t, music=mus)
        torch.testing.assert_close(b(x, t, music=mus), ya)  # zero-initialised residual: identity
        b.smooth.weight.fill_(0.2)
        b.smooth.weight[:, :, 2] -= 1.0  # residual kernel = 5-tap box - identity: a moving average
        yb = b(x, t, music=mus)
    step = lambda y: (y[:, 5::5] - y[:, 4:-1:5]).abs().mean()  # jumps across patch borders
    assert step(yb) < 0.6 * step(ya)
    with pytest.raises(ValueError, match="odd"):
        DanceDenoiser(_r(base, out_smooth=4))


def test_fkvel_loss_term_is_zero_for_the_truth_and_grows_with_jitter():
    from choreogen.diffusion.losses import motion_loss_terms
    from choreogen.motion.skeleton import get_skeleton

    D = 151
    norm = Normalizer(np.full(D, -1, np.float32), np.full(D, 1, np.float32))
    x = torch.zeros(1, 30, D)
    x[..., 7::6] = 1.0  # identity 6D rotations: first columns (1,0,0), second (0,1,0)
    x[..., 11::6] = 1.0
    sk = get_skeleton("smpl24")
    assert motion_loss_terms(x, x, norm, sk)["fkvel"].item() == pytest.approx(0.0, abs=1e-10)
    y = x.clone()
    y[:, 1::2, 4] += 0.01  # 1 cm root steps every other frame -> 0.3 m/s x-velocity errors, (0.3^2)/3 per coordinate
    small = motion_loss_terms(y, x, norm, sk)["fkvel"].item()
    y[:, 1::2, 4] += 0.01
    assert small == pytest.approx(0.03, rel=0.05) and motion_loss_terms(y, x, norm, sk)["fkvel"].item() > 3.5 * small
