"""Latent flow auto-encoder (LFAE, DabFusion section 3.3 / LFDM stage 1), written from the papers.

Shapes (defaults: 64x64 frames, latent 16x16 with C = 32 channels, ``down`` = 4):

* :class:`ImageEncoder`   x (B, 3, H, W) in [0, 1] -> z (B, C, H/4, W/4)
* :class:`FlowPredictor`  (x_ref, x_drv) (B, 3, H, W) each -> flow (B, 2, H/4, W/4) + occlusion
  (B, 1, H/4, W/4) in (0, 1) (1 = visible). A small U-Net on the two frames stacked; the flow is a
  *backward* flow in grid_sample's normalised units (-1..1 spans the image): output pixel p samples
  the reference at p + flow(p). The head starts at zero flow and occlusion ~0.95.
* :func:`warp`            z (B, C, h, w), flow (B, 2, h, w) -> bilinear back-warp (border padding)
* :class:`ImageDecoder`   z~ (B, C, h, w) + x~ (B, 3, H, W) -> x^ (B, 3, H, W) in [0, 1]; it fills
  occluded regions. x~ = the reference frame back-warped by the flow upsampled to H x W, times the
  upsampled occlusion: a full-size skip (as MRAA warps the source at several scales) that carries
  colour and detail the 16x16 latent loses (DabFusion decodes from z~ alone); the output keeps
  the warped reference where the occlusion map says it is visible: x^ = x~ m + (1 - m) D(z~, x~ m).
* :class:`LatentFlowAE`   the three together: z~ = warp(E(x_ref), f) * m;  x^ = D(z~, x~).

Everything is convolutional (GroupNorm + SiLU), a few hundred thousand weights: trainable on a CPU.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class LFAEConfig:
    size: int = 64
    latent_channels: int = 32
    width: int = 32
    flow_width: int = 32

    @property
    def latent_size(self) -> int:
        return self.size // 4

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LFAEConfig":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def _gn(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.n1, self.c1 = _gn(c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.n2, self.c2 = _gn(c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        return self.skip(x) + self.c2(F.silu(self.n2(h)))


class ImageEncoder(nn.Module):
    def __init__(self, cfg: LFAEConfig):
        super().__init__()
        w = cfg.width
        self.net = nn.Sequential(nn.Conv2d(3, w // 2, 3, padding=1), nn.SiLU(), nn.Conv2d(w // 2, w, 4, 2, 1),
                                 ResBlock(w, w), nn.Conv2d(w, 2 * w, 4, 2, 1), ResBlock(2 * w, 2 * w),
                                 _gn(2 * w), nn.SiLU(), nn.Conv2d(2 * w, cfg.latent_channels, 1))

    def forward(self, x):
        return self.net(x * 2 - 1)


class ImageDecoder(nn.Module):
    """z~ (B, C, h, w) [+ the reference frame back-warped at full size, (B, 3, H, W)] -> (B, 3, H, W)."""

    def __init__(self, cfg: LFAEConfig):
        super().__init__()
        w = cfg.width
        self.low = nn.Sequential(nn.Conv2d(cfg.latent_channels, 2 * w, 3, padding=1), ResBlock(2 * w, 2 * w),
                                 ResBlock(2 * w, 2 * w), nn.Upsample(scale_factor=2, mode="nearest"),
                                 nn.Conv2d(2 * w, w, 3, padding=1))
        self.mid = nn.Sequential(nn.Conv2d(w + 3, w, 3, padding=1), ResBlock(w, w))
        self.high = nn.Sequential(nn.Conv2d(w + 3, w // 2, 3, padding=1), nn.SiLU(), nn.Conv2d(w // 2, 3, 3, padding=1))

    def forward(self, z, img_w=None):
        H = z.shape[-1] * 4
        if img_w is None:
            img_w = torch.zeros(z.shape[0], 3, H, H, device=z.device, dtype=z.dtype)
        h = self.mid(torch.cat([self.low(z), F.avg_pool2d(img_w * 2 - 1, 2)], 1))
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return torch.sigmoid(self.high(torch.cat([h, img_w * 2 - 1], 1)))


class FlowPredictor(nn.Module):
    """U-Net over (ref, drv) stacked: 64 -> 32 -> 16 -> 8 -> 4 and back up to 16x16 (see module doc)."""

    def __init__(self, cfg: LFAEConfig):
        super().__init__()
        w = cfg.flow_width
        ch = [w, 2 * w, 3 * w, 4 * w]
        self.stem = nn.Conv2d(6, w // 2, 3, padding=1)
        self.down = nn.ModuleList()
        for a, b in zip([w // 2] + ch[:-1], ch):
            self.down.append(nn.Sequential(nn.Conv2d(a, b, 4, 2, 1), ResBlock(b, b)))
        self.up = nn.ModuleList([ResBlock(ch[3] + ch[2], ch[2]), ResBlock(ch[2] + ch[1], ch[1])])
        self.head = nn.Sequential(_gn(ch[1]), nn.SiLU(), nn.Conv2d(ch[1], 3, 3, padding=1))
        nn.init.zeros_(self.head[-1].weight)
        with torch.no_grad():
            self.head[-1].bias.copy_(torch.tensor([0.0, 0.0, 3.0]))

    def forward(self, x_ref, x_drv):
        h = self.stem(torch.cat([x_ref, x_drv], 1) * 2 - 1)
        skips = []
        for d in self.down:
            h = d(h)
            skips.append(h)  # 32, 16, 8, 4
        h = self.up[0](torch.cat([F.interpolate(h, scale_factor=2.0), skips[2]], 1))  # 8x8
        h = self.up[1](torch.cat([F.interpolate(h, scale_factor=2.0), skips[1]], 1))  # 16x16
        out = self.head(h)
        return out[:, :2], torch.sigmoid(out[:, 2:3])


def base_grid(h: int, w: int, device=None, dtype=torch.float32) -> torch.Tensor:
    """(1, 2, h, w) grid_sample coordinates (x, y) of pixel centres (align_corners=False)."""
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) / w * 2 - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy])[None]


def warp(z: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Back-warp z (B, C, h, w) by flow (B, 2, h, w) (normalised units): out(p) = z(p + flow(p))."""
    g = (base_grid(z.shape[-2], z.shape[-1], z.device, z.dtype) + flow).permute(0, 2, 3, 1)
    return F.grid_sample(z, g, mode="bilinear", padding_mode="border", align_corners=False)


