"""Latent flows for a whole song: the flow diffusion model over overlapping windows.

:func:`sample_flows` (photo latent z (C, h, w), music features (T, Dm) at 10 fps) -> (T, 3, h, w)
un-normalised flow x, flow y (normalised image units) and occlusion in [0, 1]. Windows of
``window`` frames (40 = 4 s) overlapping by ``overlap`` (default 10 = 1 s) go through
:class:`choreogen.diffusion.windows.LongformSampler`: each window's overlap is inpainted from the
previous window's current prediction at every DDIM step, then the windows are cross-faded. Flows
are all relative to the same photo, so there are no positional columns to chain. The denoiser is
:func:`choreogen.diffusion.sampler.guided_denoiser` over {ref latent, music} with classifier-free
guidance ``guidance`` on the music (the reference is kept in the unconditional rows).
"""
from __future__ import annotations

import numpy as np
import torch

from ...audio.features import fit_length
from ...diffusion.sampler import guided_denoiser
from ...diffusion.schedule import NoiseSchedule
from ...diffusion.windows import LongformSampler, WindowPlan
from .checkpoint import FlowGen


class _Norm:
    """Flattened (.., 3*h*w) windows <-> normalised, per channel (flow x, flow y, occlusion)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, hw: tuple[int, int]):
        n = hw[0] * hw[1]
        self.mean, self.std = mean.repeat_interleave(n), std.repeat_interleave(n)

    def normalize(self, x):
        return (x - self.mean) / self.std

    def denormalize(self, x):
        return x * self.std + self.mean


def plan_for(total: int, window: int = 40, overlap: int = 10) -> WindowPlan:
    if not 0 <= overlap < window:
        raise ValueError(f"overlap must be in [0, {window - 1}], got {overlap}")
    return WindowPlan(int(total), int(window), int(overlap))


def make_sampler(gen: FlowGen, z: torch.Tensor, T: int, guidance: float | None = None, overlap: int = 10,
                 inpaint: bool = True) -> LongformSampler:
    """The :class:`LongformSampler` of ``gen`` for a photo latent z (C, h, w) and T frames."""
    info, st = gen.info, gen.stats
    guidance = float(info.get("guidance", 2.0) if guidance is None else guidance)
    h, w = z.shape[-2:]
    plan = plan_for(T, int(info.get("window", 40)), overlap)
    model = gen.model

    def model_fn(x, t, drop_cond, ref, music):
        K, N, _ = x.shape
        return model(x.reshape(K, N, 3, h, w), t, ref, music, drop_cond=drop_cond).reshape(K, N, -1)

    def factory(cw):
        K = cw.shape[0]
        return guided_denoiser(model_fn, {"ref": z[None].expand(K, -1, -1, -1), "music": cw}, guidance)

    sched = NoiseSchedule(int(info.get("num_steps", 1000)), info.get("schedule", "cosine"))
    return LongformSampler(factory, sched, plan, 3 * h * w, normalizer=_Norm(st["flow_mean"], st["flow_std"], (h, w)),
                           inpaint=inpaint)


def music_cond(gen: FlowGen, music: np.ndarray, padded: int) -> torch.Tensor:
    """(T, Dm) raw features -> (padded, Dm) normalised (the last frame repeated)."""
    mus = fit_length(np.asarray(music, np.float32), padded)
    return (torch.from_numpy(mus) - gen.stats["music_mean"]) / gen.stats["music_std"]


@torch.no_grad()
def sample_flows(gen: FlowGen, z: torch.Tensor, music: np.ndarray, seed: int = 0, steps: int | None = None,
                 guidance: float | None = None, overlap: int = 10, batch: int = 8, inpaint: bool = True,
                 progress=None) -> torch.Tensor:
    """See module doc. z (C, h, w) float32, music (T, Dm) raw features -> (T, 3, h, w) float32."""
    T = len(music)
    h, w = z.shape[-2:]
    sampler = make_sampler(gen, z, T, guidance, overlap, inpaint)
    cond = music_cond(gen, music, sampler.plan.padded)
    steps = int(steps or gen.info.get("sample_steps", 25))
    g = torch.Generator().manual_seed(int(seed))
    out = sampler.sample(cond, steps, g, batch=batch, progress=progress).reshape(T, 3, h, w).float()
    out[:, 2] = out[:, 2].clamp(0, 1)
    return out
