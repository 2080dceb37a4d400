"""Long sequences from a fixed-window denoiser: where the windows go, how each window is sampled
under the previous one's overlap (inpainting, GCDance section III-C / EDGE's batched long
sampling), and how the windows are cross-faded into one sequence. Shared by every task that
samples windows (3D dance features, skeleton latents); the task supplies only what is its own:

* ``translate``: the feature columns that hold a *position* (e.g. the root's x and z). Windows are
  sampled in local coordinates (every training window starts at the origin); a window's global
  offset is chained from the previous window (its position at the frame where the next window
  starts) or taken from a user constraint at its first frame. ``()`` = no positional columns.
* ``normalizer``: any object with ``normalize``/``denormalize`` (the constraints are expressed in
  un-normalised units); ``None`` = the identity.

Shapes: K windows of W frames, O overlap frames, S = W - O stride, D feature columns, F =
len(translate) offset columns. Frames are the task's frames (30 fps for the shipped models).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .sampler import ddim_sample
from .schedule import NoiseSchedule


@dataclass(frozen=True)
class WindowPlan:
    """K windows of ``window`` frames, consecutive windows sharing ``overlap`` frames, covering
    ``total`` frames (the last window may run ``padded - total`` frames past the end)."""

    total: int
    window: int
    overlap: int

    @property
    def stride(self) -> int:
        return self.window - self.overlap

    @property
    def n_windows(self) -> int:
        if self.total <= self.window:
            return 1
        return 1 + math.ceil((self.total - self.window) / self.stride)

    @property
    def padded(self) -> int:
        return self.window + (self.n_windows - 1) * self.stride

    def start(self, k: int) -> int:
        return k * self.stride

    @property
    def starts(self) -> list[int]:
        return [self.start(k) for k in range(self.n_windows)]


def crossfade_weights(plan: WindowPlan, dtype=np.float64) -> np.ndarray:
    """(K, W) blending weights: 1 inside a window, rising linearly over the overlap with the window
    before and falling over the overlap with the window after (``(f + 1) / (O + 1)``), so that
    consecutive windows hand over without a jump."""
    K, W, O = plan.n_windows, plan.window, plan.overlap
    f = np.arange(W, dtype=dtype)
    w = np.ones((K, W), dtype=dtype)
    if O > 0:
        for k in range(K):
            if k > 0:
                w[k] = np.minimum(w[k], (f + 1) / (O + 1))
            if k < K - 1:
                w[k] = np.minimum(w[k], (W - f) / (O + 1))
    return w


def overlap_add(windows: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """(K, W, ...) windows, already placed in one coordinate frame -> (plan.total, ...) sequence,
    cross-faded with :func:`crossfade_weights` (computed in the windows' dtype)."""
    K, W = windows.shape[:2]
    w = crossfade_weights(plan, windows.dtype)
    extra = (1,) * (windows.ndim - 2)
    out = np.zeros((plan.padded,) + windows.shape[2:], dtype=windows.dtype)
    wsum = np.zeros((plan.padded,) + extra, dtype=windows.dtype)
    for k in range(K):
        s = plan.start(k)
        wk = w[k].reshape((W,) + extra)
        out[s:s + W] += wk * windows[k]
        wsum[s:s + W] += wk
    return (out / np.maximum(wsum, 1e-8))[: plan.total]


class _Identity:
    def normalize(self, x):
        return x

    def denormalize(self, x):
        return x


def _shift(x: torch.Tensor, off: torch.Tensor, cols: tuple[int, ...], sign: float = -1.0) -> torch.Tensor:
    """x (K, W, D) with ``sign * off`` (K, F) added to the columns ``cols``."""
    x = x.clone()
    for j, c in enumerate(cols):
        x[..., c] += sign * off[:, None, j]
    return x


class LongformSampler:
    """Samples a long sequence window by window, ``batch`` windows per DDIM run.

    Args:
        denoise_factory: ``f(cond_windows (K, W, Dc)) -> denoise(x_t, t)`` closing over the
            conditioning of those K windows (guidance included).
        schedule, plan: noise schedule and window plan.
        dims: D, feature columns of a window.
        normalizer: see module doc; ``None`` = identity.
        translate: positional columns (module doc).
        known, mask: optional user constraints in global coordinates, (plan.padded, D) un-normalised
            values and a {0,1} mask of the same shape.
        taper: the overlap constraint is full strength, then fades to zero over its last ``taper``
            frames (default a third of the overlap): a hard mask edge left a step where the
            inherited frames met the model's own. 0 = full strength over the whole overlap.
        inpaint: constrain each window on the previous one's overlap (False: windows sampled
            independently, joined only by the cross-fade).
    """

    def __init__(self, denoise_factory, schedule: NoiseSchedule, plan: WindowPlan, dims: int, normalizer=None,
                 translate: tuple[int, ...] = (), known: torch.Tensor | None = None,
                 mask: torch.Tensor | None = None, taper: int | None = None, inpaint: bool = True):
        self.factory, self.schedule, self.plan, self.dims = denoise_factory, schedule, plan, int(dims)
        self.norm = _Identity() if normalizer is None else normalizer
        self.cols, self.known, self.mask, self.inpaint = tuple(translate), known, mask, bool(inpaint)
        O = plan.overlap
        R = O // 3 if taper is None else max(0, min(int(taper), O))
        f = torch.arange(O, dtype=torch.float32)
        self.ramp = torch.clamp((O - f) / (R + 1), max=1.0) if O > 0 else f

    def _user(self, ks: list[int]):
        if self.known is None:
            return None, None
        W, st = self.plan.window, self.plan.start
        return (torch.stack([self.known[st(k): st(k) + W] for k in ks]),
                torch.stack([self.mask[st(k): st(k) + W] for k in ks]))

    def _offsets(self, x_un, ks, first_off, ukn, umk) -> torch.Tensor:
        S, cols = self.plan.stride, list(self.cols)
        offs = []
        for i, _ in enumerate(ks):
            if cols and umk is not None and bool((umk[i, 0, cols] > 0).all()):
                off = ukn[i, 0, cols]
            elif i == 0:
                off = first_off
            else:
                off = offs[-1] + x_un[i - 1, S, cols]
            offs.append(off)
        return torch.stack(offs)

    def _active(self, ks: list[int], prev_tail) -> bool:
        """Whether there is anything to constrain (no constraint: no noise drawn for it)."""
        overlap = self.inpaint and self.plan.overlap > 0 and (prev_tail is not None or len(ks) > 1)
        return overlap or self.known is not None

    def _constraints(self, x0_norm, ks, first_off, prev_tail):
        """prev_tail: (O, D) global un-normalised tail of the window before ks[0], or None."""
        O, S = self.plan.overlap, self.plan.stride
        x_un = self.norm.denormalize(x0_norm)
        ukn, umk = self._user(ks)
        offs = self._offsets(x_un, ks, first_off, ukn, umk)
        known = torch.zeros_like(x_un)
        mask = torch.zeros_like(x_un)
        if O > 0 and self.inpaint:
            ramp = self.ramp.to(mask.dtype)[:, None]
            if prev_tail is not None:
                known[0, :O] = _shift(prev_tail[None], offs[:1], self.cols)[0]
                mask[0, :O] = ramp
            if len(ks) > 1:  # previous window's local frame -> this window's local frame
                known[1:, :O] = _shift(x_un[:-1, S:S + O], offs[1:] - offs[:-1], self.cols)
                mask[1:, :O] = ramp
        if ukn is not None:
            known = torch.where(umk > 0, _shift(ukn, offs, self.cols), known)
            mask = torch.maximum(mask, umk)
        return self.norm.normalize(known), mask, offs

    def sample_windows(self, cond: torch.Tensor, steps: int, generator: torch.Generator, batch: int | None = None,
                       progress=None, eta: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """cond (plan.padded, Dc) -> (windows (K, W, D) un-normalised in their local frames,
        offsets (K, F) of their local frames in global coordinates)."""
        P, cols = self.plan, list(self.cols)
        W, O, S, K = P.window, P.overlap, P.stride, P.n_windows
        batch = K if not batch or batch <= 0 else batch
        results, offsets = [], []
        first_off = torch.zeros(len(cols))
        if self.known is not None and cols and bool((self.mask[0, cols] > 0).all()):
            first_off = self.known[0, cols].clone()
        prev_tail = None
        n_chunks = math.ceil(K / batch)
        for c in range(n_chunks):
            ks = list(range(c * batch, min(K, (c + 1) * batch)))
            denoise = self.factory(torch.stack([cond[P.start(k): P.start(k) + W] for k in ks]))
            active = self._active(ks, prev_tail)

            def hook(x0, t_next, ks=ks, first_off=first_off, prev_tail=prev_tail, active=active):
                return self._constraints(x0, ks, first_off, prev_tail)[:2] if active else None

            kn0, mk0 = None, None
            if active and (prev_tail is not None or self.known is not None):
                # constraints for the very first noising use zero predictions' offsets
                zero = self.norm.normalize(torch.zeros(len(ks), W, self.dims))
                kn0, mk0, _ = self._constraints(zero, ks, first_off, prev_tail)
            x0 = ddim_sample(denoise, (len(ks), W, self.dims), self.schedule, steps=steps, generator=generator,
                             eta=eta, known=kn0, mask=mk0, hook=hook,
                             progress=(lambda i, n, c=c: progress(c * steps + i, n_chunks * steps)) if progress else None)
            x_un = self.norm.denormalize(x0)
            offs = self._offsets(x_un, ks, first_off, *self._user(ks))
            results.append(x_un)
            offsets.append(offs)
            # chain to the next chunk: global tail of the last window and its offset continuation
            last_glob = _shift(x_un[-1:], offs[-1:], self.cols, sign=1.0)[0]
            prev_tail = last_glob[S:S + O] if O > 0 else None
            first_off = offs[-1] + x_un[-1, S, cols]
        return torch.cat(results), torch.cat(offsets)

    def sample(self, cond: torch.Tensor, steps: int, generator: torch.Generator, batch: int | None = None,
               progress=None, eta: float = 0.0) -> torch.Tensor:
        """cond (plan.padded, Dc) -> global un-normalised sequence (plan.total, D), cross-faded."""
        x, offs = self.sample_windows(cond, steps, generator, batch=batch, progress=progress, eta=eta)
        placed = _shift(x, offs, self.cols, sign=1.0)
        return torch.from_numpy(overlap_add(placed.numpy(), self.plan))
