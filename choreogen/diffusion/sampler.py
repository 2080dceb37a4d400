"""Samplers for x0-predicting denoisers: DDIM (eta = 0 deterministic, eta > 0 stochastic) and
DDPM (ancestral, eta = 1 on the full step grid), classifier-free guidance and inpainting.

A denoiser here is any callable ``fn(x_t, t) -> x0_hat`` with x_t (B, ...) and t (B,) long; the
conditioning (music, genre) and guidance are closed over by the caller (see
:func:`guided_denoiser`). Inpainting (GCDance eq. 15): after every step the known entries are
replaced by the known values noised to the new level, ``x_{t-1} = B*q(known, t-1) + (1-B)*x_{t-1}``,
and after the last step by the known values themselves.
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import torch

from .schedule import NoiseSchedule

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
# hook(x0_hat, t_next) -> (known, mask) or None, called after every step: lets long-form sampling
# derive constraints from the current prediction (window overlaps).
ConstraintHook = Callable[[torch.Tensor, int], "tuple[torch.Tensor, torch.Tensor] | None"]


def timestep_grid(num_train_steps: int, steps: int) -> list[int]:
    """Evenly spaced decreasing timesteps, always starting at T-1 and ending at 0."""
    if steps < 1 or steps > num_train_steps:
        raise ValueError(f"steps must be in [1, {num_train_steps}], got {steps}")
    if steps == 1:
        return [num_train_steps - 1]
    grid = torch.linspace(num_train_steps - 1, 0, steps).round().long().tolist()
    out: list[int] = []
    for g in grid:  # strictly decreasing
        if not out or g < out[-1]:
            out.append(int(g))
    return out


@torch.no_grad()
def ddim_sample(
    denoise: Denoiser,
    shape: tuple[int, ...],
    schedule: NoiseSchedule,
    steps: int = 50,
    eta: float = 0.0,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    known: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    hook: ConstraintHook | None = None,
    progress: Callable[[int, int], None] | None = None,
    x_init: torch.Tensor | None = None,
) -> torch.Tensor:
    """Generate x0 of ``shape`` from noise with DDIM on ``steps`` timesteps.

    Args:
        known, mask: optional inpainting constraint, broadcastable to ``shape``; mask 1 = keep known.
        hook: optional callable giving a fresh (known, mask) after each step (see module doc).
        eta: 0 deterministic DDIM; 1 with steps == num_steps is ancestral DDPM.
    Returns x0 (shape), in the denoiser's (normalised) space.
    """
    ts = timestep_grid(schedule.num_steps, steps)
    ab_all = schedule.alpha_bar.to(device)
    x = torch.randn(shape, generator=generator, device=device, dtype=dtype) if x_init is None else x_init
    if known is not None and mask is not None:
        x = _impose(x, known, mask, ab_all[ts[0]], generator, schedule)
    x0 = x
    for i, t in enumerate(ts):
        tt = torch.full((shape[0],), t, device=device, dtype=torch.long)
        x0 = denoise(x, tt)
        t_next = ts[i + 1] if i + 1 < len(ts) else -1
        if hook is not None:
            got = hook(x0, t_next)
            if got is not None:
                known, mask = got
        if known is not None and mask is not None:
            x0 = mask * known + (1 - mask) * x0
        if t_next < 0:
            x = x0
            break
        ab_t = ab_all[t].to(dtype)
        ab_n = ab_all[t_next].to(dtype)
        eps = (x - ab_t.sqrt() * x0) / (1 - ab_t).sqrt()
        sigma = eta * ((1 - ab_n) / (1 - ab_t) * (1 - ab_t / ab_n)).clamp(min=0).sqrt()
        noise = torch.randn(shape, generator=generator, device=device, dtype=dtype) if eta > 0 else 0.0
        x = ab_n.sqrt() * x0 + (1 - ab_n - sigma**2).clamp(min=0).sqrt() * eps + sigma * noise
        if known is not None and mask is not None:
            x = _impose(x, known, mask, ab_n, generator, schedule)
        if progress is not None:
            progress(i + 1, len(ts))
    return x


def _impose(x, known, mask, ab, generator, schedule):
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    ab = ab.to(x.dtype)
    noisy_known = ab.sqrt() * known + (1 - ab).sqrt() * noise
    return mask * noisy_known + (1 - mask) * x


def ddpm_sample(denoise: Denoiser, shape, schedule: NoiseSchedule, **kw) -> torch.Tensor:
    """Ancestral DDPM sampling over all training steps (slow; for reference and tests)."""
    kw.pop("steps", None)
    kw.pop("eta", None)
    return ddim_sample(denoise, shape, schedule, steps=schedule.num_steps, eta=1.0, **kw)


def _cat(a, b):
    """Concatenate two conditioning values along the batch: tensors, or lists of tensor tuples
    (per-layer attention keys/values); anything else (flags, ints) must be equal and is kept."""
    if isinstance(a, torch.Tensor):
        return torch.cat([a, b])
    if isinstance(a, (list, tuple)) and a and isinstance(a[0], (list, tuple)):
        return [tuple(torch.cat([x, y]) for x, y in zip(pa, pb)) for pa, pb in zip(a, b)]
    return a


def guided_denoiser(model_fn: Callable[..., torch.Tensor], cond: Mapping, guidance: float,
                    uncond: Mapping | None = None, extra: Sequence[tuple[float, Mapping]] = ()) -> Denoiser:
    """Classifier-free guidance in one batched forward pass, for any conditioning mapping.

    ``model_fn(x_t, t, drop_cond=bool_tensor, **cond)`` predicts x0 for a batch whose rows with
    ``drop_cond`` True are unconditional. ``uncond`` (default: ``cond``) is the conditioning of
    those rows (e.g. precomputed null music keys/values). With ``guidance`` w the result is
    ``uncond + w * (cond - uncond)`` (w = 1: conditional only, one pass; w = 0: unconditional).
    ``extra``: further (weight w_i, conditioning c_i) terms, each adding ``w_i * (cond - c_i)`` (rows not
    dropped; e.g. the genre replaced by "none": guidance towards the genre alone), in the same pass.
    The sampler never sees the mapping: any condition (music, genre, text, image latent) plugs in.
    """
    if guidance == 1.0 and not extra:
        def fn(x, t):
            return model_fn(x, t, drop_cond=torch.zeros(x.shape[0], dtype=torch.bool, device=x.device), **cond)
        return fn

    parts = [cond, cond if uncond is None else uncond] + [c for _, c in extra]
    both = {k: _cat_all([p[k] for p in parts]) for k in cond}
    n = len(parts)

    def fn(x, t):
        B = x.shape[0]
        drop = torch.zeros(n * B, dtype=torch.bool)
        drop[B:2 * B] = True
        out = model_fn(torch.cat([x] * n), torch.cat([t] * n), drop_cond=drop.to(x.device), **both)
        c, u = out[:B], out[B:2 * B]
        res = u + guidance * (c - u)
        for i, (w, _) in enumerate(extra):
            res = res + w * (c - out[(2 + i) * B:(3 + i) * B])
        return res

    return fn


def _cat_all(vals: list):
    """:func:`_cat` over several conditioning values."""
    out = vals[0]
    for v in vals[1:]:
        out = _cat(out, v)
    return out
