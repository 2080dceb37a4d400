"""Learning representation (EDGE-style) and its normaliser.

Feature vector per frame (canonical frame, 30 fps):
``[4 foot contacts | 3 root position (m) | J x 6D local rotations]`` so 151-D for ``smpl24`` and
319-D for ``smplh52``. Contacts are for (left ankle, right ankle, left toe, right toe): 1 when the
joint moves less than ``CONTACT_THRESHOLD`` metres to the next frame (EDGE's rule; the last frame
copies the previous label).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .fk import forward_kinematics
from .rotations import axis_angle_to_matrix, matrix_to_axis_angle, matrix_to_sixd, sixd_to_matrix
from .skeleton import Skeleton

CONTACT_THRESHOLD = 0.01  # metres per frame at 30 fps (EDGE)
N_CONTACT = 4


def feature_dim(skeleton: Skeleton) -> int:
    return N_CONTACT + 3 + 6 * skeleton.num_joints


def foot_contacts(joints: np.ndarray | torch.Tensor, skeleton: Skeleton, threshold: float = CONTACT_THRESHOLD):
    """(..., T, J, 3) -> (..., T, 4) float contact labels (1 = foot planted)."""
    idx = skeleton.foot_indices()
    is_np = not isinstance(joints, torch.Tensor)
    j = torch.as_tensor(joints) if is_np else joints
    feet = j[..., idx, :]
    vel = (feet[..., 1:, :, :] - feet[..., :-1, :, :]).norm(dim=-1)
    vel = torch.cat([vel, vel[..., -1:, :]], dim=-2) if vel.shape[-2] > 0 else torch.zeros_like(feet[..., 0])
    c = (vel < threshold).to(j.dtype)
    return c.numpy() if is_np else c


def encode(poses: np.ndarray, trans: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """SMPL (T, J*3) axis-angle + (T, 3) translation -> (T, feature_dim) float32."""
    T = len(poses)
    J = skeleton.num_joints
    aa = torch.as_tensor(np.asarray(poses, np.float64).reshape(T, J, 3))
    R = axis_angle_to_matrix(aa)
    tr = torch.as_tensor(np.asarray(trans, np.float64))
    joints = forward_kinematics(R, tr, skeleton)
    c = foot_contacts(joints, skeleton)
    feats = torch.cat([c, tr, matrix_to_sixd(R).reshape(T, J * 6)], dim=-1)
    return feats.numpy().astype(np.float32)


def decode(feats: torch.Tensor, skeleton: Skeleton):
    """(..., T, feature_dim) -> dict(contacts (..,T,4), trans (..,T,3), rotmats (..,T,J,3,3),
    joints (..,T,J,3)). Differentiable (torch)."""
    J = skeleton.num_joints
    c = feats[..., :N_CONTACT]
    tr = feats[..., N_CONTACT:N_CONTACT + 3]
    R = sixd_to_matrix(feats[..., N_CONTACT + 3:].reshape(*feats.shape[:-1], J, 6))
    joints = forward_kinematics(R, tr, skeleton)
    return {"contacts": c, "trans": tr, "rotmats": R, "joints": joints}


def mirror_features(feats: torch.Tensor, skeleton: Skeleton) -> torch.Tensor:
    """Left/right mirror image of un-normalised feature vectors (..., T, feature_dim), torch.

    Reflects the canonical frame through the x = 0 plane (Y-up, so the dancer's left becomes the
    right): root x is negated, every rotation R becomes M R M with M = diag(-1, 1, 1), left and
    right joints (``skeleton.mirror``) and foot contacts swap. For a left/right symmetric rest
    skeleton the FK joints of the result are exactly the mirrored, swapped joints of the input.
    Used as training augmentation (doubles the dance vocabulary; the music is unchanged).
    """
    J = skeleton.num_joints
    c = feats[..., :N_CONTACT][..., [1, 0, 3, 2]]
    sign = torch.tensor([-1.0, 1.0, 1.0], dtype=feats.dtype, device=feats.device)
    tr = feats[..., N_CONTACT:N_CONTACT + 3] * sign
    R = sixd_to_matrix(feats[..., N_CONTACT + 3:].reshape(*feats.shape[:-1], J, 6))
    R = R[..., torch.as_tensor(skeleton.mirror, device=feats.device), :, :] * (sign[:, None] * sign[None, :])
    return torch.cat([c, tr, matrix_to_sixd(R).reshape(*feats.shape[:-1], J * 6)], dim=-1)


def decode_to_smpl(feats: np.ndarray | torch.Tensor, skeleton: Skeleton):
    """(T, feature_dim) -> (poses (T, J*3) axis-angle float32, trans (T, 3), joints (T, J, 3))."""
    f = torch.as_tensor(np.asarray(feats, dtype=np.float64)) if not isinstance(feats, torch.Tensor) else feats.double()
    d = decode(f, skeleton)
    aa = matrix_to_axis_angle(d["rotmats"])
    T = f.shape[-2]
    return (
        aa.reshape(*f.shape[:-2], T, -1).numpy().astype(np.float32),
        d["trans"].numpy().astype(np.float32),
        d["joints"].numpy().astype(np.float32),
    )


@dataclass
class Normalizer:
    """Per-dimension min-max scaling to [-1, 1] (EDGE), fitted on training data and saved.

    ``lo``/``hi``: (D,) float32. Dimensions with hi == lo map to 0.
    """

    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> "Normalizer":
        flat = np.asarray(x, np.float64).reshape(-1, x.shape[-1])
        return cls(flat.min(0).astype(np.float32), flat.max(0).astype(np.float32))

    def _scale(self, like):
        rng = self.hi - self.lo
        rng = np.where(rng > 1e-8, rng, 1.0).astype(np.float32)
        if isinstance(like, torch.Tensor):
            return (torch.as_tensor(self.lo, device=like.device, dtype=like.dtype),
                    torch.as_tensor(rng, device=like.device, dtype=like.dtype))
        return self.lo, rng

    def normalize(self, x):
        lo, rng = self._scale(x)
        return (x - lo) / rng * 2 - 1

    def denormalize(self, x):
        lo, rng = self._scale(x)
        return (x + 1) / 2 * rng + lo

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"normalizer.lo": torch.as_tensor(self.lo), "normalizer.hi": torch.as_tensor(self.hi)}

    @classmethod
    def from_state_dict(cls, sd) -> "Normalizer":
        return cls(np.asarray(sd["normalizer.lo"], np.float32), np.asarray(sd["normalizer.hi"], np.float32))


def root_to_velocity(feats: torch.Tensor, fps: float = 30.0) -> torch.Tensor:
    """EDGE features (..., T, D) -> the same with root x/z replaced by their velocity (m/s).

    Frame t holds (x[t+1] - x[t]) * fps; the last frame repeats the previous velocity. Height (y),
    contacts and rotations are unchanged. Translation-invariant: a latent of it does not depend on
    where the window starts on the floor. Inverse: :func:`root_from_velocity`."""
    out = feats.clone()
    for c in (N_CONTACT, N_CONTACT + 2):
        d = (feats[..., 1:, c] - feats[..., :-1, c]) * fps
        out[..., :-1, c] = d
        out[..., -1, c] = d[..., -1] if d.shape[-1] else 0.0
    return out


def root_from_velocity(vfeats: torch.Tensor, fps: float = 30.0, origin: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse of :func:`root_to_velocity`: root x/z integrated from ``origin`` ((..., 2) metres, default 0)."""
    out = vfeats.clone()
    for j, c in enumerate((N_CONTACT, N_CONTACT + 2)):
        steps = vfeats[..., :-1, c] / fps
        pos = torch.cat([torch.zeros_like(vfeats[..., :1, c]), torch.cumsum(steps, dim=-1)], dim=-1)
        out[..., c] = pos + (0.0 if origin is None else origin[..., j:j + 1])
    return out
