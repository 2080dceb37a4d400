"""Self-supervised training of the latent flow auto-encoder (stage 1 of the latent-flow route).

Pairs (reference, driving) of 64x64 frames from one clip (:class:`PairSet`): synthetic clips (the
reference is the clip's source photo 30 % of the time, else a random frame of the clip) and real
clips (two random frames); both frames flipped left-right together half of the time. Loss:
``L1 + ssim_w * (1 - SSIM) + tv_w * |grad flow|`` on the reconstruction of the driving frame, plus
every second step an equivariance term: a random similarity A (shift <= 8 %, rotation <= 10 deg,
scale 0.9-1.1) applied to the driving frame must give the flow ``f'(p) = A p + f(A p) - p``
(MRAA-style, for dense flows). No downloaded weights (no VGG perceptual loss).
Run through :func:`choreogen.training.runner.fit` (resumable ``last.ckpt``, wall-clock budget).
"""
from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from ...models.flow_ae import LatentFlowAE, LFAEConfig, base_grid, ssim_map
from ...training.runner import EpochDataset, RunConfig, adamw_warmup_cosine, fit
from .data import Split, load_split


class PairSet(EpochDataset):
    """Random (ref, drv) pairs: dicts of (3, 64, 64) float32 in [0, 1]; ``n`` pairs per epoch."""

    def __init__(self, splits: list[tuple[Split, float]], n: int = 4000, seed: int = 0, photo_p: float = 0.3,
                 flip: bool = True, fixed: bool = False):
        self.splits, self.n, self.seed, self.photo_p, self.flip, self.fixed = splits, n, seed, photo_p, flip, fixed
        w = np.array([s[1] for s in splits], np.float64)
        self.w = w / w.sum()

    def __getitem__(self, i):
        rng = self.rng(i)
        sp = self.splits[int(rng.choice(len(self.splits), p=self.w))][0]
        c = int(rng.integers(len(sp.clips)))
        clip = sp.clip(c)
        pi = int(sp.clips[c, 2])
        drv = clip[int(rng.integers(len(clip)))]
        ref = sp.photos[pi] if pi >= 0 and rng.random() < self.photo_p else clip[int(rng.integers(len(clip)))]
        if self.flip and rng.random() < 0.5:
            ref, drv = ref[:, ::-1], drv[:, ::-1]
        t = lambda a: torch.from_numpy(np.ascontiguousarray(a).transpose(2, 0, 1).astype(np.float32) / 255.0)  # noqa: E731
        return {"ref": t(ref), "drv": t(drv)}


def random_similarity(B: int, gen: torch.Generator) -> torch.Tensor:
    """(B, 2, 3) similarity matrices in normalised coordinates (see module doc)."""
    ang = (torch.rand(B, generator=gen) * 2 - 1) * math.radians(10)
    sc = 0.9 + 0.2 * torch.rand(B, generator=gen)
    sh = (torch.rand(B, 2, generator=gen) * 2 - 1) * 0.16
    c, s = torch.cos(ang) * sc, torch.sin(ang) * sc
    return torch.stack([torch.stack([c, -s, sh[:, 0]], 1), torch.stack([s, c, sh[:, 1]], 1)], 1)


class LFAEModule(L.LightningModule):
    def __init__(self, model_cfg: dict, lr: float = 1e-3, warmup: int = 200, total_steps: int = 4000,
                 ssim_w: float = 0.5, tv_w: float = 0.05, equi_w: float = 0.5):
        super().__init__()
        self.save_hyperparameters()
        self.model = LatentFlowAE(LFAEConfig.from_dict(model_cfg))
        self.gen = torch.Generator().manual_seed(0)

    def _losses(self, batch, equi: bool) -> dict:
        ref, drv = batch["ref"], batch["drv"]
        o = self.model(ref, drv)
        l1 = (o["out"] - drv).abs().mean()
        ss = ssim_map(o["out"], drv)
        f = o["flow"]
        tv = (f[..., 1:, :] - f[..., :-1, :]).abs().mean() + (f[..., 1:] - f[..., :-1]).abs().mean()
        hp = self.hparams
        out = {"l1": l1, "ssim": ss, "tv": tv, "loss": l1 + hp.ssim_w * (1 - ss) + hp.tv_w * tv}
        if equi and hp.equi_w > 0:
            A = random_similarity(len(ref), self.gen).to(ref)
            grid = F.affine_grid(A, list(ref.shape), align_corners=False)
            drv_t = F.grid_sample(drv, grid, padding_mode="border", align_corners=False)
            f_t, _ = self.model.flow(ref, drv_t)
            h, w = f.shape[-2:]
            p = base_grid(h, w, ref.device, ref.dtype).expand(len(ref), -1, -1, -1)
            ap = torch.einsum("bij,bjhw->bihw", A[:, :, :2], p) + A[:, :, 2, None, None]
            f_at_ap = F.grid_sample(f.detach(), ap.permute(0, 2, 3, 1), padding_mode="border", align_corners=False)
            target = ap + f_at_ap - p
            out["equi"] = (f_t - target).abs().mean()
            out["loss"] = out["loss"] + hp.equi_w * out["equi"]
        return out

    def training_step(self, batch, i):
        ls = self._losses(batch, equi=self.global_step % 2 == 0)
        self.log_dict({f"train/{k}": v for k, v in ls.items()}, prog_bar=False)
        return ls["loss"]

    def validation_step(self, batch, i):
        with torch.no_grad():
            ls = self._losses(batch, equi=False)
        self.log_dict({f"val/{k}": v for k, v in ls.items()})

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_warmup_cosine(self.model.parameters(), hp.lr, 1e-4, hp.warmup, hp.total_steps, 0.1)


def train_lfae(data_dir: str | Path, out_dir: str | Path, steps: int = 4000, minutes: float | None = None,
               batch: int = 8, model_cfg: dict | None = None, export=None, run_kw: dict | None = None,
               workers: int = 0) -> L.Trainer:
    """Train on ``data_dir`` (train.npz + real_train.npz; val.npz + real_val.npz for validation).
    ``run_kw``: extra :class:`RunConfig` fields (accelerator, devices, precision, ...)."""
    d = Path(data_dir)
    cfg = model_cfg or LFAEConfig(width=24, flow_width=32).to_dict()
    train = PairSet([(load_split(d / "train.npz"), 0.75), (load_split(d / "real_train.npz"), 0.25)], n=batch * 500)
    val = PairSet([(load_split(d / "val.npz"), 0.5), (load_split(d / "real_val.npz"), 0.5)], n=batch * 10,
                  seed=1, flip=False, fixed=True)
    dl = torch.utils.data.DataLoader(train, batch_size=batch, shuffle=False, num_workers=workers)
    vl = torch.utils.data.DataLoader(val, batch_size=batch, num_workers=0)
    module = LFAEModule(cfg, total_steps=steps)
    run = RunConfig(**dict(dict(max_steps=steps, ckpt_every=250, val_every=500, limit_val_batches=10, log_every=25,
                                max_minutes=minutes, grad_clip=1.0), **(run_kw or {})))
    return fit(module, dl, vl, out_dir, run, export=export)
