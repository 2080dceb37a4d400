"""Training windows over a prepared dataset folder (see :mod:`choreogen.data.prepare`).

The arrays are memory-mapped (``np.load(mmap_mode="r")``): opening a dataset costs nothing and
each item copies only its own window.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import InputError
from .prepare import FORMAT_VERSION, MANIFEST
from .splitting import SPLIT_CODES

ROOT_X, ROOT_Y, ROOT_Z = 4, 5, 6  # feature columns of the root position (after 4 contacts)


def load_manifest(path: str | os.PathLike) -> dict:
    """Read ``manifest.json`` of a prepared folder (or the manifest file itself)."""
    p = Path(path)
    f = p / MANIFEST if p.is_dir() else p
    if not p.exists():
        raise InputError("prepared dataset folder not found", p)
    if not f.exists():
        raise InputError("not a prepared dataset: manifest.json is missing (run `choreogen data prepare`)", p)
    try:
        m = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read manifest ({e.__class__.__name__})", f) from None
    if not isinstance(m, dict) or m.get("format_version") != FORMAT_VERSION:
        got = m.get("format_version") if isinstance(m, dict) else None
        raise InputError(f"prepared with format version {got}, this choreogen reads {FORMAT_VERSION}: "
                         "run `choreogen data prepare` again", f)
    return m


class PreparedWindows(Dataset):
    """Fixed-length training windows of a prepared dataset.

    Args:
        path: prepared folder (``motion.npy``, ``music.npy``, ``windows.npy``, ``manifest.json``).
        split: "train", "val", "test" (AIST++ only) or "all".
        recentre: subtract the root x and z (feature columns 4 and 6) of the window's first frame
            from those columns, so each window starts at the xz origin (y, column 5, is untouched).

    Item: dict(
        ``motion`` (W, Dm) float32 tensor -- canonical 30 fps features (4 contacts, 3 root in m,
        J x 6D), ``music`` (W, Da) float32 tensor -- aligned music features,
        ``genre`` int64 tensor () -- index into ``manifest["genres"]``, -1 when unknown,
        ``seq`` int -- index into ``manifest["sequences"]``, ``start`` int -- frame in the sequence).
    """

    def __init__(self, path: str | os.PathLike, split: str = "train", recentre: bool = True):
        self.path = Path(path)
        self.manifest = load_manifest(self.path)
        if split != "all" and split not in SPLIT_CODES:
            raise InputError(f"unknown split '{split}' (use train, val, test or all)", self.path)
        try:
            self.motion = np.load(self.path / "motion.npy", mmap_mode="r")
            self.music = np.load(self.path / "music.npy", mmap_mode="r")
            win = np.load(self.path / "windows.npy")
        except (OSError, ValueError) as e:
            raise InputError(f"prepared arrays are missing or unreadable ({e.__class__.__name__})", self.path) from None
        m = self.manifest
        if self.motion.shape != (m["totals"]["frames"], m["motion_dim"]) or len(self.music) != len(self.motion):
            raise InputError("prepared arrays do not match the manifest (rebuild with --force)", self.path)
        self.window = int(m["window_frames"])
        self.fps = float(m["fps"])
        self.recentre = recentre
        self.split = split
        self.windows = win if split == "all" else win[win[:, 2] == SPLIT_CODES[split]]
        self.genre_of_seq = np.array([s.get("genre_index", -1) for s in m["sequences"]], dtype=np.int64)
        self.offsets = np.array([s["offset"] for s in m["sequences"]], dtype=np.int64)

    # DataLoader workers (spawn) pickle the dataset: send the paths, re-open the memory maps there
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["motion"] = state["music"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.motion = np.load(self.path / "motion.npy", mmap_mode="r")
        self.music = np.load(self.path / "music.npy", mmap_mode="r")

    @property
    def genres(self) -> list[str]:
        return list(self.manifest["genres"])

    @property
    def motion_dim(self) -> int:
        return int(self.motion.shape[1])

    @property
    def music_dim(self) -> int:
        return int(self.music.shape[1])

    def __len__(self) -> int:
        return int(len(self.windows))

    def __getitem__(self, i: int) -> dict:
        seq, start, _ = (int(v) for v in self.windows[i])
        stop = start + self.window
        mot = np.array(self.motion[start:stop], dtype=np.float32)
        mus = np.array(self.music[start:stop], dtype=np.float32)
        if self.recentre:
            mot[:, ROOT_X] -= mot[0, ROOT_X]
            mot[:, ROOT_Z] -= mot[0, ROOT_Z]
        return {
            "motion": torch.from_numpy(mot),
            "music": torch.from_numpy(mus),
            "genre": torch.tensor(self.genre_of_seq[seq], dtype=torch.int64),
            "seq": seq,
            "start": start - int(self.offsets[seq]),
        }

    def sequence_motion(self, seq: int) -> np.ndarray:
        """(F, Dm) read-only view of one whole sequence (e.g. for fitting a normaliser)."""
        s = self.manifest["sequences"][seq]
        return self.motion[s["offset"]:s["offset"] + s["frames"]]

    def split_frames(self) -> np.ndarray:
        """(F_split, Dm) float32 copy of every frame of the sequences in this split (unique frames,
        not window copies); what a :class:`~choreogen.motion.representation.Normalizer` is fitted on."""
        seqs = sorted({int(s) for s in self.windows[:, 0]})
        return np.concatenate([np.asarray(self.sequence_motion(s), np.float32) for s in seqs], axis=0)
