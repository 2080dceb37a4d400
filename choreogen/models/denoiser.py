"""Music-conditioned transformer denoiser for dance diffusion (EDGE / GCDance style). Pure nn.Module.

Input/output: motion features (B, T, Dm) in normalised space (EDGE vector: 4 contacts + 3 root +
J*6D, 30 fps). Conditioning: music features (B, T, Da) aligned frame by frame, an optional genre
index (B,) (-1 = none), the diffusion step t (B,). Predicts x0 (B, T, Dm).

Architecture: frames are grouped into patches of ``patch`` frames (one token per patch, a 2x
cheaper sequence for patch = 2; the output head un-patches each token to its ``patch`` frames and,
with ``out_smooth`` = K, a zero-initialised residual depthwise convolution of K frames filters across
patch borders, where independent per-token heads otherwise leave steps); a small music adapter (linear + transformer layer) turns music
patches into memory tokens; each block does self-attention over motion tokens, cross-attention to
the music tokens and an MLP, each preceded by FiLM modulation (scale, shift, gate) computed from the
diffusion-step embedding plus the genre embedding (GCDance's control module). Classifier-free
guidance: ``drop_cond`` replaces music tokens and genre by learned null embeddings.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Mapping

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class DenoiserConfig:
    motion_dim: int = 151
    music_dim: int = 35
    d_model: int = 256
    n_layers: int = 4
    n_heads: int = 4
    ff_mult: int = 2
    dropout: float = 0.1
    patch: int = 2
    n_genres: int = 0  # number of genre labels (embedding has one more row: "no genre")
    music_layers: int = 1
    pos_scale: float = 1.0  # amplitude of the sinusoidal frame-position embedding (1 = as before; the bundled model uses 1)
    out_smooth: int = 0  # >0: odd kernel (frames) of a zero-initialised residual depthwise conv after un-patching
    hand_dim: int = 0  # >0: the last hand_dim features are hands, decoded by a hand expert attending to a body expert
    expert_layers: int = 1  # blocks per expert decoder (with hand_dim > 0)
    text_dim: int = 0  # >0: genre conditioning through FiLM from a stored genre-sentence embedding table (GCDance C_E)

    def to_dict(self) -> dict:
        return asdict(self)


def sinusoid(x: torch.Tensor, dim: int) -> torch.Tensor:
    """(N,) positions/steps -> (N, dim) sinusoidal embedding."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=x.device, dtype=torch.float32) / half)
    a = x.float()[:, None] * freqs[None]
    return torch.cat([a.sin(), a.cos()], dim=-1)


