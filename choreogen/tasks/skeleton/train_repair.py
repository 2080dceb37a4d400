"""Lightning training of the skeleton-repair VAE (DanceFusion stage 1).

Run (2 CPU cores are shared: one thread, a wall-clock budget, resumable):

    choreogen train-repair --layout smpl24 --data ../shared/data --out runs/repair_smpl24 --minutes 22 --steps 2900
    choreogen train-repair --layout coco17 --data ../shared/data --out runs/repair_coco17 --minutes 22 --steps 2600 --cameras 3
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

from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import torch

from ...models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig, kl_divergence, masked_recon_loss
from ...training.runner import RunConfig, adamw_warmup_cosine, fit


class VAEModule(L.LightningModule):
    """Wraps :class:`SkeletonVAE`; loss = masked recon (mse|l1) over ground-truth joints + beta*KL.

    ``hidden_weight``: joints hidden by the damage count this many times more in the recon loss
    than observed ones (the repair is judged on the hidden joints). ``ref_norm`` > 0: a hidden
    joint's weight is further multiplied by min(1, ref_norm / its reference's error), so every
    hidden joint counts by its error *relative to the spline* -- a 2 s gap (10-20 cm off) does
    not drown the millimetres of isolated missing joints.

    Batches are dicts from :class:`choreogen.tasks.skeleton.data.DamagedWindows`.
    """

    def __init__(self, model_cfg: dict, loss: str = "mse", beta: float = 1e-4, lr: float = 1e-3,
                 weight_decay: float = 0.01, warmup: int = 200, total_steps: int = 20000,
                 hidden_weight: float = 1.0, ref_norm: float = 0.0):
        super().__init__()
        self.save_hyperparameters()
        self.model = SkeletonVAE(SkeletonVAEConfig.from_dict(model_cfg))

    def _losses(self, batch, sample: bool) -> dict[str, torch.Tensor]:
        out = self.model(batch["x"], batch["present"], sample=sample, base=batch.get("base"))
        hidden = batch["valid"] & ~batch["present"]
        w = 1.0 + (self.hparams.get("hidden_weight", 1.0) - 1.0) * hidden.float()
        rn = self.hparams.get("ref_norm", 0.0)
        if rn > 0 and batch.get("base") is not None:
            e_ref = (batch["base"] - batch["target"]).norm(dim=-1)
            w = torch.where(hidden, w * (rn / e_ref.clamp_min(rn)), w)
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

    def configure_optimizers(self):
        h = self.hparams
        return adamw_warmup_cosine(self.parameters(), h.lr, h.weight_decay, h.warmup, h.total_steps, 0.05)


def build_datasets(layout: str, window: int, n_train: int, n_val: int, shared: Path, seed: int = 0,
                   damage=None, base: str = "linear", margin: int = 0, cameras: int = 1, reference: str = "akima"):
    """(train DamagedWindows, val DamagedWindows, info dict) for ``coco17`` or ``smpl24``.

    ``damage``: a :class:`choreogen.tasks.skeleton.damage.DamageConfig` (default one if None); ``base`` /
    ``margin``: see :class:`choreogen.tasks.skeleton.data.DamagedWindows`; ``cameras``: random cameras per
    Tang2018 train dance for ``coco17``."""
    from ...motion.skeleton import get_skeleton
    from . import data as rd

    shared = Path(shared)
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
    kw = {"damage": damage, "base": base, "margin": margin, "reference": reference}
    tr = rd.DamagedWindows(train, sk, window, n_train, strides=strides, seed=seed, **kw)
    va = rd.DamagedWindows(val, sk, window, n_val, strides=(1,), seed=seed + 1000, **kw)
    return tr, va, info

@dataclass
class RepairRecipe:
    """The shipped repair recipe (``choreogen train-repair`` options; docs/REPAIR.md)."""

    loss: str = "l1"
    masking: bool = True
    beta: float = 0.0  # KL weight (0: logged, not optimised)
    lr: float = 1e-3
    batch: int = 16
    window: int = 64  # frames (30 fps: 2.1 s, so a 2 s gap still has context)
    d_model: int = 32
    layers: tuple[int, int, int] = (1, 1, 1)  # spatial, temporal, decoder
    latent: int = 0  # latent channels per frame (0: 32 for 2D, 48 for 3D)
    steps: int = 6000  # cosine schedule length (training stops at max_minutes)
    base: str = "cubic"  # residual reference: in-model linear or Akima over the sequence
    margin: int = 16  # damaged frames each side of a window for the cubic base
    out_scale: float = 0.05
    hidden_weight: float = 8.0
    ref_norm: float = -1.0  # loss weight of hidden joints relative to the spline's error (-1: 5 mm 3D, 0.01 body heights 2D)
    p_jitter: float = 0.5
    p_frames: float = 0.5
    frame_run_max: int = 60
    frame_run_min: int = 4  # frame runs of 4..60 frames, at least one per window that gets any
    p_limb: float = 0.7
    limb_run_min: int = 8  # whole-limb runs of 8..limb_run_max frames
    limb_run_max: int = 60
    reference: str = "body"  # base the model corrects: "akima" or "body" (body-frame spline in long gaps)
    long_scale: float = 0.5  # full-size head for missing joints (0: the earlier small correction only)
    init: str = ""  # warm start: a repair checkpoint whose weights fit (extra heads start at zero)
    cond_decoder: bool = True
    cameras: int = 1  # coco17: random cameras per Tang2018 train dance
    seed: int = 0


def train_repair(layout: str, data_root: str | Path, out: str | Path, recipe: RepairRecipe | None = None,
                 max_minutes: float | None = 20.0, progress: bool = False) -> Path:
    """Train (or resume, from OUT/last.ckpt) a repair VAE for ``layout`` (coco17 | smpl24) on the
    data under ``data_root`` (a folder with tang2018/ and aistpp/keypoints2d/); returns
    OUT/model.safetensors."""
    from ...errors import ConfigError
    from .checkpoint import save_vae
    from .damage import DamageConfig

    r = recipe or RepairRecipe()
    if layout not in ("coco17", "smpl24"):
        raise ConfigError(f"layout must be coco17 or smpl24, got {layout!r}")
    out = Path(out)
    L.seed_everything(r.seed, workers=True)
    dmg = DamageConfig(p_jitter=r.p_jitter, p_frames=r.p_frames, frame_run_max=r.frame_run_max, frame_rate_max=0.3,
                       frame_run_min=r.frame_run_min, p_limb=r.p_limb, limb_run_min=r.limb_run_min,
                       run_max=r.limb_run_max)
    tr, va, info = build_datasets(layout, r.window, r.steps * r.batch, 256, data_root, r.seed, damage=dmg, base=r.base,
                                  margin=r.margin, cameras=r.cameras, reference=r.reference)
    dim = 2 if layout == "coco17" else 3
    cond = r.cond_decoder and r.base == "cubic"
    cfg = SkeletonVAEConfig(num_joints=tr.skeleton.num_joints, dim=dim, d_model=r.d_model, spatial_layers=r.layers[0],
                            temporal_layers=r.layers[1], decoder_layers=r.layers[2],
                            latent_dim=r.latent or (32 if dim == 2 else 48), max_frames=64, masking=r.masking,
                            base=r.base, out_scale=r.out_scale if r.base == "cubic" else 1.0, cond_decoder=cond,
                            parents=list(tr.skeleton.parents) if cond else None, motion_features=cond,
                            long_scale=r.long_scale if cond else 0.0, reference=r.reference)
    rn = r.ref_norm if r.ref_norm >= 0 else (0.005 if dim == 3 else 0.01)
    module = VAEModule(cfg.to_dict(), loss=r.loss, beta=r.beta, lr=r.lr, total_steps=r.steps,
                       hidden_weight=r.hidden_weight, ref_norm=rn)
    if r.init and not (out / "last.ckpt").exists():
        from ... import checkpoints

        env = checkpoints.read(r.init)
        own = module.model.state_dict()
        got = {k: v.float() for k, v in env.part("model.", torch.float32).items() if k in own and own[k].shape == v.shape}
        module.model.load_state_dict(got, strict=False)
        info["init"] = f"{Path(r.init).name} ({len(got)} of {len(own)} tensors)"
    dl = torch.utils.data.DataLoader(tr, batch_size=r.batch, shuffle=False, num_workers=0)
    vl = torch.utils.data.DataLoader(va, batch_size=64, shuffle=False, num_workers=0)
    info.update({"loss": r.loss, "masking": r.masking, "beta": r.beta, "window": r.window, "batch": r.batch,
                 "seed": r.seed, "base": r.base, "hidden_weight": r.hidden_weight, "damage": dmg.__dict__, "lr": r.lr,
                 "recipe": asdict(r)})

    def export(trainer, m):
        save_vae(m.model, out / "model.safetensors", dict(info, steps=int(trainer.global_step)))

    run = RunConfig(max_steps=r.steps, ckpt_every=100, val_every=min(500, r.steps), limit_val_batches=4,
                    max_minutes=max_minutes, progress=progress)
    fit(module, dl, vl, out, run, resume=True, export=export)
    return out / "model.safetensors"
