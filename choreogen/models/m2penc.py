"""M2PEnc at CPU scale: music features -> pose guidance maps + keypoint heatmaps at 64 x 64 per frame.

The paper's encoder (m2penc-music-to-pose-video, section 3.2.1): a fully connected layer maps each
frame's music features to an image-like map, L alternating inflated 3D convolutions and attention
blocks process it over time, and two more 3D convolutions give the pose guidance (N, C_guid, 64, 64)
and keypoint heatmaps (N, C_heat, 64, 64). Here, for two CPU cores:

* the FC layer maps (music + a genre embedding) to ``fc_channels x grid x grid`` (16 x 16 x 16 = the
  paper's 4096 values per frame), after a small temporal convolution over the music;
* ``blocks`` x [Inf-Conv3D (3x3x3, residual) -> temporal self-attention at every spatial position]
  at ``grid`` x ``grid`` with ``width`` channels;
* upsampling stages (nearest x2 + 1x3x3 convolution) to 32 x 32, the two heads (3D convolutions,
  1x3x3) there, and a fixed trilinear x2 (in space only) to 64 x 64: guidance = ``n_guid`` part maps
  in [0, 1] (sigmoid after the upsampling), heatmaps = ``n_heat`` maps (linear; the targets are
  Gaussians of peak 1). Running the heads at 64 x 64 costs 3x the compute per frame for maps that
  are smooth at that scale anyway (``out_upsample=1`` does it).

Shapes: music (B, N, Dm) float, genre (B,) long -> guidance (B, N, n_guid, R, R), heat (B, N, n_heat, R, R).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class M2PEncConfig:
    music_dim: int = 40
    n_genres: int = 5  # the last index = unknown / no genre
    width: int = 32
    fc_channels: int = 16
    grid: int = 16
    blocks: int = 2
    heads: int = 4
    up: tuple = (24,)
    res: int = 64
    out_upsample: int = 2  # the heads run at res / out_upsample, then a fixed bilinear x2 to res
    n_heat: int = 17
    n_guid: int = 10

    def to_dict(self) -> dict:
        d = asdict(self)
        d["up"] = list(self.up)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "M2PEncConfig":
        names = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k in names}
        if "up" in d:
            d["up"] = tuple(d["up"])
        return cls(**d)


class Block(nn.Module):
    """Inf-Conv3D (residual) then temporal attention per spatial position. x: (B, C, N, H, W)."""

    def __init__(self, c: int, heads: int):
        super().__init__()
        self.conv = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv3d(c, c, 3, padding=1))
        self.norm = nn.LayerNorm(c)
        self.attn = nn.MultiheadAttention(c, heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.conv(x)
        b, c, n, h, w = x.shape
        t = x.permute(0, 3, 4, 2, 1).reshape(b * h * w, n, c)  # (B*H*W, N, C)
        q = self.norm(t)
        t = t + self.attn(q, q, q, need_weights=False)[0]
        return t.reshape(b, h, w, n, c).permute(0, 4, 3, 1, 2)


def _conv2(cin: int, cout: int) -> nn.Conv3d:
    return nn.Conv3d(cin, cout, (1, 3, 3), padding=(0, 1, 1))


class M2PEnc(nn.Module):
    def __init__(self, cfg: M2PEncConfig):
        super().__init__()
        self.cfg = cfg
        c = cfg.width
        self.genre = nn.Embedding(cfg.n_genres, cfg.music_dim)
        self.tconv = nn.Conv1d(cfg.music_dim, 2 * cfg.music_dim, 5, padding=2)
        self.fc = nn.Linear(2 * cfg.music_dim, cfg.fc_channels * cfg.grid * cfg.grid)
        self.stem = nn.Conv3d(cfg.fc_channels, c, 3, padding=1)
        self.blocks = nn.ModuleList(Block(c, cfg.heads) for _ in range(cfg.blocks))
        ups, cin = [], c
        steps = 0
        while cfg.grid * 2 ** steps * cfg.out_upsample < cfg.res:
            steps += 1
        chans = list(cfg.up) + [cfg.up[-1]] * max(0, steps - len(cfg.up))
        for co in chans[:steps]:
            ups.append(_conv2(cin, co))
            cin = co
        self.ups = nn.ModuleList(ups)
        self.head_guid = _conv2(cin, cfg.n_guid)
        self.head_heat = _conv2(cin, cfg.n_heat)

    def forward(self, music: torch.Tensor, genre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.cfg
        b, n, _ = music.shape
        m = music + self.genre(genre)[:, None, :]
        m = F.silu(self.tconv(m.transpose(1, 2))).transpose(1, 2)  # (B, N, 2Dm)
        x = self.fc(m).reshape(b, n, cfg.fc_channels, cfg.grid, cfg.grid).transpose(1, 2)  # (B, Cf, N, G, G)
        x = self.stem(x)
        for blk in self.blocks:
            x = blk(x)
        for up in self.ups:
            x = F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")
            x = F.silu(up(x))
        guid, heat = self.head_guid(x), self.head_heat(x)  # (B, C, N, R', R')
        guid, heat = guid.transpose(1, 2), heat.transpose(1, 2)  # (B, N, C, R', R')
        if cfg.out_upsample > 1:  # bilinear per frame (= trilinear with time scale 1, cheaper)
            def up(x):
                y = F.interpolate(x.flatten(0, 1), scale_factor=cfg.out_upsample, mode="bilinear", align_corners=False)
                return y.reshape(x.shape[:3] + y.shape[-2:])
            guid, heat = up(guid), up(heat)
        return torch.sigmoid(guid), heat  # (B, N, C, R, R)


def decode_keypoints(heat: torch.Tensor, eps: float = 1e-4) -> tuple[torch.Tensor, torch.Tensor]:
    """Heatmaps (..., J, R, R) -> keypoints (..., J, 2) in map pixels (x, y; pixel centres at +0.5)
    and confidence (..., J) = the peak value clipped to [0, 1].

    Sub-pixel: a parabola through the log-heat at the arg-max and its two neighbours in x and in y
    (exact for a Gaussian peak, whatever its width), the offset clipped to one pixel."""
    r = heat.shape[-1]
    flat = heat.flatten(-2)
    peak, idx = flat.max(-1)
    cy, cx = idx // r, idx % r
    lg = heat.clamp_min(eps).log()

    def at(y, x):
        return torch.gather(lg.flatten(-2), -1, (y.clamp(0, r - 1) * r + x.clamp(0, r - 1))[..., None])[..., 0]

    c0 = at(cy, cx)
    out = []
    for dy, dx, centre in ((0, 1, cx), (1, 0, cy)):
        lo, hi = at(cy - dy, cx - dx), at(cy + dy, cx + dx)
        den = lo - 2 * c0 + hi
        off = torch.where(den < -1e-9, 0.5 * (lo - hi) / den.clamp(max=-1e-9), torch.zeros_like(den))
        out.append(centre.to(heat.dtype) + 0.5 + off.clamp(-1, 1))
    return torch.stack(out, -1), peak.clamp(0, 1)


def integral_keypoints(heat: torch.Tensor) -> torch.Tensor:
    """Differentiable keypoints (..., J, 2) in map pixels: the centroid of relu(heat)^2 (integral
    regression; used as a training loss, :func:`decode_keypoints` at inference)."""
    r = heat.shape[-1]
    w = heat.relu().pow(2)
    tot = w.sum((-1, -2)).clamp_min(1e-6)
    g = torch.arange(r, dtype=heat.dtype, device=heat.device) + 0.5
    return torch.stack([(w.sum(-2) * g).sum(-1) / tot, (w.sum(-1) * g).sum(-1) / tot], -1)
