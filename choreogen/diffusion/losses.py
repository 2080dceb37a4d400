"""Training losses for x0-predicting motion diffusion (EDGE formulation, METRICS_SPEC section 8),
and pluggable strategies that combine them.

Terms (each returned separately so they can be logged):
* ``simple``: MSE between predicted and true x0 over the whole normalised vector;
* ``vel``: MSE between frame differences of predicted and true x0, contacts excluded;
* ``fk``: MSE between FK joint positions (metres) of predicted and true x0. EDGE computes FK on the
  *normalised* vector (its un-normalise lines are commented out); we un-normalise first so the loss
  is in metres -- a documented, deliberate difference;
* ``foot``: MSE of foot-joint displacement between frames where the model's own predicted contact
  (un-normalised) exceeds 0.95;
* ``fkvel``: MSE between FK joint velocities (m/s at ``fps``) of predicted and true x0 -- not an EDGE
  term (weight 0 unless ``loss_weights`` names it): ``vel`` works on the min-max normalised vector,
  where a root-position error of 5 cm is a few hundredths, so steps of the root between patches
  were barely penalised; in metres per second they dominate.
EDGE's weights are the default: 0.636, 2.964, 0.646, 10.942.
"""
from __future__ import annotations

from typing import Protocol

import torch

from ..motion.representation import N_CONTACT, Normalizer, decode
from ..motion.skeleton import Skeleton

EDGE_WEIGHTS = {"simple": 0.636, "vel": 2.964, "fk": 0.646, "foot": 10.942}


def motion_loss_terms(
    pred: torch.Tensor, target: torch.Tensor, normalizer: Normalizer, skeleton: Skeleton,
    frame_mask: torch.Tensor | None = None, fps: float = 30.0,
) -> dict[str, torch.Tensor]:
    """pred, target: (B, T, D) normalised features. frame_mask (B, T) optional (1 = real frame)."""
    fm = None if frame_mask is None else frame_mask.to(pred.dtype)[..., None]

    def mse(a, b, m=None):
        e = (a - b) ** 2
        if m is None:
            return e.mean()
        return (e * m).sum() / (m.sum() * e.shape[-1]).clamp(min=1)

    simple = mse(pred, target, fm)
    dp = pred[:, 1:, N_CONTACT:] - pred[:, :-1, N_CONTACT:]
    dt = target[:, 1:, N_CONTACT:] - target[:, :-1, N_CONTACT:]
    fm_v = None if fm is None else fm[:, 1:] * fm[:, :-1]
    vel = mse(dp, dt, fm_v)
    dec_p = decode(normalizer.denormalize(pred), skeleton)
    dec_t = decode(normalizer.denormalize(target), skeleton)
    jp, jt = dec_p["joints"], dec_t["joints"]
    fk = mse(jp.flatten(-2), jt.flatten(-2), fm)
    feet = skeleton.foot_indices()
    fv = jp[:, 1:, feet] - jp[:, :-1, feet]  # (B, T-1, 4, 3)
    static = (dec_p["contacts"][:, :-1, : len(feet)] > 0.95).to(pred.dtype).detach()
    if fm_v is not None:
        static = static * fm_v
    foot = ((fv**2).sum(-1) * static).mean() * (1.0 / 3.0)
    jv_p = (jp[:, 1:] - jp[:, :-1]) * fps
    jv_t = (jt[:, 1:] - jt[:, :-1]) * fps
    fkvel = mse(jv_p.flatten(-2), jv_t.flatten(-2), fm_v)
    terms = {"simple": simple, "vel": vel, "fk": fk, "foot": foot, "fkvel": fkvel}
    if jp.shape[-2] == 52:  # SMPL-H: finger joints relative to their wrist (hand-aware term, metres^2)
        def rel(j):
            return torch.cat([j[..., 22:37, :] - j[..., 20:21, :], j[..., 37:52, :] - j[..., 21:22, :]], dim=-2)

        terms["hand"] = mse(rel(jp).flatten(-2), rel(jt).flatten(-2), fm)
    return terms


class LossStrategy(Protocol):
    name: str

    def backward(self, terms: dict[str, torch.Tensor], params: list[torch.nn.Parameter]) -> torch.Tensor:
        """Accumulate gradients into ``params``; return the scalar total used for logging."""


class FixedWeights:
    """Weighted sum (EDGE default weights)."""

    name = "fixed"

    def __init__(self, weights: dict[str, float] | None = None):
        self.weights = dict(EDGE_WEIGHTS if weights is None else weights)

    def total(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        return sum(self.weights[k] * v for k, v in terms.items() if k in self.weights)

    def backward(self, terms, params):
        tot = self.total(terms)
        tot.backward()
        return tot.detach()


class JacobianAggregation:
    """Multi-objective gradient aggregation with torchjd (Aligned-MTL, Nash-MTL, UPGrad, ...).

    Each (weighted) loss term is one objective; torchjd computes the Jacobian of the terms w.r.t.
    the parameters and the aggregator turns it into one update direction.
    """

    def __init__(self, aggregator: str = "aligned-mtl", weights: dict[str, float] | None = None):
        import torchjd.aggregation as agg

        self.name = aggregator
        self.weights = dict(EDGE_WEIGHTS if weights is None else weights)
        if aggregator == "aligned-mtl":
            self.aggregator = agg.AlignedMTL()
        elif aggregator == "nash-mtl":
            try:
                self.aggregator = agg.NashMTL(n_tasks=len(self.weights))  # needs torchjd[nash_mtl]
            except ImportError:
                from ..errors import ConfigError

                raise ConfigError('loss_strategy nash-mtl needs cvxpy and ecos: pip install "choreogen[mtl]" '
                                  '(or "torchjd[nash_mtl]")') from None
        elif aggregator == "upgrad":
            self.aggregator = agg.UPGrad()
        else:
            raise ValueError(f"unknown aggregator {aggregator!r}")

    def backward(self, terms, params):
        from torchjd.autojac import backward, jac_to_grad

        losses = [self.weights[k] * terms[k] for k in self.weights]
        backward(losses, inputs=params)
        jac_to_grad(params, self.aggregator)
        return sum(losses).detach()


def make_strategy(name: str = "fixed", weights: dict[str, float] | None = None) -> LossStrategy:
    if name == "fixed":
        return FixedWeights(weights)
    return JacobianAggregation(name, weights)
