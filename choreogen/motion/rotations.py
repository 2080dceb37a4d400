"""Rotation conversions (thin, documented wrappers around ``roma``).

Conventions:
* axis-angle: (..., 3) rotation vectors, any norm (norms > pi are valid and are wrapped by
  :func:`wrap_axis_angle` to the equivalent vector with norm <= pi);
* quaternion: (..., 4) in roma's **xyzw** order (:func:`quat_wxyz` converts);
* matrix: (..., 3, 3), acting on column vectors;
* 6D: (..., 6) = the first two **columns** of the matrix (Zhou et al. 2019), flattened as
  [r00, r01, r10, r11, r20, r21]; :func:`sixd_to_matrix` re-orthonormalises (Gram-Schmidt).

All functions take and return torch tensors; ``*_np`` helpers accept numpy arrays.

roma is imported lazily: importing it pulls in ``torch._dynamo`` (about 2 s), which would double
the cold start of ``choreogen generate``. The two conversions on the generation path
(:func:`sixd_to_matrix`, :func:`matrix_to_axis_angle`) are therefore plain torch here (Gram-Schmidt
and Shepperd's matrix-to-quaternion method), tested against roma.
"""
from __future__ import annotations

import numpy as np
import torch


class _LazyRoma:
    def __getattr__(self, name):
        import roma as _roma

        return getattr(_roma, name)


roma = _LazyRoma()


def _t(x) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 3, 3). Valid for any rotation-vector norm."""
    return roma.rotvec_to_rotmat(_t(aa))


def _matrix_to_quat_torch(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) rotation matrices -> (..., 4) xyzw unit quaternions (Shepperd's method)."""
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    tr = m00 + m11 + m22
    cand = torch.stack([
        torch.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1], 1 + tr], -1),
        torch.stack([1 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 2, 1] - m[..., 1, 2]], -1),
        torch.stack([m[..., 0, 1] + m[..., 1, 0], 1 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1], m[..., 0, 2] - m[..., 2, 0]], -1),
        torch.stack([m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1 - m00 - m11 + m22, m[..., 1, 0] - m[..., 0, 1]], -1),
    ], -2)  # (..., 4 candidates, 4)
    best = torch.stack([tr, m00, m11, m22], -1).argmax(-1)  # largest diagonal term: best conditioned
    q = torch.gather(cand, -2, best[..., None, None].expand(*best.shape, 1, 4)).squeeze(-2)
    return q / q.norm(dim=-1, keepdim=True)


def matrix_to_axis_angle(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 3) with norm in [0, pi] (plain torch; equals roma.rotmat_to_rotvec)."""
    q = _matrix_to_quat_torch(_t(m))
    q = torch.where(q[..., 3:] < 0, -q, q)  # w >= 0: angle in [0, pi]
    v = q[..., :3]
    s = v.norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(s, q[..., 3:])
    scale = torch.where(s > 1e-7, angle / s.clamp(min=1e-12), 2.0 / q[..., 3:].clamp(min=1e-12))
    return v * scale


def axis_angle_to_quat(aa: torch.Tensor) -> torch.Tensor:
    """(..., 3) -> (..., 4) xyzw unit quaternion."""
    return roma.rotvec_to_unitquat(_t(aa))


def quat_to_axis_angle(q: torch.Tensor) -> torch.Tensor:
    """(..., 4) xyzw -> (..., 3), norm in [0, pi]."""
    return roma.unitquat_to_rotvec(_t(q))


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    return roma.unitquat_to_rotmat(_t(q))


def matrix_to_quat(m: torch.Tensor) -> torch.Tensor:
    return roma.rotmat_to_unitquat(_t(m))


def quat_wxyz(q_xyzw: torch.Tensor) -> torch.Tensor:
    """Reorder xyzw -> wxyz."""
    return torch.cat([q_xyzw[..., 3:], q_xyzw[..., :3]], dim=-1)


def quat_xyzw(q_wxyz: torch.Tensor) -> torch.Tensor:
    """Reorder wxyz -> xyzw."""
    return torch.cat([q_wxyz[..., 1:], q_wxyz[..., :1]], dim=-1)


def matrix_to_sixd(m: torch.Tensor) -> torch.Tensor:
    """(..., 3, 3) -> (..., 6): first two columns, row-major."""
    m = _t(m)
    return m[..., :, :2].reshape(*m.shape[:-2], 6)


def sixd_to_matrix(d6: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3) via Gram-Schmidt (as roma.special_gramschmidt; plain torch)."""
    d6 = _t(d6)
    a = d6.reshape(*d6.shape[:-1], 3, 2)
    b1 = a[..., 0] / a[..., 0].norm(dim=-1, keepdim=True).clamp(min=1e-12)
    c = a[..., 1] - (b1 * a[..., 1]).sum(-1, keepdim=True) * b1
    b2 = c / c.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def axis_angle_to_sixd(aa: torch.Tensor) -> torch.Tensor:
    return matrix_to_sixd(axis_angle_to_matrix(aa))


def sixd_to_axis_angle(d6: torch.Tensor) -> torch.Tensor:
    return matrix_to_axis_angle(sixd_to_matrix(d6))


def wrap_axis_angle(aa: torch.Tensor) -> torch.Tensor:
    """Equivalent rotation vector with norm <= pi (e.g. Tang2018 poses have norms > pi)."""
    aa = _t(aa)
    return roma.unitquat_to_rotvec(roma.rotvec_to_unitquat(aa))


def wrap_axis_angle_np(aa: np.ndarray) -> np.ndarray:
    aa = np.asarray(aa)
    return wrap_axis_angle(torch.from_numpy(aa.astype(np.float64))).numpy().astype(aa.dtype)


def slerp_quat(q0: torch.Tensor, q1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Element-wise slerp between xyzw unit quaternions q0, q1 (..., 4) with weights t (...)."""
    q0, q1, t = _t(q0), _t(q1), _t(t).to(_t(q0).dtype)
    dot = (q0 * q1).sum(-1, keepdim=True)
    q1 = torch.where(dot < 0, -q1, q1)  # shortest path
    dot = dot.abs().clamp(max=1.0)
    theta = torch.acos(dot)
    sin = torch.sin(theta)
    t = t.unsqueeze(-1)
    small = sin < 1e-6
    w0 = torch.where(small, 1 - t, torch.sin((1 - t) * theta) / torch.where(small, 1.0, sin))
    w1 = torch.where(small, t, torch.sin(t * theta) / torch.where(small, 1.0, sin))
    q = w0 * q0 + w1 * q1
    return q / q.norm(dim=-1, keepdim=True)
