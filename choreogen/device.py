"""Checking a user's device choice (``--device``, ``--accelerator``/``--devices``) once, with one message.

Every entry point that takes a device calls these helpers first, so that a misspelt device or a
GPU request on a machine without one is a :class:`~choreogen.errors.ConfigError` (one line, exit 2)
instead of a traceback from deep inside torch or Lightning.
"""
from __future__ import annotations

import re

from .errors import ConfigError

_DEVICE = re.compile(r"^(cpu|cuda|mps)(:(\d+))?$")


def check_device(device) -> str:
    """Return ``device`` (a torch device string) if it names a device this machine has; else raise.

    Accepted: ``cpu``, ``cuda``, ``cuda:N``, ``mps``. The syntax is checked before torch is imported.
    """
    text = str(device).strip().lower()
    m = _DEVICE.match(text)
    if not m:
        raise ConfigError(f"unknown device '{device}' (choose cpu, cuda, cuda:N or mps)")
    kind, index = m.group(1), m.group(3)
    if kind == "cpu":
        if index not in (None, "0"):
            raise ConfigError(f"unknown device '{device}' (choose cpu, cuda, cuda:N or mps)")
        return "cpu"
    import torch

    if kind == "cuda":
        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ConfigError(f"device '{device}' requested but {why}; use cpu")
        n = torch.cuda.device_count()
        if index is not None and int(index) >= n:
            raise ConfigError(f"device '{device}' requested but this machine has {n} CUDA GPU(s) (cuda:0..cuda:{n - 1})")
        return text
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        raise ConfigError(f"device '{device}' requested but Apple MPS is not available here; use cpu")
    return text


_ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "auto")


def check_accelerator(accelerator: str, devices="1"):
    """Validate a Lightning ``accelerator`` and ``devices`` pair; return (accelerator, devices).

    ``devices``: a positive count, ``auto``, or a comma-separated list of device indices.
    """
    acc = str(accelerator).strip().lower()
    if acc not in _ACCELERATORS:
        raise ConfigError(f"unknown accelerator '{accelerator}' (choose {', '.join(_ACCELERATORS)})")
    dev = str(devices).strip().lower()
    if dev == "auto":
        parsed = "auto"
    elif re.fullmatch(r"\d+", dev) and int(dev) >= 1:
        parsed = int(dev)
    elif re.fullmatch(r"\d+(,\d+)+,?|\d+,", dev):
        parsed = [int(x) for x in dev.split(",") if x]
    else:
        raise ConfigError(f"devices must be a positive number, 'auto' or a list like 0,1; got '{devices}'")
    if acc in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA GPU is visible"
            raise ConfigError(f"accelerator '{accelerator}' requested but {why}; use cpu")
        n = torch.cuda.device_count()
        need = parsed if isinstance(parsed, int) else (max(parsed) + 1 if isinstance(parsed, list) else 1)
        if need > n:
            raise ConfigError(f"{devices} GPU(s) requested but this machine has {n}")
    elif acc == "mps":
        check_device("mps")
    elif acc == "cpu" and isinstance(parsed, list):
        raise ConfigError(f"devices '{devices}' is a GPU index list; with the cpu accelerator give a count")
    return acc, parsed
