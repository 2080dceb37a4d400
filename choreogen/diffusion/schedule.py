"""Noise schedules and the forward (noising) process q(x_t | x_0).

Discrete time t in {0, ..., T-1}; ``alpha_bar[t]`` is the cumulative signal fraction after t+1
noising steps (so t = 0 is the least noisy level).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def cosine_alpha_bar(num_steps: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal cosine schedule; returns alpha_bar (num_steps,) float64, betas clipped at 0.999."""
    steps = torch.arange(num_steps + 1, dtype=torch.float64)
    f = torch.cos(((steps / num_steps) + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    betas = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - betas, dim=0)


def linear_alpha_bar(num_steps: int, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    return torch.cumprod(1 - betas, dim=0)


@dataclass
class NoiseSchedule:
    """A discrete diffusion schedule. ``kind``: "cosine" (default, EDGE/GCDance) or "linear"."""

    num_steps: int = 1000
    kind: str = "cosine"

    def __post_init__(self):
        if self.kind == "cosine":
            ab = cosine_alpha_bar(self.num_steps)
        elif self.kind == "linear":
            ab = linear_alpha_bar(self.num_steps)
        else:
            raise ValueError(f"unknown schedule {self.kind!r}")
        self.alpha_bar = ab  # (T,) float64

    def _gather(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        v = self.alpha_bar.to(like.device)[t].to(like.dtype)
        return v.reshape(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(ab_t) x0 + sqrt(1 - ab_t) noise. x0, noise: (B, ...); t: (B,) long."""
        ab = self._gather(t, x0)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def eps_from_x0(self, x_t: torch.Tensor, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        ab = self._gather(t, x_t)
        return (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()
