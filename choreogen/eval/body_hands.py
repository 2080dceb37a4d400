"""FID and diversity of body and hands separately, for 52-joint SMPL-H dances (GCDance / FineDance Table I).

``FID_body`` / ``Div_body``: kinetic features (METRICS_SPEC §2) of the 22 body joints, zero start,
root-relative; ``FID_hand`` / ``Div_hand``: kinetic features of the 30 finger joints in their wrist's
frame (origin at the wrist, axes from the wrist -> index1 / middle1 / pinky1 directions, which are
rigid in the wrist), so hand motion is measured apart from the arm and wrist carrying it. FID and Div follow
:mod:`choreogen.eval.fid` (Bailando flavour, GT-pool normalisation, constant GT dimensions dropped:
finger data is often constant). Inputs: lists of (T, 52, 3) joint positions, metres, Y-up, one fps.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from .features import apply_origin, kinetic_features
from .fid import diversity, fid


def _split(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P = np.asarray(joints, np.float64)
    if P.ndim != 3 or P.shape[1:] != (52, 3):
        raise InputError(f"body/hand metrics need (T, 52, 3) SMPL-H joints, got {P.shape}")
    body = apply_origin(P[:, :22], "zero_start_root_relative")
    hands = np.concatenate([_in_wrist_frame(P, 20, 22), _in_wrist_frame(P, 21, 37)], axis=1)
    return body, hands


def _in_wrist_frame(P: np.ndarray, wrist: int, first: int) -> np.ndarray:
    """The 15 finger joints ``first..first+14`` (index1 at +0, middle1 +3, pinky1 +6) in the wrist frame."""
    rel = P[:, first:first + 15] - P[:, wrist:wrist + 1]
    a = rel[:, 3]                       # wrist -> middle1
    b = rel[:, 0] - rel[:, 6]           # pinky1 -> index1 (across the palm)
    e1 = a / (np.linalg.norm(a, axis=-1, keepdims=True) + 1e-9)
    e2 = b - (b * e1).sum(-1, keepdims=True) * e1
    e2 /= np.linalg.norm(e2, axis=-1, keepdims=True) + 1e-9
    R = np.stack([e1, e2, np.cross(e1, e2)], axis=-1)  # (T, 3, 3): columns = the wrist frame's axes
    return np.einsum("tjc,tcd->tjd", rel, R)


def body_hand_features(seqs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """-> (N, 66) body and (N, 90) hand kinetic features."""
    parts = [_split(s) for s in seqs]
    return (np.stack([kinetic_features(b) for b, _ in parts]), np.stack([kinetic_features(h) for _, h in parts]))


def body_hand_metrics(gen: list[np.ndarray], gt: list[np.ndarray]) -> dict:
    """FID_hand, FID_body, Div_hand, Div_body of ``gen`` against ``gt`` (and the GT's own Div)."""
    if len(gen) < 2 or len(gt) < 2:
        raise InputError("body/hand FID needs at least 2 generated and 2 GT sequences")
    gb, gh = body_hand_features(gen)
    tb, th = body_hand_features(gt)
    return {"FID_hand": float(fid(th, gh, drop_constant=True).value), "FID_body": float(fid(tb, gb, drop_constant=True).value),
            "Div_hand": float(diversity(th, gh, drop_constant=True)), "Div_body": float(diversity(tb, gb, drop_constant=True)),
            "Div_hand_gt": float(diversity(th, th, drop_constant=True)), "Div_body_gt": float(diversity(tb, tb, drop_constant=True))}
