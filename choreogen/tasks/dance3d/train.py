"""Training entry point for the dance generator (used by ``choreogen train``).

CPU by default; ``accelerator="gpu", devices=N, strategy="ddp"`` (and ``num_nodes``) scale out with
Lightning. Every ``ckpt_every`` steps a resumable Lightning checkpoint (``last.ckpt``, tensors and
plain types only, so it loads with ``weights_only=True``) and an exported safetensors generator
(``model.safetensors``, EMA weights + config + normaliser) are written into ``out_dir``; killing the
run loses at most one interval, and ``resume=True`` continues from ``last.ckpt``.
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import lightning as L
import torch

from ...errors import ConfigError, InputError
from ...training.runner import RunConfig, fit
from .checkpoint import save_generator
from .config import GeneratorConfig
from .module import DanceDiffusionModule

HAND_WEIGHT = 2.0  # weight of the hand-aware loss term (finger joints relative to the wrists) for smplh52 data


def _fill_genre_text(module, genres: list[str], dim: int) -> None:
    """Rows of the denoiser's genre table = embeddings of "This is a {Genre} type of music." (GCDance)."""
    from ...text.encoder import genre_embedding, load_encoder
    from ...text.prompts import load_prompt_set

    enc = load_encoder()
    if enc.dim != dim:
        raise ConfigError(f"model.text_dim is {dim} but the sentence encoder {enc.name} gives {enc.dim}-D embeddings")
    ps = load_prompt_set()
    table = torch.zeros(len(genres) + 1, dim)
    for i, g in enumerate(genres):
        table[i] = torch.as_tensor(genre_embedding(ps.display_name(g), enc))
    for m in (module.model, module.ema.module):
        m.genre_text.copy_(table)


