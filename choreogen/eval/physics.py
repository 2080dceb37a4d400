"""Physical plausibility: EDGE's PFC, POPDG's PBC, and FineDance/LODGE's foot skating ratio.

Clean-room implementations:

* **PFC** (Physical Foot Contact, EDGE ``eval/eval_pfc.py``, METRICS_SPEC §7): Z-up, 30 fps,
  ``DT = 1/30``. Upward-clamped root acceleration normalised by its per-sequence max, times the
  product of the slower horizontal speed (metres/frame) of each foot (ankle or toe). 1e4 x the
  mean over sequences; lower is better.
* **PBC** (Physical Body Contact, POPDG, Luo et al. 2024, ``Luke-Luo1/POPDG`` ``eval/eval_pbc.py``
  at commit 319dedd, MIT; the metric GCDance reports as "PBC ->"): PFC's foot term with a minus
  sign plus upper-body terms: ``0.01 * min(|dv| lwrist, lhand) * acc_hat(lcollar) + 0.01 *
  min(rwrist, rhand) * acc_hat(rcollar) + 0.1 * |dv|(head) * acc_hat(neck)``, where ``|dv|`` is the
  3D per-frame displacement and ``acc_hat`` the joint's acceleration norm normalised by its
  per-sequence max. 1e4 x the mean; it can be negative; closer to the ground truth is better.
* **FSR** (Foot Skating Ratio, LODGE ``metric/foot_skating.py``, METRICS_SPEC §9): Y-up, 30 fps.

Helpers convert Y-up input to EDGE's Z-up frame and resample to 30 fps for the user.
Joint indices are SMPL's (ankles 7/8, toes 10/11).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError
from ..motion.frames import yup_to_zup
from ..motion.resample import lerp_frames

PHYSICS_FPS = 30.0
PFC_SCALE = 1e4
FOOT_IDX = (7, 10, 8, 11)          # l-ankle, l-toe, r-ankle, r-toe (EDGE's order)


def _prepare(joints, fps: float, up: str) -> np.ndarray:
    """(T, J, 3) positions -> float64 Z-up at 30 fps (linear resampling of joint positions)."""
    P = np.asarray(joints, dtype=np.float64)
    if P.ndim != 3 or P.shape[-1] != 3 or P.shape[1] < 12:
        raise InputError(f"physics metrics need SMPL-order joint positions (T, J>=12, 3), got {P.shape}")
    if up == "y":
        P = yup_to_zup(P)
    elif up != "z":
        raise ValueError(f"up must be 'y' or 'z', got {up!r}")
    if abs(fps - PHYSICS_FPS) > 1e-9:
        P = lerp_frames(P, fps, PHYSICS_FPS)
    return P


def _root_acc_hat(P: np.ndarray, dt: float) -> np.ndarray:
    """(T-2,) upward-clamped root acceleration norm over its max (0 where the root never accelerates)."""
    v = (P[1:, 0] - P[:-1, 0]) / dt
    a = (v[1:] - v[:-1]) / dt
    a[:, 2] = np.maximum(a[:, 2], 0.0)
    n = np.linalg.norm(a, axis=-1)
    m = n.max() if len(n) else 0.0
    # the reference divides unconditionally (NaN for a still root); we define that case as 0
    return n / m if m > 0 else np.zeros_like(n)


def _foot_mins(P: np.ndarray) -> np.ndarray:
    feet = P[:, list(FOOT_IDX)]
    u = np.linalg.norm(feet[2:, :, :2] - feet[1:-1, :, :2], axis=-1)       # (T-2, 4) metres/frame
    return np.stack([np.minimum(u[:, 0], u[:, 1]), np.minimum(u[:, 2], u[:, 3])], axis=-1)


def pfc_sequence(joints, fps: float = PHYSICS_FPS, up: str = "y") -> float:
    """PFC of one sequence (already x 1e4). ``joints``: (T, 24, 3) metres; ``up``: "y" (ours, AIST++)
    or "z" (EDGE output); resampled to 30 fps if ``fps`` differs. Needs T >= 3 after resampling."""
    P = _prepare(joints, fps, up)
    if len(P) < 3:
        raise InputError(f"PFC needs at least 3 frames at 30 fps, got {len(P)}")
    alpha = _root_acc_hat(P, 1.0 / PHYSICS_FPS)
    m = _foot_mins(P)
    return float(PFC_SCALE * np.mean(m[:, 0] * m[:, 1] * alpha))


def pfc(sequences, fps: float = PHYSICS_FPS, up: str = "y") -> float:
    """PFC of a set: mean of :func:`pfc_sequence` over the sequences (EDGE's reported number)."""
    return float(np.mean([pfc_sequence(s, fps, up) for s in sequences]))


def _acc_hat(x: np.ndarray, dt: float) -> np.ndarray:
    v = (x[1:] - x[:-1]) / dt
    n = np.linalg.norm((v[1:] - v[:-1]) / dt, axis=-1)
    m = n.max() if len(n) else 0.0
    return n / m if m != 0 else n


def pbc_sequence(joints, fps: float = PHYSICS_FPS, up: str = "y") -> float:
    """POPDG's PBC of one sequence (x 1e4; see the module docstring). Needs 24 SMPL joints."""
    P = _prepare(joints, fps, up)
    if P.shape[1] != 24:
        raise InputError(f"PBC needs the 24 SMPL joints (it uses the hands), got {P.shape[1]}")
    if len(P) < 3:
        raise InputError(f"PBC needs at least 3 frames at 30 fps, got {len(P)}")
    dt = 1.0 / PHYSICS_FPS
    root = _root_acc_hat(P, dt)
    feet = _foot_mins(P)
    body = P[:, [20, 22, 21, 23, 15]]
    bv = np.linalg.norm(body[2:] - body[1:-1], axis=-1)
    left, right, head = np.minimum(bv[:, 0], bv[:, 1]), np.minimum(bv[:, 2], bv[:, 3]), bv[:, 4]
    loss = (0.01 * left * _acc_hat(P[:, 13], dt) + 0.01 * right * _acc_hat(P[:, 14], dt)
            + 0.1 * head * _acc_hat(P[:, 12], dt) - feet[:, 0] * feet[:, 1] * root)
    return float(PFC_SCALE * loss.mean())


def pbc(sequences, fps: float = PHYSICS_FPS, up: str = "y") -> float:
    return float(np.mean([pbc_sequence(s, fps, up) for s in sequences]))


def foot_skating_ratio(joints, fps: float = PHYSICS_FPS, ankle_h: float = 0.08, toe_h: float = 0.05,
                       speed: float = 0.01) -> tuple[float, float]:
    """LODGE's foot skating ratio of one Y-up sequence -> (left, right).

    Shift so the frame-0 toe height is 0 (mean of both toes if they differ by < 2 cm, else the
    lower); forward-difference velocity (last frame 0) in metres/frame at 30 fps; a side is in
    contact where ``ankle_y <= 0.08`` and ``toe_y <= 0.05``; it slides where, for the ankle or the
    toe, ``|mean(v_x, v_z)| > 0.01`` (the reference's mean of two components, not a norm). Ratio =
    sliding / contact frames (0 when there is no contact frame). Computed in float32 like the
    reference.
    """
    P = np.asarray(joints, dtype=np.float64)
    if P.ndim != 3 or P.shape[-1] != 3 or P.shape[1] < 12:
        raise InputError(f"foot skating needs SMPL joint positions (T, J>=12, 3), got {P.shape}")
    if abs(fps - PHYSICS_FPS) > 1e-9:
        P = lerp_frames(P, fps, PHYSICS_FPS)
    P = P.astype(np.float32)
    t0 = P[0, [10, 11], 1]
    h = t0.mean() if abs(t0[0] - t0[1]) < 0.02 else t0.min()
    P[..., 1] -= h
    v = np.zeros_like(P)
    v[:-1] = P[1:] - P[:-1]
    out = []
    for ankle, toe in ((7, 10), (8, 11)):
        contact = (P[:, ankle, 1] <= ankle_h) & (P[:, toe, 1] <= toe_h)
        slide_a = np.abs((v[:, ankle, 0] + v[:, ankle, 2]) / 2) > speed
        slide_t = np.abs((v[:, toe, 0] + v[:, toe, 2]) / 2) > speed
        n = int(contact.sum())
        out.append(float(np.float32((contact & (slide_a | slide_t)).sum()) / np.float32(n)) if n else 0.0)
    return out[0], out[1]


def fsr(sequences, fps: float = PHYSICS_FPS) -> dict:
    """Mean FSR over sequences: ``{"left", "right", "ratio"}`` (ratio = (left + right) / 2)."""
    lr = np.array([foot_skating_ratio(s, fps) for s in sequences], dtype=np.float64)
    left, right = float(lr[:, 0].mean()), float(lr[:, 1].mean())
    return {"left": left, "right": right, "ratio": (left + right) / 2}
