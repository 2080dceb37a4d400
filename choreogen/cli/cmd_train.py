"""``choreogen train DATA --out DIR``: train the dance generator with Lightning."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        data: Path = typer.Argument(..., help="Prepared dataset folder (from `choreogen data prepare`)."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder: checkpoints, logs, model.safetensors."),
        config: Optional[Path] = typer.Option(None, help="JSON file overriding config fields (see docs/TRAINING.md)."),
        max_steps: Optional[int] = typer.Option(None, help="Training steps (overrides the config)."),
        batch_size: Optional[int] = typer.Option(None, help="Batch size per device."),
        lr: Optional[float] = typer.Option(None, help="Learning rate."),
        width: Optional[int] = typer.Option(None, help="Transformer width (d_model)."),
        layers: Optional[int] = typer.Option(None, help="Transformer blocks."),
        loss_strategy: Optional[str] = typer.Option(None, help="fixed | aligned-mtl | nash-mtl | upgrad."),
        accelerator: str = typer.Option("cpu", help="cpu, gpu (cuda), mps or auto."),
        devices: str = typer.Option("1", help="Devices per node (e.g. 2, or 'auto')."),
        strategy: str = typer.Option("auto", help="Lightning strategy, e.g. ddp."),
        num_nodes: int = typer.Option(1, help="Nodes (multi-node DDP)."),
        precision: Optional[str] = typer.Option(None, help="e.g. bf16-mixed on GPU."),
        resume: bool = typer.Option(False, help="Continue from OUT/last.ckpt."),
        init: Optional[str] = typer.Option(None, help="Start from an exported generator's weights: a file or a bundled "
                                                      "name (e.g. dance3d-latent)."),
        seed: Optional[int] = typer.Option(None, help="Random seed."),
        ae: Optional[Path] = typer.Option(None, help="Train a latent generator: diffusion over the latents of this "
                                                     "motion autoencoder (from `choreogen train-ae`); with --init "
                                                     "LATENT_CHECKPOINT, that checkpoint's own autoencoder is used."),
    ) -> None:
        """Train a generator on prepared windows; writes OUT/model.safetensors (self-describing)."""
        from dataclasses import replace

        from ..device import check_accelerator
        from ..errors import ConfigError
        from ..tasks.dance3d.config import GeneratorConfig
        from ..tasks.dance3d.train import train_generator

        accelerator, dev = check_accelerator(accelerator, devices)
        cfg = GeneratorConfig()
        if config is not None:
            try:
                cfg = GeneratorConfig.from_dict(json.loads(Path(config).read_text()))
            except (OSError, ValueError) as e:
                raise ConfigError(f"cannot read config {config}: {e}") from None
        tr = cfg.train
        tr = replace(tr, **{k: v for k, v in dict(max_steps=max_steps, batch_size=batch_size, lr=lr,
                                                   loss_strategy=loss_strategy, precision=precision, seed=seed).items()
                           if v is not None})
        md = replace(cfg.model, **{k: v for k, v in dict(d_model=width, n_layers=layers).items() if v is not None})
        cfg = replace(cfg, train=tr, model=md)
        if init is not None:
            from ..checkpoints import BUNDLED

            init = str(BUNDLED[init].path) if init in BUNDLED else init  # a bundled name -> its file
        if ae is None and init is not None:
            from ..tasks.dance3d.checkpoint import load_generator

            if load_generator(init).config.latent:
                ae = init  # continue a latent generator: its own autoencoder
        if ae is not None:
            from ..tasks.dance3d.latent_module import train_latent_generator

            if loss_strategy is not None or num_nodes != 1:
                raise ConfigError("--ae trains a latent generator on one node with its own loss; "
                                  "--loss-strategy and --num-nodes do not apply")
            path = train_latent_generator(data, ae, out, cfg, resume=resume, accelerator=accelerator, devices=dev,
                                          strategy=strategy, progress=True, init=init)
            typer.echo(f"model: {path}")
            return
        path = train_generator(data, out, cfg, accelerator=accelerator, devices=dev, strategy=strategy,
                               num_nodes=num_nodes, resume=resume, init=init)
        typer.echo(f"model: {path}")

    @app.command("train-ae")
    def train_ae_cmd(
        data: Path = typer.Argument(..., help="Prepared dataset folder (from `choreogen data prepare`)."),
        out: Path = typer.Option(..., "--out", "-o", help="Run folder: checkpoints, logs, ae.safetensors."),
        config: Optional[Path] = typer.Option(None, help="JSON: {\"ae\": {MotionAEConfig fields}, \"train\": {...}, "
                                                         "\"loss_weights\": {...}}."),
        max_steps: Optional[int] = typer.Option(None, help="Training steps (default 3000)."),
        resume: bool = typer.Option(False, help="Continue from OUT/last.ckpt."),
        accelerator: str = typer.Option("cpu", help="cpu, gpu (cuda), mps or auto."),
        devices: str = typer.Option("1", help="Devices (e.g. 1)."),
        init: Optional[Path] = typer.Option(None, help="Start from this autoencoder or latent generator's autoencoder "
                                                       "(a file or a bundled name, e.g. dance3d-latent)."),
        freeze_encoder: bool = typer.Option(False, help="With --init: train the decoder only, keeping the latent space "
                                                        "(then `choreogen replace-decoder` puts it into the generator)."),
    ) -> None:
        """Train the motion autoencoder of a latent generator; writes OUT/ae.safetensors (then `train --ae`)."""
        from ..device import check_accelerator
        from ..errors import ConfigError
        from ..tasks.dance3d.latent_ae import train_ae

        accelerator, dev = check_accelerator(accelerator, devices)
        cfg = {"ae": {}}
        if config is not None:
            try:
                cfg = json.loads(Path(config).read_text())
            except (OSError, ValueError) as e:
                raise ConfigError(f"cannot read config {config}: {e}") from None
        path = train_ae(data, out, cfg, max_steps=max_steps, resume=resume, progress=True, accelerator=accelerator,
                        devices=dev, init=str(init) if init is not None else None, freeze_encoder=freeze_encoder)
        typer.echo(f"autoencoder: {path}")

    @app.command("replace-decoder")
    def replace_decoder_cmd(
        generator: str = typer.Argument(..., help="Latent generator: a file or a bundled name (dance3d-latent)."),
        ae: Path = typer.Argument(..., help="Autoencoder from `train-ae --init GENERATOR --freeze-encoder`."),
        out: Path = typer.Option(..., "--out", "-o", help="The new generator file (fp16)."),
    ) -> None:
        """Put a fine-tuned decoder into a latent generator (same encoder, so its denoiser still fits)."""
        from ..tasks.dance3d.latent_ae import replace_decoder

        typer.echo(f"generator: {replace_decoder(generator, ae, out)}")