class Attention(nn.Module):
    def __init__(self, d: int, heads: int, dropout: float, cross: bool = False):
        super().__init__()
        self.h = heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.o = nn.Linear(d, d)
        self.p = dropout

    def project_kv(self, src: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, M, d) -> keys, values (B, heads, M, d/heads)."""
        B, M, D = src.shape
        k, v = self.kv(src).view(B, M, 2, self.h, D // self.h).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x: torch.Tensor, mem: torch.Tensor | None = None,
                kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """x (B, N, d); keys/values from ``mem`` (B, M, d), precomputed ``kv``, or x itself."""
        B, N, D = x.shape
        q = self.q(x).view(B, N, self.h, D // self.h).transpose(1, 2)
        k, v = kv if kv is not None else self.project_kv(x if mem is None else mem)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.p if self.training else 0.0)
        return self.o(y.transpose(1, 2).reshape(B, N, D))


class Block(nn.Module):
    """FiLM-modulated self-attention, cross-attention to music, MLP."""

    def __init__(self, d: int, heads: int, ff_mult: int, dropout: float):
        super().__init__()
        self.n1, self.n2, self.n3 = (nn.LayerNorm(d, elementwise_affine=False) for _ in range(3))
        self.self_attn = Attention(d, heads, dropout)
        self.cross_attn = Attention(d, heads, dropout, cross=True)
        self.mlp = nn.Sequential(nn.Linear(d, ff_mult * d), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff_mult * d, d))
        self.film = nn.Linear(d, 9 * d)  # (scale, shift, gate) x 3 sublayers
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, mem: torch.Tensor | None, c: torch.Tensor,
                mem_kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        s1, b1, g1, s2, b2, g2, s3, b3, g3 = self.film(c).unsqueeze(1).chunk(9, dim=-1)
        x = x + (1 + g1) * self.self_attn(self.n1(x) * (1 + s1) + b1)
        x = x + (1 + g2) * self.cross_attn(self.n2(x) * (1 + s2) + b2, mem, kv=mem_kv)
        x = x + (1 + g3) * self.mlp(self.n3(x) * (1 + s3) + b3)
        return x


class DanceDenoiser(nn.Module):
    COND_KEYS = frozenset({"music", "genre", "drop_cond", "music_tokens", "music_kv"})

    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.cfg = cfg
        d, p = cfg.d_model, cfg.patch
        self.motion_in = nn.Linear(cfg.motion_dim * p, d)
        self.music_in = nn.Linear(cfg.music_dim * p, d)
        self.music_enc = nn.ModuleList(
            nn.TransformerEncoderLayer(d, cfg.n_heads, cfg.ff_mult * d, cfg.dropout, batch_first=True, norm_first=True)
            for _ in range(cfg.music_layers)
        )
        self.null_music = nn.Parameter(torch.zeros(1, 1, d))
        if cfg.text_dim:
            # GCDance: the genre enters as the sentence embedding of "This is a {Genre} type of music." (one row per
            # genre, filled by training, stored in the checkpoint; last row zeros = no genre / dropped)
            self.register_buffer("genre_text", torch.zeros(cfg.n_genres + 1, cfg.text_dim))
            self.text_proj = nn.Sequential(nn.Linear(cfg.text_dim, d), nn.SiLU(), nn.Linear(d, d))
        else:
            self.genre_emb = nn.Embedding(cfg.n_genres + 1, d)  # last row = no genre / dropped
        self.time_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.cond_act = nn.SiLU()
        self.blocks = nn.ModuleList(Block(d, cfg.n_heads, cfg.ff_mult, cfg.dropout) for _ in range(cfg.n_layers))
        if cfg.hand_dim:
            from .experts import BodyHandExperts

            if not 0 < cfg.hand_dim < cfg.motion_dim:
                raise ValueError(f"hand_dim must be in (0, motion_dim={cfg.motion_dim}), got {cfg.hand_dim}")
            self.experts = BodyHandExperts(lambda: Block(d, cfg.n_heads, cfg.ff_mult, cfg.dropout), d,
                                           cfg.motion_dim - cfg.hand_dim, cfg.hand_dim, p, cfg.expert_layers)
        else:
            self.out_norm = nn.LayerNorm(d)
            self.out = nn.Linear(d, cfg.motion_dim * p)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)
        if cfg.out_smooth:
            if cfg.out_smooth % 2 == 0:
                raise ValueError(f"out_smooth must be an odd number of frames, got {cfg.out_smooth}")
            # per-channel temporal filter over the un-patched frames: one linear head per patch leaves
            # steps at patch borders; this lets the model learn a filter across them (starts as identity)
            self.smooth = nn.Conv1d(cfg.motion_dim, cfg.motion_dim, cfg.out_smooth, padding=cfg.out_smooth // 2,
                                    groups=cfg.motion_dim, padding_mode="replicate")
            nn.init.zeros_(self.smooth.weight)
            nn.init.zeros_(self.smooth.bias)

    def _patch(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        p = self.cfg.patch
        if T % p:
            raise ValueError(f"sequence length {T} is not a multiple of the patch size {p}")
        return x.reshape(B, T // p, p * D)

    def encode_music(self, music: torch.Tensor) -> torch.Tensor:
        """(B, T, Da) -> (B, T/patch, d) memory tokens (cacheable across diffusion steps)."""
        m = self.music_in(self._patch(music))
        pos = sinusoid(torch.arange(m.shape[1], device=m.device), m.shape[-1]).to(m.dtype)
        m = m + self.cfg.pos_scale * pos
        for layer in self.music_enc:
            m = layer(m)
        return m

    def memory_kv(self, music_tokens: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Cross-attention keys/values of every block for (B, M, d) music tokens.

        They do not depend on the diffusion step, so a sampler computes them once per window batch
        instead of once per step (about a sixth of a denoiser call). Rows meant to be unconditional
        must already hold ``null_music`` (``drop_cond`` then only drops the genre). With body/hand
        experts the body expert's blocks follow the trunk's in the list."""
        blocks = list(self.blocks) + (list(self.experts.body_blocks) if self.cfg.hand_dim else [])
        return [blk.cross_attn.project_kv(music_tokens) for blk in blocks]

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        cond: Mapping[str, object] | None = None,
        *,
        music: torch.Tensor | None = None,
        genre: torch.Tensor | None = None,
        drop_cond: torch.Tensor | None = None,
        music_tokens: torch.Tensor | None = None,
        music_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> torch.Tensor:
        """x_t (B, T, Dm), t (B,) long -> x0 (B, T, Dm).

        Conditioning is data: ``cond`` maps names to values -- ``music`` (B, T, Da) features, or
        precomputed ``music_tokens`` (B, T', d) or their ``music_kv`` (from :meth:`memory_kv`);
        ``genre`` (B,) long (-1 = none) -- and ``drop_cond`` (B,) bool marks unconditional rows
        (classifier-free guidance). The same names are accepted as keyword arguments; unknown
        names in ``cond`` are an error (a checkpoint that cannot use a condition must say so)."""
        if cond:
            unknown = set(cond) - self.COND_KEYS
            if unknown:
                raise KeyError(f"this denoiser takes no condition {sorted(unknown)} (it takes {sorted(self.COND_KEYS)})")
            music = cond.get("music", music)
            genre = cond.get("genre", genre)
            drop_cond = cond.get("drop_cond", drop_cond)
            music_tokens = cond.get("music_tokens", music_tokens)
            music_kv = cond.get("music_kv", music_kv)
        B, T, _ = x_t.shape
        d = self.cfg.d_model
        h = self.motion_in(self._patch(x_t))
        h = h + self.cfg.pos_scale * sinusoid(torch.arange(h.shape[1], device=h.device), d).to(h.dtype)
        mem = None
        if music_kv is None:
            mem = music_tokens if music_tokens is not None else self.encode_music(music)
        if genre is None:
            genre = torch.full((B,), -1, dtype=torch.long, device=x_t.device)
        g = torch.where(genre < 0, torch.full_like(genre, self.cfg.n_genres), genre)
        if drop_cond is not None:
            dc = drop_cond.to(x_t.device)
            if mem is not None:
                mem = torch.where(dc[:, None, None], self.null_music.to(mem.dtype).expand_as(mem), mem)
            g = torch.where(dc, torch.full_like(g, self.cfg.n_genres), g)
        gc = self.text_proj(self.genre_text[g].to(h.dtype)) if self.cfg.text_dim else self.genre_emb(g)
        c = self.time_mlp(sinusoid(t, d).to(h.dtype)) + gc
        c = self.cond_act(c)
        for i, blk in enumerate(self.blocks):
            h = blk(h, mem, c, None if music_kv is None else music_kv[i])
        if self.cfg.hand_dim:
            out = self.experts(h, mem, c, None if music_kv is None else music_kv[len(self.blocks):])
        else:
            out = self.out(self.out_norm(h)).reshape(B, T, -1)
        if self.cfg.out_smooth:
            out = out + self.smooth(out.transpose(1, 2)).transpose(1, 2)
        return out
