"""Data room: dataset loaders, fixed splits, ``data prepare`` and training windows (docs/DATA.md).

Names are imported lazily so that ``import choreogen.data`` stays cheap.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "iter_dataset": "datasets", "get_split": "datasets", "list_sources": "datasets",
    "load_pickle_motion": "..io.formats", "load_finedance_npy": "..io.formats",
    "load_keypoint_folder": "..io.keypoints", "load_keypoint_file": "..io.keypoints",
    "prepare_dataset": "prepare", "PreparedWindows": "windows", "load_manifest": "windows",
    "stratified_split": "splitting", "fixed_split": "splitting",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name] if _EXPORTS[name].startswith(".") else f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
