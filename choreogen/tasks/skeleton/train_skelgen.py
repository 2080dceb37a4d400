"""Lightning training of the audio-driven latent denoiser (DanceFusion stage 2), plus (optionally)
the pure VAE it needs (stage 1 with ``residual=False``: latents must decode without an observation).

Run (2 shared CPU cores: one thread, wall-clock budgets, resumable from ``--out/last.ckpt``):

    choreogen train-skeleton --layout smpl24 --data ../shared/data --out runs/skelgen_smpl24 \
        --vae-minutes 4 --minutes 5
    choreogen train-skeleton --layout coco17 --data ../shared/data --out runs/skelgen_coco17 \
        --vae runs/skelgen_coco17/vae.safetensors --minutes 5      # reuse a trained pure VAE

Data (music-paired, so Tang2018 only: AIST++ keypoints2d come without their music): the Tang2018
*train* split (choreogen/data/splits/tang2018.json) as canonical 3D SMPL-24 joints at 30 fps
(``smpl24``), or the same dances seen by ``--cameras`` random perspective cameras as 2D COCO-17
pixels (``coco17``); the music features of each dance's mp3 at 30 fps (default kind
"baseline35+mel", 115-D). Windows are normalised as for repair (choreogen.tasks.skeleton.normalize: 2D
centred on the window and divided by the sequence's body height, 3D x/z-centred, metres), 3D
windows rotated about y, 2D windows mirrored (music unchanged).

Stage 2: the frozen VAE encodes each window to per-frame means mu (B, W, C), standardised per
channel with statistics of 512 training windows; a DanceDenoiser (motion_dim = C) learns to predict
x0 from q(x_t | x0) on the cosine schedule, conditioned on standardised music, with 10 % condition
dropout (classifier-free guidance). Loss: MSE on x0 + ``--vel`` x MSE on its frame differences.
Output ``--out/model.safetensors`` (choreogen.tasks.skeleton.generate.save_skelgen: VAE + denoiser + stats,
JSON configs in the metadata). DDP-ready: no global state, Lightning's sampler.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch import nn

from ...diffusion.schedule import NoiseSchedule
from ...models.denoiser import DanceDenoiser, DenoiserConfig
from ...models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig
from ...training.runner import RunConfig, adamw_warmup_cosine, fit, make_ema

NO_DAMAGE = dict(random_rate_max=0.0, p_limb=0.0, p_frames=0.0, p_swap=0.0, p_leave=0.0, jitter_sigma_max=0.0,
                 outlier_rate=0.0)


class MusicWindows(torch.utils.data.Dataset):
    """Random (motion, music) windows. Item ``i`` of epoch ``e`` uses ``default_rng((seed, e, i))``.

    seqs: list of choreogen.tasks.skeleton.data.Sequence (joints (T, J, D)); music: list of (T, Da) float32
    at the same fps. Items: x (W, J, D) normalised joints, valid (W, J) bool, music (W, Da).
    ``frame="root"``: x (W, J + 1, D) in the per-frame root frame of :mod:`.rootframe` (2D first divided
    by the body height), valid (W, J + 1); ``"window"``: centred on the window (:mod:`.normalize`).
    """

    def __init__(self, seqs, music, skeleton, window: int, length: int, seed: int = 0, frame: str = "window",
                 fps: float = 30.0):
        from .damage import body_scale

        keep = [i for i, s in enumerate(seqs) if len(s.joints) >= window]
        if not keep:
            raise ValueError("no sequence is long enough for one window")
        self.seqs = [seqs[i] for i in keep]
        self.music = [music[i] for i in keep]
        self.skeleton, self.window, self.length, self.seed = skeleton, window, length, seed
        self.scales = [body_scale(s.joints, s.valid) if s.joints.shape[-1] == 2 else 1.0 for s in self.seqs]
        w = np.array([len(s.joints) for s in self.seqs], np.float64)
        self.p = w / w.sum()
        self.epoch = 0
        if frame not in ("window", "root"):
            raise ValueError(f"frame must be 'window' or 'root', got {frame!r}")
        self.frame, self.fps = frame, fps

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        from .normalize import normalize, window_center

        rng = np.random.default_rng((self.seed, self.epoch, i))
        k = int(rng.choice(len(self.seqs), p=self.p))
        s, W = self.seqs[k], self.window
        t0 = int(rng.integers(0, len(s.joints) - W + 1))
        x = s.joints[t0:t0 + W].astype(np.float64)
        valid = s.valid[t0:t0 + W].copy()
        if x.shape[-1] == 2 and rng.random() < 0.5:
            x, valid = x[:, self.skeleton.mirror], valid[:, self.skeleton.mirror]
            x[..., 0] *= -1
        if x.shape[-1] == 3:
            a = rng.uniform(0, 2 * np.pi)
            ca, sa = np.cos(a), np.sin(a)
            x = x @ np.array([[ca, 0, sa], [0, 1, 0], [-sa, 0, ca]]).T
        if self.frame == "root":
            from .rootframe import ROOT_JOINTS, to_root_frame

            rv = valid[:, list(ROOT_JOINTS[self.skeleton.name])].all(1)  # (W,) root seen
            xr = to_root_frame(x / self.scales[k], self.skeleton.name, self.fps)
            valid = np.concatenate([valid & rv[:, None], (rv & np.append(rv[1:], rv[-1]))[:, None]], 1)
            x_out = np.where(valid[..., None], xr, 0.0).astype(np.float32)
        else:
            c = window_center(x, valid)
            x_out = np.where(valid[..., None], normalize(x, c, self.scales[k]), 0.0).astype(np.float32)
        return {"x": torch.from_numpy(x_out),
                "valid": torch.from_numpy(valid),
                "music": torch.from_numpy(np.asarray(self.music[k][t0:t0 + W], np.float32))}


class LatentDiffusionModule(L.LightningModule):
    """Frozen pure VAE + trainable DanceDenoiser over its standardised latents (see module doc).

    Buffers: music_mean/music_std (Da,), latent_mean/latent_std (C,) (travel with checkpoints).
    """

    def __init__(self, vae_cfg: dict, den_cfg: dict, lr: float = 1e-3, warmup: int = 100, total_steps: int = 5000,
                 num_steps: int = 1000, cond_drop: float = 0.1, vel: float = 1.0, ema_decay: float = 0.0):
        super().__init__()
        self.save_hyperparameters()
        self.vae = SkeletonVAE(SkeletonVAEConfig.from_dict(vae_cfg)).eval().requires_grad_(False)
        self.denoiser = DanceDenoiser(DenoiserConfig(**den_cfg))
        # EMA of the denoiser (exported instead of the raw weights): without it the exported
        # model's FID_k swung 73 -> 166 between steps 2,000 and 4,000 of one run
        self.ema = make_ema(self.denoiser, ema_decay) if ema_decay > 0 else None
        C, Da = self.vae.cfg.latent_dim, self.denoiser.cfg.music_dim
        for name, n in (("music_mean", Da), ("latent_mean", C)):
            self.register_buffer(name, torch.zeros(n))
        for name, n in (("music_std", Da), ("latent_std", C)):
            self.register_buffer(name, torch.ones(n))
        self.schedule = NoiseSchedule(num_steps, "cosine")

    def train(self, mode: bool = True):
        super().train(mode)
        self.vae.eval()  # always frozen
        return self

    @torch.no_grad()
    def latents(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B, W, J, D), (B, W, J) -> standardised VAE means (B, W, C)."""
        mu, _ = self.vae.encode(x, valid)
        return (mu - self.latent_mean) / self.latent_std

    def training_step(self, batch, batch_idx):
        z0 = self.latents(batch["x"], batch["valid"])
        music = (batch["music"] - self.music_mean) / self.music_std
        B = z0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (B,), device=z0.device)
        z_t = self.schedule.q_sample(z0, t, torch.randn_like(z0))
        drop = torch.rand(B, device=z0.device) < self.hparams.cond_drop
        pred = self.denoiser(z_t, t, music=music, drop_cond=drop)
        simple = (pred - z0).pow(2).mean()
        vel = (pred.diff(dim=1) - z0.diff(dim=1)).pow(2).mean()
        loss = simple + self.hparams.vel * vel
        self.log_dict({"train/loss": loss, "train/simple": simple, "train/vel": vel}, on_step=True, on_epoch=False,
                      batch_size=B)
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        if self.ema is not None:
            self.ema.update_parameters(self.denoiser)

    def export_denoiser(self) -> DanceDenoiser:
        """The weights to ship: the EMA copy when there is one."""
        return self.ema.module if self.ema is not None else self.denoiser

    def configure_optimizers(self):
        h = self.hparams
        return adamw_warmup_cosine(self.denoiser.parameters(), h.lr, 0.01, h.warmup, h.total_steps, 0.05)


