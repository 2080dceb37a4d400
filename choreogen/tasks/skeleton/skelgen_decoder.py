"""Decoder-only fine-tuning of an audio-driven skeleton generator's VAE (the latent space is kept).

Why: the shipped generators' pure VAEs trained a few hundred steps; decoding the *captures' own*
latents already loses much of their motion (3D: root-relative MPJPE 112 mm, FID_k 53.6 of the
reconstruction against random real clips' ~22-27), so no denoiser can do better than that. As for
the 3D generator (docs/MODEL_CARD.md, "decoder with kinetic losses"), the encoder is frozen -- the
latents, their statistics and the trained denoiser stay valid bit for bit -- and only the decoder
(``from_latent``, ``dec_frame_emb``, ``dec_temporal``, ``head``) trains, on clean Tang2018 train
windows, with

    L1(recon, x) + vel * L1(frame differences) + energy * MSE(per-joint RMS speed over the window)

(speeds in units per second), the decoder seeing ``mu`` (plus ``latent_noise * latent_std * N(0, 1)`` if asked:
with 0.3, as for the 3D generator's decoder, the reconstruction of the val captures fell to half the captures'
speed and its FID_k rose from 53.6 to 270 after 2,000 steps -- the decoder learnt to damp the noise -- so the
default is 0). Units: the VAE's normalised window frame (3D: metres, x/z centred; 2D: body heights).

    choreogen train-skeleton --layout smpl24 --data ../shared/data --out runs/skdec3 --decoder-of SKELGEN \
        --steps 4000 --minutes 35     # or: python -m choreogen.tasks.skeleton.skelgen_decoder SKELGEN ...
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import lightning as L
import torch

from ...training.runner import RunConfig, adamw_warmup_cosine, fit

DECODER_PARTS = ("from_latent", "dec_frame_emb", "dec_temporal", "head")


def rms_speed(x: torch.Tensor, fps: float = 30.0) -> torch.Tensor:
    """(B, W, J, D) -> (B, J) root-mean-square speed of each joint over the window (units per second)."""
    return (x.diff(dim=1).mul(fps).pow(2).sum(-1).mean(1) + 1e-12).sqrt()


def kinetic_recon_losses(rec: torch.Tensor, x: torch.Tensor, valid: torch.Tensor) -> dict[str, torch.Tensor]:
    """Reconstruction terms of a generator VAE: (B, W, J, D) recon and target, (B, W, J) bool valid ->
    {"l1": masked L1, "vel": masked L1 of frame differences, "energy": MSE of per-joint RMS speeds}."""
    m = valid[..., None].float()
    l1 = ((rec - x).abs() * m).sum() / (m.sum() * x.shape[-1]).clamp_min(1)
    mv = (valid[:, 1:] & valid[:, :-1])[..., None].float()
    vel = ((rec.diff(dim=1) - x.diff(dim=1)).abs() * mv).sum() / (mv.sum() * x.shape[-1]).clamp_min(1)
    energy = (rms_speed(rec) - rms_speed(x)).pow(2).mean()
    return {"l1": l1, "vel": vel, "energy": energy}


class DecoderFinetune(L.LightningModule):
    """A SkelGen's VAE with everything but the decoder frozen (see module doc)."""

    def __init__(self, gen, lr: float = 5e-4, warmup: int = 100, total_steps: int = 4000, vel: float = 1.0,
                 energy: float = 10.0, latent_noise: float = 0.0):
        super().__init__()
        self.save_hyperparameters(ignore=["gen"])
        self.vae = copy.deepcopy(gen.vae)  # load_skelgen caches: never train the shared object
        for name, p in self.vae.named_parameters():
            p.requires_grad_(name.split(".")[0] in DECODER_PARTS)
        self.register_buffer("latent_std", gen.stats["latent_std"].float().clone())

    def train(self, mode: bool = True):
        super().train(mode)
        for name, child in self.vae.named_children():  # the frozen encoder runs without dropout
            if name not in DECODER_PARTS:
                child.eval()
        return self

    def losses(self, batch) -> dict[str, torch.Tensor]:
        x, valid = batch["x"], batch["valid"]
        with torch.no_grad():
            mu, _ = self.vae.encode(x, valid)
        z = mu + self.hparams.latent_noise * self.latent_std * torch.randn_like(mu) if self.training else mu
        d = kinetic_recon_losses(self.vae.decode(z), x, valid)
        h = self.hparams
        return dict(d, loss=d["l1"] + h.vel * d["vel"] + h.energy * d["energy"])

    def training_step(self, batch, batch_idx):
        d = self.losses(batch)
        self.log_dict({f"train/{k}": v for k, v in d.items()}, on_step=True, on_epoch=False, batch_size=batch["x"].shape[0])
        return d["loss"]

    def configure_optimizers(self):
        h = self.hparams
        params = [p for p in self.vae.parameters() if p.requires_grad]
        return adamw_warmup_cosine(params, h.lr, 0.01, h.warmup, h.total_steps, 0.1)


