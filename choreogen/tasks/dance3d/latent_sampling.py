"""Long-form sampling for latent generators (checkpoint config with ``ae``): windows of latents.

The song's frame plan (30 fps, window W frames, overlap O frames, both multiples of the
autoencoder factor f) becomes a latent plan (W / f tokens, O / f overlap); the diffusion room's
:class:`~choreogen.diffusion.windows.LongformSampler` denoises the latent windows together with
overlap inpainting (no positional columns: the autoencoder codes the root as a velocity, so a
latent does not depend on where its window starts) and cross-fades them into one latent track of
the whole song, which the convolutional decoder turns into per-frame features in one pass (no
window seams in the decoded motion). The root is integrated from its velocity.

The autoencoder does not reproduce the capture's frame-wise 0/1 contact labels (they come out near
their mean), so the contacts the foot lock uses are re-derived from the decoded motion itself
(:func:`contacts_from_motion`: a foot joint low above its own lowest height and slow).

Editing constraints (known features + mask, EDGE space) are imposed through the autoencoder: after
every denoising step the predicted latents are decoded, the given features replace the generated
ones where the mask says so, and the result is encoded again (a projection onto latents whose
decoding honours the constraint); the given values are restored exactly after decoding.
"""
from __future__ import annotations

import numpy as np
import torch

from ...diffusion.windows import LongformSampler, WindowPlan
from ...motion.representation import N_CONTACT, root_from_velocity, root_to_velocity