def load_paired(layout: str, split: str, kind: str, shared: Path, cameras: int = 4, seed: int = 0):
    """(sequences, music feature arrays) of the Tang2018 ``split`` for ``layout`` (see module doc)."""
    from ...audio import music_features
    from . import data as rd

    folder = Path(shared) / "tang2018"
    if layout == "coco17":
        seqs, rots = rd.tang_sequences(folder, split, with_rotations=True)
        proj = rd.project_coco17(seqs, rots, n_cameras=cameras, seed=seed)
        names = [s.name for s in seqs for _ in range(cameras)]
        seqs = proj
    else:
        seqs = rd.tang_sequences(folder, split)
        names = [s.name for s in seqs]
    music = [np.asarray(music_features(folder / f"{n}.mp3", kind=kind, fps=30.0, n_frames=len(s.joints)), np.float32)
             for n, s in zip(names, seqs)]
    return seqs, music


class KineticVAEModule(L.LightningModule):
    """Pure generator VAE trained on :class:`MusicWindows` items: L1 + ``vel`` x L1 of frame differences +
    ``energy`` x MSE of per-joint RMS speeds (:func:`.skelgen_decoder.kinetic_recon_losses`) + ``beta`` x KL.
    The plain-L1 VAEs of the first generators moved at 0.26 m/s when decoding the captures' own latents
    (captures 0.41), so the kinetic terms are in the VAE's loss from the start."""

    def __init__(self, model_cfg: dict, beta: float = 1e-4, vel: float = 1.0, energy: float = 10.0, lr: float = 2e-3,
                 warmup: int = 100, total_steps: int = 3000, energy_ramp: int = 500):
        super().__init__()
        self.save_hyperparameters()
        self.model = SkeletonVAE(SkeletonVAEConfig.from_dict(model_cfg))
        # start nearly deterministic (sigma = e^-3): with unit posterior noise the decoder first learnt the
        # mean pose and ignored the latents (a 2,087-step root-frame run never left that plateau)
        nn.init.constant_(self.model.to_stats.bias[self.model.cfg.latent_dim:], -6.0)

    def training_step(self, batch, batch_idx):
        from ...models.skeleton_vae import kl_divergence
        from .skelgen_decoder import kinetic_recon_losses, rms_speed

        out = self.model(batch["x"], batch["valid"], sample=True)
        d = kinetic_recon_losses(out["recon"], batch["x"], batch["valid"])
        d["kl"] = kl_divergence(out["mu"], out["logvar"])
        h = self.hparams
        # the speed term ramps in: at a still (untrained) output its gradient through the RMS is huge
        ramp = min(1.0, (self.global_step + 1) / max(h.energy_ramp, 1))
        d["loss"] = d["l1"] + h.vel * d["vel"] + ramp * h.energy * d["energy"] + h.beta * d["kl"]
        with torch.no_grad():  # how much of the windows' motion the reconstruction keeps (1 = all)
            d["speed_ratio"] = rms_speed(out["recon"]).mean() / rms_speed(batch["x"]).mean().clamp_min(1e-6)
        self.log_dict({f"train/{k}": v for k, v in d.items()}, on_step=True, on_epoch=False, batch_size=batch["x"].shape[0])
        return d["loss"]

    def configure_optimizers(self):
        h = self.hparams
        return adamw_warmup_cosine(self.parameters(), h.lr, 0.01, h.warmup, h.total_steps, 0.05)


