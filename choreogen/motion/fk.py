"""Forward kinematics for the SMPL family (EDGE's rigid-chain formulation).

Root joint position = root translation; world rotation of the root = its local rotation; for a
child j of parent p: ``pos_j = R_p @ offset_j + pos_p`` and ``R_j = R_p @ r_j``. Offsets do not
depend on body shape (fixed template, as in EDGE). Units: metres; frame: whatever frame the root
rotation/translation live in (Y-up for our data).
"""
from __future__ import annotations

import numpy as np
import torch

from .rotations import axis_angle_to_matrix
from .skeleton import Skeleton


def forward_kinematics(
    local_rotmats: torch.Tensor,
    root_pos: torch.Tensor,
    skeleton: Skeleton,
    offsets: torch.Tensor | None = None,
    return_global: bool = False,
):
    """Batched FK in torch.

    Args:
        local_rotmats: (..., J, 3, 3) local joint rotations.
        root_pos: (..., 3) root position in metres.
        skeleton: kinematic skeleton (parents precede children).
        offsets: optional (J, 3) rest offsets overriding ``skeleton.offsets``.
        return_global: also return (..., J, 3, 3) world rotations.

    Returns:
        joints (..., J, 3) [, global rotmats].
    """
    if not skeleton.kinematic:
        raise ValueError(f"skeleton {skeleton.name} has no kinematic tree")
    off = offsets if offsets is not None else torch.as_tensor(skeleton.offsets)
    off = off.to(dtype=local_rotmats.dtype, device=local_rotmats.device)
    J = len(skeleton.parents)
    pos: list[torch.Tensor] = [root_pos]
    rot: list[torch.Tensor] = [local_rotmats[..., 0, :, :]]
    for j in range(1, J):
        p = skeleton.parents[j]
        pos.append(torch.einsum("...ab,b->...a", rot[p], off[j]) + pos[p])
        rot.append(rot[p] @ local_rotmats[..., j, :, :])
    joints = torch.stack(pos, dim=-2)
    if return_global:
        return joints, torch.stack(rot, dim=-3)
    return joints


def fk_axis_angle(poses, trans, skeleton: Skeleton, offsets=None):
    """FK from axis-angle poses (..., J*3 or J, 3) and translations (..., 3).

    Accepts numpy (computed in float64, returns float64 numpy) or torch (keeps dtype).
    """
    is_np = not isinstance(poses, torch.Tensor)
    J = len(skeleton.parents)
    p = torch.as_tensor(np.asarray(poses, dtype=np.float64)) if is_np else poses
    t = torch.as_tensor(np.asarray(trans, dtype=np.float64)) if is_np else trans
    p = p.reshape(*p.shape[:-1], J, 3) if p.shape[-1] == J * 3 else p
    off = None if offsets is None else torch.as_tensor(np.asarray(offsets), dtype=p.dtype)
    out = forward_kinematics(axis_angle_to_matrix(p), t, skeleton, off)
    return out.numpy() if is_np else out


def bone_lengths(joints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(..., J, 3) -> (..., J-1) lengths of the bones (parent -> child) in skeleton order."""
    pairs = skeleton.bones
    par = np.array([a for a, _ in pairs])
    chi = np.array([b for _, b in pairs])
    return np.linalg.norm(joints[..., chi, :] - joints[..., par, :], axis=-1)
