"""DanceFusion-style reconstruction metrics for incomplete skeletons (arXiv DanceFusion §3.3, §4.2).

DanceFusion (no public code) defines, for a sequence ``X`` (T, J, D) with a presence mask
``M`` (T, J) in {0, 1}:

* masked MSE ``sum_i M_i ((x^rec - x^gt)^2 + (y^rec - y^gt)^2)`` and masked L1 (its eq. 2-3). We
  report them per present joint (the sum divided by the number of present (frame, joint) pairs)
  so that numbers are comparable across sequence lengths; ``reduction="sum"`` gives the paper's sum;
* FID (its eq. 10) between real and generated feature sets: :func:`choreogen.eval.fid.fid` on
  kinetic+geometric features for 3D, or on :func:`keypoint_features_2d` for 2D keypoints;
* Diversity (its eq. 11): ``(1/N) sum_i Var(X_i)``, "the variance across joint positions": we take
  Var(X_i) as the mean over present (joint, coordinate) of the temporal variance of sequence i
  (units: squared input units);
* the missing-joint rate (fraction of (frame, joint) pairs absent), overall and per joint.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError

CONF_THRESHOLD = 0.3


def presence(conf, shape, thr: float = CONF_THRESHOLD) -> np.ndarray:
    """(T, J) bool presence mask from a confidence array (None = all present)."""
    if conf is None:
        return np.ones(shape[:2], bool)
    c = np.asarray(conf)
    if c.shape != tuple(shape[:2]):
        raise InputError(f"confidence shape {c.shape} does not match keypoints {tuple(shape[:2])}")
    return c > thr


def masked_errors(pred, gt, mask=None, reduction: str = "mean") -> dict:
    """Masked MSE and L1 between ``pred`` and ``gt`` (T, J, D), counting only ``mask`` (T, J) joints.

    ``reduction="mean"``: per present joint (sum over coordinates, mean over present pairs);
    ``"sum"``: DanceFusion's eq. 2-3 as written. NaN where nothing is present.
    """
    pred = np.asarray(pred, np.float64)
    gt = np.asarray(gt, np.float64)
    if pred.shape != gt.shape or pred.ndim != 3:
        raise InputError(f"prediction and ground truth must have the same (T, J, D) shape, got {pred.shape}, {gt.shape}")
    m = np.ones(gt.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    d = np.nan_to_num(pred - gt)
    se = (d ** 2).sum(-1)[m]
    ae = np.abs(d).sum(-1)[m]
    if reduction == "sum":
        return {"mse": float(se.sum()), "l1": float(ae.sum())}
    if reduction != "mean":
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    n = int(m.sum())
    return {"mse": float(se.mean()) if n else float("nan"), "l1": float(ae.mean()) if n else float("nan")}


def missing_rates(masks) -> dict:
    """Missing-joint rates over a list of (T_i, J) presence masks: overall and per joint."""
    ms = [np.asarray(m, bool) for m in masks]
    if not ms:
        raise InputError("no sequences")
    allm = np.concatenate(ms, axis=0)
    return {"missing_rate": float(1.0 - allm.mean()), "missing_rate_per_joint": (1.0 - allm.mean(axis=0)).tolist()}


def sequence_variance(x, mask=None) -> float:
    """Var(X_i): mean over present (joint, coordinate) of the temporal variance of one sequence."""
    x = np.asarray(x, np.float64)
    m = np.ones(x.shape[:2], bool) if mask is None else np.asarray(mask, bool)
    vals = []
    for j in range(x.shape[1]):
        sel = x[m[:, j], j]
        if len(sel) >= 2:
            vals.extend(sel.var(axis=0).tolist())
    return float(np.mean(vals)) if vals else float("nan")


def dancefusion_diversity(seqs, masks=None) -> float:
    """DanceFusion eq. 11: mean of :func:`sequence_variance` over the sequences."""
    masks = masks if masks is not None else [None] * len(seqs)
    return float(np.nanmean([sequence_variance(x, m) for x, m in zip(seqs, masks)]))


def keypoint_features_2d(kp, conf=None, thr: float = CONF_THRESHOLD) -> np.ndarray:
    """A fixed, weight-free 2D motion descriptor (5*J,) for FID on 2D keypoint sequences.

    Keypoints are centred on the per-frame mean of present joints and divided by the median body
    size; per joint: mean x, mean y (pose), std of x and y over time, and mean speed (body sizes
    per frame). Absent joints are excluded; a joint never present gives zeros.
    """
    from .video import body_size

    kp = np.asarray(kp, np.float64)
    if kp.ndim != 3 or kp.shape[-1] != 2:
        raise InputError(f"2D keypoints must have shape (T, J, 2), got {kp.shape}")
    m = presence(conf, kp.shape, thr) & np.isfinite(kp).all(-1)
    size = np.nanmedian(body_size(kp, conf, thr)) if m.any() else np.nan
    J = kp.shape[1]
    out = np.zeros((J, 5))
    if not np.isfinite(size):
        return out.ravel()
    cnt = m.sum(1, keepdims=True)
    centre = np.where(cnt > 0, (np.nan_to_num(kp) * m[..., None]).sum(1) / np.maximum(cnt, 1), np.nan)
    x = (kp - centre[:, None]) / size
    for j in range(J):
        sel = m[:, j]
        if sel.sum() >= 1:
            out[j, :2] = x[sel, j].mean(0)
            out[j, 2:4] = x[sel, j].std(0)
        both = sel[1:] & sel[:-1]
        if both.any():
            out[j, 4] = np.linalg.norm(x[1:, j] - x[:-1, j], axis=-1)[both].mean()
    return out.ravel()


def dancefusion_metrics(pred_seqs, gt_seqs, masks=None, thr: float = CONF_THRESHOLD) -> dict:
    """All DanceFusion metrics for paired reconstructions.

    ``pred_seqs``/``gt_seqs``: lists of (T_i, J, D) arrays (D = 2 keypoints or 3 SMPL-order joints
    in metres); ``masks``: list of (T_i, J) presence masks of the *input* (None = all present).
    Returns masked ``mse``/``l1`` (pooled over all present joints), ``fid`` (GT-normalised, Bailando
    flavour; on :func:`keypoint_features_2d` for 2D, on kinetic+geometric features for 3D; NaN with
    fewer than 2 sequences), ``diversity_pred``/``diversity_gt`` (eq. 11) and missing-joint rates.
    """
    from .fid import fid as _fid

    if len(pred_seqs) != len(gt_seqs) or not pred_seqs:
        raise InputError("need the same, non-zero number of predicted and ground-truth sequences")
    masks = list(masks) if masks is not None else [np.ones(np.shape(g)[:2], bool) for g in gt_seqs]
    se = ae = n = 0.0
    for p, g, m in zip(pred_seqs, gt_seqs, masks):
        s = masked_errors(p, g, m, reduction="sum")
        se, ae, n = se + s["mse"], ae + s["l1"], n + float(np.asarray(m, bool).sum())
    D = np.shape(gt_seqs[0])[-1]
    if D == 2:
        fp = np.stack([keypoint_features_2d(p) for p in pred_seqs])
        fg = np.stack([keypoint_features_2d(g, None if m is None else np.asarray(m, float)) for g, m in zip(gt_seqs, masks)])
    else:
        from .features import extract_features

        kp, gp = extract_features(list(pred_seqs), origin="zero_start")
        kg, gg = extract_features(list(gt_seqs), origin="zero_start")
        fp, fg = np.hstack([kp, gp]), np.hstack([kg, gg])
    out = {"mse": se / n if n else float("nan"), "l1": ae / n if n else float("nan"),
           "fid": _fid(fg, fp).value if len(fp) >= 2 else float("nan"),
           "diversity_pred": dancefusion_diversity(list(pred_seqs)),
           "diversity_gt": dancefusion_diversity(list(gt_seqs), masks)}
    out.update(missing_rates(masks))
    return out
