"""Analytic two-bone inverse kinematics for SMPL-family legs (foot-skate clean-up).

:func:`leg_ik` moves an ankle to a target by changing only the local rotations of its hip, knee and
ankle, the way an animator's leg IK does: the knee's bend angle is set by the law of cosines (the knee
bends in its current plane, or about its own x axis -- SMPL's flexion axis -- when the leg is
straight), the whole leg is then swung about the hip onto the target, and the ankle's *world*
rotation is kept, so the foot keeps its orientation and the toe moves with the ankle. The pelvis,
the root translation and every other joint are untouched, so bone lengths are exact (FK).

Shapes: ``poses`` (T, J*3) local axis-angle, ``trans`` (T, 3) metres, targets (T, 3) metres, Y-up.
"""
from __future__ import annotations

import numpy as np
import torch

from .fk import forward_kinematics
from .rotations import axis_angle_to_matrix, matrix_to_axis_angle
from .skeleton import Skeleton

SMPL_LEGS = {"left": (1, 4, 7), "right": (2, 5, 8)}  # (hip, knee, ankle) of smpl24 / smplh52
SMPL_TOES = {"left": 10, "right": 11}


def _unit(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def rotation_about(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rodrigues: (T, 3) unit axes, (T,) radians -> (T, 3, 3) rotation matrices."""
    x, y, z = axis[:, 0], axis[:, 1], axis[:, 2]
    c, s = np.cos(angle), np.sin(angle)
    C = 1.0 - c
    return np.stack([
        np.stack([c + x * x * C, x * y * C - z * s, x * z * C + y * s], -1),
        np.stack([y * x * C + z * s, c + y * y * C, y * z * C - x * s], -1),
        np.stack([z * x * C - y * s, z * y * C + x * s, c + z * z * C], -1),
    ], -2)


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T, 3), (T, 3) -> (T, 3, 3) minimal rotation taking the direction of ``a`` onto that of ``b``."""
    a, b = _unit(a), _unit(b)
    cr = np.cross(a, b)
    s = np.linalg.norm(cr, axis=-1)
    ang = np.arctan2(s, np.sum(a * b, -1))
    # antiparallel (never for a leg within reach, but be total): any axis perpendicular to a
    alt = np.cross(a, np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    axis = np.where((s > 1e-9)[:, None], cr, alt)
    return rotation_about(_unit(axis), ang)


def _soft(x: np.ndarray, top: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Identity up to ``top - s``, then an exponential ease that tends to ``top`` (C1 at the knee)."""
    k = top - s
    s = np.maximum(s, 1e-9)
    return np.where(x <= k, x, k + s * (1.0 - np.exp(-np.maximum(x - k, 0.0) / s)))


def leg_ik(poses: np.ndarray, trans: np.ndarray, skeleton: Skeleton, targets: dict[str, np.ndarray],
           reach: float = 0.999, soft: float = 0.03) -> np.ndarray:
    """Return new (T, J*3) poses whose ankles reach ``targets`` ({"left"|"right": (T, 3) metres}).

    Frames where the target equals the current ankle come back unchanged (to float precision). A
    target out of reach (further from the hip than ``reach`` x the leg's length, or than the ankle
    already is) is approached as far as the leg goes on the straight line from the current ankle, so a
    planted foot slides the rest of the way rather than lifting off the floor. Within ``soft`` x the
    leg's length of full reach the hip-ankle distance eases in (soft IK: no knee pop as the leg
    straightens), so there the ankle stops up to that much short of its target.
    """
    T = len(poses)
    J = len(skeleton.parents)
    aa = torch.as_tensor(np.asarray(poses, np.float64).reshape(T, J, 3))
    R = axis_angle_to_matrix(aa)
    P, G = forward_kinematics(R, torch.as_tensor(np.asarray(trans, np.float64)), skeleton, return_global=True)
    P, G, R = P.numpy(), G.numpy().copy(), R.numpy().copy()
    for side, target in targets.items():
        h, k, a = SMPL_LEGS[side]
        H, K, A = P[:, h], P[:, k], P[:, a]
        u, v = K - H, A - K
        l1, l2 = np.linalg.norm(u, axis=-1), np.linalg.norm(v, axis=-1)
        D0 = np.linalg.norm(A - H, axis=-1)
        L = np.maximum(reach * (l1 + l2), D0)
        # out of reach: go only part of the way from the current ankle, on the straight line to the
        # target, so the foot never leaves the floor to follow an unreachable target's direction
        w, e = A - H, np.asarray(target, np.float64) - A
        we, ee = np.sum(w * e, -1), np.sum(e * e, -1)
        lam = (-we + np.sqrt(np.maximum(we ** 2 - ee * (np.sum(w * w, -1) - L ** 2), 0.0))) / np.maximum(ee, 1e-18)
        lam = np.clip(np.where(ee > 0, lam, 1.0), 0.0, 1.0)
        d = w + lam[:, None] * e
        # soft reach: near full extension the distance eases in (d phi / dD of the law of cosines is
        # unbounded at a straight knee, so a hard limit pops the knee); an unchanged target stays put
        D = D0 + _soft(np.linalg.norm(d, axis=-1), L, soft * (l1 + l2)) - _soft(D0, L, soft * (l1 + l2))
        D = np.clip(D, np.minimum(np.abs(l1 - l2) + 1e-6, D0), L)
        # 1. knee: bend angle (between thigh and shin directions) from the law of cosines
        phi0 = np.arctan2(np.linalg.norm(np.cross(u, v), axis=-1), np.sum(u * v, -1))
        phi1 = np.arccos(np.clip((D ** 2 - l1 ** 2 - l2 ** 2) / (2 * l1 * l2), -1.0, 1.0))
        n = np.cross(u, v)
        straight = np.linalg.norm(n, axis=-1) < 1e-4 * l1 * l2
        n = np.where(straight[:, None], G[:, k, :, 0], n)  # knee's own x axis: SMPL flexion
        R1 = rotation_about(_unit(n), phi1 - phi0)
        Gk = R1 @ G[:, k]
        A1 = K + np.einsum("tab,tb->ta", R1, v)
        # 2. swing the leg about the hip so the ankle lies on the target's direction
        R2 = rotation_between(A1 - H, d)
        Gh = R2 @ G[:, h]
        Gk = R2 @ Gk
        Ga = G[:, a]  # 3. the foot keeps its world orientation
        Gp = G[:, skeleton.parents[h]]
        R[:, h] = np.swapaxes(Gp, -1, -2) @ Gh
        R[:, k] = np.swapaxes(Gh, -1, -2) @ Gk
        R[:, a] = np.swapaxes(Gk, -1, -2) @ Ga
        G[:, h], G[:, k] = Gh, Gk
    out = matrix_to_axis_angle(torch.as_tensor(R)).numpy()
    return out.reshape(T, J * 3)
