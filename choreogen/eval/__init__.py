"""Evaluation: the field's dance metrics, computed exactly as the reference implementations do.

Modules: :mod:`features` (kinetic/geometric), :mod:`fid` (normalisation, FID, Div), :mod:`beats`
(BAS variants, music beats), :mod:`physics` (PFC, PBC, FSR), :mod:`recon` (DanceFusion metrics),
:mod:`video` (2D BAS, AV-Align, PSNR, SSIM, pose consistency), :mod:`protocols` (presets),
:mod:`runner` (:func:`evaluate_motions`), :mod:`report` (tables, JSON). See docs/EVAL.md.
"""
from .protocols import PROTOCOLS, Protocol, get_protocol
from .runner import evaluate_folders, evaluate_motions

__all__ = ["PROTOCOLS", "Protocol", "evaluate_folders", "evaluate_motions", "get_protocol"]