def train_vae(seqs, skeleton, dim: int, out: Path, minutes: float, window: int, latent: int, d_model: int,
              batch: int, seed: int, steps: int = 3000, frame: str = "window", music=None):
    """Stage 1: pure VAE (residual=False, masking) on clean windows; returns the model. ``frame="window"``:
    window-centred joints, L1 (VAEModule, the first generators); ``"root"``: the per-frame root frame
    (J + 1 tokens, :mod:`.rootframe`) with the kinetic terms of :class:`KineticVAEModule`."""
    from .checkpoint import save_vae
    from .damage import DamageConfig
    from .data import DamagedWindows
    from .train_repair import VAEModule

    J = skeleton.num_joints + (1 if frame == "root" else 0)
    cfg = SkeletonVAEConfig(num_joints=J, dim=dim, d_model=d_model, spatial_layers=1,
                            temporal_layers=1, decoder_layers=2, latent_dim=latent, max_frames=window, residual=False)
    if frame == "root":
        ds = MusicWindows(seqs, music, skeleton, window, steps * batch, seed=seed, frame="root")
        module = KineticVAEModule(cfg.to_dict(), total_steps=steps)
    else:
        ds = DamagedWindows(seqs, skeleton, window, steps * batch, damage=DamageConfig(**NO_DAMAGE), seed=seed)
        module = VAEModule(cfg.to_dict(), loss="l1", beta=1e-4, lr=2e-3, warmup=100, total_steps=steps)
    trainer = fit(module, torch.utils.data.DataLoader(ds, batch_size=batch, num_workers=0), None, out / "vae",
                  RunConfig(max_steps=steps, ckpt_every=100, val_every=None, max_minutes=minutes,
                            grad_clip=1.0 if frame == "root" else None), resume=True)
    save_vae(module.model, out / "vae.safetensors", {"skeleton": skeleton.name, "dim": dim, "frame": frame,
                                                     "loss": "l1" if frame == "window" else "l1+vel+energy",
                                                     "pure": True, "steps": int(trainer.global_step),
                                                     "data": "Tang2018 train, clean windows"})
    print(f"VAE: {trainer.global_step} steps -> {out / 'vae.safetensors'}", flush=True)
    return module.model.eval()

