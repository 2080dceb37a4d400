"""Skeleton repair and skeleton generation (DanceFusion, issue #6).

* :mod:`.damage` -- realistic detector damage (training pairs and test conditions);
* :mod:`.baselines` -- linear interpolation and Savitzky-Golay smoothing;
* :mod:`.pipeline` -- :func:`repair_motion` / :func:`repair_file` with a trained VAE
  (:class:`choreogen.models.skeleton_vae.SkeletonVAE`, trained by ``choreogen.train.vae_module``);
* :mod:`.generate` -- :func:`generate_skeleton`: song -> skeleton dance by latent diffusion
  (trained by ``choreogen.train.latent_module``).
"""
from .generate import generate_skeleton
from .pipeline import repair_file, repair_motion

__all__ = ["generate_skeleton", "repair_file", "repair_motion"]
