"""Tempo-normalised generation for the dance3d pipeline (see :mod:`choreogen.audio.tempo_norm`).

``to_reference``: the song's samples -> the same song at its genre's reference tempo (phase vocoder) and
the playback rate used. The pipeline dances that, then ``play_back`` resamples the generated features
(T_c, D) to the song's own T frames (30 fps), so every movement period is divided by the song's tempo
over the reference's. The features are EDGE vectors with a global root: positions are interpolated
linearly (speeds scale by the rate), 6D rotations linearly then re-orthonormalised by the decoder
(consecutive frames are close), the 0/1 foot contacts by nearest frame.
"""
from __future__ import annotations

import numpy as np
import torch

from ...audio.tempo_norm import canonical_rate, estimate_bpm, stretch
from ...motion.representation import N_CONTACT


def reference_for(tempo_ref: dict, genre: str | None) -> float | None:
    """The checkpoint's reference BPM for ``genre`` (its ``"*"`` entry for none / an unlisted genre)."""
    if not tempo_ref:
        return None
    ref = tempo_ref.get(genre) if genre else None
    return float(ref if ref is not None else tempo_ref["*"])


def to_reference(y: np.ndarray, sr: int, ref: float) -> tuple[np.ndarray, dict]:
    """(N,) samples -> (about N / rate samples at the reference tempo, info dict: bpm, ref, rate)."""
    bpm = estimate_bpm(y, sr)
    rate = canonical_rate(bpm, ref)
    return stretch(y, sr, rate), {"tempo_bpm": round(bpm, 2), "tempo_ref": round(ref, 2), "tempo_rate": round(rate, 4)}


def play_back(feats: torch.Tensor, frames: int) -> torch.Tensor:
    """(T_c, D) features at the reference tempo -> (frames, D): the same dance over the song's own ``frames``."""
    Tc = feats.shape[0]
    if Tc == frames:
        return feats
    pos = torch.linspace(0, Tc - 1, frames, dtype=torch.float64)
    i0 = pos.floor().long().clamp(max=Tc - 1)
    i1 = (i0 + 1).clamp(max=Tc - 1)
    a = (pos - i0.double()).to(feats.dtype)[:, None]
    out = (1 - a) * feats[i0] + a * feats[i1]
    out[:, :N_CONTACT] = feats[pos.round().long().clamp(max=Tc - 1), :N_CONTACT]
    return out
