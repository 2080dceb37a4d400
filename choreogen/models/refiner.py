"""The learned refiner of the photo animator: a small U-Net that corrects the geometric warp.

Input (B, C_in, R, R), R = ``cfg.res`` (128), channels in this order (:data:`IN_CHANNELS`):
the warped frame (3, RGB in [0, 1]), its person coverage alpha (1), the driving pose's part maps
(10, :func:`choreogen.video.guidance.render_torch`), the reference photo (3) and its person mask (1).
Output: a colour residual ``r`` (B, 3, R, R) and a blend-mask logit ``l`` (B, 1, R, R); the frame is

    out = warp + sigmoid(l) * r          (then clipped to [0, 1])

so where the mask says "keep" (sigmoid(l) ~ 0) the warp's pixels, i.e. the photo's own, pass
through; where it opens, the network paints a correction (holes the photo cannot fill, the
inpainted background behind the person, occlusion edges). The last layer starts at r = 0 and
sigmoid(l) ~ 0.05, so an untrained refiner is almost the identity. :func:`compose` applies a
residual and mask predicted at R to a larger warp (bilinear upsampling of both).

``cfg.gate`` (the shipped model): the mask is also multiplied by ``(1 - alpha) x near``, where
alpha is the warp's person coverage at the output size and ``near`` (:func:`near_body`) the
reference person's region or the driving pose's parts, dilated by ``cfg.grow`` map pixels. So the
refiner only paints the warp's holes near the body and the inpainted background behind the
photo's person; the warped person and the far background are the photo's own pixels, exactly.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

IN_CHANNELS = 3 + 1 + 10 + 3 + 1


@dataclass
class RefinerConfig:
    widths: tuple = (16, 32, 64, 96)
    res: int = 128
    in_channels: int = IN_CHANNELS
    gate: bool = False
    grow: int = 9

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RefinerConfig":
        d = dict(d)
        d["widths"] = tuple(int(w) for w in d.get("widths", cls.widths))
        return cls(**d)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.GroupNorm(min(8, cout // 4), cout), nn.SiLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.SiLU())


class Refiner(nn.Module):
    """U-Net (``widths`` per level, stride-2 convs down, bilinear up + skip); see the module doc."""

    def __init__(self, cfg: RefinerConfig):
        super().__init__()
        self.cfg = cfg
        w = list(cfg.widths)
        self.inc = _block(cfg.in_channels, w[0])
        self.down = nn.ModuleList([nn.Conv2d(w[i], w[i + 1], 3, stride=2, padding=1) for i in range(len(w) - 1)])
        self.enc = nn.ModuleList([_block(w[i + 1], w[i + 1]) for i in range(len(w) - 1)])
        self.dec = nn.ModuleList([_block(w[i + 1] + w[i], w[i]) for i in reversed(range(len(w) - 1))])
        self.head = nn.Conv2d(w[0], 4, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.copy_(torch.tensor([0.0, 0.0, 0.0, -3.0]))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, C_in, R, R) -> residual (B, 3, R, R), mask logit (B, 1, R, R); R divisible by 2^(levels-1)."""
        h = self.inc(x)
        skips = [h]
        for down, enc in zip(self.down, self.enc):
            h = enc(down(h))
            skips.append(h)
        skips.pop()
        for dec in self.dec:
            s = skips.pop()
            h = dec(torch.cat([F.interpolate(h, size=s.shape[-2:], mode="bilinear", align_corners=False), s], 1))
        o = self.head(h)
        return o[:, :3], o[:, 3:]


def near_body(x: torch.Tensor, grow: int) -> torch.Tensor:
    """Refiner input (B, C_in, R, R) -> (B, 1, R, R) in [0, 1]: max of the reference person mask and
    the driving part maps, dilated by a ``grow`` x ``grow`` max filter (odd)."""
    body = torch.maximum(x[:, 4:14].amax(1, keepdim=True), x[:, 17:18])
    return F.max_pool2d(body, grow, 1, grow // 2)


def compose(warp: torch.Tensor, residual: torch.Tensor, logit: torch.Tensor, alpha: torch.Tensor | None = None,
            near: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """warp (B, 3, S, S) in [0, 1] + residual (B, 3, R, R) and logit (B, 1, R, R) -> (frame (B, 3, S, S)
    clipped to [0, 1], blend mask (B, 1, S, S) in [0, 1]); both are upsampled bilinearly when S != R.
    With ``alpha`` (B, 1, S, S) and ``near`` (B, 1, R, R) the mask is gated (module doc)."""
    S = warp.shape[-1]
    up = lambda t: t if t.shape[-1] == S else F.interpolate(t, size=(S, S), mode="bilinear", align_corners=False)  # noqa: E731
    m = torch.sigmoid(up(logit))
    if alpha is not None and near is not None:
        m = m * up(near) * (1 - alpha)
    return (warp + m * up(residual)).clamp(0, 1), m


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
