"""Dataset folders -> sequences of :class:`~choreogen.motion.Motion` with music and genre.

Supported layouts (``fmt``):

* ``tang2018``: ``ROOT/DANCE_<G>_<n>.npz`` (poses, trans, fps = 25, genre) + ``DANCE_<G>_<n>.mp3``.
* ``aistpp``: ``ROOT/motions/*.pkl`` (official SMPL pickles, 60 fps), music ``ROOT/wav/m<GG><n>.wav``
  (or ``ROOT/music/``), split lists ``ROOT/splits/crossmodal_{train,val,test}.txt`` and
  ``ignore_list.txt`` (in ``ROOT/splits/`` or ``ROOT/``); ignored sequences are never yielded.
* ``finedance``: ``ROOT/motion/NNN.npy`` (T, 315|319) at 30 fps, music ``ROOT/music_wav/NNN.wav``,
  optional genre labels ``ROOT/label_json/NNN.json``; the FineDance ignore list (116-123, 202) is
  left out.
* ``folder``: ``ROOT/<name>.npz`` (choreogen contract npz or SMPL npz with poses/trans/fps) +
  ``ROOT/<name>.<wav|mp3|ogg|flac|m4a>``; genre from the npz ``genre`` entry or ``ROOT/genres.json``
  ({name: genre}).

Discovery (:func:`list_sources`) only looks at file names; loading (:func:`iter_dataset`) reads them
and turns every per-file problem into an error message instead of an exception.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ..errors import ChoreogenError, ConfigError, InputError
from ..motion import Motion
from ..io.naming import (  # noqa: F401  (re-exported: public names of this room)
    AISTPP_GENRES, AUDIO_EXTS, aistpp_genre, aistpp_music_name, finedance_genre, natural_key)
from .splitting import fixed_split, stratified_split

FORMATS = ("tang2018", "aistpp", "finedance", "folder")
TANG_GENRES = ("chacha", "rumba", "tango", "waltz")
# FineDance@Genre split as published with FineDance/LODGE (METRICS_SPEC section 1, numeric facts):
# 20 test sequences; 116-123 and 202 are ignored ("120" is in both lists: ignored wins).
FINEDANCE_TEST = ("063", "132", "143", "036", "098", "198", "130", "012", "211", "193", "179", "065", "137",
                  "161", "092", "120", "037", "109", "204", "144")
FINEDANCE_IGNORE = ("116", "117", "118", "119", "120", "121", "122", "123", "202")


@dataclass(frozen=True)
class Source:
    """One sequence of a dataset before loading: its name and the files it comes from."""

    name: str
    motion_path: Path
    music_path: Path | None
    genre: str | None = None  # known from the file name / labels without loading


def _require_dir(path: Path, what: str) -> Path:
    if not path.exists():
        raise InputError(f"{what} not found", path)
    if not path.is_dir():
        raise InputError(f"{what} must be a folder", path)
    return path


def _first_existing(*paths: Path) -> Path | None:
    for p in paths:
        if p.exists():
            return p
    return None


def _read_list(path: Path | None) -> list[str]:
    if path is None or not path.exists():
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read list file ({e.__class__.__name__})", path) from None
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def _aistpp_split_dir(root: Path) -> Path:
    return root / "splits" if (root / "splits").is_dir() else root


def aistpp_ignore_list(root: Path) -> set[str]:
    d = _aistpp_split_dir(root)
    return set(_read_list(_first_existing(d / "ignore_list.txt", root / "ignore_list.txt")))


# ---------------------------------------------------------------------------------- discovery
def list_sources(root: str | os.PathLike, fmt: str) -> tuple[list[Source], list[tuple[str, str]]]:
    """Find the sequences of a dataset without loading them.

    Returns (sources, skipped) where ``skipped`` holds (name, reason) for files left out on
    purpose (AIST++ ignore list). Raises :class:`InputError` if the dataset folder is missing.
    """
    root = _require_dir(Path(root), "dataset folder")
    fmt = _check_fmt(fmt)
    skipped: list[tuple[str, str]] = []
    sources: list[Source] = []
    if fmt == "tang2018" or fmt == "folder":
        files = sorted(root.glob("*.npz"), key=lambda p: natural_key(p.stem))
        if not files:
            raise InputError("no .npz motion files in the dataset folder", root)
        for f in files:
            music = _first_existing(*(f.with_suffix(e) for e in (".mp3",) + AUDIO_EXTS))
            sources.append(Source(f.stem, f, music))
    elif fmt == "aistpp":
        motions = _require_dir(root / "motions", "AIST++ motions folder")
        music_dir = _first_existing(root / "wav", root / "music", root / "audio")
        ignore = aistpp_ignore_list(root)
        files = sorted(motions.glob("*.pkl"), key=lambda p: natural_key(p.stem))
        if not files:
            raise InputError("no .pkl motion files in the AIST++ motions folder", motions)
        for f in files:
            if f.stem in ignore:
                skipped.append((f.stem, "in the AIST++ ignore list"))
                continue
            mname = aistpp_music_name(f.stem)
            music = None
            if mname and music_dir is not None:
                music = _first_existing(*(music_dir / f"{mname}{e}" for e in AUDIO_EXTS))
            sources.append(Source(f.stem, f, music, aistpp_genre(f.stem)))
    elif fmt == "finedance":
        motions = _require_dir(root / "motion", "FineDance motion folder")
        music_dir = root / "music_wav"
        files = sorted(motions.glob("*.npy"), key=lambda p: natural_key(p.stem))
        if not files:
            raise InputError("no .npy motion files in the FineDance motion folder", motions)
        for f in files:
            if f.stem in FINEDANCE_IGNORE:
                skipped.append((f.stem, "in the FineDance ignore list"))
                continue
            music = _first_existing(*(music_dir / f"{f.stem}{e}" for e in AUDIO_EXTS))
            sources.append(Source(f.stem, f, music, finedance_genre(root, f.stem)))
    return sources, skipped


def _check_fmt(fmt: str) -> str:
    f = str(fmt).lower().replace("+", "p").replace("-", "")
    f = {"aist": "aistpp", "aistplusplus": "aistpp", "tang": "tang2018"}.get(f, f)
    if f not in FORMATS:
        raise ConfigError(f"unknown dataset format '{fmt}' (known: {', '.join(FORMATS)})")
    return f


def _folder_genres(root: Path) -> dict[str, str]:
    p = root / "genres.json"
    if not p.exists():
        return {}
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read genres.json ({e.__class__.__name__})", p) from None
    if not isinstance(d, dict):
        raise InputError("genres.json must be an object {name: genre}", p)
    return {str(k): str(v) for k, v in d.items()}


# ---------------------------------------------------------------------------------- loading
def load_source(src: Source, fmt: str, root: str | os.PathLike | None = None) -> Motion:
    """Load one discovered sequence; sets ``.music``, ``.genre`` and ``.name``. Raises InputError."""
    fmt = _check_fmt(fmt)
    if fmt in ("tang2018", "folder"):
        from ..io.core import load_npz

        m = load_npz(src.motion_path)
        if fmt == "folder" and not m.genre and root is not None:
            m.genre = _folder_genres(Path(root)).get(src.name)
    elif fmt == "aistpp":
        from ..io.formats import load_pickle_motion

        m = load_pickle_motion(src.motion_path)
        m.genre = src.genre
    else:
        from ..io.formats import load_finedance_npy

        m = load_finedance_npy(src.motion_path)
        m.genre = src.genre
    m.name = src.name
    m.music = str(src.music_path) if src.music_path is not None else None
    if m.music is None:
        raise InputError("no music file found for this motion", src.motion_path)
    return m


def iter_dataset(root: str | os.PathLike, fmt: str) -> Iterator[tuple[str, Motion | None, str | None]]:
    """Yield (name, motion, error) for every sequence of a dataset.

    ``motion`` is a validated :class:`Motion` at the dataset's own fps (Tang2018 25, AIST++ 60,
    FineDance 30) with ``.music`` (audio path) and ``.genre`` set; on a per-file problem it is
    None and ``error`` is a one-line message naming the file. Sequences left out on purpose
    (AIST++ ignore list) are not yielded. A missing dataset folder raises :class:`InputError`.
    """
    sources, _ = list_sources(root, fmt)
    for src in sources:
        try:
            yield src.name, load_source(src, fmt, root), None
        except ChoreogenError as e:
            yield src.name, None, str(e)


# ---------------------------------------------------------------------------------- splits
def get_split(fmt: str, root: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """Train/val(/test) sequence names.

    * tang2018: the fixed split shipped in ``choreogen/data/splits/tang2018.json``.
    * aistpp: the official ``crossmodal_{train,val,test}.txt`` lists minus ``ignore_list.txt``.
    * finedance: the published FineDance@Genre split -- ``test`` = its 20 test ids, ``train`` = the
      other sequences found in ``root`` (ignore list removed); no ``val``.
    * folder: :func:`~choreogen.data.splitting.stratified_split` of the sequences found in
      ``root`` (20% val per genre, fixed seed).
    """
    fmt = _check_fmt(fmt)
    if fmt == "tang2018":
        return fixed_split("tang2018")
    if root is None:
        raise ConfigError(f"get_split('{fmt}') needs the dataset root")
    root = _require_dir(Path(root), "dataset folder")
    if fmt == "aistpp":
        d = _aistpp_split_dir(root)
        ignore = aistpp_ignore_list(root)
        out: dict[str, list[str]] = {}
        for part in ("train", "val", "test"):
            f = d / f"crossmodal_{part}.txt"
            if f.exists():
                out[part] = [n for n in _read_list(f) if n not in ignore]
        if "train" not in out:
            raise InputError("AIST++ split list crossmodal_train.txt not found", d)
        return out
    sources, _ = list_sources(root, fmt)
    if fmt == "finedance":
        names = [s.name for s in sources]
        return {"train": [n for n in names if n not in FINEDANCE_TEST],
                "test": [n for n in names if n in FINEDANCE_TEST]}
    genres: list[str | None] = []
    folder_genres = _folder_genres(root) if fmt == "folder" else {}
    for s in sources:
        g = s.genre or folder_genres.get(s.name)
        if g is None and fmt == "folder":
            g = _npz_genre(s.motion_path)
        genres.append(g)
    return stratified_split([s.name for s in sources], genres)


def _npz_genre(path: Path) -> str | None:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as d:
            return str(d["genre"]) or None if "genre" in d.files else None
    except Exception:  # noqa: BLE001 - unreadable files are reported when loaded
        return None
