"""Repair that uses the rest of the body (issue #13): properties on synthetic rigid bodies.

A "limb" rigidly attached to a torso that turns and travels: when the limb is hidden for many
frames, a spline over the limb's own track cannot know where the torso took it; the body carries
that information. Both the parameter-free body-frame spline and a tiny *learned* model (trained
here for a few seconds on an Akima reference, so the gain is learned) must beat the spline.
"""
from __future__ import annotations

import numpy as np
import torch

from choreogen.models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig, masked_recon_loss
from choreogen.tasks.skeleton import baselines
from choreogen.tasks.skeleton.repair import keep_body_3d

# 2D toy body: 0 root, 1-2 torso points, 3-4 a limb rigidly fixed to the torso
PARENTS = [-1, 0, 0, 1, 3]
SHAPE = np.array([[0.0, 0.0], [0.3, 0.0], [-0.1, 0.3], [0.6, 0.2], [0.8, 0.5]])


def _body(T: int, rng: np.random.Generator) -> np.ndarray:
    """(T, 5, 2): the rigid shape turned by a smooth random angle and moved along a smooth path."""
    t = np.arange(T) / 30.0
    f, ph = rng.uniform(0.3, 0.9), rng.uniform(0, 2 * np.pi)
    ang = 1.5 * np.sin(2 * np.pi * f * t + ph)
    pos = np.stack([0.5 * np.sin(2 * np.pi * 0.4 * f * t + ph), 0.3 * np.cos(2 * np.pi * 0.7 * f * t)], 1)
    c, s = np.cos(ang), np.sin(ang)
    R = np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (T, 2, 2)
    return np.einsum("tde,je->tjd", R, SHAPE) + pos[:, None]


def _hide_limb(T: int, a: int, b: int) -> np.ndarray:
    present = np.ones((T, 5), bool)
    present[a:b, 3:] = False
    return present


def test_body_frame_spline_follows_a_rigid_limb():
    rng = np.random.default_rng(0)
    x = _body(120, rng)
    present = _hide_limb(120, 30, 75)  # 1.5 s
    hid = ~present
    cub = baselines.interpolate_cubic(np.where(present[..., None], x, 0), present)
    body = baselines.interpolate_body(np.where(present[..., None], x, 0), present, PARENTS)
    e_cub = np.linalg.norm(cub - x, axis=-1)[hid].mean()
    e_body = np.linalg.norm(body - x, axis=-1)[hid].mean()
    assert e_body < 1e-6 < 0.05 < e_cub  # rigid: exact in the body frame; the spline cuts the corner
    np.testing.assert_array_equal(body[present], x[present])


def test_body_frame_spline_keeps_the_spline_without_anchors():
    rng = np.random.default_rng(1)
    x = _body(60, rng)
    present = np.ones((60, 5), bool)
    present[20:40] = False  # whole frames: nothing in the body to follow
    xin = np.where(present[..., None], x, 0)
    np.testing.assert_allclose(baselines.interpolate_body(xin, present, PARENTS),
                               baselines.interpolate_cubic(xin, present))


def test_body_frame_spline_falls_back_when_the_body_is_not_rigid():
    """Anchors bunched within a few mm with mm jitter give random rotations, which swing a hidden joint
    0.8 m away about them; their rigid fit leaves residuals as large as their spread, so the guard keeps
    the plain spline."""
    rng = np.random.default_rng(3)
    T = 90
    shape = np.array([[0.0, 0.0], [0.004, 0.0], [0.0, 0.004], [0.5, 0.4], [0.8, 0.6]])
    x = np.broadcast_to(shape, (T, 5, 2)).copy() + np.array([0.3, 0.1]) * (np.arange(T) / T)[:, None, None]
    x[:, :3] += rng.normal(0, 0.002, (T, 3, 2))  # jitter of the bunched anchors
    present = _hide_limb(T, 30, 60)
    xin = np.where(present[..., None], x, 0)
    cub = baselines.interpolate_cubic(xin, present)
    wild = baselines.interpolate_body(xin, present, PARENTS, max_misfit=np.inf)
    guarded = baselines.interpolate_body(xin, present, PARENTS)
    hid = ~present
    e = {k: np.linalg.norm(v - x, axis=-1)[hid].max() for k, v in (("cub", cub), ("wild", wild), ("guard", guarded))}
    assert e["wild"] > 0.3 and e["guard"] < 0.05, e  # unguarded: the limb flies off; guarded: the spline
    np.testing.assert_allclose(guarded[:, 3:], cub[:, 3:])


