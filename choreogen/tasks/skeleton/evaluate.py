"""Robustness evaluation of repair methods (DanceFusion Table 3 protocol on fixed held-out data).

A *method* maps ``(joints (T,J,D) with hidden values zeroed, observed (T,J) bool) -> (T,J,D)``.
For each condition (a deterministic damage of the held-out sequences: ``random`` joints at a rate,
or ``frames`` runs of whole frames), every method repairs every sequence and we report, over the
hidden joints that exist in the ground truth:

* ``mse`` / ``l1``: :func:`choreogen.eval.recon.masked_errors` per hidden joint (sum over
  coordinates); 3D in m^2 / m, 2D after dividing coordinates by the sequence's body height;
* ``mpjpe``: mean Euclidean error (metres / body heights);
* ``fid`` and ``div`` of DanceFusion §4.2 on the repaired sequences cut into fixed windows:
  FID between ground-truth and repaired window features (3D: AIST++ kinetic features; 2D:
  :func:`choreogen.eval.recon.keypoint_features_2d`), diversity = eq. 11
  (:func:`choreogen.eval.recon.dancefusion_diversity`, in normalised units squared).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .damage import body_scale, drop_frame_runs, drop_random, joint_groups

Method = Callable[[np.ndarray, np.ndarray], np.ndarray]


def drop_limb_condition(valid: np.ndarray, skeleton, level: float, run: int, rng: np.random.Generator) -> np.ndarray:
    """Hide one whole arm or leg chain (:func:`joint_groups`) over runs of ``run`` frames, as many
    runs as cover ``level`` of the frames (each run a random limb and start; first/last frame kept)."""
    T = valid.shape[0]
    limbs = [v for k, v in joint_groups(skeleton).items() if k.endswith(("_arm", "_leg"))]
    out = valid.copy()
    for _ in range(int(round(level * T / max(run, 1)))):
        if T - run - 1 <= 1:
            break
        s = int(rng.integers(1, T - run - 1))
        out[s:s + run, limbs[int(rng.integers(len(limbs)))]] = False
    return out


def damage_condition(valid: np.ndarray, kind: str, level: float, seed: int, run: int = 10,
                     skeleton=None) -> np.ndarray:
    """Observed mask for one condition: ``random`` hides ``level`` of the valid joints; ``frames``
    hides runs of ``run`` whole frames covering ``level`` of the frames; ``limb`` hides a whole
    arm or leg over runs of ``run`` frames covering ``level`` of the frames (needs ``skeleton``)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return drop_random(valid, level, rng)
    if kind == "frames":
        return drop_frame_runs(valid, level, run, rng)
    if kind == "limb":
        return drop_limb_condition(valid, skeleton, level, run, rng)
    raise ValueError(kind)


def _window_features(seqs: list[np.ndarray], dim: int, win: int) -> np.ndarray:
    feats = []
    if dim == 3:
        from ...eval.features import kinetic_features

        for s in seqs:
            for t in range(0, len(s) - win + 1, win):
                feats.append(kinetic_features(s[t:t + win][None])[0])
    else:
        from ...eval.recon import keypoint_features_2d

        for s in seqs:
            for t in range(0, len(s) - win + 1, win):
                feats.append(keypoint_features_2d(s[t:t + win]))
    return np.asarray(feats, np.float64)


def evaluate(seqs, methods: dict[str, Method], conditions: list[tuple[str, float, int]], seed: int = 0,
             fid_window: int = 60, with_fid: bool = True, skeleton=None) -> dict:
    """Run every method on every condition. ``seqs``: list of (joints (T,J,D), valid (T,J)).

    ``conditions``: list of (kind, level, run); ``skeleton`` for ``limb`` conditions (default: the
    layout with that many joints, coco17 or smpl24). Returns {condition: {method: metrics}}.
    """
    if skeleton is None and any(k == "limb" for k, _, _ in conditions):
        from ...motion.skeleton import get_skeleton

        skeleton = get_skeleton({17: "coco17", 24: "smpl24"}[seqs[0][0].shape[1]])
    from ...eval.fid import fid as fid_fn
    from ...eval.recon import dancefusion_diversity, masked_errors

    dim = seqs[0][0].shape[-1]
    scales = [body_scale(j, v) if dim == 2 else 1.0 for j, v in seqs]
    gt_norm = [np.where(v[..., None], j, np.nan) / s for (j, v), s in zip(seqs, scales)]
    gt_feats = _window_features([j for j, _ in seqs], dim, fid_window) if with_fid else None
    results: dict = {}
    for ci, (kind, level, run) in enumerate(conditions):
        key = f"{kind}{'' if kind == 'random' else f'-run{run}'}@{level:g}"
        obs_all = [damage_condition(v, kind, level, seed + 1000 * ci + i, run, skeleton) for i, (_, v) in enumerate(seqs)]
        results[key] = {}
        for name, fn in methods.items():
            preds, sq, ab, eu = [], [], [], []
            for (j, v), obs, s, g in zip(seqs, obs_all, scales, gt_norm):
                x = np.where(obs[..., None], j, 0.0)
                p = fn(x, obs)
                preds.append(p)
                hid = v & ~obs
                e = masked_errors(p / s, np.nan_to_num(g), hid, reduction="sum")
                sq.append(e["mse"])
                ab.append(e["l1"])
                eu.append(np.linalg.norm(p / s - np.nan_to_num(g), axis=-1)[hid].sum())
            n = sum(int((v & ~o).sum()) for (_, v), o in zip(seqs, obs_all))
            r = {"mse": sum(sq) / n, "l1": sum(ab) / n, "mpjpe": sum(eu) / n, "n_hidden": n}
            if with_fid:
                r["fid"] = fid_fn(gt_feats, _window_features(preds, dim, fid_window), drop_constant=True).value
                r["div"] = dancefusion_diversity([p / s for p, s in zip(preds, scales)])
            results[key][name] = r
    if with_fid:
        results["ground_truth"] = {"div": dancefusion_diversity([np.nan_to_num(g) for g in gt_norm],
                                                                [v for _, v in seqs])}
    return results


