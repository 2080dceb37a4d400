"""A motion genre classifier (the "judge" of genre control): 5 s clips of SMPL-24 joints -> genre.

Features of one clip (``clip_features``; joints (T, 24, 3) metres, Y-up, 30 fps, T >= 30), 135-D:

* kinetic (72) and geometric (32) features of METRICS_SPEC §2-3 (root-relative, zero start);
* per joint, mean speed relative to the root (24, m/s);
* root: horizontal speed mean and std, vertical std (m/s, m), heading turn rate mean |.| and std
  (rad/s, from the hip axis), pelvis height mean and std (m) -- 7 numbers.

The classifier is multinomial logistic regression on standardised features with class weights
n / (K * n_k) (the 4 Tang2018 genres are imbalanced: 29 waltz, 8 rumba, 6 cha-cha, 1 tango), L2,
full-batch L-BFGS from zeros (deterministic). Saved as a checkpoint envelope, task ``eval.genre_judge``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from .features import apply_origin, geometric_features, kinetic_features

TASK = "eval.genre_judge"
FPS = 30


def clip_features(joints: np.ndarray, fps: float = FPS) -> np.ndarray:
    """(T, 24, 3) joints of one clip -> (135,) float32 (see the module docstring)."""
    P = np.asarray(joints, np.float64)
    if P.ndim != 3 or P.shape[1:] != (24, 3) or P.shape[0] < 30:
        raise InputError(f"a judge clip must be (T >= 30, 24, 3) joints, got {P.shape}")
    rel = apply_origin(P, "zero_start_root_relative")
    kin = kinetic_features(rel)
    geo = geometric_features(P)
    v = np.diff(P, axis=0) * fps
    speed = np.linalg.norm(v[:, 1:] - v[:, :1], axis=-1).mean(0)
    speed = np.concatenate([[np.linalg.norm(v[:, 0], axis=-1).mean()], speed[:23]])
    root_h = np.linalg.norm(v[:, 0, [0, 2]], axis=-1)
    hip = P[:, 2] - P[:, 1]  # right hip - left hip
    head = np.unwrap(np.arctan2(hip[:, 2], hip[:, 0]))
    turn = np.diff(head) * fps
    extra = [root_h.mean(), root_h.std(), v[:, 0, 1].std(), np.abs(turn).mean(), turn.std(), P[:, 0, 1].mean(),
             P[:, 0, 1].std()]
    return np.concatenate([kin, geo, speed, extra]).astype(np.float32)


@dataclass
class GenreJudge:
    labels: list
    mean: np.ndarray
    std: np.ndarray
    weight: np.ndarray  # (K, F)
    bias: np.ndarray    # (K,)

    def proba(self, feats: np.ndarray) -> np.ndarray:
        """(N, F) clip features -> (N, K) probabilities."""
        z = ((np.asarray(feats, np.float64) - self.mean) / self.std) @ self.weight.T + self.bias
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def predict(self, feats: np.ndarray) -> np.ndarray:
        return self.proba(feats).argmax(1)

    def save(self, path: str | os.PathLike, provenance: dict | None = None) -> Path:
        import torch

        from ..checkpoints import Envelope, write

        t = {k: torch.as_tensor(np.asarray(getattr(self, k), np.float32)) for k in ("mean", "std", "weight", "bias")}
        return write(path, Envelope(TASK, {"labels": self.labels, "features": "clip_features v1 (135)", "fps": FPS},
                                    t, provenance or {}))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GenreJudge":
        from ..checkpoints import read

        env = read(path)
        if env.task != TASK:
            raise InputError(f"is a {env.task} checkpoint, not a genre judge", path)
        t = {k: env.tensors[k].double().numpy() for k in ("mean", "std", "weight", "bias")}
        return cls(list(env.config["labels"]), **t)


def fit_judge(feats: np.ndarray, y: np.ndarray, labels: list[str], l2: float = 1e-2, steps: int = 300) -> GenreJudge:
    """Class-weighted multinomial logistic regression on standardised ``feats`` (N, F), ``y`` (N,) in 0..K-1."""
    import torch

    X = np.asarray(feats, np.float64)
    mean, std = X.mean(0), X.std(0) + 1e-8
    Xt = torch.as_tensor((X - mean) / std)
    Y = torch.as_tensor(np.asarray(y, np.int64))
    K = len(labels)
    n_k = np.bincount(y, minlength=K).astype(np.float64)
    w_cls = torch.as_tensor(len(y) / (K * np.maximum(n_k, 1)))
    W = torch.zeros(K, X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(K, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Xt @ W.T + b, Y, weight=w_cls) + l2 * (W ** 2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return GenreJudge(list(labels), mean, std, W.detach().numpy(), b.detach().numpy())


def clips(joints: np.ndarray, length: int = 150, stride: int = 75, start: int = 0) -> list[np.ndarray]:
    """Cut (T, J, 3) into clips of ``length`` frames every ``stride`` from ``start``, each re-centred so
    that its first root position is at the xz origin (heights kept)."""
    out = []
    for s in range(start, joints.shape[0] - length + 1, stride):
        c = np.array(joints[s:s + length], np.float32)
        c[..., [0, 2]] -= c[:1, :1, [0, 2]]
        out.append(c)
    return out