def test_learned_model_beats_the_spline_where_the_body_carries_the_limb():
    """A tiny conditional VAE over an *Akima* reference learns in 80 steps to put a long-hidden
    limb where the torso carried it: well below the spline's error on unseen bodies."""
    steps = 80
    torch.manual_seed(0)
    W, rng = 32, np.random.default_rng(0)
    cfg = SkeletonVAEConfig(num_joints=5, dim=2, d_model=16, n_heads=2, spatial_layers=1, temporal_layers=1,
                            decoder_layers=1, latent_dim=8, max_frames=W, base="cubic", out_scale=0.05,
                            cond_decoder=True, parents=PARENTS, long_scale=0.5)
    model = SkeletonVAE(cfg)
    opt = torch.optim.AdamW(model.parameters(), 3e-3)

    def batch(n, rng):
        xs, ps, bs = [], [], []
        for _ in range(n):
            x = _body(W, rng)
            a = int(rng.integers(2, 8))
            p = _hide_limb(W, a, a + int(rng.integers(14, 22)))
            xs.append(x), ps.append(p), bs.append(baselines.interpolate_cubic(np.where(p[..., None], x, 0), p))
        t = lambda v: torch.as_tensor(np.stack(v), dtype=torch.float32)  # noqa: E731
        return t(xs), torch.as_tensor(np.stack(ps)), t(bs)

    xs, ps, bs = batch(128, rng)  # a fixed pool of training windows
    for i in range(steps):
        k = torch.as_tensor(np.random.default_rng(i).choice(128, 16, replace=False))
        x, p, b = xs[k], ps[k], bs[k]
        out = model(torch.where(p[..., None], x, 0.0), p, sample=False, base=b)
        loss = masked_recon_loss(out["recon"], x, ~p, "l1")
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, p, b = batch(64, np.random.default_rng(123))
    with torch.no_grad():
        rec = model(torch.where(p[..., None], x, 0.0), p, sample=False, base=b)["recon"]
    hid = ~p
    e_model = (rec - x).norm(dim=-1)[hid].mean().item()
    e_spline = (b - x).norm(dim=-1)[hid].mean().item()
    assert e_model < 0.5 * e_spline, (e_model, e_spline)


def test_keep_body_3d_restores_bone_lengths_and_floor():
    rng = np.random.default_rng(2)
    T = 40
    parents = [-1, 0, 1]
    x = np.zeros((T, 3, 3))
    x[:, 0] = [0, 1.0, 0]
    x[:, 1] = x[:, 0] + [0.3, 0, 0]
    x[:, 2] = x[:, 1] + [0, -0.4, 0]
    present = np.ones((T, 3), bool)
    present[10:20, 1:] = False
    est = x + np.where(present[..., None], 0.0, rng.normal(0, 0.05, x.shape))
    est[15, 2, 1] = -0.5  # through the floor
    out = keep_body_3d(est, present, parents, floor=0.0, obs=x)
    np.testing.assert_array_equal(out[present], est[present])
    L1 = np.linalg.norm(out[:, 1] - out[:, 0], axis=-1)
    L2 = np.linalg.norm(out[:, 2] - out[:, 1], axis=-1)
    np.testing.assert_allclose(L1[10:20], 0.3, rtol=1e-9)
    assert (out[..., 1] >= 0).all() and abs(L2[[10, 11, 12, 13, 14, 16, 17, 18, 19]] - 0.4).max() < 1e-9
