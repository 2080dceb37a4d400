"""Lightning training of the skeleton-repair VAE (DanceFusion stage 1).

Run (2 CPU cores are shared: one thread, a wall-clock budget, resumable):

    python -m choreogen.tasks.skeleton.train_repair --layout smpl24 --out runs/repair_smpl24 --minutes 22 --steps 2900
    python -m choreogen.tasks.skeleton.train_repair --layout coco17 --out runs/repair_coco17 --minutes 22 --steps 2600 --cameras 3
    # ablations of Table 3: --loss mse / --no-masking (with --base linear --no-cond-decoder: the
    # earlier recipe); resume: the same command again

The defaults are the shipped recipe: residual correction of the Akima spline of the observed
frames (``--base cubic``, computed over the window plus ``--margin`` damaged frames each side),
conditional decoder with bone-vector and velocity/acceleration features, beta = 0 (any beta > 0
collapsed the posterior, see docs/REPAIR.md), L1 with hidden joints weighted 4x.

Data: ``coco17`` = AIST++ keypoints2d train sequences (all views, real detector confidences) plus
Tang2018 train dances projected through random cameras; ``smpl24`` = Tang2018 train dances as
canonical 3D joints at 30 fps. Every window gets simulated damage (choreogen.tasks.skeleton.damage).
Outputs in ``--out``: Lightning ``last.ckpt`` (resume state, never shipped) and
``model.safetensors`` (weights + JSON config in the metadata; see choreogen.tasks.skeleton.checkpoint).
DDP-ready: the module holds no global state and the sampler is Lightning's.
"""
from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

import lightning as L
import torch

from ...models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig, kl_divergence, masked_recon_loss


class VAEModule(L.LightningModule):
    """Wraps :class:`SkeletonVAE`; loss = masked recon (mse|l1) over ground-truth joints + beta*KL.

    ``hidden_weight``: joints hidden by the damage count this many times more in the recon loss
    than observed ones (the repair is judged on the hidden joints).

    Batches are dicts from :class:`choreogen.tasks.skeleton.data.DamagedWindows`.
    """

    def __init__(self, model_cfg: dict, loss: str = "mse", beta: float = 1e-4, lr: float = 1e-3,
                 weight_decay: float = 0.01, warmup: int = 200, total_steps: int = 20000,
                 hidden_weight: float = 1.0):
        super().__init__()
        self.save_hyperparameters()
        self.model = SkeletonVAE(SkeletonVAEConfig.from_dict(model_cfg))

    def _losses(self, batch, sample: bool) -> dict[str, torch.Tensor]:
        out = self.model(batch["x"], batch["present"], sample=sample, base=batch.get("base"))
        hidden = batch["valid"] & ~batch["present"]
        w = 1.0 + (self.hparams.get("hidden_weight", 1.0) - 1.0) * hidden.float()
        rec = masked_recon_loss(out["recon"], batch["target"], batch["valid"], self.hparams.loss, weight=w)
        kl = kl_divergence(out["mu"], out["logvar"])
        err = (out["recon"] - batch["target"]).norm(dim=-1)
        return {
            "loss": rec + self.hparams.beta * kl, "recon": rec, "kl": kl,
            "err_hidden": (err * hidden).sum() / hidden.sum().clamp_min(1),
            "err_present": (err * batch["present"]).sum() / batch["present"].sum().clamp_min(1),
        }

    def training_step(self, batch, batch_idx):
        d = self._losses(batch, sample=True)
        self.log_dict({f"train/{k}": v for k, v in d.items()}, prog_bar=False, on_step=True, on_epoch=False,
                      batch_size=batch["x"].shape[0])
        return d["loss"]

    def validation_step(self, batch, batch_idx):
        d = self._losses(batch, sample=False)
        self.log_dict({f"val/{k}": v for k, v in d.items()}, prog_bar=True, batch_size=batch["x"].shape[0])

    def on_train_epoch_start(self):
        dl = self.trainer.train_dataloader
        if dl is not None and hasattr(dl.dataset, "set_epoch"):
            dl.dataset.set_epoch(self.current_epoch)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        w, T = self.hparams.warmup, self.hparams.total_steps

        def f(step):
            if step < w:
                return (step + 1) / w
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - w) / max(1, T - w))))

        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LambdaLR(opt, f),
                                                   "interval": "step"}}


