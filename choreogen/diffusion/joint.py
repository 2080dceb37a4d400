"""Joint long-form sampling: the whole sequence is one diffusion state (MultiDiffusion, Bar-Tal et al. 2023).

A fixed-window denoiser (W tokens) is applied at every DDIM step to windows that start every ``hop``
tokens, and each token's x0 is the weighted mean of the predictions of the windows that hold it.
The weights taper towards a window's ends, where the window sees context on one side only (an
under-trained denoiser's edge predictions regress to the mean: slower motion there), so a token's
estimate comes mostly from windows in which it sits near the middle. Unlike sequential windows
joined by overlap inpainting (:mod:`.windows`), nothing restarts at a window border: with a small
hop the borders of different windows fall everywhere, and there is no period at the window stride.

Shapes: N tokens of the whole sequence (padded to at least W), D feature columns, Dc conditioning
columns per token; the task's tokens (latents of 6 frames at 30 fps for the latent generator).
Positions: none are shifted (the caller's features must not hold absolute positions).
"""
from __future__ import annotations

import math

import torch

from .sampler import ddim_sample
from .schedule import NoiseSchedule


def joint_starts(total: int, window: int, hop: int) -> list[int]:
    """Start tokens of windows every ``hop`` tokens covering ``max(total, window)`` tokens (the last one flush with the end)."""
    if window <= 0 or hop <= 0:
        raise ValueError(f"window and hop must be positive, got {window}, {hop}")
    n = max(total, window)
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] != n - window:
        starts.append(n - window)
    return starts


def taper(window: int, floor: float = 0.05) -> torch.Tensor:
    """(W,) weights: a Hann-like bump, 1 in the middle, ``floor`` at the two end tokens (never 0, so the
    sequence's first and last tokens, held by one window only, still get a prediction)."""
    f = torch.arange(window, dtype=torch.float64)
    w = torch.sin(math.pi * (f + 0.5) / window) ** 2
    return (floor + (1 - floor) * (w - w.min()) / (w.max() - w.min()).clamp(min=1e-12)).float()


class JointSampler:
    """Samples one sequence of ``total`` tokens with a fixed-window denoiser.

    Args:
        denoise_factory: ``f(cond_windows (K, W, Dc)) -> denoise(x_t (K, W, D), t (K,)) -> x0`` (guidance
            inside), as for :class:`~choreogen.diffusion.windows.LongformSampler`; called once per chunk of
            ``batch`` windows and kept for every step.
        schedule: the noise schedule; window: W tokens; hop: tokens between window starts; dims: D.
    """

    def __init__(self, denoise_factory, schedule: NoiseSchedule, total: int, window: int, hop: int, dims: int,
                 batch: int | None = None):
        self.factory, self.schedule = denoise_factory, schedule
        self.total, self.window, self.dims = int(total), int(window), int(dims)
        self.hop = max(1, min(int(hop), self.window))
        self.starts = joint_starts(self.total, self.window, self.hop)
        self.batch = len(self.starts) if not batch or batch <= 0 else int(batch)
        self.padded = max(self.total, self.window)

    def denoiser(self, cond: torch.Tensor):
        """cond (>= padded, Dc) -> denoise(x_t (1, padded, D), t (1,)) -> x0 (1, padded, D), the windows' weighted mean."""
        W, st = self.window, self.starts
        chunks = [st[i:i + self.batch] for i in range(0, len(st), self.batch)]
        fns = [self.factory(torch.stack([cond[s:s + W] for s in ch])) for ch in chunks]
        w = taper(W)
        wsum = torch.zeros(self.padded)
        for s in st:
            wsum[s:s + W] += w

        def denoise(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            out = torch.zeros_like(x_t[0])
            for ch, fn in zip(chunks, fns):
                xw = torch.stack([x_t[0, s:s + W] for s in ch])
                x0 = fn(xw, t[:1].expand(len(ch)))
                for j, s in enumerate(ch):
                    out[s:s + W] += w[:, None].to(out.dtype) * x0[j]
            return (out / wsum[:, None].to(out.dtype))[None]

        return denoise

    def sample(self, cond: torch.Tensor, steps: int, generator: torch.Generator, eta: float = 0.0, wrap=None,
               progress=None) -> torch.Tensor:
        """cond (>= padded, Dc) -> x0 (total, D) in the denoiser's space.

        ``wrap``: optional ``f(denoise) -> denoise`` applied to the joint denoiser (e.g. a projection that
        imposes editing constraints on the whole sequence's prediction at every step)."""
        if cond.shape[0] < self.padded:
            cond = torch.cat([cond, cond[-1:].expand(self.padded - cond.shape[0], -1)])
        fn = self.denoiser(cond)
        if wrap is not None:
            fn = wrap(fn)
        x = ddim_sample(fn, (1, self.padded, self.dims), self.schedule, steps=steps, generator=generator, eta=eta,
                        progress=progress)
        return x[0, : self.total]
