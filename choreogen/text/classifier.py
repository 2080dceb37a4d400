"""Prompt -> genre: a logistic-regression head over sentence embeddings, one per genre vocabulary.

For a vocabulary (the genre labels of a dance checkpoint) the head is trained on the ``train``
descriptions of the genre-description data set (:mod:`.prompts`) plus, per genre, its name, aliases
and GCDance's sentence "This is a {Genre} type of music." (so a bare label is understood). A label
with no descriptions is trained on those sentences alone.

"Matched nothing well": the prompt's largest cosine similarity to a genre centroid (mean unit
embedding of that genre's training texts, renormalised) below ``threshold``. The threshold is the
midpoint that best separates (balanced accuracy) the training descriptions from the ``train``
off-topic prompts; the held-out parts measure it (``benchmarks/prompt_genre_eval.py``).

Stored as a checkpoint envelope (task ``text.prompt_genre``): per vocabulary ``<vocab>.weight``
(K, D), ``<vocab>.bias`` (K,), ``<vocab>.centroids`` (K, D); config: encoder name and dim, and per
vocabulary labels, display names and threshold.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .prompts import PromptSet, check_prompt, genre_sentence, load_prompt_set

TASK = "text.prompt_genre"
BUNDLED_PATH = Path(__file__).resolve().parents[1] / "assets" / "models" / "prompt_genre.safetensors"


@dataclass
class GenreMatch:
    """What a prompt was understood as. ``index`` is into the vocabulary's labels; ``accepted`` False =
    matched nothing well. ``probability``: the head's softmax; ``similarity``: cosine to the centroid."""

    prompt: str
    label: str | None
    name: str | None
    index: int
    probability: float
    similarity: float
    threshold: float
    accepted: bool
    ranked: list = field(default_factory=list)  # [(label, probability)] best first

    def describe(self) -> str:
        if not self.accepted:
            return (f"'{self.prompt}' matched no genre well (closest: {self.ranked[0][0]}, similarity "
                    f"{self.similarity:.2f} < {self.threshold:.2f})")
        return (f"understood '{self.prompt}' as {self.name} (probability {self.probability:.2f}, "
                f"similarity {self.similarity:.2f})")


@dataclass
class GenreHead:
    labels: list
    names: list
    weight: np.ndarray     # (K, D)
    bias: np.ndarray       # (K,)
    centroids: np.ndarray  # (K, D) unit rows
    threshold: float

    def scores(self, emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, D) unit embeddings -> probabilities (N, K), centroid similarities (N, K)."""
        z = emb @ self.weight.T + self.bias
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True), emb @ self.centroids.T

    def match(self, prompt: str, emb: np.ndarray) -> GenreMatch:
        p, s = self.scores(emb[None])
        p, s = p[0], s[0]
        k = int(p.argmax())
        order = np.argsort(-p)
        ok = bool(s.max() >= self.threshold)
        return GenreMatch(prompt, self.labels[k] if ok else None, self.names[k] if ok else None, k if ok else -1,
                          float(p[k]), float(s.max()), float(self.threshold), ok,
                          [(self.labels[i], float(p[i])) for i in order])


def training_texts(ps: PromptSet, labels: list[str], part: str = "train") -> tuple[list[str], np.ndarray]:
    """Texts and genre indices (into ``labels``) for a vocabulary; ``part`` "train" adds names/aliases/sentence."""
    texts, ys = [], []
    for i, lab in enumerate(labels):
        key = ps.key_of(lab)
        g = ps.genres.get(key) if key else None
        own = list(g[part]) if g else []
        if part == "train":
            name = ps.display_name(lab)
            own += [genre_sentence(name), name, f"{name} dance"] + ([f"{a} dance" for a in g["aliases"]] if g else [])
        texts += own
        ys += [i] * len(own)
    return texts, np.asarray(ys, np.int64)


def fit_head(emb: np.ndarray, y: np.ndarray, labels: list[str], names: list[str], off_emb: np.ndarray,
             l2: float = 1e-3, steps: int = 200) -> GenreHead:
    """Multinomial logistic regression (class-balanced, L2 ``l2``; full-batch L-BFGS from zeros, so
    deterministic) on unit embeddings ``emb`` (N, D), plus centroids and the calibrated threshold."""
    import torch

    K, D = len(labels), emb.shape[1]
    X, Y = torch.as_tensor(emb, dtype=torch.float64), torch.as_tensor(y)
    counts = np.bincount(y, minlength=K).astype(np.float64)
    w_cls = torch.as_tensor(len(y) / (K * np.maximum(counts, 1)))
    W = torch.zeros(K, D, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(K, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(X @ W.T * 10.0 + b, Y, weight=w_cls) + l2 * (W ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    cent = np.stack([emb[y == k].mean(0) for k in range(K)])
    cent /= np.linalg.norm(cent, axis=1, keepdims=True)
    pos, neg = (emb @ cent.T).max(1), (off_emb @ cent.T).max(1)
    return GenreHead(list(labels), list(names), (W.detach().numpy() * 10.0).astype(np.float32),
                     b.detach().numpy().astype(np.float32), cent.astype(np.float32), calibrate(pos, neg))


def calibrate(pos: np.ndarray, neg: np.ndarray) -> float:
    """The threshold (midpoint between sorted scores) with the best balanced accuracy pos >= t > neg."""
    cand = np.unique(np.concatenate([pos, neg]))
    mids = (cand[1:] + cand[:-1]) / 2 if len(cand) > 1 else cand
    bal = [(np.mean(pos >= t) + np.mean(neg < t)) / 2 for t in mids]
    return float(mids[int(np.argmax(bal))])


class PromptGenreClassifier:
    """Heads for genre vocabularies over one sentence encoder; ``classify(prompt, labels)``."""

    def __init__(self, encoder=None, heads: dict | None = None, prompt_set: PromptSet | None = None):
        self._encoder = encoder
        self.heads: dict[tuple, GenreHead] = dict(heads or {})
        self.prompt_set = prompt_set or load_prompt_set()

    @property
    def encoder(self):
        if self._encoder is None:
            from .encoder import load_encoder

            self._encoder = load_encoder()
        return self._encoder

    def head(self, labels: list[str]) -> GenreHead:
        """The head for this vocabulary (stored, else trained now from the data set: a few seconds)."""
        key = tuple(labels)
        if key not in self.heads:
            ps = self.prompt_set
            texts, y = training_texts(ps, list(labels))
            emb = self.encoder.encode(texts)
            off = self.encoder.encode(ps.off_topic["train"])
            self.heads[key] = fit_head(emb, y, list(labels), [ps.display_name(x) for x in labels], off)
        return self.heads[key]

    def check(self, prompt: str, what: str = "--prompt") -> str:
        """:func:`check_prompt` plus the encoder's token limit (ConfigError naming both numbers)."""
        p = check_prompt(prompt, what)
        n = self.encoder.n_tokens(p)
        if n > self.encoder.max_tokens:
            raise ConfigError(f"{what} is {n} tokens long; the sentence encoder ({self.encoder.name}) reads at most "
                              f"{self.encoder.max_tokens}: shorten it")
        return p

    def classify(self, prompt: str, labels: list[str], what: str = "--prompt") -> GenreMatch:
        if not labels:
            raise ConfigError(f"{what}: this model has no genre labels, so a prompt cannot choose one")
        p = self.check(prompt, what)
        return self.head(list(labels)).match(p, self.encoder.encode([p])[0])


