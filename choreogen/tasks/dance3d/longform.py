"""Long-form 3D dance sampling: the diffusion room's window sampler
(:class:`choreogen.diffusion.windows.LongformSampler`: overlapping windows denoised together,
each inpainted on the previous window's overlap, user editing constraints, linear cross-fades)
with what is the dance's own: windows live in *local* root coordinates (every training window
starts with its root at the xz origin), so the root's x and z columns are the positional columns
chained from window to window, and the features are the EDGE vector normalised by the model's
:class:`~choreogen.motion.representation.Normalizer`.

Shapes: W window frames, O overlap frames, S = W - O stride, D feature dims (un-normalised EDGE
vector: root x, y, z in columns 4, 5, 6), 30 fps.
"""
from __future__ import annotations

import torch

from ...diffusion.schedule import NoiseSchedule
from ...diffusion.windows import LongformSampler as _WindowSampler
from ...diffusion.windows import WindowPlan
from ...motion.representation import N_CONTACT, Normalizer

RX, RZ = N_CONTACT, N_CONTACT + 2  # root x and z columns
ROOT_XZ = (RX, RZ)

__all__ = ["LongformSampler", "WindowPlan", "ROOT_XZ"]


class LongformSampler(_WindowSampler):
    """Window sampler for EDGE features: root x/z chained between windows.

    Args:
        denoise_factory: ``f(music_windows (K, W, Da)) -> denoise(x_t, t)``.
        normalizer: feature normaliser of the model.
        known, mask: optional user constraints in global coordinates, (plan.padded, D) un-normalised
            features and a {0,1} mask of the same shape.
        taper: frames over which the overlap constraint fades out (default a third of it).
    """

    def __init__(self, denoise_factory, normalizer: Normalizer, schedule: NoiseSchedule, plan: WindowPlan,
                 known: torch.Tensor | None = None, mask: torch.Tensor | None = None, taper: int | None = None):
        super().__init__(denoise_factory, schedule, plan, dims=int(normalizer.lo.shape[0]), normalizer=normalizer,
                         translate=ROOT_XZ, known=known, mask=mask, taper=taper)
