"""On-disk cache for music features and beat analyses.

Location: ``cache=True`` uses ``$CHOREOGEN_CACHE/features`` when ``CHOREOGEN_CACHE`` is set, else
``$XDG_CACHE_HOME/choreogen/features`` (default ``~/.cache/choreogen/features``); ``cache=<path>``
uses that folder; ``cache=False`` disables caching.

Key: sha256 over the audio file's bytes (or, for an in-memory ``(y, sr)`` source, the float32
samples and the rate), the feature kind, the fps, every other parameter that changes the result
and :data:`FEATURE_VERSION`. A new version of the feature code therefore never reads old entries.
Entries are ``.npz``/``.json`` files written atomically (temp file + rename); an unreadable entry
is treated as a miss and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import atomic_path

FEATURE_VERSION = "1"
_STATS = {"hits": 0, "misses": 0, "writes": 0}


def cache_stats() -> dict[str, int]:
    """Counters of cache hits, misses and writes in this process (a copy)."""
    return dict(_STATS)


def default_cache_dir() -> Path:
    root = os.environ.get("CHOREOGEN_CACHE")
    if root:
        return Path(root).expanduser() / "features"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "choreogen" / "features"


def resolve_cache_dir(cache: bool | str | os.PathLike | None) -> Path | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return default_cache_dir()
    return Path(cache).expanduser()


def file_digest(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes (:func:`choreogen.fileio.sha256_file`)."""
    from ..fileio import sha256_file

    return sha256_file(path, block)


def array_digest(y: np.ndarray, sr: int) -> str:
    h = hashlib.sha256()
    a = np.ascontiguousarray(y, dtype=np.float32)
    h.update(f"array:{a.shape}:{int(sr)}:".encode())
    h.update(memoryview(a).cast("B"))
    return h.hexdigest()


def make_key(content_digest: str, **params: Any) -> str:
    """A filename-safe key from the content digest and the parameters that shape the result."""
    desc = json.dumps({"content": content_digest, "version": FEATURE_VERSION, **params}, sort_keys=True,
                      default=str)
    return hashlib.sha256(desc.encode()).hexdigest()[:40]


def load_arrays(folder: Path | None, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``key`` (an ``.npz``), or None on a miss or an unreadable entry."""
    if folder is None:
        return None
    path = folder / f"{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError):
        _STATS["misses"] += 1
        return None
    _STATS["hits"] += 1
    return data


def save_arrays(folder: Path | None, key: str, **arrays: np.ndarray) -> None:
    if folder is None:
        return
    try:
        with atomic_path(folder / f"{key}.npz") as tmp:
            np.savez(tmp, **arrays)
        _STATS["writes"] += 1
    except Exception:  # a read-only or full cache must never break feature extraction
        pass


def load_json(folder: Path | None, key: str) -> dict | None:
    if folder is None:
        return None
    try:
        with open(folder / f"{key}.json", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        _STATS["misses"] += 1
        return None
    _STATS["hits"] += 1
    return data


def save_json(folder: Path | None, key: str, data: dict) -> None:
    if folder is None:
        return
    try:
        with atomic_path(folder / f"{key}.json") as tmp:
            tmp.write_text(json.dumps(data), encoding="utf-8")
        _STATS["writes"] += 1
    except Exception:
        pass
