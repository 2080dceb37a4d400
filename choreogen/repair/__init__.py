"""Skeleton repair and skeleton generation (DanceFusion, issue #6).

* :mod:`.damage` -- realistic detector damage (training pairs and test conditions);
* :mod:`.baselines` -- linear interpolation and Savitzky-Golay smoothing;
* :mod:`.pipeline` -- :func:`repair_motion` / :func:`repair_file` with a trained VAE
  (:class:`choreogen.models.skeleton_vae.SkeletonVAE`, trained by ``choreogen.train.vae_module``).
"""
from .pipeline import repair_file, repair_motion

__all__ = ["repair_file", "repair_motion"]