def build_datasets(layout: str, window: int, n_train: int, n_val: int, seed: int = 0, shared: Path | None = None,
                   damage=None, base: str = "linear", margin: int = 0, cameras: int = 1):
    """(train DamagedWindows, val DamagedWindows, info dict) for ``coco17`` or ``smpl24``.

    ``damage``: a :class:`choreogen.tasks.skeleton.damage.DamageConfig` (default one if None); ``base`` /
    ``margin``: see :class:`choreogen.tasks.skeleton.data.DamagedWindows`; ``cameras``: random cameras per
    Tang2018 train dance for ``coco17``."""
    from ...motion.skeleton import get_skeleton
    from . import data as rd

    shared = shared or Path(__file__).resolve().parents[2].parent / "shared" / "data"
    sk = get_skeleton(layout)
    if layout == "coco17":
        train = rd.aist_sequences(shared / "aistpp" / "keypoints2d", heldout=False)
        val = rd.aist_sequences(shared / "aistpp" / "keypoints2d", heldout=True)
        tseq, trot = rd.tang_sequences(shared / "tang2018", "train", with_rotations=True)
        train += rd.project_coco17(tseq, trot, n_cameras=cameras, seed=seed)
        strides = (1, 2)
        info = {"skeleton": "coco17", "dim": 2, "fps": [30.0, 60.0], "units": "pixels",
                "normalization": "window centre of observed joints, / sequence body height (90th pct vertical extent)",
                "data": f"AIST++ keypoints2d ch01-06 all views (conf>=0.3) + Tang2018 train x{cameras} random camera(s) each",
                "heldout": "AIST++ ch07, ch08 (all views)"}
    elif layout == "smpl24":
        train = rd.tang_sequences(shared / "tang2018", "train")
        val = rd.tang_sequences(shared / "tang2018", "val")
        strides = (1,)
        info = {"skeleton": "smpl24", "dim": 3, "fps": [30.0], "units": "metres",
                "normalization": "window-centred x,z of observed joints; metres; canonical Y-up",
                "data": "Tang2018 train split (choreogen/data/splits/tang2018.json), 30 fps canonical",
                "heldout": "Tang2018 val split"}
    else:
        raise ValueError(f"layout must be coco17 or smpl24, got {layout}")
    kw = {"damage": damage, "base": base, "margin": margin}
    tr = rd.DamagedWindows(train, sk, window, n_train, strides=strides, seed=seed, **kw)
    va = rd.DamagedWindows(val, sk, window, n_val, strides=(1,), seed=seed + 1000, **kw)
    return tr, va, info

