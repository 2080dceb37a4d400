"""choreogen: music to dance.

The Python API mirrors the command line (``choreogen.api``; pipeline objects in ``choreogen.tasks``).
Rooms (docs/ARCHITECTURE.md): ``motion`` (skeletons, rotations, FK, frames, representations),
``io`` (motion files), ``audio``, ``data`` (datasets, splits, windows), ``models`` (pure
nn.Modules), ``diffusion`` (schedules, samplers, guidance, long-form windows), ``training`` (the
Lightning runner), ``eval`` (metrics), ``render`` (mp4), ``video`` (keypoints from video),
``checkpoints`` (envelope + registry), ``tasks`` (dance3d, skeleton), ``cli``.
"""
from .errors import ChoreogenError, ConfigError, InputError

__version__ = "0.1.0"
__all__ = ["ChoreogenError", "ConfigError", "InputError", "Motion", "load_motion", "save_motion", "__version__"]


def __getattr__(name: str):
    # Motion and its I/O import torch: load them on first use, so that `choreogen --help` and error
    # messages do not pay for torch (see tests/test_cli_lazy.py).
    if name == "Motion":
        from .motion import Motion

        return Motion
    if name in ("load_motion", "save_motion"):
        from . import io

        return getattr(io, name)
    raise AttributeError(f"module 'choreogen' has no attribute {name!r}")
