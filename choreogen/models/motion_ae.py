"""Temporal convolutional motion autoencoder (MLD / DanceFusion-style latent space). Pure nn.Module.

Input/output: motion features (B, T, D) in normalised space, 30 fps, T a multiple of ``factor``
(the product of ``strides``). Latent: (B, T / factor, latent_dim) -- with the default strides
(2, 3) one latent vector per 6 frames (5 latents per second; a 5 s window = 25 latents).

Encoder: Conv1d stem -> per stage [residual blocks, strided conv] -> Conv1d to 2 x latent_dim (mean
and log-variance; a VAE with a small KL weight keeps the space smooth for diffusion). Decoder:
Conv1d -> per stage [nearest upsampling by the stride, conv, residual blocks] -> Conv1d per frame.
Every output frame comes from overlapping convolutions (no patch borders), and the network is fully
convolutional, so a whole song's latent track decodes in one pass with no window seams.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn


@dataclass
class MotionAEConfig:
    motion_dim: int = 151
    latent_dim: int = 32
    widths: list = field(default_factory=lambda: [128, 192, 256])  # channels at T, T/2, T/6 (one more than strides)
    strides: list = field(default_factory=lambda: [2, 3])
    blocks: int = 1  # residual blocks per stage
    kernel: int = 5

    @property
    def factor(self) -> int:
        f = 1
        for s in self.strides:
            f *= int(s)
        return f

    def to_dict(self) -> dict:
        return asdict(self)


class FrameNorm(nn.Module):
    """(B, C, T) LayerNorm over the channels of each frame. Unlike GroupNorm it uses no statistics
    over time, so a frame's output depends only on its receptive field: a long track decodes the
    same as its windows (away from the borders)."""

    def __init__(self, c: int):
        super().__init__()
        self.norm = nn.LayerNorm(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class ResBlock(nn.Module):
    """(B, C, T) -> (B, C, T): two convolutions with per-frame LayerNorm + SiLU, residual."""

    def __init__(self, c: int, k: int):
        super().__init__()
        self.net = nn.Sequential(FrameNorm(c), nn.SiLU(), nn.Conv1d(c, c, k, padding=k // 2, padding_mode="replicate"),
                                 FrameNorm(c), nn.SiLU(), nn.Conv1d(c, c, k, padding=k // 2, padding_mode="replicate"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


class MotionAE(nn.Module):
    def __init__(self, cfg: MotionAEConfig):
        super().__init__()
        self.cfg = cfg
        w, k = [int(c) for c in cfg.widths], cfg.kernel
        if len(w) != len(cfg.strides) + 1:
            raise ValueError(f"widths needs {len(cfg.strides) + 1} entries (one per resolution), got {len(w)}")
        enc: list[nn.Module] = [nn.Conv1d(cfg.motion_dim, w[0], k, padding=k // 2, padding_mode="replicate")]
        for i, s in enumerate(cfg.strides):
            enc += [ResBlock(w[i], k) for _ in range(cfg.blocks)]
            enc.append(nn.Conv1d(w[i], w[i + 1], int(s), stride=int(s)))  # exactly T / s frames
        c = w[-1]
        enc += [ResBlock(c, 3), FrameNorm(c), nn.SiLU(), nn.Conv1d(c, 2 * cfg.latent_dim, 1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv1d(cfg.latent_dim, c, 3, padding=1, padding_mode="replicate"), ResBlock(c, 3)]
        for i in reversed(range(len(cfg.strides))):
            dec += [nn.Upsample(scale_factor=int(cfg.strides[i]), mode="nearest"),
                    nn.Conv1d(w[i + 1], w[i], k, padding=k // 2, padding_mode="replicate")]
            dec += [ResBlock(w[i], k) for _ in range(cfg.blocks)]
        dec += [FrameNorm(w[0]), nn.SiLU(),
                nn.Conv1d(w[0], cfg.motion_dim, k, padding=k // 2, padding_mode="replicate")]
        self.decoder = nn.Sequential(*dec)

    def encode_dist(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D) -> mean, log-variance (B, T / factor, latent_dim)."""
        B, T, _ = x.shape
        if T % self.cfg.factor:
            raise ValueError(f"sequence length {T} is not a multiple of the autoencoder factor {self.cfg.factor}")
        h = self.encoder(x.transpose(1, 2))
        mu, logvar = h.transpose(1, 2).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 6.0)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T, D) -> latent means (B, T / factor, latent_dim) (deterministic)."""
        return self.encode_dist(x)[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, N, latent_dim) -> x (B, N * factor, D)."""
        return self.decoder(z.transpose(1, 2)).transpose(1, 2)

    def forward(self, x: torch.Tensor, sample: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, D) -> (reconstruction (B, T, D), mean, log-variance)."""
        mu, logvar = self.encode_dist(x)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample and self.training else mu
        return self.decode(z), mu, logvar


def kl_term(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean KL divergence (nats per latent channel) of N(mu, exp(logvar)) from N(0, 1)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean()


__all__ = ["MotionAE", "MotionAEConfig", "kl_term"]
