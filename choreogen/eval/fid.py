"""Feature normalisation, Fréchet distance (FID_k / FID_g) and diversity (Div_k / Div_g).

Clean-room implementation of METRICS_SPEC §4 and §5. Two reference flavours:

* ``"fact"`` (liruilong940607/mint ``calculate_fid_scores.py``): real set first, eps 1e-6 on a
  non-finite sqrtm, **raise** if the complex part of the sqrtm diagonal exceeds 1e-3;
* ``"bailando"`` (Bailando ``metrics_new.py``, also LODGE): generated set first, eps 1e-5; the
  reference may return a complex number, of which the real part is the printed value (we return
  the real part).

Both normalise both sets by the **GT pool's** per-dimension mean and population std (+1e-10),
computed in the features' dtype (float32 in the references). SciPy >= 1.16 deprecates
``sqrtm(disp=...)``: we call ``sqrtm`` plainly and check finiteness ourselves.

``drop_constant`` (our option, not in any reference) leaves out the feature dimensions that are
constant over the GT pool before normalising: with ``std + 1e-10`` such a dimension turns any
variation in the generated set into values of order 1e10 (METRICS_SPEC §4 "measured pitfall").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

from ..errors import InputError

NORM_EPS = 1e-10
FID_EPS = {"fact": 1e-6, "bailando": 1e-5}


@dataclass
class FIDResult:
    """A Fréchet distance with the details a report needs.

    ``value``: the distance (float; real part). ``eps_retry``: whether the sqrtm had to be retried
    with ``eps * I`` added to both covariances. ``imag``: the imaginary part the reference would have
    carried (0.0 if the sqrtm was real). ``dropped_dims``: feature dimensions left out (GT-constant).
    """

    value: float
    eps_retry: bool = False
    imag: float = 0.0
    dropped_dims: list[int] = field(default_factory=list)


def _check(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise InputError(f"{what} features must be a (N, D) matrix, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise InputError(f"{what} features contain NaN or infinite values")
    return x


def constant_dims(gt: np.ndarray) -> list[int]:
    """Indices of feature dimensions whose GT-pool population std is exactly 0."""
    gt = np.asarray(gt)
    return [int(i) for i in np.flatnonzero(gt.std(axis=0) == 0)] if len(gt) else []


def normalize(gt: np.ndarray, gen: np.ndarray | None = None):
    """Standardise by the GT pool: ``(x - mean_gt) / (std_gt + 1e-10)`` (ddof 0, features' dtype).

    Returns ``(gt_n, gen_n)`` (``gen_n`` is None when ``gen`` is None).
    """
    gt = _check(gt, "ground-truth")
    mean = gt.mean(axis=0)
    std = gt.std(axis=0)
    gt_n = (gt - mean) / (std + NORM_EPS)
    gen_n = None
    if gen is not None:
        gen = _check(gen, "generated")
        if gen.shape[1] != gt.shape[1]:
            raise InputError(f"feature sizes differ: generated {gen.shape[1]}, ground truth {gt.shape[1]}")
        gen_n = (gen - mean) / (std + NORM_EPS)
    return gt_n, gen_n


def frechet_distance(x1: np.ndarray, x2: np.ndarray, eps: float = 1e-6, raise_on_imag: bool = True) -> FIDResult:
    """Fréchet distance between Gaussians fitted to the rows of ``x1`` (N1, D) and ``x2`` (N2, D).

    ``d = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrtm(S1 S2)``, ``S = np.cov(rowvar=False)`` (N-1).
    Means are taken in the input dtype (float32 features give a float32 mean, as in the
    references). If the sqrtm is not finite it is retried with ``eps * I`` added to both
    covariances. A complex sqrtm raises when ``raise_on_imag`` and any diagonal imaginary part
    exceeds 1e-3; otherwise its real part is used. Needs N >= 2 per set.
    """
    x1 = _check(x1, "first")
    x2 = _check(x2, "second")
    if len(x1) < 2 or len(x2) < 2:
        raise InputError(f"FID needs at least 2 samples per set, got {len(x1)} and {len(x2)}")
    mu1, mu2 = x1.mean(axis=0), x2.mean(axis=0)
    s1 = np.atleast_2d(np.cov(x1, rowvar=False))
    s2 = np.atleast_2d(np.cov(x2, rowvar=False))
    diff = mu1 - mu2
    with warnings.catch_warnings():   # singular products are expected (N < D, duplicated dims)
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1.dot(s2))
        retry = False
        if not np.isfinite(covmean).all():
            retry = True
            offset = np.eye(s1.shape[0]) * eps
            covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
    imag = 0.0
    if np.iscomplexobj(covmean):
        if raise_on_imag and not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            m = float(np.max(np.abs(covmean.imag)))
            raise ValueError(f"FID: sqrtm has a large imaginary component ({m:.3g})")
        imag = float(-2.0 * np.trace(covmean).imag)
        covmean = covmean.real
    value = float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return FIDResult(value=value, eps_retry=retry, imag=imag)


def fid(gt: np.ndarray, gen: np.ndarray, flavour: str = "bailando", drop_constant: bool = False) -> FIDResult:
    """FID between raw features of the GT pool (N_gt, D) and a generated set (N_gen, D).

    Normalises both by the GT pool (:func:`normalize`), then :func:`frechet_distance` with the
    flavour's argument order, eps and complex handling. ``drop_constant`` first removes
    GT-constant dimensions (reported in ``dropped_dims``).
    """
    if flavour not in FID_EPS:
        raise ValueError(f"flavour must be one of {sorted(FID_EPS)}, got {flavour!r}")
    gt = _check(gt, "ground-truth")
    gen = _check(gen, "generated")
    dropped: list[int] = []
    if drop_constant:
        dropped = constant_dims(gt)
        keep = [i for i in range(gt.shape[1]) if i not in set(dropped)]
        gt, gen = gt[:, keep], gen[:, keep]
    gt_n, gen_n = normalize(gt, gen)
    if flavour == "fact":
        res = frechet_distance(gt_n, gen_n, eps=FID_EPS["fact"], raise_on_imag=True)
    else:
        res = frechet_distance(gen_n, gt_n, eps=FID_EPS["bailando"], raise_on_imag=False)
    res.dropped_dims = dropped
    return res


def avg_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over all unordered pairs of rows of ``x`` (N, D): Bailando/FACT "Div"."""
    x = _check(x, "diversity")
    if len(x) < 2:
        return float("nan")
    return float(pdist(x.astype(np.float64), "euclidean").mean())


def diversity(gt: np.ndarray, gen: np.ndarray, drop_constant: bool = False) -> float:
    """Div of ``gen`` (N, D) after normalising by the GT pool ``gt`` (Bailando §5; FACT's "Dist")."""
    gt = _check(gt, "ground-truth")
    gen = _check(gen, "generated")
    if drop_constant:
        keep = [i for i in range(gt.shape[1]) if i not in set(constant_dims(gt))]
        gt, gen = gt[:, keep], gen[:, keep]
    _, gen_n = normalize(gt, gen)
    return avg_pairwise_distance(gen_n)


def random_pair_diversity(x: np.ndarray, n_pairs: int = 300, seed: int = 0) -> float:
    """T2M/MDM-style diversity (§5): mean distance over ``n_pairs`` random pairs, two independent
    draws without replacement. Needs N > n_pairs. Not the Bailando definition: do not mix them."""
    x = _check(x, "diversity")
    if len(x) <= n_pairs:
        raise InputError(f"random-pair diversity needs more than {n_pairs} samples, got {len(x)}")
    rng = np.random.default_rng(seed)
    i = rng.choice(len(x), n_pairs, replace=False)
    j = rng.choice(len(x), n_pairs, replace=False)
    return float(np.linalg.norm(x[i].astype(np.float64) - x[j], axis=1).mean())
