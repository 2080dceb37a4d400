"""Spatio-temporal transformer VAE over joint tokens (DanceFusion §3.2-3.4), pure nn.Module.

Shapes (B batch, T frames of one window, J joints, D = 2 or 3 coordinates, C latent channels):

    x        (B, T, J, D) joint coordinates, already normalised (see choreogen.tasks.skeleton.normalize:
             per window, centred and divided by the body height, so values are O(1)).
    present  (B, T, J) bool, the confidence mask M of the paper (eq. 5): True = observed.
    z, mu    (B, T, C) one Gaussian latent per frame.
    recon    (B, T, J, D) every joint of every frame, same normalised units as ``x``.

Encoder: each joint of each frame is a token = Linear(D -> d)(coords) + joint embedding + frame
(position) embedding; a missing joint's token is a learned "missing" embedding instead of its
coordinates (plus the same position embeddings). A *spatial* transformer runs over the J tokens of each
frame, then a *temporal* transformer over the T tokens of each joint's track (factorised
attention as in ViViT); in both, missing joints are masked out of the attention keys, so a
missing joint is inferred from the present joints of its frame and from its own track in the
neighbouring frames. The J output tokens of a frame are concatenated and projected to one frame
vector (a linear pool that keeps joint identity); a linear head gives (mu, log sigma^2) per frame.

Decoder: Linear(C -> d) + frame embedding, a temporal transformer, then an MLP head to J x D.
With ``residual=True`` (default) the decoder output is a correction added to a parameter-free
reference, the per-joint linear interpolation over time of the observed joints
(:func:`interpolate_tracks`): a freshly initialised model already interpolates, and training (on
CPU budgets) only has to learn what interpolation gets wrong -- long gaps, whole missing limbs or
frames, jitter. This departs from the paper's pure decoder; ``residual=False`` gives the pure
VAE (needed to decode latents without an observation, e.g. for latent diffusion).

``base="cubic"`` replaces the in-model linear reference by one the caller computes outside the
model over the whole sequence (``choreogen.tasks.skeleton.baselines.interpolate_cubic``, an Akima spline
through the observed frames of each joint: far better than linear interpolation on 30 fps
motion and not expressible as a cheap batched tensor op); it is then a required argument of
:meth:`SkeletonVAE.forward`, and the encoder token of a missing joint is the learned missing
embedding *plus* Linear(D->d)(reference estimate), so the encoder knows what it corrects (the
missing joint stays masked out of the attention keys; garbage in its slot of ``x`` changes
nothing). ``out_scale`` multiplies the decoder output before it is added to
the reference: corrections are millimetres to centimetres, and a small fixed scale keeps the
head's targets O(0.1-1) so the optimiser's step noise does not swamp them.

``masking=False`` is the "w/o mask" ablation of the paper's Table 3: the encoder sees M * X
(eq. 6, missing coordinates zero-filled) through the same embedding as present joints and no
attention mask, i.e. it is never told which joints are missing.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class SkeletonVAEConfig:
    """Hyper-parameters (all saved into checkpoints)."""

    num_joints: int = 17
    dim: int = 2
    d_model: int = 64
    n_heads: int = 4
    spatial_layers: int = 1
    temporal_layers: int = 2
    decoder_layers: int = 2
    latent_dim: int = 32
    max_frames: int = 64
    ff_mult: int = 2
    dropout: float = 0.0
    masking: bool = True
    residual: bool = True
    base: str = "linear"  # residual reference: "linear" (in-model) or "cubic" (given to forward)
    out_scale: float = 1.0  # decoder output multiplier (residual models)
    cond_decoder: bool = False  # decoder over joint tokens that also see the reference (base="cubic")
    parents: list | None = None  # kinematic parent per joint (-1 root): bone-vector features (cond_decoder)
    motion_features: bool = False  # cond_decoder tokens also see the reference's velocity and acceleration
    long_scale: float = 0.0  # > 0: a second head, scaled by this, corrects *missing* joints at full size
    reference: str = "akima"  # what the caller passes as base: "akima" spline or "body" (body-frame spline)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SkeletonVAEConfig":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def _key_mask(missing: torch.Tensor) -> torch.Tensor:
    """Key-padding mask (N, L) from a missing mask; rows with nothing present stay unmasked
    (their queries then only see missing-joint embeddings) so attention never divides by zero."""
    return missing & ~missing.all(-1, keepdim=True)


def _stack(cfg: SkeletonVAEConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(
        cfg.d_model, cfg.n_heads, cfg.ff_mult * cfg.d_model, cfg.dropout,
        activation="gelu", batch_first=True, norm_first=True,
    )
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class SkeletonVAE(nn.Module):
    """Masked spatio-temporal transformer VAE for 2D/3D keypoint sequences (see module doc)."""

    def __init__(self, cfg: SkeletonVAEConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.coord = nn.Linear(cfg.dim, d)
        self.joint_emb = nn.Parameter(torch.randn(cfg.num_joints, d) * 0.02)
        self.frame_emb = nn.Parameter(torch.randn(cfg.max_frames, d) * 0.02)
        self.missing = nn.Parameter(torch.randn(d) * 0.02)
        if cfg.base == "cubic":  # a missing joint's token also carries the reference estimate
            self.base_coord = nn.Linear(cfg.dim, d)
        self.spatial = _stack(cfg, cfg.spatial_layers)
        self.pool = nn.Linear(cfg.num_joints * d, d)  # keeps joint identity (no averaging)
        self.temporal = _stack(cfg, cfg.temporal_layers)
        self.enc_norm = nn.LayerNorm(d)
        self.to_stats = nn.Linear(d, 2 * cfg.latent_dim)
        self.from_latent = nn.Linear(cfg.latent_dim, d)
        self.dec_frame_emb = nn.Parameter(torch.randn(cfg.max_frames, d) * 0.02)
        self.dec_temporal = _stack(cfg, cfg.decoder_layers)
        if cfg.cond_decoder:
            if cfg.base != "cubic" or not cfg.residual:
                raise ValueError("cond_decoder needs a residual model with base='cubic'")
            self.dec_coord = nn.Linear(cfg.dim, d)
            self.dec_joint_emb = nn.Parameter(torch.randn(cfg.num_joints, d) * 0.02)
            self.dec_missing = nn.Parameter(torch.randn(d) * 0.02)
            self.dec_spatial = _stack(cfg, 1)
            if cfg.parents is not None:
                if len(cfg.parents) != cfg.num_joints:
                    raise ValueError("parents must list one parent per joint")
                self.dec_bone = nn.Linear(cfg.dim, d)
            if cfg.motion_features:
                self.dec_motion = nn.Linear(2 * cfg.dim, d)
        out = cfg.dim if cfg.cond_decoder else cfg.num_joints * cfg.dim
        self.head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, out))
        if cfg.base not in ("linear", "cubic"):
            raise ValueError(f"base must be 'linear' or 'cubic', got {cfg.base!r}")
        if cfg.long_scale > 0:
            if not cfg.cond_decoder:
                raise ValueError("long_scale needs the conditional decoder")
            self.head_long = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, cfg.dim))
            nn.init.zeros_(self.head_long[-1].weight)
            nn.init.zeros_(self.head_long[-1].bias)
        if cfg.residual:  # start as exact interpolation
            nn.init.zeros_(self.head[-1].weight)
            nn.init.zeros_(self.head[-1].bias)
        if cfg.base == "cubic":
            # start nearly deterministic (sigma = e^-3): with the output head at zero the decoder
            # would otherwise first learn to ignore noisy latents and the posterior collapses
            nn.init.constant_(self.to_stats.bias[cfg.latent_dim:], -6.0)

    # ------------------------------------------------------------------ encoder
    def encode(self, x: torch.Tensor, present: torch.Tensor,
               base: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,T,J,D), (B,T,J) bool[, reference (B,T,J,D) for ``base="cubic"``] -> mu, logvar, each (B,T,C)."""
        B, T, J, D = x.shape
        cfg = self.cfg
        if T > cfg.max_frames:
            raise ValueError(f"window of {T} frames exceeds max_frames={cfg.max_frames}")
        if J != cfg.num_joints or D != cfg.dim:
            raise ValueError(f"expected (..., {cfg.num_joints}, {cfg.dim}) joints, got {tuple(x.shape)}")
        present = present.bool()
        x = torch.where(present[..., None], x, torch.zeros((), dtype=x.dtype))  # eq. 6: M * X
        tok = self.coord(x)
        if cfg.masking:
            miss = self.missing.to(tok.dtype)
            if cfg.base == "cubic" and base is not None:
                miss = miss + self.base_coord(base)
            tok = torch.where(present[..., None], tok, miss)
        tok = tok + self.joint_emb + self.frame_emb[:T, None, :]  # (B, T, J, d)
        d = tok.shape[-1]
        # spatial: the J joints of each frame attend to the present joints of that frame
        kpm = _key_mask(~present.reshape(B * T, J)) if cfg.masking else None
        tok = self.spatial(tok.reshape(B * T, J, d), src_key_padding_mask=kpm).reshape(B, T, J, d)
        # temporal: each joint's track attends to the frames where that joint is present
        tok = tok.transpose(1, 2).reshape(B * J, T, d)
        kpm = _key_mask(~present.transpose(1, 2).reshape(B * J, T)) if cfg.masking else None
        tok = self.temporal(tok, src_key_padding_mask=kpm).reshape(B, J, T, d).transpose(1, 2)
        h = self.pool(tok.reshape(B, T, J * d))  # (B, T, d): one vector per frame
        mu, logvar = self.to_stats(self.enc_norm(h)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    # ------------------------------------------------------------------ decoder
    def decode(self, z: torch.Tensor, ref: torch.Tensor | None = None, present: torch.Tensor | None = None) -> torch.Tensor:
        """(B,T,C) latents -> (B,T,J,D) joints (normalised units; a correction for residual models).

        With ``cfg.cond_decoder`` the decoder also takes the reference ``ref`` (B,T,J,D) and the
        mask ``present`` (B,T,J): each (frame, joint) token = the frame's latent + joint embedding
        + Linear(ref) (+ a learned flag where the joint was missing), then one spatial layer over
        the joints of each frame and ``decoder_layers`` temporal layers over each joint's track,
        and a per-token head to D coordinates."""
        B, T, _ = z.shape
        cfg = self.cfg
        h = self.from_latent(z) + self.dec_frame_emb[:T]
        if not cfg.cond_decoder:
            h = self.dec_temporal(h)
            return self.head(h).reshape(B, T, cfg.num_joints, cfg.dim)
        if ref is None or present is None:
            raise ValueError("this decoder is conditioned on the reference: pass ref= and present=")
        J, d = cfg.num_joints, h.shape[-1]
        miss = (~present.bool())[..., None].to(h.dtype) * self.dec_missing
        tok = h[:, :, None, :] + self.dec_joint_emb + self.dec_coord(ref) + miss  # (B,T,J,d)
        if cfg.parents is not None:  # bone vectors of the reference (zero for the root)
            par = torch.as_tensor([max(p, 0) for p in cfg.parents], device=ref.device)
            root = torch.as_tensor([p < 0 for p in cfg.parents], device=ref.device)
            bone = torch.where(root[:, None], torch.zeros((), dtype=ref.dtype), ref - ref[:, :, par])
            tok = tok + self.dec_bone(bone / 0.2)
        if cfg.motion_features:  # local differences: the mm-scale signal is invisible in O(1) coordinates
            tok = tok + self.dec_motion(torch.cat([_central_diff(ref) / 0.02, _second_diff(ref) / 0.005], -1))
        tok = self.dec_spatial(tok.reshape(B * T, J, d)).reshape(B, T, J, d)
        tok = self.dec_temporal(tok.transpose(1, 2).reshape(B * J, T, d)).reshape(B, J, T, d).transpose(1, 2)
        out = self.head(tok)
        if cfg.long_scale > 0:  # full-size estimate for missing joints (in units of out_scale)
            gap = (~present.bool())[..., None].to(out.dtype)
            out = out + gap * self.head_long(tok) * (cfg.long_scale / cfg.out_scale)
        return out

    def base(self, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Parameter-free reference the decoder corrects when ``cfg.residual``: per joint track,
        linear interpolation over time between present frames (held at the ends; 0 = the window
        centre for a joint never present). Without masking only M * X is known (eq. 6)."""
        if not self.cfg.masking:
            return torch.where(present[..., None].bool(), x, torch.zeros((), dtype=x.dtype))
        return interpolate_tracks(x, present)

    def forward(self, x: torch.Tensor, present: torch.Tensor, sample: bool = True,
                base: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Encode, reparameterise (``sample=False`` uses the mean), decode; with ``cfg.residual``
        the decoder output (times ``cfg.out_scale``) is added to the reference: :meth:`base`
        (linear) or, when ``cfg.base == "cubic"``, the given ``base`` (B,T,J,D) in the units of
        ``x`` (e.g. the Akima interpolation of the whole sequence, normalised like ``x``). An
        untrained residual model returns exactly that reference.

        Returns dict(recon (B,T,J,D), mu (B,T,C), logvar (B,T,C), z (B,T,C)).
        """
        if self.cfg.residual and self.cfg.base == "cubic" and (base is None or base.shape != x.shape):
            raise ValueError("this model corrects a cubic reference: pass base= with the shape of x")
        mu, logvar = self.encode(x, present, base)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        if self.cfg.residual:
            if not self.cfg.masking:  # "w/o mask" ablation: only M * X is known, nothing says what is missing
                ref = self.base(x, present)
                dec_present = torch.ones_like(present, dtype=torch.bool)
            elif self.cfg.base == "cubic":
                ref, dec_present = torch.where(present[..., None].bool(), x, base), present
            else:
                ref, dec_present = self.base(x, present), present
            recon = self.decode(z, ref, dec_present) * self.cfg.out_scale + ref
        else:
            recon = self.decode(z)
        return {"recon": recon, "mu": mu, "logvar": logvar, "z": z}


def _central_diff(x: torch.Tensor) -> torch.Tensor:
    """(B,T,...) -> (x[t+1] - x[t-1]) / 2 over dim 1, one-sided at the ends (T >= 2)."""
    if x.shape[1] < 2:
        return torch.zeros_like(x)
    pad = torch.cat([x[:, :1], x, x[:, -1:]], 1)
    d = (pad[:, 2:] - pad[:, :-2]) / 2
    d[:, 0] = d[:, 0] * 2
    d[:, -1] = d[:, -1] * 2
    return d


def _second_diff(x: torch.Tensor) -> torch.Tensor:
    """(B,T,...) -> x[t+1] - 2 x[t] + x[t-1] over dim 1, 0 at the ends."""
    out = torch.zeros_like(x)
    out[:, 1:-1] = x[:, 2:] - 2 * x[:, 1:-1] + x[:, :-2]
    return out


def interpolate_tracks(x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """(B,T,J,D), (B,T,J) bool -> (B,T,J,D): per (b, j) linear interpolation over time between the
    frames where the joint is present; constant before the first / after the last; 0 if never."""
    B, T, J, D = x.shape
    p = present.bool()
    t = torch.arange(T, device=x.device).view(1, T, 1).expand(B, T, J)
    prev = torch.where(p, t, torch.full_like(t, -1)).cummax(dim=1).values
    nxt = torch.where(p, t, torch.full_like(t, T)).flip(1).cummin(dim=1).values.flip(1)
    has_prev, has_next = prev >= 0, nxt < T
    pi, ni = prev.clamp(0, T - 1), nxt.clamp(0, T - 1)
    xp = torch.gather(x, 1, pi[..., None].expand(B, T, J, D))
    xn = torch.gather(x, 1, ni[..., None].expand(B, T, J, D))
    w = ((t - prev).float() / (nxt - prev).clamp_min(1).float())[..., None].to(x.dtype)
    out = torch.where((has_prev & has_next)[..., None], xp + w * (xn - xp),
                      torch.where(has_prev[..., None], xp, torch.where(has_next[..., None], xn, torch.zeros_like(x))))
    return torch.where(p[..., None], x, out)


def masked_recon_loss(recon: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, kind: str = "mse",
                      weight: torch.Tensor | None = None) -> torch.Tensor:
    """Reconstruction loss over the joints where ``mask`` is True (DanceFusion eq. 2-3).

    ``kind="mse"`` sums squared coordinate differences per joint, ``"l1"`` sums absolute ones;
    both are averaged over the masked joints (sum of M_i * err_i / sum of M_i), so the value
    does not depend on how many joints are present. recon/target (..., J, D), mask (..., J).
    ``weight`` (..., J) optionally weights each joint (e.g. hidden joints higher than observed
    ones); the average is then sum(M w err) / sum(M w).
    """
    diff = recon - target
    if kind == "mse":
        err = diff.pow(2).sum(-1)
    elif kind == "l1":
        err = diff.abs().sum(-1)
    else:
        raise ValueError(f"loss must be 'mse' or 'l1', got {kind!r}")
    m = mask.to(err.dtype)
    if weight is not None:
        m = m * weight.to(err.dtype)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) (eq. 4), summed over latent channels, averaged over frames."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(-1).mean()