@dataclass
class SkelGenRecipe:
    """The shipped skeleton-generation recipe (``choreogen train-skeleton`` options)."""

    vae_minutes: float = 4.0
    vae_steps: int = 3000
    music_kind: str = "baseline35+mel"
    window: int = 64
    latent: int = 16
    d_model: int = 64
    layers: int = 2
    batch: int = 32
    steps: int = 4000  # cosine LR schedule length (stops at max_minutes)
    lr: float = 1e-3
    vel: float = 1.0
    cameras: int = 4
    guidance: float = 2.0
    overlap: int = 32
    latent_smooth: float = 1.0
    inpaint: bool = False  # latent overlap inpainting (see tasks.skeleton.generate)
    ema_decay: float = 0.999  # exported denoiser = EMA of its weights (0: the raw weights, as the 2026-11 files)
    frame: str = "window"  # "root": per-frame root-relative joints + root velocity (.rootframe)
    vae_d_model: int = 32
    seed: int = 0


def train_skelgen(layout: str, data_root: str | Path, out: str | Path, recipe: SkelGenRecipe | None = None,
                  vae: str | Path | None = None, max_minutes: float | None = 5.0) -> Path:
    """Train (or resume) the latent denoiser for ``layout`` on Tang2018 under ``data_root`` (and
    first a pure VAE unless ``vae`` names one); returns OUT/model.safetensors."""
    from ...errors import ConfigError, InputError
    from ...motion.skeleton import get_skeleton
    from .checkpoint import SkelGen, load_vae, save_skelgen

    r = recipe or SkelGenRecipe()
    if layout not in ("coco17", "smpl24"):
        raise ConfigError(f"layout must be coco17 or smpl24, got {layout!r}")
    if r.frame not in ("window", "root"):
        raise ConfigError(f"frame must be 'window' or 'root', got {r.frame!r}")
    out = Path(out)
    L.seed_everything(r.seed, workers=True)
    sk = get_skeleton(layout)
    dim = 2 if layout == "coco17" else 3
    out.mkdir(parents=True, exist_ok=True)
    seqs, music = load_paired(layout, "train", r.music_kind, data_root, r.cameras, r.seed)
    if vae is not None:
        vae_model, _ = load_vae(vae)
        if vae_model.cfg.residual:
            raise InputError("a residual VAE cannot decode latents alone; train one with residual=False", vae)
    else:
        vae_model = train_vae(seqs, sk, dim, out, r.vae_minutes, r.window, r.latent, r.vae_d_model, 16, r.seed,
                              r.vae_steps, frame=r.frame, music=music)
    expect = sk.num_joints + (1 if r.frame == "root" else 0)
    if vae_model.cfg.num_joints != expect:
        raise InputError(f"this VAE has {vae_model.cfg.num_joints} joint tokens, the {r.frame!r} frame of {layout} "
                         f"needs {expect}", vae)
    W = min(r.window, vae_model.cfg.max_frames)
    ds = MusicWindows(seqs, music, sk, W, r.steps * r.batch, seed=r.seed, frame=r.frame)
    den_cfg = DenoiserConfig(motion_dim=vae_model.cfg.latent_dim, music_dim=music[0].shape[1], d_model=r.d_model,
                             n_layers=r.layers, n_heads=4, ff_mult=2, dropout=0.1, patch=2, n_genres=0, music_layers=1)
    module = LatentDiffusionModule(vae_model.cfg.to_dict(), den_cfg.to_dict(), lr=r.lr, total_steps=r.steps, vel=r.vel,
                                   ema_decay=r.ema_decay)
    module.vae.load_state_dict(vae_model.state_dict())
    allm = np.concatenate(music)
    module.music_mean.copy_(torch.as_tensor(allm.mean(0)))
    module.music_std.copy_(torch.as_tensor(allm.std(0)).clamp_min(1e-3))
    with torch.no_grad():  # latent statistics from 512 training windows
        b = torch.utils.data.default_collate([ds[i] for i in range(min(512, len(ds)))])
        mu, _ = module.vae.encode(b["x"], b["valid"])
        module.latent_mean.copy_(mu.mean((0, 1)))
        module.latent_std.copy_(mu.std((0, 1)).clamp_min(1e-3))
    info = {"skeleton": layout, "dim": dim, "fps": 30.0, "window": W, "overlap": r.overlap, "frame": r.frame,
            "inpaint": r.inpaint, "latent_smooth": r.latent_smooth,
            "music_kind": r.music_kind, "num_steps": module.schedule.num_steps, "schedule": "cosine",
            "guidance": r.guidance, "batch": r.batch, "seed": r.seed, "recipe": asdict(r),
            "units": "pixels (2D, body-height normalised)" if dim == 2 else "metres",
            "data": "Tang2018 train split" + (f", {r.cameras} random cameras per dance" if dim == 2 else ""),
            "heldout": "Tang2018 val split"}

    def export(trainer, m):
        stats = {k: getattr(m, k) for k in ("music_mean", "music_std", "latent_mean", "latent_std")}
        save_skelgen(SkelGen(m.vae, m.export_denoiser(), stats, dict(info, steps_trained=int(trainer.global_step))),
                     out / "model.safetensors")

    run = RunConfig(max_steps=r.steps, ckpt_every=100, val_every=None, max_minutes=max_minutes)
    fit(module, torch.utils.data.DataLoader(ds, batch_size=r.batch, num_workers=0), None, out, run, resume=True,
        export=export)
    return out / "model.safetensors"
