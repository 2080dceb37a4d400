"""Self-supervised training of the animator's learned refiner (issue 15, :mod:`choreogen.models.refiner`).

Data (benchmarks/refiner_prepare.py): pairs of two frames of one real clip; input = the geometric
warp of the source frame into the driving frame's detected (retargeted) pose, its coverage alpha,
the driving pose's part maps, the source (= reference) image and mask; target = the real driving
frame, all at 128 x 128. Half of the pairs are mirrored left-right (images flipped, keypoints
mirrored with left/right joints swapped, so the part maps stay consistent). The refiner's output
``warp + sigmoid(l) * r`` is compared with the target:

    loss = L1_w + ssim_w * (1 - SSIM) + mask_w * mean(sigmoid(l))

``L1_w``: per-pixel L1 weighted 1 + person_w x (target person mask OR warp alpha), so the person
counts more than the static background; the mask term prefers passing the photo's own pixels through
when a correction does not pay. An EMA of the weights (``ema``) is what gets exported. Validation
also logs the same losses for the plain warp (``val/l1_warp``, ``val/ssim_warp``), the baseline.
Run through :func:`choreogen.training.runner.fit` (resumable ``last.ckpt``, wall-clock budget).
"""
from __future__ import annotations

import platform
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch

from ...models.flow_ae import ssim_map
from ...models.refiner import Refiner, RefinerConfig, compose, near_body
from ...training.runner import EpochDataset, RunConfig, adamw_warmup_cosine, fit, make_ema
from ...video.refined_animator import refiner_inputs, save_refiner

FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


class PairData(EpochDataset):
    """Pairs of an npz from refiner_prepare.py: dicts of float32 tensors warp/target/ref (3, R, R),
    alpha/target_mask/ref_mask (1, R, R) in [0, 1], keypoints (17, 2) px of ``frame``, confidence (17,).
    ``n`` random pairs per epoch (``fixed``: the same ones every epoch)."""

    def __init__(self, path: str | Path, n: int | None = None, seed: int = 0, flip: bool = True, fixed: bool = False):
        d = np.load(path)
        self.a = {k: d[k] for k in d.files}
        self.frame = float(self.a["frame"])
        self.N = len(self.a["warp"])
        self.n, self.seed, self.flip, self.fixed = n or self.N, seed, flip, fixed

    def __getitem__(self, i):
        rng = self.rng(i)
        j = int(rng.integers(self.N)) if self.n != self.N or not self.fixed else i
        a, r = self.a, int(self.a["ref_index"][j])
        img = lambda x: torch.from_numpy(np.ascontiguousarray(x).transpose(2, 0, 1).astype(np.float32) / 255)  # noqa: E731
        one = lambda x: torch.from_numpy(np.ascontiguousarray(x)[None].astype(np.float32) / 255)  # noqa: E731
        kp, cf = a["keypoints"][j].astype(np.float32), a["confidence"][j].astype(np.float32)
        ims = {"warp": a["warp"][j], "target": a["target"][j], "ref": a["ref"][r]}
        ones = {"alpha": a["alpha"][j], "target_mask": a["target_mask"][j], "ref_mask": a["ref_mask"][r]}
        if self.flip and rng.random() < 0.5:
            ims = {k: v[:, ::-1] for k, v in ims.items()}
            ones = {k: v[:, ::-1] for k, v in ones.items()}
            kp = kp[FLIP].copy()
            cf = cf[FLIP].copy()
            kp[:, 0] = self.frame - kp[:, 0]
        out = {k: img(v) for k, v in ims.items()} | {k: one(v) for k, v in ones.items()}
        out["keypoints"], out["confidence"] = torch.from_numpy(kp), torch.from_numpy(cf)
        return out


