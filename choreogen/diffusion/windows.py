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
    ``total`` frames (the last window may run ``padded - total`` frames past the end).

    ``custom_starts``: explicit start frames instead of a constant stride (e.g. on the music's beats,
    :func:`beat_starts`); consecutive windows must overlap by 1..window-1 frames. ``overlap`` is then
    the smallest overlap (informational)."""

    total: int
    window: int
    overlap: int
    custom_starts: tuple[int, ...] | None = None

    @property
    def stride(self) -> int:
        return self.window - self.overlap

    @property
    def n_windows(self) -> int:
        if self.custom_starts is not None:
            return len(self.custom_starts)
        if self.total <= self.window:
            return 1
        return 1 + math.ceil((self.total - self.window) / self.stride)

    @property
    def padded(self) -> int:
        return self.start(self.n_windows - 1) + self.window

    def start(self, k: int) -> int:
        return self.custom_starts[k] if self.custom_starts is not None else k * self.stride

    @property
    def starts(self) -> list[int]:
        return [self.start(k) for k in range(self.n_windows)]

    def overlap_before(self, k: int) -> int:
        """Frames window k shares with window k-1 (0 for k = 0)."""
        return 0 if k == 0 else self.start(k - 1) + self.window - self.start(k)


def beat_starts(total: int, window: int, beats: np.ndarray, beats_per_stride: int,
                min_overlap: int | None = None, max_overlap: int | None = None) -> tuple[int, ...]:
    """Window starts on the music's beats: each window starts ``beats_per_stride`` beats after the
    previous one (beat frames ``beats``, sorted), so that a denoiser whose windows each restart a
    movement cycle restarts it on the music's beat grid and at the music's tempo (a song played
    1.25x as fast gets 1.25x shorter strides). Where the beats are missing or would give an overlap
    outside [min_overlap, max_overlap] (default window/4 .. 3*window/4), the stride falls back to the
    nearest allowed one."""
    lo = window // 4 if min_overlap is None else int(min_overlap)
    hi = 3 * window // 4 if max_overlap is None else int(max_overlap)
    b = np.asarray(sorted(int(x) for x in beats), dtype=np.int64)
    starts = [0]
    while starts[-1] + window < total:
        s = starts[-1]
        after = b[b > s]
        nxt = int(after[beats_per_stride - 1]) if len(after) >= beats_per_stride else s + window // 2
        nxt = min(max(nxt, s + window - hi), s + window - lo)
        starts.append(nxt)
    return tuple(starts)


def crossfade_weights(plan: WindowPlan, dtype=np.float64) -> np.ndarray:
    """(K, W) blending weights: 1 inside a window, rising linearly over the overlap with the window
    before and falling over the overlap with the window after (``(f + 1) / (O + 1)``), so that
    consecutive windows hand over without a jump."""
    K, W = plan.n_windows, plan.window
    f = np.arange(W, dtype=dtype)
    w = np.ones((K, W), dtype=dtype)
    for k in range(K):
        ob = plan.overlap_before(k)
        oa = plan.overlap_before(k + 1) if k < K - 1 else 0
        if ob > 0:
            w[k] = np.minimum(w[k], (f + 1) / (ob + 1))
        if oa > 0:
            w[k] = np.minimum(w[k], (W - f) / (oa + 1))
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
        schedule, plan: noise schedule and window plan (constant stride or custom starts).
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
        self.taper = taper

    def _ramp(self, O: int) -> torch.Tensor:
        R = O // 3 if self.taper is None else max(0, min(int(self.taper), O))
        f = torch.arange(O, dtype=torch.float32)
        return torch.clamp((O - f) / (R + 1), max=1.0) if O > 0 else f

    def _user(self, ks: list[int]):
        if self.known is None:
            return None, None
        W, st = self.plan.window, self.plan.start
        return (torch.stack([self.known[st(k): st(k) + W] for k in ks]),
                torch.stack([self.mask[st(k): st(k) + W] for k in ks]))

    def _offsets(self, x_un, ks, first_off, ukn, umk) -> torch.Tensor:
        """(len(ks), F) global offsets of the windows' local frames."""
        cols = list(self.cols)
        offs = []
        for i, k in enumerate(ks):
            if cols and umk is not None and bool((umk[i, 0, cols] > 0).all()):
                off = ukn[i, 0, cols]
            elif i == 0:
                off = first_off
            else:  # position of the previous window at the frame where this one starts
                off = offs[-1] + x_un[i - 1, self.plan.start(k) - self.plan.start(k - 1), cols]
            offs.append(off)
        return torch.stack(offs)

    def _active(self, ks: list[int], prev) -> bool:
        """Whether there is anything to constrain (no constraint: no noise drawn for it)."""
        overlap = self.inpaint and (prev is not None or len(ks) > 1) and any(
            self.plan.overlap_before(k) > 0 for k in ks[(0 if prev is not None else 1):])
        return overlap or self.known is not None

    def _constraints(self, x0_norm, ks, first_off, prev):
        """prev: (W, D) global un-normalised previous window of ks[0] (another chunk), or None."""
        P = self.plan
        x_un = self.norm.denormalize(x0_norm)
        ukn, umk = self._user(ks)
        offs = self._offsets(x_un, ks, first_off, ukn, umk)
        known = torch.zeros_like(x_un)
        mask = torch.zeros_like(x_un)
        if self.inpaint:
            for i, k in enumerate(ks):
                O = P.overlap_before(k)
                if O <= 0 or (i == 0 and prev is None):
                    continue
                S = P.start(k) - P.start(k - 1)
                if i == 0:  # previous window in global coordinates -> this window's local frame
                    known[0, :O] = _shift(prev[None, S:S + O], offs[:1], self.cols)[0]
                else:  # previous window's local frame -> this window's local frame
                    known[i, :O] = _shift(x_un[i - 1:i, S:S + O], offs[i:i + 1] - offs[i - 1:i], self.cols)[0]
                mask[i, :O] = self._ramp(O).to(mask.dtype)[:, None]
        if ukn is not None:
            known = torch.where(umk > 0, _shift(ukn, offs, self.cols), known)
            mask = torch.maximum(mask, umk)
        return self.norm.normalize(known), mask, offs

    def sample_windows(self, cond: torch.Tensor, steps: int, generator: torch.Generator, batch: int | None = None,
                       progress=None, eta: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
        """cond (plan.padded, Dc) -> (windows (K, W, D) un-normalised in their local frames,
        offsets (K, F) of their local frames in global coordinates)."""
        P, cols = self.plan, list(self.cols)
        W, K = P.window, P.n_windows
        batch = K if not batch or batch <= 0 else batch
        results, offsets = [], []
        first_off = torch.zeros(len(cols))
        if self.known is not None and cols and bool((self.mask[0, cols] > 0).all()):
            first_off = self.known[0, cols].clone()
        prev = None  # last window of the previous chunk, global coordinates
        n_chunks = math.ceil(K / batch)
        for c in range(n_chunks):
            ks = list(range(c * batch, min(K, (c + 1) * batch)))
            denoise = self.factory(torch.stack([cond[P.start(k): P.start(k) + W] for k in ks]))
            active = self._active(ks, prev)

            def hook(x0, t_next, ks=ks, first_off=first_off, prev=prev, active=active):
                return self._constraints(x0, ks, first_off, prev)[:2] if active else None

            kn0, mk0 = None, None
            if active and (prev is not None or self.known is not None):
                # constraints for the very first noising use zero predictions' offsets
                zero = self.norm.normalize(torch.zeros(len(ks), W, self.dims))
                kn0, mk0, _ = self._constraints(zero, ks, first_off, prev)
            x0 = ddim_sample(denoise, (len(ks), W, self.dims), self.schedule, steps=steps, generator=generator,
                             eta=eta, known=kn0, mask=mk0, hook=hook,
                             progress=(lambda i, n, c=c: progress(c * steps + i, n_chunks * steps)) if progress else None)
            x_un = self.norm.denormalize(x0)
            offs = self._offsets(x_un, ks, first_off, *self._user(ks))
            results.append(x_un)
            offsets.append(offs)
            # chain to the next chunk: the last window in global coordinates and its offset continuation
            prev = _shift(x_un[-1:], offs[-1:], self.cols, sign=1.0)[0]
            if ks[-1] + 1 < K:
                first_off = offs[-1] + x_un[-1, P.start(ks[-1] + 1) - P.start(ks[-1]), cols]
        return torch.cat(results), torch.cat(offsets)

    def sample(self, cond: torch.Tensor, steps: int, generator: torch.Generator, batch: int | None = None,
               progress=None, eta: float = 0.0) -> torch.Tensor:
        """cond (plan.padded, Dc) -> global un-normalised sequence (plan.total, D), cross-faded."""
        x, offs = self.sample_windows(cond, steps, generator, batch=batch, progress=progress, eta=eta)
        placed = _shift(x, offs, self.cols, sign=1.0)
        return torch.from_numpy(overlap_add(placed.numpy(), self.plan))
