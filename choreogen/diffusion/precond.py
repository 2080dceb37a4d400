"""Output preconditioning for x0-predicting denoisers (Karras et al. 2022, EDM, adapted to the
variance-preserving schedule).

With ``x_t = sqrt(ab) x0 + sqrt(1 - ab) eps`` and data of standard deviation ``sigma_data``, the
network output ``F`` is turned into ``x0_hat = c_skip(t) x_t + c_out(t) F`` where

    c_skip = sqrt(ab) sigma_data^2 / (ab sigma_data^2 + 1 - ab)      (the best linear guess of x0)
    c_out  = sqrt(1 - ab) sigma_data / sqrt(ab sigma_data^2 + 1 - ab)

so at low noise the denoiser is the identity from the first step of training and ``F`` only models
the residual, with unit-scale targets at every noise level. ``sigma_data = 0`` disables it
(plain x0 prediction, EDGE).
"""
from __future__ import annotations

import torch

from .schedule import NoiseSchedule


def precondition(out: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor, schedule: NoiseSchedule,
                 sigma_data: float) -> torch.Tensor:
    """out, x_t: (B, ...); t: (B,) long -> x0_hat (B, ...)."""
    if sigma_data <= 0:
        return out
    ab = schedule.alpha_bar.to(x_t.device)[t].to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))
    s2 = sigma_data ** 2
    den = ab * s2 + 1 - ab
    return ab.sqrt() * s2 / den * x_t + (1 - ab).sqrt() * sigma_data / den.sqrt() * out