def fit_normalizer(dataset, batch: int = 256, mirror_skeleton=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Min/max per feature over every training window (after recentring), streamed.

    ``mirror_skeleton``: also cover the windows' left/right mirror images (mirror augmentation),
    so augmented windows stay inside [-1, 1] after normalisation."""
    from ...motion.representation import mirror_features

    lo = hi = None
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=False)
    for b in loader:
        x = b["motion"].float()
        if mirror_skeleton is not None:
            x = torch.cat([x, mirror_features(x, mirror_skeleton)], dim=0)
        x = x.reshape(-1, x.shape[-1])
        mn, mx = x.min(0).values, x.max(0).values
        lo = mn if lo is None else torch.minimum(lo, mn)
        hi = mx if hi is None else torch.maximum(hi, mx)
    return lo.float(), hi.float()


def _exporter(out: Path, data_summary: dict):
    """export(trainer, module): the EMA generator as an envelope in OUT/model.safetensors."""
    t0 = time.time()

    def export(trainer, module: DanceDiffusionModule) -> None:
        prov = {
            "steps": int(trainer.global_step),
            "train_seconds": round(time.time() - t0, 1),
            "hardware": f"{platform.processor() or platform.machine()} x{os.cpu_count()} "
                        f"{'cuda:' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu'}",
            "torch": torch.__version__,
            "date": time.strftime("%Y-%m-%d"),
            "val": {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")},
        }
        save_generator(out / "model.safetensors", module.ema.module, module.cfg, module.normalizer,
                       data=data_summary, provenance=prov)

    return export


def train_generator(
    data_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    config: GeneratorConfig | None = None,
    accelerator: str = "cpu",
    devices: int | str = 1,
    strategy: str = "auto",
    num_nodes: int = 1,
    resume: bool = False,
    max_steps: int | None = None,
    progress: bool = True,
    limit_val_batches: int | float = 20,
    init: str | os.PathLike | None = None,
) -> Path:
    """Train on prepared windows (``choreogen data prepare``); returns the exported model path.

    ``init``: start from the weights (and normaliser) of an exported generator checkpoint, e.g. to
    continue training the bundled model; its architecture and feature settings are used.
    """
    from ...data.windows import PreparedWindows, load_manifest
    from ...device import check_accelerator

    accelerator, devices = check_accelerator(accelerator, devices)
    data_dir, out = Path(data_dir), Path(out_dir)
    if not (data_dir / "manifest.json").exists():
        raise InputError("not a prepared dataset (no manifest.json); run `choreogen data prepare` first", data_dir)
    manifest = load_manifest(data_dir)
    cfg = config or GeneratorConfig()
    init_gen = None
    if init is not None:
        from .checkpoint import load_generator

        init_gen = load_generator(init)
        # the init's architecture and sampling defaults; the training-only genre dropout from the given config
        cfg = replace(cfg, model=init_gen.config.model,
                      diffusion=replace(init_gen.config.diffusion, genre_drop=cfg.diffusion.genre_drop))
    if max_steps is not None:
        cfg = replace(cfg, train=replace(cfg.train, max_steps=int(max_steps)))
    win = int(manifest.get("window_frames", cfg.window))
    if win % cfg.model.patch:
        raise ConfigError(f"window of {win} frames is not a multiple of the patch size {cfg.model.patch}")
    train_ds = PreparedWindows(data_dir, split="train", recentre=True)
    val_ds = PreparedWindows(data_dir, split="val", recentre=True)
    if len(train_ds) == 0:
        raise InputError("prepared dataset has no training windows", data_dir)
    sample = train_ds[0]
    genres = list(manifest.get("genres", []))
    skeleton = manifest.get("skeleton", cfg.skeleton)
    if skeleton == "smplh52":  # GCDance/FineNet: body and hand expert decoders, and the hand-aware loss term
        cfg = replace(cfg, model=replace(cfg.model, hand_dim=cfg.model.hand_dim or 30 * 6),
                      train=replace(cfg.train, loss_weights={"hand": HAND_WEIGHT, **cfg.train.loss_weights}))
    cfg = replace(
        cfg, window=win, fps=float(manifest.get("fps", cfg.fps)), skeleton=skeleton,
        music_features=manifest.get("features", manifest.get("feature_kind", cfg.music_features)), genres=genres,
        model=replace(cfg.model, motion_dim=int(sample["motion"].shape[-1]), music_dim=int(sample["music"].shape[-1]),
                      n_genres=len(genres)),
    )
    out.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.train.seed, workers=True)
    ckpt_last = out / "last.ckpt"
    if resume and ckpt_last.exists():
        module = DanceDiffusionModule(cfg.to_dict())
    elif init_gen is not None:
        from .widen import widen_music_input, widens

        wider = widens(init_gen.config.music_features, cfg.music_features)  # e.g. fast35 -> fast35+rhythm
        if (init_gen.config.music_features != cfg.music_features and not wider) or init_gen.config.skeleton != cfg.skeleton:
            raise ConfigError(f"--init checkpoint uses {init_gen.config.music_features}/{init_gen.config.skeleton}, "
                              f"the prepared data {cfg.music_features}/{cfg.skeleton}")
        module = DanceDiffusionModule(cfg.to_dict(), torch.as_tensor(init_gen.normalizer.lo), torch.as_tensor(init_gen.normalizer.hi))
        state = init_gen.model.state_dict()
        if wider:  # new music columns start with zero weights: the same function as the init model
            state = widen_music_input(state, init_gen.config.model.music_dim, cfg.model.music_dim, cfg.model.patch)
        module.model.load_state_dict(state)
        module.ema.module.load_state_dict(state)
    else:
        from ...motion.skeleton import get_skeleton

        lo, hi = fit_normalizer(train_ds, mirror_skeleton=get_skeleton(cfg.skeleton) if cfg.train.mirror_prob > 0 else None)
        module = DanceDiffusionModule(cfg.to_dict(), lo, hi)
    if cfg.model.text_dim and not (resume and ckpt_last.exists()):
        _fill_genre_text(module, genres, cfg.model.text_dim)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    data_summary = {
        "dataset": manifest.get("dataset"), "root": str(manifest.get("root", "")),
        "prepared": str(data_dir.resolve()),
        "train_windows": len(train_ds), "val_windows": len(val_ds),
        "sequences": {s["name"]: s.get("split") for s in manifest.get("sequences", [])},
        "window_frames": win, "stride_frames": manifest.get("stride_frames"), "features": cfg.music_features,
    }
    dl_kw = dict(batch_size=cfg.train.batch_size, num_workers=cfg.train.num_workers, drop_last=True,
                 persistent_workers=cfg.train.num_workers > 0)
    train_dl = torch.utils.data.DataLoader(train_ds, shuffle=True, **dl_kw)
    val_dl = torch.utils.data.DataLoader(val_ds, batch_size=cfg.train.batch_size, shuffle=False) if len(val_ds) else None
    run = RunConfig(max_steps=cfg.train.max_steps, ckpt_every=cfg.train.ckpt_every, val_every=cfg.train.val_every,
                    limit_val_batches=limit_val_batches, precision=cfg.train.precision, grad_clip=cfg.train.grad_clip,
                    accelerator=accelerator, devices=devices, strategy=strategy, num_nodes=num_nodes, progress=progress)
    fit(module, train_dl, val_dl, out, run, resume=resume, export=_exporter(out, data_summary))
    return out / "model.safetensors"