def latent_plan(frame_plan: WindowPlan, factor: int) -> WindowPlan:
    """Frame window plan (window, overlap, custom starts multiples of ``factor``) -> the latent plan."""
    total = -(-frame_plan.total // factor)
    starts = None
    if frame_plan.custom_starts is not None:
        starts = tuple(sorted({int(s) // factor for s in frame_plan.custom_starts}))
    return WindowPlan(total=total, window=frame_plan.window // factor, overlap=frame_plan.overlap // factor,
                      custom_starts=starts)


def decode_latents(gen, z: torch.Tensor, origin: torch.Tensor | None = None) -> torch.Tensor:
    """(..., N, C) standardised latents -> (..., N * factor, D) EDGE features (root integrated from ``origin``)."""
    lat = gen.latent_normalizer.denormalize(z)
    with torch.no_grad():
        v = gen.ae.decode(lat.reshape(-1, *lat.shape[-2:])).reshape(*lat.shape[:-2], -1, gen.ae.cfg.motion_dim)
    return root_from_velocity(gen.normalizer.denormalize(v), gen.config.fps, origin)


def encode_features(gen, feats: torch.Tensor) -> torch.Tensor:
    """(K, T, D) EDGE features -> (K, T / factor, C) standardised latents."""
    with torch.no_grad():
        z = gen.ae.encode(gen.normalizer.normalize(root_to_velocity(feats, gen.config.fps)))
    return gen.latent_normalizer.normalize(z)


ROOT_XZ = [4, 6]


def anchor_root(x: torch.Tensor, known: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(K, T, D) features whose root x/z was integrated from 0 -> root moved onto the known positions.

    The offset known - generated is taken at the frames where the root is given and interpolated
    linearly over the frames where it is not (held constant before the first / after the last), so
    generated stretches join the given ones without a jump. Rows with no given root are unchanged."""
    x = x.clone()
    T = x.shape[1]
    f = np.arange(T)
    for k in range(x.shape[0]):
        for c in ROOT_XZ:
            m = mask[k, :T, c].cpu().numpy() > 0.5
            if not m.any():
                continue
            d = (known[k, :T, c] - x[k, :, c]).cpu().numpy()
            x[k, :, c] += torch.as_tensor(np.interp(f, f[m], d[m]), dtype=x.dtype)
    return x


def contacts_from_motion(feats: torch.Tensor, skeleton: str, fps: float, rise: float = 0.04,
                         max_speed: float = 0.6) -> torch.Tensor:
    """(T, D) EDGE features -> (T, 4) contacts in {0, 1} of (left ankle, right ankle, left toe, right toe):
    1 where the joint is within ``rise`` metres of its own 5th-percentile height in this dance and moves
    slower than ``max_speed`` m/s horizontally."""
    from ...motion.representation import decode
    from ...motion.skeleton import get_skeleton

    sk = get_skeleton(skeleton)
    with torch.no_grad():
        j = decode(feats.double(), sk)["joints"][:, sk.foot_indices()]  # (T, 4, 3)
    h = j[..., 1]
    low = h < torch.quantile(h, 0.05, dim=0, keepdim=True) + rise
    v = (j[1:, :, [0, 2]] - j[:-1, :, [0, 2]]).norm(dim=-1) * fps
    slow = torch.cat([v, v[-1:]], dim=0) < max_speed
    return (low & slow).to(feats.dtype)


def _projector(gen, denoise, known_w: torch.Tensor, mask_w: torch.Tensor):
    """denoise(x_t, t) -> x0 latents projected so that their decoding keeps the known features."""
    f = gen.ae.cfg.factor

    def wrapped(x_t, t):
        z0 = denoise(x_t, t)
        K, N = z0.shape[:2]
        x = anchor_root(decode_latents(gen, z0)[:, : N * f], known_w[:K], mask_w[:K])
        x = mask_w[:K] * known_w[:K] + (1 - mask_w[:K]) * x
        return encode_features(gen, x)

    return wrapped


def sample_latent_track(gen, factory, frame_plan: WindowPlan, music: torch.Tensor, steps: int,
                        generator: torch.Generator, batch, progress, eta: float,
                        known: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                        hop: int | None = None) -> torch.Tensor:
    """music (frame_plan.padded, Da) -> EDGE features (frame_plan.total, D), global root.

    ``known``/``mask``: optional (frame_plan.padded, D) editing constraint in global coordinates.
    ``hop``: joint sampling (:class:`~choreogen.diffusion.joint.JointSampler`) with windows every ``hop``
    latent tokens instead of sequential windows with overlap inpainting (the plan's overlap is then unused)."""
    f = gen.ae.cfg.factor
    if hop is not None:
        return _sample_joint(gen, factory, frame_plan, music, steps, generator, batch, progress, eta, known, mask, hop)
    plan = latent_plan(frame_plan, f)
    n = plan.padded * f
    mus = music[:n] if music.shape[0] >= n else torch.cat([music, music[-1:].expand(n - music.shape[0], -1)])
    mus = mus.reshape(plan.padded, f * music.shape[-1])
    use = factory
    if known is not None:
        kn = known[:n] if known.shape[0] >= n else torch.cat([known, torch.zeros(n - known.shape[0], known.shape[1])])
        mk = mask[:n] if mask.shape[0] >= n else torch.cat([mask, torch.zeros(n - mask.shape[0], mask.shape[1])])
        W = plan.window * f

        def use(mus_windows, _state={"k": 0}):
            # the windows of this chunk: the sampler calls the factory once per chunk, in order
            K = mus_windows.shape[0]
            ks = range(_state["k"], _state["k"] + K)
            _state["k"] += K
            kw = torch.stack([kn[plan.start(k) * f: plan.start(k) * f + W] for k in ks]).clone()
            mw = torch.stack([mk[plan.start(k) * f: plan.start(k) * f + W] for k in ks])
            return _projector(gen, factory(mus_windows), kw, mw)

    sampler = LongformSampler(use, _schedule(gen), plan, dims=gen.config.model.motion_dim, inpaint=True)
    z = sampler.sample(mus, steps=steps, generator=generator, batch=batch, progress=progress, eta=eta)
    return _finish(gen, z, known, mask, frame_plan.total)


def _pad_rows(x: torch.Tensor, n: int, zeros: bool = False) -> torch.Tensor:
    if x.shape[0] >= n:
        return x[:n]
    fill = torch.zeros(n - x.shape[0], x.shape[1], dtype=x.dtype) if zeros else x[-1:].expand(n - x.shape[0], -1)
    return torch.cat([x, fill])


def _finish(gen, z: torch.Tensor, known, mask, total: int) -> torch.Tensor:
    """(N, C) latents -> (total, D) features: decoded, contacts re-derived, constraints restored."""
    feats = decode_latents(gen, z[None].float())[0]
    feats[:, :N_CONTACT] = contacts_from_motion(feats, gen.config.skeleton, gen.config.fps)
    if known is not None:
        T = min(feats.shape[0], known.shape[0])
        feats = anchor_root(feats[None, :T], known[None, :T], mask[None, :T])[0]
        feats = mask[:T] * known[:T] + (1 - mask[:T]) * feats
    return feats[:total]


def _sample_joint(gen, factory, frame_plan, music, steps, generator, batch, progress, eta, known, mask, hop):
    """The whole song as one latent sequence, windows every ``hop`` tokens averaged at every step."""
    from ...diffusion.joint import JointSampler

    f = gen.ae.cfg.factor
    W = frame_plan.window // f
    N = -(-frame_plan.total // f)
    sampler = JointSampler(factory, _schedule(gen), N, W, hop, gen.config.model.motion_dim, batch=batch)
    n = sampler.padded * f
    mus = _pad_rows(music, n).reshape(sampler.padded, f * music.shape[-1])
    wrap = None
    if known is not None:
        kn, mk = _pad_rows(known, n, zeros=True)[None], _pad_rows(mask, n, zeros=True)[None]

        def wrap(denoise):
            def projected(x_t, t):  # decode -> impose the given features -> encode, on the whole song
                x = anchor_root(decode_latents(gen, denoise(x_t, t))[:, :n], kn, mk)
                return encode_features(gen, mk * kn + (1 - mk) * x)
            return projected
    prog = (lambda i, k: progress(i, k)) if progress else None
    z = sampler.sample(mus, steps=steps, generator=generator, eta=eta, wrap=wrap, progress=prog)
    return _finish(gen, z, known, mask, frame_plan.total)


def _schedule(gen):
    from ...diffusion.schedule import NoiseSchedule

    return NoiseSchedule(gen.config.diffusion.num_steps, gen.config.diffusion.schedule)


__all__ = ["latent_plan", "decode_latents", "encode_features", "sample_latent_track", "np"]
