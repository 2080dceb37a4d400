"""GCDance / FineNet's two expert decoders for body + hands (52-joint SMPL-H). Pure nn.Module.

After the shared trunk, a **body expert** (``layers`` FiLM blocks with cross-attention to the music)
decodes the body part of the motion vector (``[4 contacts | 3 root | 22 body joints x 6D]``, the
first ``body_dim`` features), and a **hand expert** (``layers`` FiLM blocks whose cross-attention
reads the body expert's tokens: the hands attend to the body) decodes the 30 finger joints x 6D
(the last ``hand_dim`` features). Both heads start at zero, like the single head they replace.
"""
from __future__ import annotations

import torch
from torch import nn


class BodyHandExperts(nn.Module):
    def __init__(self, block_factory, d: int, body_dim: int, hand_dim: int, patch: int, layers: int = 1):
        super().__init__()
        self.body_dim, self.hand_dim, self.patch = body_dim, hand_dim, patch
        self.body_blocks = nn.ModuleList(block_factory() for _ in range(layers))
        self.hand_in = nn.Linear(d, d)
        self.hand_blocks = nn.ModuleList(block_factory() for _ in range(layers))
        self.body_norm, self.hand_norm = nn.LayerNorm(d), nn.LayerNorm(d)
        self.body_out = nn.Linear(d, body_dim * patch)
        self.hand_out = nn.Linear(d, hand_dim * patch)
        for lin in (self.body_out, self.hand_out):
            nn.init.zeros_(lin.weight)
            nn.init.zeros_(lin.bias)

    def forward(self, h: torch.Tensor, mem: torch.Tensor | None, c: torch.Tensor,
                music_kv: list | None = None) -> torch.Tensor:
        """Trunk tokens h (B, N, d), music tokens ``mem`` (or the body blocks' precomputed ``music_kv``),
        conditioning c (B, d) -> (B, N * patch, body_dim + hand_dim) features."""
        B, N, _ = h.shape
        hb = h
        for i, blk in enumerate(self.body_blocks):
            hb = blk(hb, mem, c, None if music_kv is None else music_kv[i])
        hh = self.hand_in(h)
        for blk in self.hand_blocks:
            hh = blk(hh, hb, c)  # cross-attention to the body expert's tokens
        body = self.body_out(self.body_norm(hb)).reshape(B, N * self.patch, self.body_dim)
        hand = self.hand_out(self.hand_norm(hh)).reshape(B, N * self.patch, self.hand_dim)
        return torch.cat([body, hand], dim=-1)
