"""Kinetic (72-D) and geometric (32-D) motion features, exactly as the field's reference code.

Clean-room implementation of METRICS_SPEC §2 and §3 (the AIST++ API feature extractors, which
Bailando and LODGE copy). Inputs are joint positions in **metres, Y-up, SMPL joint order**
(root, lhip, rhip, belly, lknee, rknee, spine, lankle, rankle, chest, ltoes, rtoes, neck,
linshoulder, rinshoulder, head, lshoulder, rshoulder, lelbow, relbow, lwrist, rwrist, lhand,
rhand); 22-joint inputs (LODGE's SMPL-X body) use the first 22 of these.

The reference behaviour is reproduced on purpose, bugs included:

* kinetic: ``dt = 1/60`` whatever the real frame rate, windowed velocities with variable window
  size at the borders, division by ``T - 1``, and the energy-expenditure operator-precedence bug
  (``v1 = P[t] - P[t-1] / dt``) that makes the third value per joint depend on the distance of the
  joint from the world origin (so the ``origin`` convention matters, see :func:`apply_origin`);
* geometric: the *fixed* ("manual_new") version with the SMPL rest-pose constants ``hl, sw, hw``,
  the velocity constant 1/120 s, ``move`` using its third joint as the moving point (so features 5
  and 6 are identical), and strict comparisons.

Everything is vectorised over sequences and frames (numpy, float64 inside, float32 out).
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

KINETIC_DT = 1.0 / 60.0          # reference frame time, never overridden (§2)
GEOMETRIC_DT = 1.0 / 120.0       # reference velocity time constant (§3)
HL = 0.2568381                   # humerus length (lshoulder-lelbow), metres
SW = 0.3908484                   # shoulder width
HW = 0.1192471                   # hip width

ORIGINS = ("raw", "zero_start", "zero_start_root_relative")

# SMPL joint indices used by the geometric features
(ROOT, LHIP, RHIP, BELLY, LKNEE, RKNEE, SPINE, LANKLE, RANKLE, CHEST, LTOES, RTOES, NECK,
 LINSH, RINSH, HEAD, LSH, RSH, LELB, RELB, LWR, RWR, LHAND, RHAND) = range(24)
# pseudo-joints (current frame only)
ZERO, Y_UNIT, MINUS_Y_UNIT, Y_MIN = "zero", "y_unit", "minus_y_unit", "y_min"

# The 32 predicates in reference order: (kind, joints..., threshold or (lo, hi)).
GEOMETRIC_SPEC: tuple[tuple, ...] = (
    ("nmove", NECK, RHIP, LHIP, RWR, 1.8 * HL),
    ("nmove", NECK, LHIP, RHIP, LWR, 1.8 * HL),
    ("nplane", CHEST, NECK, NECK, RWR, 0.2 * HL),
    ("nplane", CHEST, NECK, NECK, LWR, 0.2 * HL),
    ("move", BELLY, CHEST, CHEST, RWR, 1.8 * HL),
    ("move", BELLY, CHEST, CHEST, LWR, 1.8 * HL),
    ("angle", RELB, RSH, RELB, RWR, (0.0, 110.0)),
    ("angle", LELB, LSH, LELB, LWR, (0.0, 110.0)),
    ("nplane", LSH, RSH, LWR, RWR, 2.5 * SW),
    ("move", LWR, RWR, RWR, LWR, 1.4 * HL),
    ("move", RWR, ROOT, LWR, ROOT, 1.4 * HL),
    ("move", LWR, ROOT, RWR, ROOT, 1.4 * HL),
    ("fast", RWR, 2.5 * HL),
    ("fast", LWR, 2.5 * HL),
    ("plane", ROOT, LHIP, LTOES, RANKLE, 0.38 * HL),
    ("plane", ROOT, RHIP, RTOES, LANKLE, 0.38 * HL),
    ("nplane", ZERO, Y_UNIT, Y_MIN, RANKLE, 1.2 * HL),
    ("nplane", ZERO, Y_UNIT, Y_MIN, LANKLE, 1.2 * HL),
    ("nplane", LHIP, RHIP, LANKLE, RANKLE, 2.1 * HW),
    ("angle", RKNEE, RHIP, RKNEE, RANKLE, (0.0, 110.0)),
    ("angle", LKNEE, LHIP, LKNEE, LANKLE, (0.0, 110.0)),
    ("fast", RANKLE, 2.5 * HL),
    ("fast", LANKLE, 2.5 * HL),
    ("angle", NECK, ROOT, RSH, RELB, (25.0, 180.0)),
    ("angle", NECK, ROOT, LSH, LELB, (25.0, 180.0)),
    ("angle", NECK, ROOT, RHIP, RKNEE, (50.0, 180.0)),
    ("angle", NECK, ROOT, LHIP, LKNEE, (50.0, 180.0)),
    ("plane", RANKLE, NECK, LANKLE, ROOT, 0.5 * HL),
    ("angle", NECK, ROOT, ZERO, Y_UNIT, (70.0, 110.0)),
    ("nplane", ZERO, MINUS_Y_UNIT, Y_MIN, RWR, -1.2 * HL),
    ("nplane", ZERO, MINUS_Y_UNIT, Y_MIN, LWR, -1.2 * HL),
    ("fast", ROOT, 2.3 * HL),
)


def _as_batch(positions, min_frames: int, what: str) -> tuple[np.ndarray, bool]:
    """(T, J, 3) or (N, T, J, 3) -> float64 (N, T, J, 3) and whether the input was a single sequence."""
    P = np.asarray(positions, dtype=np.float64)
    single = P.ndim == 3
    if single:
        P = P[None]
    if P.ndim != 4 or P.shape[-1] != 3:
        raise InputError(f"{what} need joint positions of shape (T, J, 3) or (N, T, J, 3), got {np.shape(positions)}")
    if P.shape[1] < min_frames:
        raise InputError(f"{what} need at least {min_frames} frames, got {P.shape[1]}")
    return P, single


def apply_origin(positions: np.ndarray, origin: str = "raw") -> np.ndarray:
    """Coordinate-origin convention before feature extraction (METRICS_SPEC §2 pitfall 1).

    ``positions``: (T, J, 3) or (N, T, J, 3) metres. ``raw``: unchanged (FACT/mint);
    ``zero_start``: subtract the frame-0 root position from every joint of every frame (Bailando);
    ``zero_start_root_relative``: zero start, then every non-root joint minus the root of its frame
    (LODGE). Returns float64.
    """
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}, got {origin!r}")
    P = np.array(positions, dtype=np.float64, copy=True)
    if origin == "raw":
        return P
    P -= P[..., :1, :1, :]
    if origin == "zero_start_root_relative":
        P[..., :, 1:, :] -= P[..., :, :1, :]
    return P


# ------------------------------------------------------------------------------------- kinetic
def kinetic_features(positions, dt: float = KINETIC_DT, up: int = 1) -> np.ndarray:
    """Kinetic features of (T, J, 3) or (N, T, J, 3) positions -> (J*3,) or (N, J*3) float32.

    Per joint, interleaved: [mean squared horizontal speed, mean squared vertical speed,
    "energy expenditure"] with the reference's windowed velocities (window 2, variable at the
    borders), ``dt = 1/60`` s regardless of the data's real fps, and its energy bug. 24 joints give
    72-D, 22 joints 66-D. Needs T >= 3 (the reference returns NaN or divides by zero below).
    """
    P, single = _as_batch(positions, 3, "kinetic features")
    N, T, J, _ = P.shape
    X = np.ascontiguousarray(P.transpose(0, 2, 3, 1))    # (N, J, 3, T): time is the contiguous axis
    flat = [c for c in range(3) if c != up]
    ke_h = np.zeros((N, J))
    ke_v = np.zeros((N, J))
    ee = np.zeros((N, J))
    # energy expenditure with the precedence bug: a_t = ((P[t+1]-P[t])/dt - (P[t] - P[t-1]/dt)) / dt,
    # stored at index t - 1 for t = 1..T-2
    # (computed in place with f = 1/dt: identical up to rounding, ~2x faster than with divisions)
    f = 1.0 / dt
    acc = X[..., 2:] - X[..., 1:-1]
    acc *= f
    acc -= X[..., 1:-1]
    acc += f * X[..., :-2]
    acc *= f
    # anchors i = 1..T-1 in runs sharing one window shape: interior runs use slices, borders one by one
    interior = range(3, T - 3) if T >= 7 else range(0)
    runs = [(lo, hi) for lo, hi in [(3, T - 3)] if interior] + [(i, i + 1) for i in range(1, T) if i not in interior]
    for i0, i1 in runs:
        # windowed mean velocity: sum_{t=a}^{b} (P[t]-P[t-1]) = P[b] - P[a-1], a = max(1, i-2), b = min(T-1, i+2)
        a, b = max(1, i0 - 2), min(T - 1, i0 + 2)
        m = i1 - i0
        v = X[..., b:b + m] - X[..., a - 1:a - 1 + m]
        ss = np.einsum("njct,njct->njc", v, v) / ((b - a + 1) * dt) ** 2      # (N, J, 3)
        ke_h += ss[:, :, flat[0]] + ss[:, :, flat[1]]
        ke_v += ss[:, :, up]
        # energy: frames t = i+k, k = -2..2, with 1 <= t <= T-2 (acc index t-1)
        lo, hi = max(1, i0 - 2), min(T - 2, i0 + 2)
        if m > 1:   # interior run: windows of 5 by a cumulative sum over time
            csum = np.cumsum(acc[..., lo - 1:hi - 1 + m], axis=-1)
            win = csum[..., hi - lo:].copy()
            win[..., 1:] -= csum[..., :m - 1]
        else:
            win = acc[..., lo - 1:hi].sum(axis=-1, keepdims=True)
        win /= float(hi - lo + 1)
        ee += np.sqrt(np.einsum("njct,njct->njt", win, win)).sum(axis=-1)
    ke_h /= T - 1
    ke_v /= T - 1
    ee /= T - 1
    out = np.stack([ke_h, ke_v, ee], axis=-1).reshape(N, J * 3).astype(np.float32)
    return out[0] if single else out


# ------------------------------------------------------------------------------------- geometric
# Vectors are tuples of three (N, T-1) arrays (x, y, z): contiguous and cheap, with the same
# arithmetic order as numpy's cross / norm / sum over a length-3 axis (bit-identical results).
def _dot(a, b):
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _norm(a):
    return np.sqrt(_dot(a, a))


def _sub(a, b):
    return (a[0] - b[0], a[1] - b[1], a[2] - b[2])


def _cross(a, b):
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(a):
    n = _norm(a)
    return (a[0] / n, a[1] / n, a[2] / n)


def geometric_per_frame(positions) -> np.ndarray:
    """Per-frame geometric booleans: (T, J, 3) -> (T-1, 32) or (N, T, J, 3) -> (N, T-1, 32) float32.

    Row f-1 holds the 32 predicates for current frame f and previous frame f-1 (f = 1..T-1).
    """
    P, single = _as_batch(positions, 2, "geometric features")
    X = np.ascontiguousarray(P.transpose(2, 3, 0, 1))    # (J, 3, N, T)
    cur, prev = X[..., 1:], X[..., :-1]
    shape = cur.shape[2:]
    zero = np.zeros(shape)
    one = np.ones(shape)
    pseudo = {ZERO: (zero, zero, zero), Y_UNIT: (zero, one, zero), MINUS_Y_UNIT: (zero, -one, zero),
              Y_MIN: (zero, cur[:, 1].min(axis=0), zero)}

    def c(j):
        return pseudo[j] if isinstance(j, str) else tuple(cur[j])

    def p(j):
        return tuple(prev[j])

    out = np.zeros(shape + (32,), np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for col, (kind, *args) in enumerate(GEOMETRIC_SPEC):
            if kind == "move":
                j1, j2, j3, _j4, th = args        # the reference ignores the fourth joint
                rel = _sub(_sub(c(j3), c(j1)), _sub(p(j3), p(j1)))
                vel = tuple(r / GEOMETRIC_DT for r in rel)
                val = _dot(vel, _unit(_sub(c(j2), c(j1)))) > th
            elif kind == "nmove":
                j1, j2, j3, j4, th = args
                rel = _sub(_sub(c(j4), c(j1)), _sub(p(j4), p(j1)))
                vel = tuple(r / GEOMETRIC_DT for r in rel)
                normal = _unit(_cross(_sub(c(j3), c(j1)), _sub(c(j2), c(j1))))
                val = _dot(vel, normal) > th
            elif kind == "plane":
                a, b, cc, q, th = args
                normal = _unit(_cross(_sub(c(cc), c(a)), _sub(c(b), c(a))))
                val = _dot(_sub(c(q), c(a)), normal) > th
            elif kind == "nplane":
                n1, n2, a, q, th = args
                nv = _sub(c(n2), c(n1))
                val = _dot(nv, _sub(c(q), c(a))) / _norm(nv) > th
            elif kind == "angle":
                j1, j2, k1, k2, (lo, hi) = args
                v1, v2 = _sub(c(j2), c(j1)), _sub(c(k2), c(k1))
                ang = np.degrees(np.arccos(_dot(v1, v2) / (_norm(v1) * _norm(v2))))  # NaN compares False
                val = (ang > lo) & (ang < hi)
            elif kind == "fast":
                j, th = args
                val = _norm(_sub(c(j), p(j))) / GEOMETRIC_DT > th
            else:  # pragma: no cover
                raise AssertionError(kind)
            out[..., col] = val
    return out[0] if single else out


def geometric_features(positions) -> np.ndarray:
    """Geometric features: (T, J, 3) -> (32,) or (N, T, J, 3) -> (N, 32) float32.

    The fraction of the T-1 frame pairs in which each of the 32 predicates holds (METRICS_SPEC §3).
    Translation invariant; needs Y-up input. Needs T >= 2.
    """
    per = geometric_per_frame(positions)
    return per.astype(np.float64).mean(axis=-2).astype(np.float32)


def extract_features(positions, origin: str = "raw", chunk: int = 4,
                     workers: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Kinetic and geometric features of many sequences.

    ``positions``: (N, T, J, 3) array or a list of (T_i, J, 3) arrays (metres, Y-up). ``origin``:
    see :func:`apply_origin`. Sequences of equal length are processed in chunks of ``chunk`` (small
    chunks stay in cache) by ``workers`` threads (numpy releases the GIL; default: up to 2).
    Returns (kinetic (N, J*3), geometric (N, 32)) float32.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    seqs = list(positions) if not isinstance(positions, np.ndarray) or positions.ndim != 4 else positions
    n = len(seqs)
    if n == 0:
        raise InputError("no sequences to extract features from")
    J = np.shape(seqs[0])[1]
    kin = np.zeros((n, J * 3), np.float32)
    geo = np.zeros((n, 32), np.float32)
    by_len: dict[int, list[int]] = {}
    for idx, s in enumerate(seqs):
        if np.ndim(s) != 3 or np.shape(s)[1] != J:
            raise InputError(f"sequence {idx} has shape {np.shape(s)}, expected (T, {J}, 3)")
        by_len.setdefault(np.shape(s)[0], []).append(idx)
    jobs = [idxs[k:k + chunk] for idxs in by_len.values() for k in range(0, len(idxs), chunk)]

    def work(sel):
        batch = apply_origin(np.stack([np.asarray(seqs[k]) for k in sel]), origin)
        kin[sel] = kinetic_features(batch)
        geo[sel] = geometric_features(batch)

    workers = min(2, os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers == 1 or len(jobs) == 1:
        for sel in jobs:
            work(sel)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, jobs))
    return kin, geo
