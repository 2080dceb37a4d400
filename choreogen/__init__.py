"""choreogen: music to dance.

The Python API mirrors the command line; see ``docs/API.md``. Rooms:
``audio`` (decoding, features, beats), ``motion`` (skeletons, rotations, FK, frames,
representations, I/O), ``data`` (dataset loaders, training windows), ``models`` (pure nn.Modules),
``diffusion`` (schedules, losses, samplers), ``train`` (Lightning), ``eval`` (metrics),
``export`` (BVH, AIST++ pkl), ``render`` (mp4), ``video`` (image animation), ``cli``.
"""
from .errors import ChoreogenError, ConfigError, InputError
from .motion import Motion
from .io import load_motion, save_motion

__version__ = "0.1.0"
__all__ = ["ChoreogenError", "ConfigError", "InputError", "Motion", "load_motion", "save_motion", "__version__"]
