"""The one Lightning runner every model trains with.

A task supplies a LightningModule (its losses), data loaders and an ``export(trainer, module,
path)`` function that writes its checkpoint envelope; :func:`fit` does the rest:

* optimiser: AdamW with linear warm-up then cosine decay to ``floor`` x the peak rate, per step
  (:func:`adamw_warmup_cosine`, called from the module's ``configure_optimizers``);
* EMA of the weights (:func:`make_ema`; modules that keep one update it per batch);
* gradient clipping (automatic optimisation) and bf16 / DDP / multi-node through Lightning;
* safe resume: ``OUT/last.ckpt`` holds tensors and plain types only and is reloaded with
  ``torch.load(weights_only=True)`` (no code runs); killing a run loses at most ``ckpt_every`` steps;
* periodic validation (``val_every`` steps, ``limit_val_batches``) logged to ``OUT/logs`` (CSV);
* export of the model every ``ckpt_every`` steps and at the end (rank 0 only);
* an optional wall-clock budget (``max_minutes``) *per invocation* (a resumed run gets the whole
  budget again), after which the state is saved and the model exported as at any other stop.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, Timer

ExportFn = Callable[[L.Trainer, L.LightningModule], None]


@dataclass
class RunConfig:
    """How to run a training job (not what to train: that is the task's config)."""

    max_steps: int
    ckpt_every: int = 500
    val_every: int | None = 500
    limit_val_batches: int | float = 20
    log_every: int = 25
    precision: str = "32-true"
    grad_clip: float | None = None
    accelerator: str = "cpu"
    devices: int | str = 1
    strategy: str = "auto"
    num_nodes: int = 1
    max_minutes: float | None = None
    progress: bool = False


def warmup_cosine(warmup: int, total: int, floor: float) -> Callable[[int], float]:
    """LR multiplier: (step + 1) / warmup for the first ``warmup`` steps, then cosine from 1 to
    ``floor`` over the remaining ``total - warmup`` steps (constant ``floor`` afterwards)."""
    warmup = max(1, int(warmup))

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        prog = min(1.0, (step - warmup) / max(1, total - warmup))
        return floor + (1.0 - floor) * 0.5 * (1 + math.cos(math.pi * prog))

    return f


def adamw_warmup_cosine(params, lr: float, weight_decay: float, warmup: int, total: int, floor: float) -> dict:
    """``configure_optimizers`` return value: AdamW + per-step warm-up/cosine schedule."""
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(warmup, total, floor))
    return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