def real_detector_test(seqs_conf, methods: dict[str, Method], skeleton, good: float = 0.7, low: float = 0.3,
                       rate: float = 0.1, seed: int = 0) -> dict:
    """Hide ``rate`` of the joints the detector saw well (confidence >= ``good``) on real keypoints
    whose low-confidence joints (< ``low``) are missing anyway; error on the hidden ones per
    joint group, in body heights. ``seqs_conf``: list of (joints (T,J,2), confidence (T,J))."""
    groups = joint_groups(skeleton)
    acc = {m: {g: [0.0, 0] for g in list(groups) + ["all"]} for m in methods}
    for i, (j, c) in enumerate(seqs_conf):
        present = c >= low
        well = c >= good
        rng = np.random.default_rng(seed + i)
        hidden = well & ~drop_random(well, rate, rng)
        obs = present & ~hidden
        s = body_scale(j, present)
        x = np.where(obs[..., None], j, 0.0)
        for name, fn in methods.items():
            err = np.linalg.norm(fn(x, obs) - j, axis=-1) / s
            for g, idx in list(groups.items()) + [("all", np.arange(j.shape[1]))]:
                h = np.zeros_like(hidden)
                h[:, idx] = hidden[:, idx]
                acc[name][g][0] += float(err[h].sum())
                acc[name][g][1] += int(h.sum())
    return {m: {g: (v[0] / v[1] if v[1] else float("nan")) for g, v in d.items()} for m, d in acc.items()}


def vae_method(model, window: int | None = None) -> Method:
    """Wrap a SkeletonVAE as a method: the model's estimate of every joint (only hidden joints
    are scored by :func:`evaluate`)."""
    from .repair import reconstruct

    def fn(x, obs):
        return reconstruct(model, x, obs, window)

    return fn


def plausibility_3d(seqs, methods: dict[str, Method], parents, condition: tuple[str, float, int], seed: int = 0,
                    skeleton=None, bone_tol: float = 0.01, floor_tol: float = 0.01) -> dict:
    """Body plausibility of repaired 3D sequences under one condition (metres, Y-up).

    Per method: ``bones_ok`` = fraction of bones from a parent to a *filled* child whose length is
    within ``bone_tol`` (relative) of that bone's median length in the sequence's ground truth;
    ``bone_dev`` = their mean relative deviation; ``below_floor`` = fraction of filled joints more
    than ``floor_tol`` below the lowest ground-truth joint of the sequence. ``seqs``: (joints, valid)."""
    kind, level, run = condition
    if skeleton is None and kind == "limb":
        from ...motion.skeleton import get_skeleton

        skeleton = get_skeleton({17: "coco17", 24: "smpl24"}[seqs[0][0].shape[1]])
    par = np.asarray([max(p, 0) for p in parents])
    child = np.asarray([p >= 0 for p in parents])
    out = {}
    for name, fn in methods.items():
        ok = n = dev = below = nf = 0.0
        for i, (j, v) in enumerate(seqs):
            obs = damage_condition(v, kind, level, seed + i, run, skeleton)
            p = fn(np.where(obs[..., None], j, 0.0), obs)
            own = np.median(np.linalg.norm(j - j[:, par], axis=-1), axis=0)  # (J,)
            rel = np.abs(np.linalg.norm(p - p[:, par], axis=-1) / np.maximum(own, 1e-6) - 1.0)
            m = (~obs) & child[None]
            ok += float((rel[m] <= bone_tol).sum())
            dev += float(rel[m].sum())
            n += int(m.sum())
            floor = float(j[..., 1].min())
            below += float((p[..., 1][~obs] < floor - floor_tol).sum())
            nf += int((~obs).sum())
        out[name] = {"bones_ok": ok / max(n, 1), "bone_dev": dev / max(n, 1), "below_floor": below / max(nf, 1)}
    return out