def save_classifier(path: str | os.PathLike, clf: PromptGenreClassifier, names: dict[tuple, str],
                    provenance: dict | None = None) -> Path:
    """Write the heads named in ``names`` ({labels tuple: vocabulary name}) as one envelope."""
    import torch

    from ..checkpoints import Envelope, write

    cfg = {"encoder": clf.encoder.name, "dim": clf.encoder.dim, "vocabularies": {}}
    tensors = {}
    for key, vname in names.items():
        h = clf.head(list(key))
        cfg["vocabularies"][vname] = {"labels": h.labels, "names": h.names, "threshold": h.threshold}
        tensors.update({f"{vname}.weight": torch.as_tensor(h.weight), f"{vname}.bias": torch.as_tensor(h.bias),
                        f"{vname}.centroids": torch.as_tensor(h.centroids)})
    return write(path, Envelope(TASK, cfg, tensors, provenance or {}))


def load_classifier(path: str | os.PathLike | None = None, encoder=None) -> PromptGenreClassifier:
    """The stored heads (bundled file by default) for ``encoder``; heads stored for another encoder
    (name or dimension) are ignored and retrained on demand."""
    from ..checkpoints import load_model

    def build(env):
        return env

    env = load_model(Path(path) if path else "prompt-genre", TASK, build)
    clf = PromptGenreClassifier(encoder)
    if env.config.get("encoder") == clf.encoder.name and int(env.config.get("dim", -1)) == clf.encoder.dim:
        for vname, v in env.config["vocabularies"].items():
            t = {k: env.tensors[f"{vname}.{k}"].float().numpy() for k in ("weight", "bias", "centroids")}
            clf.heads[tuple(v["labels"])] = GenreHead(list(v["labels"]), list(v["names"]), t["weight"], t["bias"],
                                                       t["centroids"], float(v["threshold"]))
    return clf


_DEFAULT: dict = {}


def classify_prompt(prompt: str, labels: list[str], what: str = "--prompt") -> GenreMatch:
    """The process-wide default classifier (bundled heads, default encoder) -> :class:`GenreMatch`."""
    if "clf" not in _DEFAULT:
        _DEFAULT["clf"] = load_classifier() if BUNDLED_PATH.is_file() else PromptGenreClassifier()
    return _DEFAULT["clf"].classify(prompt, labels, what)
