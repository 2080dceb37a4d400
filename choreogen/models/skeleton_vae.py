"""Spatio-temporal transformer VAE over joint tokens (DanceFusion §3.2-3.4), pure nn.Module.

Shapes (B batch, T frames of one window, J joints, D = 2 or 3 coordinates, C latent channels):

    x        (B, T, J, D) joint coordinates, already normalised (see choreogen.repair.normalize:
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
        self.spatial = _stack(cfg, cfg.spatial_layers)
        self.pool = nn.Linear(cfg.num_joints * d, d)  # keeps joint identity (no averaging)
        self.temporal = _stack(cfg, cfg.temporal_layers)
        self.enc_norm = nn.LayerNorm(d)
        self.to_stats = nn.Linear(d, 2 * cfg.latent_dim)
        self.from_latent = nn.Linear(cfg.latent_dim, d)
        self.dec_frame_emb = nn.Parameter(torch.randn(cfg.max_frames, d) * 0.02)
        self.dec_temporal = _stack(cfg, cfg.decoder_layers)
        self.head = nn.Sequential(
            nn.LayerNorm(d), nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, cfg.num_joints * cfg.dim)
        )
        if cfg.residual:  # start as exact interpolation
            nn.init.zeros_(self.head[-1].weight)
            nn.init.zeros_(self.head[-1].bias)

    # ------------------------------------------------------------------ encoder
    def encode(self, x: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,T,J,D), (B,T,J) bool -> mu, logvar, each (B,T,C)."""
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
            tok = torch.where(present[..., None], tok, self.missing.to(tok.dtype))
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
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B,T,C) latents -> (B,T,J,D) joints (normalised units)."""
        B, T, _ = z.shape
        h = self.from_latent(z) + self.dec_frame_emb[:T]
        h = self.dec_temporal(h)
        return self.head(h).reshape(B, T, self.cfg.num_joints, self.cfg.dim)

    def base(self, x: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """Parameter-free reference the decoder corrects when ``cfg.residual``: per joint track,
        linear interpolation over time between present frames (held at the ends; 0 = the window
        centre for a joint never present). Without masking only M * X is known (eq. 6)."""
        if not self.cfg.masking:
            return torch.where(present[..., None].bool(), x, torch.zeros((), dtype=x.dtype))
        return interpolate_tracks(x, present)

    def forward(self, x: torch.Tensor, present: torch.Tensor, sample: bool = True) -> dict[str, torch.Tensor]:
        """Encode, reparameterise (``sample=False`` uses the mean), decode; with ``cfg.residual``
        the decoder output is added to :meth:`base` (so an untrained model already interpolates).

        Returns dict(recon (B,T,J,D), mu (B,T,C), logvar (B,T,C), z (B,T,C)).
        """
        mu, logvar = self.encode(x, present)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu
        recon = self.decode(z)
        if self.cfg.residual:
            recon = recon + self.base(x, present)
        return {"recon": recon, "mu": mu, "logvar": logvar, "z": z}


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


def masked_recon_loss(recon: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """Reconstruction loss over the joints where ``mask`` is True (DanceFusion eq. 2-3).

    ``kind="mse"`` sums squared coordinate differences per joint, ``"l1"`` sums absolute ones;
    both are averaged over the masked joints (sum of M_i * err_i / sum of M_i), so the value
    does not depend on how many joints are present. recon/target (..., J, D), mask (..., J).
    """
    diff = recon - target
    if kind == "mse":
        err = diff.pow(2).sum(-1)
    elif kind == "l1":
        err = diff.abs().sum(-1)
    else:
        raise ValueError(f"loss must be 'mse' or 'l1', got {kind!r}")
    m = mask.to(err.dtype)
    return (err * m).sum() / m.sum().clamp_min(1.0)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) (eq. 4), summed over latent channels, averaged over frames."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(-1).mean()
