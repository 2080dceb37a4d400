"""Safe file writing: write to a temporary file in the destination folder, then rename.

A crash or a failed write never leaves a partial or corrupted output file behind.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import ChoreogenError, InputError


def ensure_parent(path: str | os.PathLike) -> Path:
    """Create the parent folder of ``path`` if needed; raise a clear error if that is impossible."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ChoreogenError("cannot create the output folder: a file is in the way", parent) from None
    except PermissionError:
        raise ChoreogenError("cannot create the output folder: permission denied", parent) from None
    if not os.access(parent, os.W_OK):
        raise ChoreogenError("the output folder is not writable", parent)
    return p


def _umask() -> int:
    old = os.umask(0)
    os.umask(old)
    return old


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    ``suffix`` defaults to the final suffix of ``path`` so that tools choosing a format by
    extension (numpy, ffmpeg) behave. On any exception the temporary file is removed.
    """
    dest = ensure_parent(path)
    suffix = dest.suffix if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=f".tmp{suffix}", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp_path, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def require_file(path: str | os.PathLike, what: str = "file") -> Path:
    """Return ``path`` as a Path if it is an existing, non-empty regular file; else raise."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} not found", p)
    if p.is_dir():
        raise InputError(f"expected a {what}, got a folder", p)
    if p.stat().st_size == 0:
        raise InputError(f"{what} is empty", p)
    return p


def check_output_dir(path: str | os.PathLike) -> Path:
    """Check (without creating anything) that ``path`` is or can become a writable folder."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ChoreogenError("output folder path is an existing file", p)
    anc = p
    while not anc.exists():
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise ChoreogenError(f"cannot create the output folder: {anc} is a file", p)
    if not os.access(anc, os.W_OK):
        raise ChoreogenError(f"cannot create the output folder: {anc} is not writable", p)
    return p


@contextlib.contextmanager
def staged_dir(dest: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``dest``; on success move its files into ``dest``.

    Nothing appears in ``dest`` unless the whole block succeeds (files are moved one by one with
    atomic renames at the end).
    """
    import shutil

    dest = check_output_dir(dest)
    anc = dest.parent
    anc.mkdir(parents=True, exist_ok=True) if not anc.exists() else None
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=anc))
    try:
        yield tmp
        dest.mkdir(parents=True, exist_ok=True)
        for f in sorted(tmp.iterdir()):
            os.replace(f, dest / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def sha256_file(path: str | os.PathLike, block: int = 1 << 20) -> str:
    """sha256 hex digest of a file's bytes, read in 1 MiB blocks (cache keys, dataset manifests)."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(block)
            if not b:
                break
            h.update(b)
    return h.hexdigest()
