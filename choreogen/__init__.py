"""choreogen: music to dance.

The Python API mirrors the command line; see ``docs/API.md``. Rooms:
``audio`` (decoding, features, beats), ``motion`` (skeletons, rotations, FK, frames,
representations, I/O), ``data`` (dataset loaders, training windows), ``models`` (pure nn.Modules),
``diffusion`` (schedules, losses, samplers), ``train`` (Lightning), ``eval`` (metrics),
``export`` (BVH, AIST++ pkl), ``render`` (mp4), ``video`` (image animation), ``cli``.
"""
from .errors import ChoreogenError, ConfigError, InputError

__version__ = "0.1.0"
__all__ = ["ChoreogenError", "ConfigError", "InputError", "Motion", "load_motion", "save_motion", "__version__"]


def __getattr__(name: str):
    # Motion and its I/O import torch: load them on first use, so that `choreogen --help` and error
    # messages do not pay for torch (see tests/test_cli_lazy.py).
    if name in ("Motion", "load_motion", "save_motion"):
        from . import motion

        return getattr(motion, name)
    raise AttributeError(f"module 'choreogen' has no attribute {name!r}")
