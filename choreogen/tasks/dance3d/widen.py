"""Start a generator with extra music feature columns from one trained without them (issue #12).

A checkpoint trained on ``fast35`` (35 columns) can initialise a model for ``fast35+rhythm``
(40 columns: the same 35 first): the music input projection gets zero weights for the new columns,
so the widened model computes exactly what the old one did until training uses the new inputs.
"""
from __future__ import annotations

import torch


def widens(old_kind: str, new_kind: str) -> bool:
    """True if ``new_kind`` is ``old_kind`` with columns appended (``"fast35"`` -> ``"fast35+rhythm"``)."""
    return new_kind.startswith(old_kind + "+")


def widen_music_input(state: dict, old_dim: int, new_dim: int, patch: int) -> dict:
    """Copy of a :class:`~choreogen.models.denoiser.DanceDenoiser` state dict whose ``music_in``
    weight (d, patch * old_dim) becomes (d, patch * new_dim), zero for the new columns. The music
    is patched frame-major (column ``f * Da + k`` = frame f of the patch, feature k)."""
    out = dict(state)
    w = state["music_in.weight"]
    d = w.shape[0]
    if w.shape[1] != patch * old_dim:
        raise ValueError(f"music_in.weight has {w.shape[1]} inputs, expected {patch} x {old_dim}")
    new = torch.zeros(d, patch, new_dim, dtype=w.dtype)
    new[:, :, :old_dim] = w.reshape(d, patch, old_dim)
    out["music_in.weight"] = new.reshape(d, patch * new_dim)
    return out
