"""Repairing a keypoint sequence with a trained repair VAE (sliding windows, any length).

``repair_motion(motion)`` fills missing joints and removes jitter:

1. presence mask M (T, J) = confidence >= ``min_conf`` (all joints when no confidence is given)
   and finite coordinates;
2. the sequence is cut into windows of the model's length with 50 % overlap (the last window is
   aligned to the end); each window is normalised (:mod:`choreogen.tasks.skeleton.normalize`: 2D by the
   sequence's body height and the window centre, 3D by the window centre in x/z and the floor
   height), encoded with the mask, decoded from the latent mean (for a ``base="cubic"`` model the
   correction is added to the Akima interpolation of the whole sequence, cut and normalised like
   the window), and the windows are blended with triangular weights;
3. present joints keep their observation moved towards the model's estimate by at most
   ``tolerance`` body heights (so jitter is removed but a present joint never moves further than
   that -- "within its noise"); missing joints take the model's estimate.

The result carries ``meta["filled"]`` (T, J) bool (True = filled by the model), the report
``meta["repair"]`` and is written by :func:`choreogen.motion.save_motion` with ``filled``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ... import checkpoints
from ...errors import ConfigError, InputError
from ...motion import Motion
from .baselines import interpolate_cubic
from .damage import body_scale
from .normalize import denormalize, normalize, window_center

ASSETS = checkpoints.ASSET_DIR
SHIPPED = {"coco17": "repair_coco17.safetensors", "smpl24": "repair_smpl24.safetensors"}
DEFAULT_MIN_CONF = 0.3
MIN_FRAMES = 32  # shortest sequence a model with a longer window still repairs (as one window)
VIA_COCO17 = ("body25", "openpose137", "mediapipe33")  # 2D layouts that contain the 17 COCO joints


@dataclass
class RepairReport:
    """What a repair did. ``filled`` (T, J) bool; counts; frames with no person."""

    filled: np.ndarray
    n_filled: int
    missing_rate: float
    empty_frames: list[int] = field(default_factory=list)
    model: str = ""

    def summary(self) -> str:
        T, J = self.filled.shape
        s = f"filled {self.n_filled} of {T * J} joints ({100 * self.missing_rate:.1f} % missing)"
        if self.empty_frames:
            s += f"; {len(self.empty_frames)} frame(s) had no person and were repaired from their neighbours"
        return s


def default_checkpoint(skeleton: str) -> Path:
    """Path of the shipped model for a layout; ConfigError when none ships."""
    if skeleton not in SHIPPED:
        raise ConfigError(f"no shipped repair model for the '{skeleton}' layout (shipped: "
                          f"{', '.join(SHIPPED)}); train one with `choreogen train-repair` and pass --checkpoint")
    return checkpoints.resolve(f"repair-{skeleton}", "skeleton.repair")


def load_model(checkpoint: str | os.PathLike):
    """(model, info) of a repair checkpoint; cached (:func:`choreogen.checkpoints.load_model`)."""
    from .checkpoint import load_vae

    return load_vae(checkpoint)


def _windows(T: int, W: int) -> list[int]:
    hop = max(1, W // 2)
    starts = list(range(0, max(T - W, 0) + 1, hop))
    if starts[-1] + W < T:
        starts.append(T - W)
    return starts


@torch.no_grad()
def reconstruct(model, joints: np.ndarray, present: np.ndarray, window: int | None = None,
                batch: int = 64) -> np.ndarray:
    """Model estimate of every joint: (T, J, D) in the units of ``joints`` (float64).

    ``joints`` (T, J, D) (values where ``present`` is False are ignored), ``present`` (T, J) bool.
    A sequence shorter than ``window`` is repaired as one shorter window.
    """
    T, J, D = joints.shape
    W = min(window or model.cfg.max_frames, T)  # a sequence shorter than the window is one window
    x = np.where(present[..., None], np.nan_to_num(joints), 0.0).astype(np.float64)
    if D == 2:
        scale, floor = body_scale(x, present), 0.0
    else:
        scale = 1.0
        floor = float(np.percentile(x[..., 1][present], 1)) if present.any() else 0.0
        x[..., 1] -= floor
    cubic = model.cfg.residual and model.cfg.base == "cubic"
    ref = interpolate_cubic(x, present) if cubic else None  # over the whole sequence
    if cubic and getattr(model.cfg, "reference", "akima") == "body":
        from .baselines import interpolate_body

        ref = interpolate_body(x, present, model.cfg.parents, base=ref)
    starts = _windows(T, W)
    xs, ms, cs, bs = [], [], [], []
    for s in starts:
        xw, mw = x[s:s + W], present[s:s + W]
        c = window_center(xw, mw)
        xs.append(np.where(mw[..., None], normalize(xw, c, scale), 0.0))
        ms.append(mw)
        cs.append(c)
        if cubic:
            bs.append(normalize(ref[s:s + W], c, scale))
    xs_t = torch.as_tensor(np.stack(xs), dtype=torch.float32)
    ms_t = torch.as_tensor(np.stack(ms))
    bs_t = torch.as_tensor(np.stack(bs), dtype=torch.float32) if cubic else None
    outs = []
    for i in range(0, len(starts), batch):
        b = bs_t[i:i + batch] if cubic else None
        outs.append(model(xs_t[i:i + batch], ms_t[i:i + batch], sample=False, base=b)["recon"].numpy())
    rec = np.concatenate(outs)
    ramp = np.minimum(np.arange(1, W + 1), np.arange(W, 0, -1)).astype(np.float64)
    acc = np.zeros((T, J, D))
    wsum = np.zeros(T)
    for s, r, c in zip(starts, rec, cs):
        acc[s:s + W] += ramp[:, None, None] * denormalize(r, c, scale)
        wsum[s:s + W] += ramp
    out = acc / wsum[:, None, None]
    if D == 3:
        if model.cfg.parents is not None and getattr(model.cfg, "reference", "akima") == "body":
            out = keep_body_3d(out, present, model.cfg.parents, obs=x)
        out[..., 1] += floor
    return out


def keep_body_3d(est: np.ndarray, present: np.ndarray, parents, floor: float = 0.0,
                 obs: np.ndarray | None = None) -> np.ndarray:
    """Make filled 3D joints a plausible body: every bone from a parent to a *missing* child gets
    the sequence's own length (median over frames where both ends are observed; bones never seen
    keep theirs; from ``obs`` when given, else ``est``), walking the tree from the root so the correction carries down the limb, and no
    filled joint goes below ``floor`` (y, metres). Observed joints are unchanged.
    (T, J, 3) metres, Y-up; parents listed before children. -> (T, J, 3) float64."""
    out = np.array(est, np.float64, copy=True)
    for j, p in enumerate(parents):
        if p < 0:
            continue
        both = present[:, j] & present[:, p]
        fill = ~present[:, j]
        if both.sum() < 2 or not fill.any():
            continue
        src = est if obs is None else obs
        L = float(np.median(np.linalg.norm(src[both, j] - src[both, p], axis=-1)))
        v = out[fill, j] - out[fill, p]
        n = np.linalg.norm(v, axis=-1, keepdims=True)
        out[fill, j] = out[fill, p] + np.where(n > 1e-9, v * (L / np.maximum(n, 1e-9)), v)
    miss = ~present
    out[..., 1] = np.where(miss, np.maximum(out[..., 1], floor), out[..., 1])
    return out


def presence_mask(motion: Motion, min_conf: float = DEFAULT_MIN_CONF) -> np.ndarray:
    """(T, J) bool: confidence >= min_conf and finite coordinates."""
    j = motion.positions()
    ok = np.isfinite(j).all(-1)
    if motion.confidence is not None:
        ok &= np.asarray(motion.confidence) >= min_conf
    return ok


def _via_coco17(motion: Motion, checkpoint, min_conf: float, tolerance: float) -> Motion:
    """BODY_25 / OpenPose-137 / MediaPipe-33 with the COCO-17 model: the 17 COCO joints (found by
    name in every one of these layouts) are repaired by the model; the other joints (feet, hands,
    face, neck, mid-hip) are filled by linear interpolation over time and smoothed like the rest."""
    from ...motion.skeleton import get_skeleton
    from .baselines import interpolate_linear

    names = motion.skel.joint_names
    idx = [names.index(n) for n in get_skeleton("coco17").joint_names]
    conf = motion.confidence if motion.confidence is not None else np.ones(motion.positions().shape[:2], np.float32)
    sub = Motion(skeleton="coco17", fps=motion.fps, joints=motion.positions()[:, idx], confidence=conf[:, idx],
                 name=motion.name, meta=dict(motion.meta))
    r = repair_motion(sub, checkpoint=checkpoint, min_conf=min_conf, tolerance=tolerance)
    present = presence_mask(motion, min_conf)
    src = motion.meta.get("source") or motion.name
    if not present.any():
        raise InputError("every joint is missing; nothing to repair from", src)
    out = interpolate_linear(np.nan_to_num(motion.positions()), present).astype(np.float32)
    out[:, idx] = r.joints
    filled = ~present
    conf_out = np.asarray(conf, np.float32).copy()
    conf_out[filled] = 0.0
    meta = dict(r.meta)
    meta["filled"] = filled
    meta["repair"] = dict(r.meta["repair"], n_filled=int(filled.sum()), missing_rate=float(filled.mean()),
                          other_joints="linear interpolation (no model for this layout)")
    return Motion(skeleton=motion.skeleton, fps=motion.fps, joints=out, confidence=conf_out, music=motion.music,
                  genre=motion.genre, name=motion.name, meta=meta)


def repair_motion(motion: Motion, checkpoint: str | os.PathLike | None = None, min_conf: float = DEFAULT_MIN_CONF,
                  tolerance: float = 0.03) -> Motion:
    """Fill missing joints and remove jitter (see module doc). Returns a new Motion (joints only)
    with ``meta["filled"]`` and ``meta["repair"]``; confidence of filled joints is set to 0.

    2D BODY_25 / OpenPose-137 / MediaPipe-33 without a checkpoint go through the shipped COCO-17
    model for their 17 COCO joints (other joints: linear interpolation, see :func:`_via_coco17`).

    Raises InputError (naming the source file) for sequences that cannot be repaired: wrong
    joint count for the model, every joint missing, or fewer frames than one model window.
    """
    src = motion.meta.get("source") or motion.name
    joints = motion.positions()
    if checkpoint is None and motion.skeleton in VIA_COCO17 and joints.shape[-1] == 2:
        return _via_coco17(motion, None, min_conf, tolerance)
    ckpt = Path(checkpoint) if checkpoint else default_checkpoint(motion.skeleton)
    model, info = load_model(ckpt)
    cfg = model.cfg
    T, J, D = joints.shape
    if J != cfg.num_joints or D != cfg.dim:
        raise InputError(f"has {J} joints in {D}D ({motion.skeleton}) but the repair model {ckpt.name} "
                         f"expects {cfg.num_joints} joints in {cfg.dim}D ({info.get('skeleton', '?')})", src)
    present = presence_mask(motion, min_conf)
    if not present.any():
        raise InputError("every joint is missing (no confidence >= "
                         f"{min_conf:g} and finite); nothing to repair from", src)
    W = cfg.max_frames if "window" not in info else int(info["window"])
    if T < min(W, MIN_FRAMES):
        W = min(W, MIN_FRAMES)
        raise InputError(f"sequence has {T} frames, shorter than one repair window ({W} frames, "
                         f"{W / motion.fps:.2f} s)", src)
    est = reconstruct(model, joints, present, W)
    x = np.where(present[..., None], np.nan_to_num(joints), 0.0)
    scale = body_scale(x, present) if D == 2 else 1.7
    delta = est - x
    norm = np.linalg.norm(delta, axis=-1, keepdims=True)
    lim = tolerance * scale
    kept = x + delta * np.minimum(1.0, lim / np.maximum(norm, 1e-12))
    out = np.where(present[..., None], kept, est).astype(np.float32)
    filled = ~present
    empty = np.flatnonzero(~present.any(1)).tolist()
    rep = RepairReport(filled=filled, n_filled=int(filled.sum()), missing_rate=float(filled.mean()),
                       empty_frames=empty, model=ckpt.name)
    conf = (np.asarray(motion.confidence, np.float32).copy() if motion.confidence is not None
            else np.ones((T, J), np.float32))
    conf[filled] = 0.0
    meta = dict(motion.meta)
    meta.update({"filled": filled, "model": f"repair:{ckpt.stem}",
                 "repair": {"n_filled": rep.n_filled, "missing_rate": rep.missing_rate, "empty_frames": empty,
                            "min_conf": min_conf, "tolerance": tolerance, "model": ckpt.name,
                            "summary": rep.summary()}})
    return Motion(skeleton=motion.skeleton, fps=motion.fps, joints=out, confidence=conf, music=motion.music,
                  genre=motion.genre, name=motion.name, meta=meta)


def repair_file(path: str | os.PathLike, out: str | os.PathLike, checkpoint=None, min_conf: float = DEFAULT_MIN_CONF,
                tolerance: float = 0.03, view: int | None = None) -> tuple[Motion, Path]:
    """Load any keypoint/motion file, repair it, write the contract npz (with ``filled``) atomically.

    ``view``: camera of a multi-camera keypoint pickle (AIST++: 9; default 0), see ``load_motion``.
    """
    from ...io import load_motion, save_motion

    m = load_motion(path, view=view)
    m.meta.setdefault("source", str(path))
    r = repair_motion(m, checkpoint=checkpoint, min_conf=min_conf, tolerance=tolerance)
    meta_out = {k: v for k, v in r.meta.items() if k != "filled"}
    filled = r.meta["filled"]
    r.meta = meta_out
    p = save_motion(r, out, extra={"filled": filled})
    r.meta["filled"] = filled
    return r, p
