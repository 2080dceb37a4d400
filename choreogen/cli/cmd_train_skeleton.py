"""``choreogen train-repair``, ``train-skeleton`` (the DanceFusion models) and ``train-m2penc`` (issue 15)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("train-m2penc")
    def train_m2penc(
        data: Path = typer.Argument(..., help="Pose set folder from `choreogen data m2penc` (train.npz, val.npz)."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder: last.ckpt (resume state), logs, model.safetensors."),
        steps: int = typer.Option(3000, help="Cosine schedule length in steps."),
        minutes: Optional[float] = typer.Option(None, help="Wall-clock budget; the same command again resumes."),
        batch: int = typer.Option(4, help="Windows (48 frames, 3.2 s) per step."),
        init: Optional[Path] = typer.Option(None, help="Start from an M2PEnc checkpoint's weights (e.g. the bundled one)."),
        threads: int = typer.Option(1, help="CPU threads."),
        accelerator: str = typer.Option("cpu", help="cpu, gpu (cuda), mps or auto."),
        energy: float = typer.Option(0.0, help="Weight of the joint-speed matching term (0: the paper's losses only)."),
        lr: float = typer.Option(2e-3, help="Peak learning rate."),
    ) -> None:
        """Train M2PEnc (music -> 64x64 pose guidance + heatmaps; resumable); writes OUT/model.safetensors."""
        import torch

        from ..device import check_accelerator
        from ..errors import InputError
        from ..tasks.posevideo.m2penc_train import train_m2penc as run

        for f in ("train.npz", "val.npz"):
            if not (Path(data) / f).is_file():
                raise InputError(f"no {f}: not a pose set from `choreogen data m2penc`", data)
        acc, dev = check_accelerator(accelerator, "1")
        torch.set_num_threads(threads)
        run(data, out, steps=steps, minutes=minutes, batch=batch, init=init, run_kw={"accelerator": acc},
            energy_w=energy, lr=lr)
        typer.echo(f"{out / 'model.safetensors'}")

    @app.command("train-repair")
    def train_repair(
        layout: str = typer.Option(..., help="coco17 (2D keypoints) or smpl24 (3D joints)."),
        data: Path = typer.Option(..., help="Folder holding tang2018/ (and aistpp/keypoints2d/ for coco17)."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder: last.ckpt (resume state), logs, model.safetensors."),
        minutes: float = typer.Option(20.0, help="Wall-clock budget; the same command again resumes."),
        steps: int = typer.Option(6000, help="Cosine schedule length in steps."),
        loss: str = typer.Option("l1", help="l1 or mse."),
        masking: bool = typer.Option(True, help="Mask missing joints out of attention (--no-masking: ablation)."),
        base: str = typer.Option("cubic", help="Residual reference: cubic (Akima over the sequence) or linear."),
        batch: int = typer.Option(16, help="Windows per step."),
        cameras: int = typer.Option(1, help="coco17: random cameras per Tang2018 train dance."),
        reference: str = typer.Option("body", help="What the model corrects: body (spline in the body frame inside long gaps) or akima."),
        init: Optional[Path] = typer.Option(None, help="Warm start from a repair checkpoint (matching tensors; new heads start at zero)."),
        threads: int = typer.Option(1, help="CPU threads."),
        seed: int = typer.Option(0, help="Random seed."),
    ) -> None:
        """Train the skeleton-repair VAE (resumable); writes OUT/model.safetensors."""
        import torch

        from ..errors import ConfigError
        from ..tasks.skeleton.train_repair import RepairRecipe, train_repair as run

        if reference not in ("body", "akima"):
            raise ConfigError(f"--reference must be body or akima (got {reference})")
        if loss not in ("l1", "mse") or base not in ("cubic", "linear"):
            raise ConfigError(f"--loss must be l1 or mse and --base cubic or linear (got {loss}, {base})")
        torch.set_num_threads(threads)
        r = RepairRecipe(loss=loss, masking=masking, base=base, steps=steps, batch=batch, cameras=cameras, seed=seed,
                         init=str(init) if init else "", reference=reference)
        typer.echo(f"model: {run(layout, data, out, r, max_minutes=minutes)}")

    @app.command("train-skeleton")
    def train_skeleton(
        layout: str = typer.Option(..., help="coco17 (2D) or smpl24 (3D)."),
        data: Path = typer.Option(..., help="Folder holding tang2018/ (music-paired dances)."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder (resumable)."),
        vae: Optional[Path] = typer.Option(None, help="A pure (residual=False) VAE checkpoint; default: train one first."),
        vae_minutes: float = typer.Option(4.0, help="Budget of the VAE stage."),
        vae_steps: int = typer.Option(3000, help="Steps of the VAE stage."),
        minutes: float = typer.Option(5.0, help="Budget of the denoiser stage; the same command again resumes."),
        steps: int = typer.Option(4000, help="Cosine schedule length in steps."),
        threads: int = typer.Option(1, help="CPU threads."),
        seed: int = typer.Option(0, help="Random seed."),
        frame: str = typer.Option("window", help="VAE coordinates: 'root' (per-frame root-relative joints + root "
                                  "velocity) or 'window' (centred on each window)."),
        vae_d_model: int = typer.Option(32, help="Width of the VAE stage's transformer."),
        decoder_of: Optional[Path] = typer.Option(None, help="Fine-tune only the VAE decoder of this generator "
                                                  "(latent space and denoiser kept; --minutes/--steps apply)."),
    ) -> None:
        """Train the audio-driven skeleton generator (VAE + latent diffusion); writes OUT/model.safetensors."""
        import torch

        from ..fileio import require_file
        from ..tasks.skeleton.train_skelgen import SkelGenRecipe, train_skelgen

        torch.set_num_threads(threads)
        if decoder_of is not None:
            from ..tasks.skeleton.skelgen_decoder import finetune_decoder

            require_file(decoder_of, "generator")
            typer.echo(f"model: {finetune_decoder(decoder_of, layout, data, out, steps, minutes, seed=seed)}")
            return
        r = SkelGenRecipe(vae_minutes=vae_minutes, vae_steps=vae_steps, steps=steps, seed=seed, frame=frame,
                          vae_d_model=vae_d_model)
        typer.echo(f"model: {train_skelgen(layout, data, out, r, vae=vae, max_minutes=minutes)}")
