"""Conditional space-time U-Net over latent flow + occlusion sequences (DabFusion section 3.4).

x_t (B, N, 3, h, w): N frames (10 fps) of latent flow (2 channels) + occlusion (1), normalised;
t (B,) long diffusion step; conditioning: ``ref`` (B, C, h, w) the reference image's LFAE latent,
``music`` (B, N, Dm) per-frame music features (normalised), ``drop_cond`` (B,) bool: rows whose
music is replaced by a learned null embedding (classifier-free guidance; the reference is kept).
Output: x0 prediction (B, N, 3, h, w).

A factorised (2+1)D U-Net: each block is a per-frame 3x3 convolution, FiLM from (step + the
frame's music embedding), then a temporal convolution (kernel 3) over the N frames; levels
h (c/2 channels: input and reference features) -> h/2 (c) -> h/4 (2c); at the bottom a temporal
self-attention per position; the output convolutions see the full-resolution input features.
The music path: Linear -> temporal conv (kernel 5) so each frame sees +-0.2 s of music.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class FlowUNetConfig:
    latent_channels: int = 32
    music_dim: int = 40
    channels: int = 48
    emb: int = 128
    heads: int = 4
    frames: int = 40

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "FlowUNetConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    f = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    a = t.float()[:, None] * f[None]
    return torch.cat([a.sin(), a.cos()], 1)


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


class STBlock(nn.Module):
    """(B, N, c_in, h, w) + emb (B, N, E) -> (B, N, c_out, h, w)."""

    def __init__(self, c_in: int, c_out: int, emb: int):
        super().__init__()
        self.n1, self.c1 = _gn(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.film = nn.Linear(emb, 2 * c_out)
        self.n2, self.tc = _gn(c_out), nn.Conv1d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        nn.init.zeros_(self.tc.weight)
        nn.init.zeros_(self.tc.bias)

    def forward(self, x, e):
        B, N, C, h, w = x.shape
        x2 = x.reshape(B * N, C, h, w)
        y = self.c1(F.silu(self.n1(x2)))
        sc, sh = self.film(e).reshape(B * N, -1, 1, 1).chunk(2, 1)
        y = y * (1 + sc) + sh
        Co = y.shape[1]
        z = F.silu(self.n2(y)).reshape(B, N, Co, h, w).permute(0, 3, 4, 2, 1).reshape(B * h * w, Co, N)
        z = self.tc(z).reshape(B, h, w, Co, N).permute(0, 4, 3, 1, 2).reshape(B * N, Co, h, w)
        return (self.skip(x2) + y + z).reshape(B, N, Co, h, w)


class TemporalAttention(nn.Module):
    def __init__(self, c: int, heads: int, frames: int):
        super().__init__()
        self.norm = nn.LayerNorm(c)
        self.attn = nn.MultiheadAttention(c, heads, batch_first=True)
        self.pos = nn.Parameter(torch.zeros(1, frames, c))

    def forward(self, x):
        B, N, C, h, w = x.shape
        s = x.permute(0, 3, 4, 1, 2).reshape(B * h * w, N, C)
        pos = self.pos[:, :N] if N <= self.pos.shape[1] else F.interpolate(
            self.pos.transpose(1, 2), size=N, mode="linear").transpose(1, 2)
        q = self.norm(s + pos)
        s = s + self.attn(q, q, q, need_weights=False)[0]
        return s.reshape(B, h, w, N, C).permute(0, 3, 4, 1, 2)


def _pool(x):
    B, N, C, h, w = x.shape
    return F.avg_pool2d(x.reshape(B * N, C, h, w), 2).reshape(B, N, C, h // 2, w // 2)


def _up(x):
    B, N, C, h, w = x.shape
    return F.interpolate(x.reshape(B * N, C, h, w), scale_factor=2.0).reshape(B, N, C, 2 * h, 2 * w)


class FlowUNet(nn.Module):
    def __init__(self, cfg: FlowUNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or FlowUNetConfig()
        c, E, c0 = cfg.channels, cfg.emb, max(8, cfg.channels // 2)
        self.t_mlp = nn.Sequential(nn.Linear(E, E), nn.SiLU(), nn.Linear(E, E))
        self.m_in = nn.Linear(cfg.music_dim, E)
        self.m_tc = nn.Conv1d(E, E, 5, padding=2)
        self.null_music = nn.Parameter(torch.zeros(E))
        self.ref_in = nn.Conv2d(cfg.latent_channels, c0, 3, padding=1)
        self.x_in = nn.Conv2d(3, c0, 3, padding=1)
        self.down = nn.Conv2d(c0, c, 4, 2, 1)
        self.d1, self.d2 = STBlock(c, c, E), STBlock(c, 2 * c, E)
        self.mid = TemporalAttention(2 * c, cfg.heads, cfg.frames)
        self.mid2 = STBlock(2 * c, 2 * c, E)
        self.u1 = STBlock(2 * c + c, c, E)
        self.out = nn.Sequential(nn.Conv2d(c + c0, c0, 3, padding=1), _gn(c0), nn.SiLU(), nn.Conv2d(c0, 3, 3, padding=1))

    def embed_music(self, music: torch.Tensor, drop: torch.Tensor) -> torch.Tensor:
        """music (B, N, Dm), drop (B,) bool -> (B, N, E)."""
        m = self.m_in(music)
        m = m + self.m_tc(F.silu(m).transpose(1, 2)).transpose(1, 2)
        return torch.where(drop[:, None, None], self.null_music.expand_as(m), m)

    def forward(self, x, t, ref, music, drop_cond=None):
        B, N, _, h, w = x.shape
        drop = torch.zeros(B, dtype=torch.bool, device=x.device) if drop_cond is None else drop_cond
        e = self.t_mlp(timestep_embedding(t, self.cfg.emb))[:, None] + self.embed_music(music, drop)  # (B, N, E)
        r = self.ref_in(ref)[:, None]
        h16 = self.x_in(x.reshape(B * N, 3, h, w)).reshape(B, N, -1, h, w) + r  # full resolution
        s1 = self.d1(self.down(h16.reshape(B * N, -1, h, w)).reshape(B, N, -1, h // 2, w // 2), e)
        m = self.d2(_pool(s1), e)
        m = self.mid2(self.mid(m), e)
        u = self.u1(torch.cat([_up(m), s1], 2), e)
        y = torch.cat([_up(u), h16], 2).reshape(B * N, -1, h, w)
        return self.out(y).reshape(B, N, 3, h, w)