def _safe_resume() -> dict:
    """Lightning resumes ``last.ckpt`` with ``torch.load(weights_only=True)`` (no code runs)."""
    from ..dance3d.train import _fit_accepts_weights_only

    return {"weights_only": True} if _fit_accepts_weights_only() else {}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=["coco17", "smpl24"], required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--loss", choices=["mse", "l1"], default="l1")
    ap.add_argument("--no-masking", action="store_true")
    ap.add_argument("--beta", type=float, default=0.0, help="KL weight (0: logged, not optimised; see docs/REPAIR.md)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--d-model", type=int, default=32)
    ap.add_argument("--layers", type=int, nargs=3, default=[1, 1, 1], metavar=("SPATIAL", "TEMPORAL", "DECODER"))
    ap.add_argument("--latent", type=int, default=0, help="latent channels per frame (0: 32 for 2D, 48 for 3D)")
    ap.add_argument("--steps", type=int, default=6000, help="cosine schedule length (training stops at --minutes)")
    ap.add_argument("--base", choices=["linear", "cubic"], default="cubic",
                    help="residual reference: in-model linear or Akima over the sequence")
    ap.add_argument("--margin", type=int, default=16, help="damaged frames each side of a window for the cubic base")
    ap.add_argument("--out-scale", type=float, default=0.05, help="decoder output multiplier (residual)")
    ap.add_argument("--hidden-weight", type=float, default=4.0, help="loss weight of hidden vs observed joints")
    ap.add_argument("--p-jitter", type=float, default=0.5, help="share of windows with detector jitter")
    ap.add_argument("--p-frames", type=float, default=0.5, help="share of windows with runs of empty frames")
    ap.add_argument("--frame-run-max", type=int, default=24, help="longest run of empty frames (frames)")
    ap.add_argument("--cond-decoder", action=argparse.BooleanOptionalAction, default=True,
                    help="decoder over joint tokens that also see the reference (cubic base only)")
    ap.add_argument("--cameras", type=int, default=1, help="coco17: random cameras per Tang2018 train dance")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    L.seed_everything(a.seed, workers=True)
    from .checkpoint import save_vae

    from .damage import DamageConfig

    dmg = DamageConfig(p_jitter=a.p_jitter, p_frames=a.p_frames, frame_run_max=a.frame_run_max, frame_rate_max=0.3)
    tr, va, info = build_datasets(a.layout, a.window, a.steps * a.batch, 256, a.seed, damage=dmg, base=a.base,
                                  margin=a.margin, cameras=a.cameras)
    dim = 2 if a.layout == "coco17" else 3
    cfg = SkeletonVAEConfig(num_joints=tr.skeleton.num_joints, dim=dim, d_model=a.d_model, spatial_layers=a.layers[0],
                            temporal_layers=a.layers[1], decoder_layers=a.layers[2], latent_dim=a.latent or (32 if dim == 2 else 48),
                            max_frames=64, masking=not a.no_masking, base=a.base,
                            out_scale=a.out_scale if a.base == "cubic" else 1.0,
                            cond_decoder=a.cond_decoder and a.base == "cubic",
                            parents=list(tr.skeleton.parents) if a.cond_decoder and a.base == "cubic" else None,
                            motion_features=a.cond_decoder and a.base == "cubic")
    module = VAEModule(cfg.to_dict(), loss=a.loss, beta=a.beta, lr=a.lr, total_steps=a.steps,
                       hidden_weight=a.hidden_weight)
    dl = torch.utils.data.DataLoader(tr, batch_size=a.batch, shuffle=False, num_workers=0)
    vl = torch.utils.data.DataLoader(va, batch_size=64, shuffle=False, num_workers=0)
    a.out.mkdir(parents=True, exist_ok=True)
    ckpt_cb = L.pytorch.callbacks.ModelCheckpoint(dirpath=a.out, save_last=True, save_top_k=0,
                                                  every_n_train_steps=100)
    trainer = L.Trainer(max_steps=a.steps, max_time={"minutes": a.minutes}, accelerator="cpu", devices=1,
                        val_check_interval=min(500, a.steps), limit_val_batches=4, check_val_every_n_epoch=None,
                        log_every_n_steps=25, enable_progress_bar=False, callbacks=[ckpt_cb],
                        logger=L.pytorch.loggers.CSVLogger(a.out, name="logs"), default_root_dir=a.out)
    last = a.out / "last.ckpt"
    trainer.fit(module, dl, vl, ckpt_path=str(last) if last.exists() else None, **_safe_resume())
    trainer.save_checkpoint(last)
    info.update({"loss": a.loss, "masking": not a.no_masking, "beta": a.beta, "window": a.window,
                 "steps": int(trainer.global_step), "batch": a.batch, "seed": a.seed, "base": a.base,
                 "hidden_weight": a.hidden_weight, "damage": dmg.__dict__, "lr": a.lr})
    save_vae(module.model, a.out / "model.safetensors", info)
    print(f"saved {a.out / 'model.safetensors'} after {trainer.global_step} steps", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
