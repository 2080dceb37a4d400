"""Stage 1 of the latent generator: the motion autoencoder (LightningModule and training entry point).

Data: prepared windows (``choreogen data prepare``; EDGE features, 30 fps, recentred: root x/z = 0 at
the first frame). The autoencoder sees the *root velocity* representation
(:func:`choreogen.motion.representation.root_to_velocity`), standardised per column by the
training windows' mean and std (stored as a :class:`Normalizer` with lo = mean - std, hi = mean +
std, so ``normalize`` gives (x - mean) / std).

Losses (all on un-normalised, decoded motion except ``simple`` and ``kl``): ``simple`` MSE of the
standardised features; ``fk`` MSE of FK joint positions relative to the root (m^2); ``root`` MSE
of the root position integrated from its velocity (m^2: drift costs, but does not drown the
pose terms); ``vel`` / ``acc`` MSE of joint velocity (m/s) / acceleration (m/s^2); ``foot``
squared speed (m^2/s^2) of feet the capture marks as planted; ``foot_y`` MSE of the ankle and toe
heights above the floor (m^2; off by default: foot lift); ``kl`` to N(0, 1) (small weight).

``train.latent_noise`` sigma > 0 adds Gaussian noise of sigma x the batch's per-channel latent std to
the latents the decoder sees in training (robustness to a denoiser's errors: generated latents are
never exactly on the encoder's manifold).

Decoder fine-tuning (``train.freeze_encoder`` with ``init``): the encoder, and so the latent space a
latent denoiser was trained on, stays fixed while the decoder trains on; :func:`replace_decoder`
puts the new decoder into a latent generator without retraining its denoiser.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import lightning as L
import torch

from ...checkpoints import Envelope, write
from ...errors import InputError
from ...models.motion_ae import MotionAE, MotionAEConfig, kl_term
from ...motion.representation import N_CONTACT, Normalizer, decode, mirror_features, root_from_velocity, root_to_velocity
from ...motion.skeleton import get_skeleton
from ...training.runner import RunConfig, adamw_warmup_cosine, fit

AE_TASK = "dance3d.motion_ae"
AE_WEIGHTS = {"simple": 1.0, "fk": 100.0, "root": 1.0, "vel": 1.0, "acc": 0.002, "foot": 1.0, "foot_y": 0.0, "kl": 1e-4,
              "root_y": 0.0, "root_v": 0.0, "energy": 0.0}


def rms_speeds(v: torch.Tensor) -> torch.Tensor:
    """(B, T, J, 3) joint velocities (m/s, Y-up) -> (B, J, 2) RMS horizontal and vertical speed of each joint
    over the window: the square roots of the statistics the kinetic features (FID_k) are built from."""
    h = (v[..., 0] ** 2 + v[..., 2] ** 2).mean(1)
    return torch.stack([h, (v[..., 1] ** 2).mean(1)], -1).clamp(min=1e-8).sqrt()


def standardiser(x: torch.Tensor, floor: float = 1e-3) -> Normalizer:
    """(N, D) samples -> Normalizer with lo/hi = mean -/+ std (std floored)."""
    mu, sd = x.double().mean(0), x.double().std(0).clamp(min=floor)
    return Normalizer((mu - sd).float().numpy(), (mu + sd).float().numpy())


class MotionAEModule(L.LightningModule):
    """Batches: dict(motion (B, T, D) recentred EDGE features)."""

    def __init__(self, config: dict, lo: torch.Tensor | None = None, hi: torch.Tensor | None = None):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = dict(config)
        self.ae = MotionAE(MotionAEConfig(**self.cfg["ae"]))
        D = self.ae.cfg.motion_dim
        self.register_buffer("norm_lo", lo if lo is not None else -torch.ones(D))
        self.register_buffer("norm_hi", hi if hi is not None else torch.ones(D))
        self.skeleton = get_skeleton(self.cfg.get("skeleton", "smpl24"))
        self.fps = float(self.cfg.get("fps", 30.0))
        self.weights = {**AE_WEIGHTS, **self.cfg.get("loss_weights", {})}

    @property
    def normalizer(self) -> Normalizer:
        return Normalizer(self.norm_lo.cpu().numpy(), self.norm_hi.cpu().numpy())

    def terms(self, motion: torch.Tensor, augment: bool = False) -> dict[str, torch.Tensor]:
        x = motion.float()
        if augment and self.cfg.get("mirror_prob", 0.5) > 0:
            flip = torch.rand(x.shape[0], device=x.device) < self.cfg.get("mirror_prob", 0.5)
            x = torch.where(flip[:, None, None], mirror_features(x, self.skeleton), x)
        norm = self.normalizer
        xn = norm.normalize(root_to_velocity(x, self.fps))
        mu, logvar = self.ae.encode_dist(xn)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        sigma = float(self.cfg.get("train", {}).get("latent_noise", 0.0))
        if augment and sigma > 0:  # decoder robustness to the denoiser's errors: noise in units of the latents' spread
            z = z + sigma * mu.detach().std(dim=(0, 1), keepdim=True) * torch.randn_like(mu)
        rec_n = self.ae.decode(z)
        rec = root_from_velocity(norm.denormalize(rec_n), self.fps)
        jp, jt = decode(rec, self.skeleton)["joints"], decode(x, self.skeleton)["joints"]
        vp, vt = (jp[:, 1:] - jp[:, :-1]) * self.fps, (jt[:, 1:] - jt[:, :-1]) * self.fps
        ap, at = (vp[:, 1:] - vp[:, :-1]) * self.fps, (vt[:, 1:] - vt[:, :-1]) * self.fps
        feet = self.skeleton.foot_indices()
        planted = (x[:, :-1, : len(feet)] > 0.5).float()
        foot = ((vp[:, :, feet] ** 2).sum(-1) * planted).sum() / planted.sum().clamp(min=1)
        rel_p, rel_t = jp - jp[..., :1, :], jt - jt[..., :1, :]
        foot_y = ((jp[..., feet, 1] - jt[..., feet, 1]) ** 2).mean()
        # root height (m) and velocity (m/s): the body's rise and fall and its travel, small next to the
        # root's 5 s drift in "root" but most of the kinetic energy of every joint; "energy": RMS speeds per joint
        root_y = ((jp[..., 0, 1] - jt[..., 0, 1]) ** 2).mean()
        root_v = ((vp[..., 0, :] - vt[..., 0, :]) ** 2).mean()
        energy = ((rms_speeds(vp) - rms_speeds(vt)) ** 2).mean()
        return {"simple": ((rec_n - xn) ** 2).mean(), "fk": ((rel_p - rel_t) ** 2).mean(), "foot_y": foot_y,
                "root_y": root_y, "root_v": root_v, "energy": energy,
                "root": ((jp[..., 0, :] - jt[..., 0, :]) ** 2).mean(), "vel": ((vp - vt) ** 2).mean(),
                "acc": ((ap - at) ** 2).mean(), "foot": foot, "kl": kl_term(mu, logvar)}

    def _total(self, terms):
        return sum(self.weights.get(k, 0.0) * v for k, v in terms.items())

    def training_step(self, batch, batch_idx):
        terms = self.terms(batch["motion"], augment=True)
        bs = batch["motion"].shape[0]
        for k, v in terms.items():
            self.log(f"train/{k}", v.detach(), batch_size=bs)
        loss = self._total(terms)
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=bs)
        return loss

    def validation_step(self, batch, batch_idx):
        terms = self.terms(batch["motion"])
        bs = batch["motion"].shape[0]
        for k, v in terms.items():
            self.log(f"val/{k}", v, batch_size=bs, sync_dist=True)
        self.log("val/loss", self._total(terms), prog_bar=True, batch_size=bs, sync_dist=True)

    @property
    def frozen_encoder(self) -> bool:
        return bool(self.cfg.get("train", {}).get("freeze_encoder", False))

    def on_train_epoch_start(self):
        if self.frozen_encoder:
            self.ae.encoder.eval()  # no dropout/statistics change; its weights get no gradient

    def configure_optimizers(self):
        t = self.cfg.get("train", {})
        if self.frozen_encoder:
            self.ae.encoder.requires_grad_(False)
        params = [p for p in self.ae.parameters() if p.requires_grad]
        return adamw_warmup_cosine(params, t.get("lr", 1e-3), t.get("weight_decay", 0.0),
                                   t.get("warmup_steps", 200), t.get("max_steps", 3000), 0.05)


def save_ae(path, module: MotionAEModule, provenance: dict | None = None) -> Path:
    tensors = {f"ae.{k}": v.detach().cpu() for k, v in module.ae.state_dict().items()}
    tensors["normaliser.lo"], tensors["normaliser.hi"] = module.norm_lo.cpu(), module.norm_hi.cpu()
    return write(path, Envelope(AE_TASK, module.cfg, tensors, provenance or {}, {"kind": "standardise"}))


def train_ae(data_dir, out_dir, config: dict, max_steps: int | None = None, resume: bool = False,
             progress: bool = False, accelerator: str = "cpu", devices=1, init=None,
             freeze_encoder: bool = False) -> Path:
    """Train the autoencoder on prepared windows; writes OUT/ae.safetensors (+ resumable last.ckpt).

    ``init``: an autoencoder or latent generator checkpoint whose autoencoder (architecture, weights,
    input standardiser) training starts from; ``freeze_encoder`` (needs ``init``) trains the decoder only."""
    from ...data.windows import PreparedWindows, load_manifest

    data_dir, out = Path(data_dir), Path(out_dir)
    manifest = load_manifest(data_dir)
    train_ds = PreparedWindows(data_dir, split="train", recentre=True)
    val_ds = PreparedWindows(data_dir, split="val", recentre=True)
    if len(train_ds) == 0:
        raise InputError("prepared dataset has no training windows", data_dir)
    cfg = dict(config)
    cfg["train"] = dict(cfg.get("train", {}))
    if max_steps is not None:
        cfg["train"]["max_steps"] = int(max_steps)
    cfg.update(skeleton=manifest.get("skeleton", "smpl24"), fps=float(manifest.get("fps", 30.0)))
    cfg["ae"] = dict(cfg.get("ae", {}), motion_dim=int(train_ds[0]["motion"].shape[-1]))
    if freeze_encoder and init is None:
        raise InputError("freezing the encoder needs --init (the autoencoder whose latent space is kept)", data_dir)
    init_ae = None
    if init is not None:
        init_ae, init_norm, init_cfg = load_any_ae(init)
        if int(init_ae.cfg.motion_dim) != cfg["ae"]["motion_dim"]:
            raise InputError(f"autoencoder has {init_ae.cfg.motion_dim} features, the data {cfg['ae']['motion_dim']}", init)
        cfg["ae"] = init_ae.cfg.to_dict()
        cfg["train"]["freeze_encoder"] = bool(freeze_encoder)
        cfg["init"] = str(init)
    L.seed_everything(int(cfg["train"].get("seed", 0)), workers=True)
    module = MotionAEModule(cfg)
    if init_ae is not None:
        module.ae.load_state_dict(init_ae.state_dict())
        module.norm_lo.copy_(torch.as_tensor(init_norm.lo))
        module.norm_hi.copy_(torch.as_tensor(init_norm.hi))
    elif not (resume and (out / "last.ckpt").exists()):
        g = torch.Generator().manual_seed(0)
        idx = torch.randperm(len(train_ds), generator=g)[:2000]
        x = torch.stack([torch.as_tensor(train_ds[int(i)]["motion"]) for i in idx]).float()
        x = torch.cat([x, mirror_features(x, module.skeleton)])
        norm = standardiser(root_to_velocity(x, module.fps).reshape(-1, x.shape[-1]))
        norm.lo[:N_CONTACT], norm.hi[:N_CONTACT] = -1.0, 1.0  # contacts (0/1) pass through unscaled
        module.norm_lo.copy_(torch.as_tensor(norm.lo))
        module.norm_hi.copy_(torch.as_tensor(norm.hi))
    bs = int(cfg["train"].get("batch_size", 32))
    train_dl = torch.utils.data.DataLoader(train_ds, batch_size=bs, shuffle=True, drop_last=True)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=bs, shuffle=False) if len(val_ds) else None
    t0 = time.time()

    def export(trainer, m):
        save_ae(out / "ae.safetensors", m, {"steps": int(trainer.global_step), "train_seconds": round(time.time() - t0, 1),
                                            "date": time.strftime("%Y-%m-%d"), "data": str(data_dir),
                                            "val": {k: float(v) for k, v in trainer.callback_metrics.items()
                                                    if k.startswith("val/")}})

    t = cfg["train"]
    run = RunConfig(max_steps=int(t.get("max_steps", 3000)), ckpt_every=int(t.get("ckpt_every", 250)),
                    val_every=int(t.get("val_every", 250)), limit_val_batches=int(t.get("limit_val_batches", 10)),
                    grad_clip=1.0, progress=progress, accelerator=accelerator, devices=devices,
                    precision=str(t.get("precision", "32-true")))
    out.mkdir(parents=True, exist_ok=True)
    fit(module, train_dl, val_dl, out, run, resume=resume, export=export)
    return out / "ae.safetensors"


def load_any_ae(path: str | os.PathLike) -> tuple[MotionAE, Normalizer, dict]:
    """An autoencoder checkpoint or a latent generator (file or bundled name) -> its autoencoder, like
    :func:`load_ae`."""
    from ...checkpoints import read

    try:
        task = read(path).task
    except InputError:
        task = None  # maybe a bundled name
    if task == AE_TASK:
        return load_ae(path)
    from .checkpoint import load_generator

    g = load_generator(path)
    if g.ae is None:
        raise InputError("not a latent generator: it has no motion autoencoder", path)
    ae = MotionAE(MotionAEConfig(**g.config.ae))
    ae.load_state_dict(g.ae.state_dict())
    return ae.eval(), g.normalizer, {"ae": dict(g.config.ae), "fps": g.config.fps}


def replace_decoder(generator, ae_path, out) -> Path:
    """A latent generator + an autoencoder with the *same encoder* (decoder fine-tuned) -> OUT: the
    generator with that autoencoder; denoiser, latent normaliser, config and precision kept."""
    from .checkpoint import load_generator, save_generator

    g = load_generator(generator)
    ae, norm, _ = load_ae(ae_path)
    if g.ae is None:
        raise InputError("not a latent generator: it has no motion autoencoder", generator)
    old, new = g.ae.encoder.state_dict(), ae.encoder.state_dict()
    if old.keys() != new.keys() or any((old[k].float() - new[k].float()).abs().max() > 1e-3 for k in old):
        raise InputError("the autoencoder's encoder differs from the generator's (train it with --freeze-encoder)",
                         ae_path)
    if (abs(torch.as_tensor(norm.lo) - torch.as_tensor(g.normalizer.lo)).max() > 1e-3
            or abs(torch.as_tensor(norm.hi) - torch.as_tensor(g.normalizer.hi)).max() > 1e-3):
        raise InputError("the autoencoder's input standardiser differs from the generator's", ae_path)
    ae.encoder.load_state_dict(old)  # bit-identical latent space
    prov = dict(g.provenance, decoder={"from": str(ae_path), **read_provenance(ae_path)})
    from safetensors import safe_open

    with safe_open(str(g.path), framework="pt") as f:  # keep the source's precision (fp16 bundled files)
        half = f.get_slice(next(k for k in f.keys() if k.startswith("model."))).get_dtype() == "F16"
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return save_generator(out, g.model, g.config, g.normalizer, g.data, prov, ae=ae,  # written atomically
                          latent_normalizer=g.latent_normalizer, half=half)


def read_provenance(path) -> dict:
    from ...checkpoints import read

    return dict(read(path).provenance)


def load_ae(path: str | os.PathLike) -> tuple[MotionAE, Normalizer, dict]:
    """An autoencoder envelope -> (MotionAE in eval mode, its input standardiser, its config)."""
    from ...checkpoints import read

    env = read(path)
    if env.task != AE_TASK:
        raise InputError(f"not a motion autoencoder checkpoint (task {env.task!r})", path)
    ae = MotionAE(MotionAEConfig(**env.config["ae"]))
    ae.load_state_dict(env.part("ae.", torch.float32))
    n = env.part("normaliser.", torch.float32)
    return ae.eval(), Normalizer(n["lo"].numpy(), n["hi"].numpy()), env.config