def finetune_decoder(skelgen: str | Path, layout: str, data_root: str | Path, out: str | Path, steps: int = 4000,
                     minutes: float | None = 30.0, batch: int = 16, lr: float = 5e-4, vel: float = 1.0,
                     energy: float = 10.0, latent_noise: float = 0.0, seed: int = 0) -> Path:
    """Fine-tune the decoder of the skeleton generator ``skelgen`` (file) on Tang2018 train windows of
    ``layout``; writes OUT/model.safetensors (the same denoiser and statistics, the new VAE) and
    returns its path. Resumable from OUT/last.ckpt."""
    from ...errors import InputError
    from ...motion.skeleton import get_skeleton
    from .checkpoint import SkelGen, load_skelgen, save_skelgen
    from .train_skelgen import MusicWindows, load_paired

    gen = load_skelgen(skelgen)
    if gen.info.get("skeleton") != layout:
        raise InputError(f"this generator is for {gen.info.get('skeleton')!r}, not {layout}", skelgen)
    L.seed_everything(seed, workers=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    r = gen.info.get("recipe", {})
    seqs, music = load_paired(layout, "train", gen.info.get("music_kind", "baseline35+mel"), data_root,
                              int(r.get("cameras", 4)), int(r.get("seed", 0)))
    ds = MusicWindows(seqs, music, get_skeleton(layout), int(gen.info["window"]), steps * batch, seed=seed,
                      frame=gen.info.get("frame", "window"))
    module = DecoderFinetune(gen, lr=lr, total_steps=steps, vel=vel, energy=energy, latent_noise=latent_noise)
    recipe = {"from": Path(skelgen).name, "steps": steps, "batch": batch, "lr": lr, "vel": vel, "energy": energy,
              "latent_noise": latent_noise}

    def export(trainer, m):
        info = dict(gen.info, decoder_finetune=dict(recipe, steps_trained=int(trainer.global_step)))
        save_skelgen(SkelGen(m.vae, gen.denoiser, gen.stats, info), out / "model.safetensors")

    run = RunConfig(max_steps=steps, ckpt_every=200, val_every=None, max_minutes=minutes)
    fit(module, torch.utils.data.DataLoader(ds, batch_size=batch, num_workers=0), None, out, run, resume=True,
        export=export)
    return out / "model.safetensors"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("skelgen")
    ap.add_argument("--layout", required=True, choices=["smpl24", "coco17"])
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[4] / "shared" / "data"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--energy", type=float, default=10.0)
    ap.add_argument("--latent-noise", type=float, default=0.0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    print(finetune_decoder(a.skelgen, a.layout, a.data, a.out, a.steps, a.minutes, a.batch, a.lr,
                           energy=a.energy, latent_noise=a.latent_noise))


if __name__ == "__main__":
    main()
