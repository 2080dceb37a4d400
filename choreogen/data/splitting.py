"""Fixed, reproducible train/val splits by sequence, stratified by genre.

The rule (used to make ``splits/tang2018.json`` and, at run time, for folder / FineDance datasets
without an official split): within each genre, order the sequence names by
``sha256(f"{seed}:{name}")`` and put the first ``floor(val_fraction * n + 0.5)`` of them into
``val``. A genre with a single sequence therefore stays entirely in ``train`` (Tang2018's only
tango). The result depends only on the names, genres, fraction and seed -- not on file order,
numpy versions or the machine.
"""
from __future__ import annotations

import hashlib
import json
import math
from importlib import resources
from pathlib import Path

from ..errors import ConfigError
from ..io.naming import natural_key

SPLIT_SEED = 2018
VAL_FRACTION = 0.2
SPLIT_NAMES = ("train", "val", "test")
SPLIT_CODES = {"train": 0, "val": 1, "test": 2}


def _rank(name: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{name}".encode("utf-8")).hexdigest()


def stratified_split(
    names: list[str], genres: list[str | None], val_fraction: float = VAL_FRACTION, seed: int = SPLIT_SEED,
) -> dict[str, list[str]]:
    """Split sequence ``names`` into {"train": [...], "val": [...]} (each sorted).

    ``genres[i]`` is the genre of ``names[i]`` (None = its own "unknown" stratum).
    """
    if len(names) != len(genres):
        raise ValueError("names and genres must have the same length")
    if not 0.0 <= val_fraction < 1.0:
        raise ConfigError(f"val_fraction must be in [0, 1), got {val_fraction}")
    by_genre: dict[str | None, list[str]] = {}
    for n, g in zip(names, genres):
        by_genre.setdefault(g, []).append(n)
    train: list[str] = []
    val: list[str] = []
    for members in by_genre.values():
        ordered = sorted(members, key=lambda n: _rank(n, seed))
        k = int(math.floor(val_fraction * len(ordered) + 0.5))
        val += ordered[:k]
        train += ordered[k:]
    return {"train": sorted(train, key=natural_key), "val": sorted(val, key=natural_key)}


def fixed_split(dataset: str) -> dict[str, list[str]]:
    """The split shipped with choreogen for ``dataset`` (``tang2018``): {"train": [...], "val": [...]}."""
    ref = resources.files("choreogen.data").joinpath("splits", f"{dataset}.json")
    if not ref.is_file():
        raise ConfigError(f"no fixed split is shipped for dataset '{dataset}'")
    d = json.loads(ref.read_text(encoding="utf-8"))
    return {k: list(d[k]) for k in ("train", "val")}


def split_file_path(dataset: str) -> Path:
    """Path of the shipped split file (for documentation and tests)."""
    return Path(str(resources.files("choreogen.data").joinpath("splits", f"{dataset}.json")))
