"""Small music-embedding network for user-trained weights (pure nn.Module, no I/O).

``MelConvEncoder``: log-mel frames (B, n_mels, T) -> embeddings (B, T, dim), same frame rate.
Layers: ``layers`` x [Conv1d(k=kernel, padding=kernel // 2) -> GELU], then a Linear to ``dim``.
The first conv maps n_mels -> hidden channels, the others hidden -> hidden. Its parameter names
(``convs.{i}.weight|bias``, ``proj.weight|bias``) are the safetensors keys the loader expects.
"""
from __future__ import annotations

import torch
from torch import nn


class MelConvEncoder(nn.Module):
    def __init__(self, n_mels: int = 64, hidden: int = 128, dim: int = 64, layers: int = 2, kernel: int = 3):
        super().__init__()
        chans = [n_mels] + [hidden] * layers
        self.convs = nn.ModuleList(
            nn.Conv1d(chans[i], chans[i + 1], kernel, padding=kernel // 2) for i in range(layers))
        self.proj = nn.Linear(chans[-1], dim)
        self.act = nn.GELU()

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """mel (B, n_mels, T) log-mel -> (B, T, dim)."""
        h = mel
        for conv in self.convs:
            h = self.act(conv(h))
        return self.proj(h.transpose(1, 2))