def upsample_flow(flow: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 2, h, w) -> (B, 2, size, size) bilinear (normalised units need no rescaling)."""
    return F.interpolate(flow, size=(size, size), mode="bilinear", align_corners=False)


class LatentFlowAE(nn.Module):
    def __init__(self, cfg: LFAEConfig | None = None):
        super().__init__()
        self.cfg = cfg or LFAEConfig()
        self.encoder, self.flow, self.decoder = ImageEncoder(self.cfg), FlowPredictor(self.cfg), ImageDecoder(self.cfg)

    def animate(self, z_ref: torch.Tensor, flow: torch.Tensor, occ: torch.Tensor,
                x_ref: torch.Tensor | None = None) -> torch.Tensor:
        """z_ref (B, C, h, w), flow (B, 2, h, w), occ (B, 1, h, w) [, x_ref (B, 3, H, W)] -> frames
        (B, 3, H, W) in [0, 1]. With ``x_ref``: x~ = x_ref back-warped by the upsampled flow, m = the
        upsampled occlusion; the decoder sees x~ * m and the output is x~ * m + (1 - m) * D(z~, x~ * m)
        (visible pixels come from the reference, the decoder paints what is occluded)."""
        if x_ref is None:
            return self.decoder(warp(z_ref, flow) * occ)
        H = x_ref.shape[-1]
        m = F.interpolate(occ, size=(H, H), mode="bilinear", align_corners=False)
        img_w = warp(x_ref, upsample_flow(flow, H)) * m
        return img_w + (1 - m) * self.decoder(warp(z_ref, flow) * occ, img_w)

    def forward(self, x_ref, x_drv) -> dict:
        """Reconstruct x_drv from x_ref: {"out" (B, 3, H, W), "flow", "occ", "z"}."""
        z = self.encoder(x_ref)
        flow, occ = self.flow(x_ref, x_drv)
        return {"out": self.animate(z, flow, occ, x_ref), "flow": flow, "occ": occ, "z": z}


def ssim_map(a: torch.Tensor, b: torch.Tensor, win: int = 7) -> torch.Tensor:
    """Mean SSIM of (B, 3, H, W) images in [0, 1] (uniform ``win`` window, K = 0.01 / 0.03)."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = F.avg_pool2d(a, win, 1, win // 2), F.avg_pool2d(b, win, 1, win // 2)
    saa = F.avg_pool2d(a * a, win, 1, win // 2) - mu_a ** 2
    sbb = F.avg_pool2d(b * b, win, 1, win // 2) - mu_b ** 2
    sab = F.avg_pool2d(a * b, win, 1, win // 2) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * sab + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (saa + sbb + c2))
    return s.mean()
