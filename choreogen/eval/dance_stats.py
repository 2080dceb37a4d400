"""Plain motion statistics of generated dances, for eye-check numbers (model card, tests).

All inputs are joint positions (T, 24, 3) in metres, Y-up, floor at y = 0, SMPL-24 joint order,
at ``fps`` frames per second (30 by default).
"""
from __future__ import annotations

import numpy as np


def contact_skate(j: np.ndarray, fps: float = 30.0, h: float = 0.05) -> float:
    """Mean horizontal speed (m/s) of foot joints (ankles, toes) on frames where they are < h m high."""
    feet = j[:, [7, 8, 10, 11]]
    v = np.linalg.norm(np.diff(feet[..., [0, 2]], axis=0), axis=-1) * fps
    on = feet[1:, :, 1] < h
    return float((v * on).sum() / max(1, on.sum()))


def motion_stats(j: np.ndarray, fps: float = 30.0, stride: int | None = None, overlap: int | None = None) -> dict:
    """Eye-check numbers for one dance (T, 24, 3) at ``fps``: jitter (mean joint acceleration, m/s^2),
    mean root-relative joint speed (m/s), share of 1 s stretches that are frozen (mean root-relative
    joint speed < 0.1 m/s), largest root distance from the start on the floor (m), the 5th / 50th / 95th
    percentile of the ankle heights (m; foot lift) and, given the
    window plan, the acceleration at window seams (first and last frame of every cross-fade) over
    the acceleration elsewhere (1 = no visible seam)."""
    acc = np.linalg.norm(j[2:] - 2 * j[1:-1] + j[:-2], axis=-1) * fps * fps  # (T-2, J)
    rel = j - j[:, :1]
    spd = np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean(-1) * fps  # (T-1,)
    n = int(fps)
    segs = [spd[s:s + n].mean() for s in range(0, len(spd) - n + 1, n)]
    out = {"accel_m_s2": float(acc.mean()), "speed_m_s": float(spd.mean()),
           "frozen_share": float(np.mean(np.asarray(segs) < 0.1)) if segs else 0.0,
           "max_root_xz_m": float(np.linalg.norm(j[:, 0, [0, 2]] - j[:1, 0, [0, 2]], axis=-1).max())}
    ankles = j[:, [7, 8], 1].reshape(-1)  # foot lift: ankle heights above the floor (m), both ankles pooled
    out.update(ankle_height_p05=float(np.percentile(ankles, 5)), ankle_height_median=float(np.median(ankles)),
               ankle_height_p95=float(np.percentile(ankles, 95)))
    if stride and overlap is not None:
        edges = sorted({e for k in range(1, len(j) // stride + 1) for e in (k * stride, k * stride + overlap)})
        idx = np.asarray([e - 1 for e in edges if 1 <= e - 1 < len(acc)], int)  # acc[i] is centred on frame i + 1
        if len(idx):
            rest = np.ones(len(acc), bool)
            rest[idx] = False
            out["seam_accel_ratio"] = float(acc[idx].mean() / max(acc[rest].mean(), 1e-9))
    return out