class RefinerModule(L.LightningModule):
    def __init__(self, model_cfg: dict, frame_size: float = 256.0, lr: float = 2e-3, warmup: int = 100,
                 total_steps: int = 3000, ssim_w: float = 0.5, person_w: float = 2.0, mask_w: float = 0.01,
                 ema: float = 0.995):
        super().__init__()
        self.save_hyperparameters()
        self.model = Refiner(RefinerConfig.from_dict(model_cfg))
        self.ema = make_ema(self.model, ema)

    def losses(self, batch, model) -> dict:
        hp = self.hparams
        x = refiner_inputs(batch["warp"], batch["alpha"], batch["keypoints"], batch["confidence"], hp.frame_size,
                           batch["ref"], batch["ref_mask"])
        res, logit = model(x)
        gate = {"alpha": batch["alpha"], "near": near_body(x, model.cfg.grow)} if model.cfg.gate else {}
        out, m = compose(batch["warp"], res, logit, **gate)
        tgt = batch["target"]
        w = 1 + hp.person_w * torch.maximum(batch["target_mask"], batch["alpha"])
        l1 = ((out - tgt).abs() * w).mean() / w.mean()
        ss = ssim_map(out, tgt)
        mm = m.mean()
        return {"l1": l1, "ssim": ss, "mask": mm, "loss": l1 + hp.ssim_w * (1 - ss) + hp.mask_w * mm}

    def training_step(self, batch, i):
        ls = self.losses(batch, self.model)
        self.log_dict({f"train/{k}": v for k, v in ls.items()})
        return ls["loss"]

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema.update_parameters(self.model)

    def validation_step(self, batch, i):
        with torch.no_grad():
            ls = self.losses(batch, self.ema.module)
            w = 1 + self.hparams.person_w * torch.maximum(batch["target_mask"], batch["alpha"])
            ls["l1_warp"] = ((batch["warp"] - batch["target"]).abs() * w).mean() / w.mean()
            ls["ssim_warp"] = ssim_map(batch["warp"], batch["target"])
        self.log_dict({f"val/{k}": v for k, v in ls.items()})

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_warmup_cosine(self.model.parameters(), hp.lr, 1e-4, hp.warmup, hp.total_steps, 0.05)


def make_exporter(path: str | Path, info: dict, also: str | Path | None = None):
    """Export function for :func:`fit`: the EMA refiner as a video.refiner envelope (``also``: fp16 copy)."""
    t0 = time.time()

    def export(trainer, module):
        val = {k[4:]: round(float(v), 4) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        inf = dict(info, steps=int(trainer.global_step), validation=val,
                   wall_minutes=round(info.get("wall_minutes_before", 0) + (time.time() - t0) / 60, 1),
                   date=time.strftime("%Y-%m-%d", time.gmtime()))
        save_refiner(module.ema.module, path, inf)
        if also is not None:
            save_refiner(module.ema.module, also, inf, half=True)
    return export


def train_refiner(data_dir: str | Path, out_dir: str | Path, steps: int = 3000, minutes: float | None = None,
                  batch: int = 8, model_cfg: dict | None = None, run_kw: dict | None = None,
                  ship: str | Path | None = None, module_kw: dict | None = None,
                  init: str | Path | None = None) -> L.Trainer:
    """Train on ``data_dir``/train.npz (validate on val.npz); exports ``out_dir``/refiner.safetensors
    (and the fp16 ``ship`` file if given). ``init``: start from a refiner checkpoint's weights."""
    d, out = Path(data_dir), Path(out_dir)
    tr = PairData(d / "train.npz", n=batch * 500)
    va = PairData(d / "val.npz", n=min(batch * 10, len(np.load(d / "val.npz")["ref_index"])), seed=1, flip=False,
                  fixed=True)
    cfg = model_cfg or RefinerConfig().to_dict()
    module = RefinerModule(cfg, frame_size=tr.frame, total_steps=steps, **(module_kw or {}))
    if init is not None:
        from ...video.refined_animator import load_refiner

        sd = load_refiner(init).state_dict()
        module.model.load_state_dict(sd)
        module.ema.module.load_state_dict(sd)
    dl = torch.utils.data.DataLoader(tr, batch_size=batch)
    vl = torch.utils.data.DataLoader(va, batch_size=batch)
    clips = [str(c) for c in tr.a.get("clips", [])]
    info = {"data": {"pairs": tr.N, "val_pairs": va.N, "sources": int(len(tr.a["ref"])), "clips": clips,
                     "kind": "self-supervised pairs of real clips (source warp -> driving frame)"},
            "batch": batch, "machine": f"{platform.machine()} {torch.get_num_threads()} thread(s)",
            "params": sum(p.numel() for p in module.model.parameters()), "init": str(init) if init else None}
    run = RunConfig(**dict(dict(max_steps=steps, ckpt_every=200, val_every=200, limit_val_batches=10, log_every=25,
                                max_minutes=minutes, grad_clip=1.0), **(run_kw or {})))
    out.mkdir(parents=True, exist_ok=True)
    return fit(module, dl, vl, out, run, export=make_exporter(out / "refiner.safetensors", info, also=ship))
