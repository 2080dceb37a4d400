"""Lightning training of the audio-driven latent denoiser (DanceFusion stage 2), plus (optionally)
the pure VAE it needs (stage 1 with ``residual=False``: latents must decode without an observation).

Run (2 shared CPU cores: one thread, wall-clock budgets, resumable from ``--out/last.ckpt``):

    python -m choreogen.tasks.skeleton.train_skelgen --layout smpl24 --out runs/skelgen_smpl24 \
        --vae-minutes 4 --minutes 5
    python -m choreogen.tasks.skeleton.train_skelgen --layout coco17 --out runs/skelgen_coco17 \
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

import argparse
import math
import os
from pathlib import Path

import lightning as L
import numpy as np
import torch

from ...diffusion.schedule import NoiseSchedule
from ...models.denoiser import DanceDenoiser, DenoiserConfig
from ...models.skeleton_vae import SkeletonVAE, SkeletonVAEConfig

NO_DAMAGE = dict(random_rate_max=0.0, p_limb=0.0, p_frames=0.0, p_swap=0.0, p_leave=0.0, jitter_sigma_max=0.0,
                 outlier_rate=0.0)


class MusicWindows(torch.utils.data.Dataset):
    """Random (motion, music) windows. Item ``i`` of epoch ``e`` uses ``default_rng((seed, e, i))``.

    seqs: list of choreogen.tasks.skeleton.data.Sequence (joints (T, J, D)); music: list of (T, Da) float32
    at the same fps. Items: x (W, J, D) normalised joints, valid (W, J) bool, music (W, Da).
    """

    def __init__(self, seqs, music, skeleton, window: int, length: int, seed: int = 0):
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
        c = window_center(x, valid)
        return {"x": torch.from_numpy(np.where(valid[..., None], normalize(x, c, self.scales[k]), 0.0).astype(np.float32)),
                "valid": torch.from_numpy(valid),
                "music": torch.from_numpy(np.asarray(self.music[k][t0:t0 + W], np.float32))}


class LatentDiffusionModule(L.LightningModule):
    """Frozen pure VAE + trainable DanceDenoiser over its standardised latents (see module doc).

    Buffers: music_mean/music_std (Da,), latent_mean/latent_std (C,) (travel with checkpoints).
    """

    def __init__(self, vae_cfg: dict, den_cfg: dict, lr: float = 1e-3, warmup: int = 100, total_steps: int = 5000,
                 num_steps: int = 1000, cond_drop: float = 0.1, vel: float = 1.0):
        super().__init__()
        self.save_hyperparameters()
        self.vae = SkeletonVAE(SkeletonVAEConfig.from_dict(vae_cfg)).eval().requires_grad_(False)
        self.denoiser = DanceDenoiser(DenoiserConfig(**den_cfg))
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

    def on_train_epoch_start(self):
        dl = self.trainer.train_dataloader
        if dl is not None and hasattr(dl.dataset, "set_epoch"):
            dl.dataset.set_epoch(self.current_epoch)

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.denoiser.parameters(), lr=self.hparams.lr, weight_decay=0.01)
        w, T = self.hparams.warmup, self.hparams.total_steps

        def f(step):
            if step < w:
                return (step + 1) / w
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - w) / max(1, T - w))))

        return {"optimizer": opt, "lr_scheduler": {"scheduler": torch.optim.lr_scheduler.LambdaLR(opt, f),
                                                   "interval": "step"}}


def load_paired(layout: str, split: str, kind: str, cameras: int = 4, seed: int = 0, shared: Path | None = None):
    """(sequences, music feature arrays) of the Tang2018 ``split`` for ``layout`` (see module doc)."""
    from ...audio import music_features
    from . import data as rd

    shared = shared or Path(__file__).resolve().parents[2].parent / "shared" / "data"
    folder = shared / "tang2018"
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


def train_vae(seqs, skeleton, dim: int, out: Path, minutes: float, window: int, latent: int, d_model: int,
              batch: int, seed: int):
    """Stage 1: pure VAE (residual=False, masking) on clean windows with VAEModule; returns the model."""
    from .checkpoint import save_vae
    from .damage import DamageConfig
    from .data import DamagedWindows
    from .train_repair import VAEModule

    steps = 3000
    ds = DamagedWindows(seqs, skeleton, window, steps * batch, damage=DamageConfig(**NO_DAMAGE), seed=seed)
    cfg = SkeletonVAEConfig(num_joints=skeleton.num_joints, dim=dim, d_model=d_model, spatial_layers=1,
                            temporal_layers=1, decoder_layers=2, latent_dim=latent, max_frames=window, residual=False)
    module = VAEModule(cfg.to_dict(), loss="l1", beta=1e-4, lr=2e-3, warmup=100, total_steps=steps)
    vdir = out / "vae"
    vdir.mkdir(parents=True, exist_ok=True)
    trainer = L.Trainer(max_steps=steps, max_time={"minutes": minutes}, accelerator="cpu", devices=1,
                        limit_val_batches=0, log_every_n_steps=25, enable_progress_bar=False,
                        enable_checkpointing=False, logger=L.pytorch.loggers.CSVLogger(vdir, name="logs"),
                        default_root_dir=vdir)
    trainer.fit(module, torch.utils.data.DataLoader(ds, batch_size=batch, num_workers=0))
    save_vae(module.model, out / "vae.safetensors", {"skeleton": skeleton.name, "dim": dim, "loss": "l1",
                                                     "pure": True, "steps": int(trainer.global_step),
                                                     "data": "Tang2018 train, clean windows"})
    print(f"VAE: {trainer.global_step} steps -> {out / 'vae.safetensors'}", flush=True)
    return module.model.eval()

def _safe_resume() -> dict:
    """Lightning resumes ``last.ckpt`` with ``torch.load(weights_only=True)`` (no code runs)."""
    from ..dance3d.train import _fit_accepts_weights_only

    return {"weights_only": True} if _fit_accepts_weights_only() else {}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layout", choices=["coco17", "smpl24"], required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vae", type=Path, help="pure-VAE checkpoint (residual=False); default: train one first")
    ap.add_argument("--vae-minutes", type=float, default=4.0)
    ap.add_argument("--minutes", type=float, default=5.0, help="denoiser training budget")
    ap.add_argument("--music-kind", default="baseline35+mel")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--latent", type=int, default=16)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=4000, help="cosine LR schedule length (stops at --minutes)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--vel", type=float, default=1.0)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--overlap", type=int, default=32)
    ap.add_argument("--latent-smooth", type=float, default=1.0)
    ap.add_argument("--inpaint", action="store_true", help="latent overlap inpainting (see repair.generate)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    L.seed_everything(a.seed, workers=True)
    from ...motion.skeleton import get_skeleton
    from .checkpoint import load_vae
    from .generate import SkelGen, save_skelgen

    sk = get_skeleton(a.layout)
    dim = 2 if a.layout == "coco17" else 3
    a.out.mkdir(parents=True, exist_ok=True)
    seqs, music = load_paired(a.layout, "train", a.music_kind, a.cameras, a.seed)
    if a.vae is not None:
        vae, _ = load_vae(a.vae)
        if vae.cfg.residual:
            raise SystemExit(f"{a.vae}: a residual VAE cannot decode latents alone; train one with residual=False")
    else:
        vae = train_vae(seqs, sk, dim, a.out, a.vae_minutes, a.window, a.latent, 32, 16, a.seed)
    W = min(a.window, vae.cfg.max_frames)
    ds = MusicWindows(seqs, music, sk, W, a.steps * a.batch, seed=a.seed)
    den_cfg = DenoiserConfig(motion_dim=vae.cfg.latent_dim, music_dim=music[0].shape[1], d_model=a.d_model,
                             n_layers=a.layers, n_heads=4, ff_mult=2, dropout=0.1, patch=2, n_genres=0, music_layers=1)
    module = LatentDiffusionModule(vae.cfg.to_dict(), den_cfg.to_dict(), lr=a.lr, total_steps=a.steps, vel=a.vel)
    module.vae.load_state_dict(vae.state_dict())
    allm = np.concatenate(music)
    module.music_mean.copy_(torch.as_tensor(allm.mean(0)))
    module.music_std.copy_(torch.as_tensor(allm.std(0)).clamp_min(1e-3))
    with torch.no_grad():  # latent statistics from 512 training windows
        b = torch.utils.data.default_collate([ds[i] for i in range(512)])
        mu, _ = module.vae.encode(b["x"], b["valid"])
        module.latent_mean.copy_(mu.mean((0, 1)))
        module.latent_std.copy_(mu.std((0, 1)).clamp_min(1e-3))
    last = a.out / "last.ckpt"
    trainer = L.Trainer(max_steps=a.steps, max_time={"minutes": a.minutes}, accelerator="cpu", devices=1,
                        limit_val_batches=0, log_every_n_steps=25, enable_progress_bar=False,
                        callbacks=[L.pytorch.callbacks.ModelCheckpoint(dirpath=a.out, save_last=True, save_top_k=0,
                                                                       every_n_train_steps=100)],
                        logger=L.pytorch.loggers.CSVLogger(a.out, name="logs"), default_root_dir=a.out)
    trainer.fit(module, torch.utils.data.DataLoader(ds, batch_size=a.batch, num_workers=0),
                ckpt_path=str(last) if last.exists() else None, **_safe_resume())
    trainer.save_checkpoint(last)
    stats = {k: getattr(module, k) for k in ("music_mean", "music_std", "latent_mean", "latent_std")}
    info = {"skeleton": a.layout, "dim": dim, "fps": 30.0, "window": W, "overlap": a.overlap,
            "inpaint": a.inpaint, "latent_smooth": a.latent_smooth,
            "music_kind": a.music_kind, "num_steps": module.schedule.num_steps, "schedule": "cosine",
            "guidance": a.guidance, "steps_trained": int(trainer.global_step), "batch": a.batch, "seed": a.seed,
            "units": "pixels (2D, body-height normalised)" if dim == 2 else "metres",
            "data": "Tang2018 train split" + (f", {a.cameras} random cameras per dance" if dim == 2 else ""),
            "heldout": "Tang2018 val split"}
    save_skelgen(SkelGen(module.vae, module.denoiser, stats, info), a.out / "model.safetensors")
    print(f"saved {a.out / 'model.safetensors'} after {trainer.global_step} steps", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