def make_ema(model: torch.nn.Module, decay: float) -> torch.nn.Module:
    """An exponential moving average of ``model``'s weights and buffers (never trained; DDP ignores it)."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
    ema.requires_grad_(False)
    return ema


class _Export(Callback):
    def __init__(self, export: ExportFn, every: int):
        self.export, self.every = export, every

    def _do(self, trainer, module):
        if trainer.global_rank == 0:
            self.export(trainer, module)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.global_step > 0 and trainer.global_step % self.every == 0:
            self._do(trainer, module)

    def on_train_end(self, trainer, module):
        self._do(trainer, module)


class _Budget(Timer):
    """Lightning's Timer for this invocation only: Trainer(max_time=...) restores the elapsed time of the
    earlier runs from the checkpoint, so "the same command again resumes" would stop at once."""

    def load_state_dict(self, state_dict) -> None:
        self._offset = 0


class EpochDataset(torch.utils.data.Dataset):
    """Base of the randomly drawn training sets: ``n`` items per epoch, item ``i`` of epoch ``e`` drawn
    with :meth:`rng` = ``default_rng((seed, e, i))`` (``fixed``: the same items every epoch, for
    validation). :func:`fit` calls :meth:`set_epoch` at every epoch start. Subclasses set ``n``,
    ``seed`` and ``fixed`` and implement ``__getitem__``."""

    n: int = 0
    seed: int = 0
    fixed: bool = False
    epoch: int = 0

    def set_epoch(self, e: int) -> None:
        self.epoch = e

    def __len__(self) -> int:
        return self.n

    def rng(self, i: int):
        import numpy as np

        return np.random.default_rng((self.seed, 0 if self.fixed else self.epoch, i))


class _SetEpoch(Callback):
    """Datasets with ``set_epoch(epoch)`` draw new random windows/damage each epoch."""

    def on_train_epoch_start(self, trainer, module):
        dl = trainer.train_dataloader
        ds = getattr(dl, "dataset", None)
        if ds is not None and hasattr(ds, "set_epoch"):
            ds.set_epoch(trainer.current_epoch)


def fit(module: L.LightningModule, train_loader, val_loader, out_dir: str | Path, run: RunConfig,
        resume: bool = True, export: ExportFn | None = None) -> L.Trainer:
    """Train ``module`` into ``out_dir`` (created) and return the Trainer; see the module doc.

    ``resume``: continue from ``OUT/last.ckpt`` when it exists. ``export`` is called on rank 0
    every ``run.ckpt_every`` steps and when training ends (also after ``max_minutes``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    callbacks: list[Callback] = [
        ModelCheckpoint(dirpath=out, filename="step{step}", every_n_train_steps=run.ckpt_every, save_last=True,
                        save_top_k=1, monitor=None, auto_insert_metric_name=False),
        _SetEpoch(),
    ]
    if export is not None:
        callbacks.append(_Export(export, run.ckpt_every))
    if run.max_minutes:
        callbacks.append(_Budget(duration={"minutes": run.max_minutes}, interval="step", verbose=True))
    has_val = val_loader is not None and run.val_every is not None and run.limit_val_batches != 0
    n_train = len(train_loader) if hasattr(train_loader, "__len__") else run.max_steps
    trainer = L.Trainer(
        accelerator=run.accelerator, devices=run.devices, strategy=run.strategy, num_nodes=run.num_nodes,
        precision=run.precision, max_steps=run.max_steps,
        gradient_clip_val=run.grad_clip if module.automatic_optimization else None,
        val_check_interval=min(run.val_every, max(1, n_train)) if has_val else None,
        check_val_every_n_epoch=None if has_val else 1,
        limit_val_batches=run.limit_val_batches if has_val else 0, callbacks=callbacks, default_root_dir=out,
        enable_progress_bar=run.progress, log_every_n_steps=max(1, min(run.log_every, run.max_steps // 4 or 1)),
        num_sanity_val_steps=0, logger=L.pytorch.loggers.CSVLogger(out, name="logs"), deterministic=False,
    )
    last = out / "last.ckpt"
    ckpt = str(last) if resume and last.exists() else None
    kw = {"weights_only": True} if "weights_only" in inspect.signature(L.Trainer.fit).parameters else {}
    trainer.fit(module, train_loader, val_loader if has_val else None, ckpt_path=ckpt, **kw)
    trainer.save_checkpoint(last)  # the exact final state (also after a max_minutes stop); rank 0 writes
    return trainer


def predict(module: L.LightningModule, loader, run: RunConfig) -> list:
    """Run ``module.predict_step`` over ``loader`` with Lightning (the inference side of the runner):
    ``run.devices`` processes (``run.strategy``, e.g. ``"ddp_spawn"`` with the gloo backend on CPUs)
    each take a disjoint share of the batches (Lightning's distributed sampler; with uneven shares a
    few items run twice). Returns the predictions (a list per batch) when one process ran them; with
    spawning strategies none come back (the module's ``predict_step`` writes its results itself)."""
    trainer = L.Trainer(accelerator=run.accelerator, devices=run.devices, strategy=run.strategy,
                        num_nodes=run.num_nodes, precision=run.precision, logger=False,
                        enable_progress_bar=run.progress, enable_checkpointing=False, enable_model_summary=False)
    spawn = "spawn" in str(run.strategy) or "fork" in str(run.strategy)
    out = trainer.predict(module, loader, return_predictions=not spawn)
    return list(out) if out is not None else []
