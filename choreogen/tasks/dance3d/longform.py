"""Long-form sampling: overlapping windows denoised together, each constrained on the previous
window's overlap by inpainting (GCDance section III-C, EDGE's batched long sampling), plus user
editing constraints, then blended with linear cross-fades. The overlap constraint is soft at its
end (full strength, fading to zero over the last ``taper`` frames): a hard mask edge left a step
where the pasted frames met the model's own, and the cross-fade only spread it.

Windows live in *local* coordinates: every training window starts with its root at the xz origin.
A window's global xz offset is chained from the previous window (its root xz at the frame where
the next window starts) or taken from a user constraint on the root at the window's first frame.
All constraints are expressed in each window's local frame before inpainting.

Shapes: W window frames, O overlap frames, S = W - O stride, D feature dims (un-normalised EDGE
vector: root x, y, z in columns 4, 5, 6).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...diffusion.sampler import ddim_sample
from ...diffusion.schedule import NoiseSchedule
from ...motion.representation import N_CONTACT, Normalizer

RX, RZ = N_CONTACT, N_CONTACT + 2  # root x and z columns


@dataclass
class WindowPlan:
    total: int  # frames wanted
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


def _xz_shift(x: torch.Tensor, off: torch.Tensor) -> torch.Tensor:
    """Subtract per-window offsets off (K, 2) from root x/z of x (K, W, D) (un-normalised)."""
    x = x.clone()
    x[..., RX] -= off[:, None, 0]
    x[..., RZ] -= off[:, None, 1]
    return x


class LongformSampler:
    """Samples a long sequence window by window in batches of ``batch`` windows.

    Args:
        denoise_factory: ``f(music_windows (K, W, Da)) -> denoise(x_t, t)`` closing over the
            conditioning for those K windows (guidance included).
        normalizer: feature normaliser of the model.
        plan: window plan.
        known, mask: optional user constraints in global coordinates, (plan.padded, D) un-normalised
            features and a {0,1} mask of the same shape.
    """

    def __init__(self, denoise_factory, normalizer: Normalizer, schedule: NoiseSchedule, plan: WindowPlan,
                 known: torch.Tensor | None = None, mask: torch.Tensor | None = None, taper: int | None = None):
        self.factory, self.norm, self.schedule, self.plan = denoise_factory, normalizer, schedule, plan
        self.known, self.mask = known, mask
        O = plan.overlap
        # soft overlap constraint: full strength, then fading out over the last `taper` frames of the
        # overlap (default a third of it), so the model joins the free part to the inherited one
        # itself instead of meeting a hard edge where the pasted frames end
        R = O // 3 if taper is None else max(0, min(int(taper), O))
        f = torch.arange(O, dtype=torch.float32)
        self.ramp = torch.clamp((O - f) / (R + 1), max=1.0) if O > 0 else f

    def _user(self, ks: list[int]):
        W = self.plan.window
        if self.known is None:
            return None, None
        kn = torch.stack([self.known[self.plan.start(k): self.plan.start(k) + W] for k in ks])
        mk = torch.stack([self.mask[self.plan.start(k): self.plan.start(k) + W] for k in ks])
        return kn, mk

    def _offsets(self, x_un: torch.Tensor, ks: list[int], first_off: torch.Tensor, ukn, umk) -> torch.Tensor:
        S = self.plan.stride
        offs = []
        for i, _ in enumerate(ks):
            if umk is not None and umk[i, 0, RX] > 0 and umk[i, 0, RZ] > 0:
                off = ukn[i, 0, [RX, RZ]]
            elif i == 0:
                off = first_off
            else:
                off = offs[-1] + x_un[i - 1, S, [RX, RZ]]
            offs.append(off)
        return torch.stack(offs)

    def _constraints(self, x0_norm, ks, first_off, prev_tail):
        """prev_tail: (O, D) global un-normalised tail of the window before ks[0], or None."""
        O, S = self.plan.overlap, self.plan.stride
        x_un = self.norm.denormalize(x0_norm)
        ukn, umk = self._user(ks)
        offs = self._offsets(x_un, ks, first_off, ukn, umk)
        known = torch.zeros_like(x_un)
        mask = torch.zeros_like(x_un)
        if O > 0:
            ramp = self.ramp.to(mask.dtype)[:, None]
            if prev_tail is not None:
                known[0, :O] = _xz_shift(prev_tail[None], offs[:1])[0]
                mask[0, :O] = ramp
            if len(ks) > 1:
                prev = x_un[:-1, S:S + O]
                # previous window's local frame -> this window's local frame
                known[1:, :O] = _xz_shift(prev, offs[1:] - offs[:-1])
                mask[1:, :O] = ramp
        if ukn is not None:
            loc = _xz_shift(ukn, offs)
            known = torch.where(umk > 0, loc, known)
            mask = torch.maximum(mask, umk)
        return self.norm.normalize(known), mask, offs

    def sample(self, music: torch.Tensor, steps: int, generator: torch.Generator, batch: int | None = None,
               progress=None, eta: float = 0.0) -> torch.Tensor:
        """music (plan.padded, Da) -> global un-normalised features (plan.total, D)."""
        P = self.plan
        W, O, S, K = P.window, P.overlap, P.stride, P.n_windows
        batch = K if not batch or batch <= 0 else batch
        D = self.norm.lo.shape[0]
        results, offsets = [], []
        first_off = torch.zeros(2)
        if self.known is not None and self.mask[0, RX] > 0:
            first_off = self.known[0, [RX, RZ]].clone()
        prev_tail = None
        n_chunks = math.ceil(K / batch)
        for c in range(n_chunks):
            ks = list(range(c * batch, min(K, (c + 1) * batch)))
            mus = torch.stack([music[P.start(k): P.start(k) + W] for k in ks])
            denoise = self.factory(mus)

            def hook(x0, t_next, ks=ks, first_off=first_off, prev_tail=prev_tail):
                kn, mk, _ = self._constraints(x0, ks, first_off, prev_tail)
                return kn, mk

            kn0, mk0 = None, None
            if prev_tail is not None or self.known is not None:
                # constraints for the very first noising use zero predictions' offsets
                kn0, mk0, _ = self._constraints(self.norm.normalize(torch.zeros(len(ks), W, D)), ks, first_off, prev_tail)
            x0 = ddim_sample(denoise, (len(ks), W, D), self.schedule, steps=steps, generator=generator, eta=eta,
                             known=kn0, mask=mk0, hook=hook,
                             progress=(lambda i, n, c=c: progress(c * steps + i, n_chunks * steps)) if progress else None)
            x_un = self.norm.denormalize(x0)
            offs = self._offsets(x_un, ks, first_off, *self._user(ks))
            results.append(x_un)
            offsets.append(offs)
            # chain to the next chunk: global tail of the last window and its offset continuation
            last_glob = x_un[-1].clone()
            last_glob[:, RX] += offs[-1, 0]
            last_glob[:, RZ] += offs[-1, 1]
            prev_tail = last_glob[S:S + O] if O > 0 else None
            first_off = offs[-1] + x_un[-1, S, [RX, RZ]]
        x_all = torch.cat(results)
        off_all = torch.cat(offsets)
        return self._blend(x_all, off_all)[: P.total]

    def _blend(self, x: torch.Tensor, offs: torch.Tensor) -> torch.Tensor:
        P = self.plan
        W, O = P.window, P.overlap
        K, _, D = x.shape
        out = torch.zeros(P.padded, D, dtype=x.dtype)
        wsum = torch.zeros(P.padded, 1, dtype=x.dtype)
        f = torch.arange(W, dtype=x.dtype)
        for k in range(K):
            w = torch.ones(W, dtype=x.dtype)
            if O > 0 and k > 0:
                w = torch.minimum(w, (f + 1) / (O + 1))
            if O > 0 and k < K - 1:
                w = torch.minimum(w, (W - f) / (O + 1))
            g = x[k].clone()
            g[:, RX] += offs[k, 0]
            g[:, RZ] += offs[k, 1]
            s = P.start(k)
            out[s:s + W] += w[:, None] * g
            wsum[s:s + W] += w[:, None]
        return out / wsum.clamp(min=1e-8)
