"""Loading dataset pickles without running arbitrary code.

AIST++ ships its annotations as pickles of plain dicts of numpy arrays. ``pickle.load`` on an
untrusted file can execute anything, so :func:`safe_load_pickle` uses an Unpickler that only
resolves the globals such data needs (numpy array/dtype/scalar reconstruction, a few builtins)
and refuses every other global with an :class:`~choreogen.errors.InputError`.
"""
from __future__ import annotations

import builtins
import collections
import os
import pickle

import numpy as np

from ..errors import InputError
from ..fileio import require_file

_ALLOWED: dict[tuple[str, str], object] = {}


def _allow(module: str, name: str, obj) -> None:
    _ALLOWED[(module, name)] = obj


_mu = getattr(np, "_core", None) or np.core  # numpy 2 moved numpy.core -> numpy._core
for _mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _allow(_mod, "_reconstruct", _mu.multiarray._reconstruct)
    _allow(_mod, "scalar", _mu.multiarray.scalar)
_allow("numpy", "ndarray", np.ndarray)
_allow("numpy", "dtype", np.dtype)
for _name in ("dict", "list", "tuple", "set", "frozenset", "int", "float", "complex", "str", "bytes",
              "bytearray", "bool", "slice"):
    _allow("builtins", _name, getattr(builtins, _name))
    _allow("__builtin__", _name, _ALLOWED[("builtins", _name)])  # Python 2 pickles
_allow("collections", "OrderedDict", collections.OrderedDict)


def _codecs_encode(obj, encoding="utf-8", errors="strict"):
    """Python-2-era pickles store bytes as ``_codecs.encode(str, 'latin1')``; only that is allowed."""
    import codecs

    if not isinstance(obj, str) or str(encoding).lower() not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise pickle.UnpicklingError("unexpected _codecs.encode call")
    return codecs.encode(obj, encoding, errors)


_allow("_codecs", "encode", _codecs_encode)


class SafeUnpickler(pickle.Unpickler):
    """Unpickler restricted to numpy arrays/dtypes/scalars and plain builtin containers."""

    def find_class(self, module: str, name: str):
        obj = _ALLOWED.get((module, name))
        if obj is None and module.startswith("numpy.dtypes") and name.endswith("DType"):
            import numpy.dtypes as ndt  # numpy >= 1.25 dtype classes (pure data)

            obj = getattr(ndt, name, None)
        if obj is None:
            raise pickle.UnpicklingError(f"refusing to load '{module}.{name}'")
        return obj


def safe_load_pickle(path: str | os.PathLike):
    """Load a data-only pickle; raise :class:`InputError` naming the file on anything else."""
    p = require_file(path, "pickle file")
    try:
        with open(p, "rb") as f:
            return SafeUnpickler(f, encoding="latin1").load()
    except pickle.UnpicklingError as e:
        msg = str(e)
        if msg.startswith("refusing"):
            raise InputError(f"unsafe pickle: {msg} (only numpy arrays and plain containers are allowed)", p) from None
        raise InputError(f"not a readable pickle ({msg})", p) from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, MemoryError, OSError) as e:
        raise InputError(f"not a readable pickle ({e.__class__.__name__}: {e})", p) from None
