"""Stage 2 of the latent generator: music-conditioned diffusion over motion-autoencoder latents.

Every training window (150 frames, 30 fps; and its left/right mirror image) is encoded once by the
frozen autoencoder (:mod:`.latent_ae`) into (N = 150 / factor, C) latent means, standardised per
channel (``latent_normalizer``). The music of a window (150, Da) is stacked to the latent rate,
(N, factor * Da), so each latent token sees the exact frame-level beat and onset columns of its
frames. The denoiser is :class:`~choreogen.models.denoiser.DanceDenoiser` unchanged (motion_dim = C,
patch 1): x0 prediction, cosine schedule, classifier-free guidance (music + genre dropped together),
Min-SNR-gamma weighting. The exported checkpoint is a "dance3d" envelope whose config has ``ae``
set and which carries the autoencoder (see :mod:`.checkpoint`): one file generates.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import lightning as L
import torch

from ...diffusion.schedule import NoiseSchedule
from ...errors import ConfigError, InputError
from ...models.denoiser import DanceDenoiser
from ...motion.representation import Normalizer, decode, mirror_features, root_from_velocity, root_to_velocity
from ...motion.skeleton import get_skeleton
from ...training.runner import RunConfig, adamw_warmup_cosine, fit, make_ema
from .checkpoint import save_generator
from .config import GeneratorConfig
from .latent_ae import load_ae, rms_speeds, standardiser
from .module import drop_genre


def stack_music(music: torch.Tensor, factor: int) -> torch.Tensor:
    """(B, T, Da) frame features -> (B, T / factor, factor * Da) latent-rate tokens."""
    B, T, D = music.shape
    return music.reshape(B, T // factor, factor * D)


@torch.no_grad()
def encode_windows(ae, norm: Normalizer, motion: torch.Tensor, fps: float, batch: int = 256) -> torch.Tensor:
    """(K, T, D) recentred EDGE features -> (K, T / factor, C) latent means (un-standardised)."""
    out = [ae.encode(norm.normalize(root_to_velocity(motion[i:i + batch].float(), fps)))
           for i in range(0, len(motion), batch)]
    return torch.cat(out)


KINETIC_SIGMA = 3.0  # frames: the low-pass of the kinetic loss's speeds (the bundled generation smoothing)


def gaussian_lowpass(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """(B, T, D) -> (B, T, D) Gaussian-filtered along T (sigma in frames, edges replicated); differentiable."""
    r = int(3 * sigma)
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, device=x.device, dtype=x.dtype) / sigma) ** 2)
    k = (k / k.sum()).view(1, 1, -1)
    B, T, D = x.shape
    y = torch.nn.functional.pad(x.permute(0, 2, 1).reshape(B * D, 1, T), (r, r), mode="replicate")
    return torch.nn.functional.conv1d(y, k).reshape(B, D, T).permute(0, 2, 1)


class LatentWindows(torch.utils.data.Dataset):
    """Precomputed (latent, music, genre) windows; items are dicts like PreparedWindows'."""

    def __init__(self, latent: torch.Tensor, music: torch.Tensor, genre: torch.Tensor):
        self.latent, self.music, self.genre = latent, music, genre

    def __len__(self) -> int:
        return len(self.latent)

    def __getitem__(self, i: int) -> dict:
        return {"latent": self.latent[i], "music": self.music[i], "genre": self.genre[i]}


def build_latent_windows(ds, ae, norm: Normalizer, skeleton, fps: float, factor: int, mirror: bool) -> dict:
    """A PreparedWindows split -> dict(latent (K', N, C), music (K', N, factor*Da), genre (K',)), K' = 2K with mirror."""
    lat, mus, gen = [], [], []
    loader = torch.utils.data.DataLoader(ds, batch_size=256, shuffle=False)
    for b in loader:
        m = b["motion"].float()
        variants = [m, mirror_features(m, skeleton)] if mirror else [m]
        for v in variants:
            lat.append(encode_windows(ae, norm, v, fps))
            mus.append(stack_music(b["music"].float(), factor))
            gen.append(b["genre"])
    return {"latent": torch.cat(lat), "music": torch.cat(mus), "genre": torch.cat(gen)}


def _sha(path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _save_cache(path: Path, key: str, tr: dict, va: dict | None, norm: Normalizer) -> None:
    from safetensors.torch import save_file

    from ...fileio import atomic_path

    t = {f"train.{k}": v.contiguous() for k, v in tr.items()}
    if va is not None:
        t.update({f"val.{k}": v.contiguous() for k, v in va.items()})
    t["norm.lo"], t["norm.hi"] = torch.as_tensor(norm.lo), torch.as_tensor(norm.hi)
    with atomic_path(path) as tmp:
        save_file(t, str(tmp), metadata={"key": key})


def _load_cache(path: Path, key: str):
    """(train, val, latent normaliser) from a cache written for the same ``key``, else (None, None, None)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    if not path.exists():
        return None, None, None
    with safe_open(str(path), "pt") as f:
        if (f.metadata() or {}).get("key") != key:
            return None, None, None
    t = load_file(str(path))
    tr = {k[6:]: v for k, v in t.items() if k.startswith("train.")}
    va = {k[4:]: v for k, v in t.items() if k.startswith("val.")} or None
    return tr, va, Normalizer(t["norm.lo"].numpy(), t["norm.hi"].numpy())


def _to_text_film(state: dict, model: DanceDenoiser) -> dict:
    """A genre-index denoiser's weights for the same denoiser with genre-sentence FiLM (``text_dim``): the
    learned genre embedding is replaced by the text projection, started at the mean genre embedding (zero
    last-layer weights, bias = the mean of the genre rows), so training starts from the init's function
    for an average genre."""
    if "genre_emb.weight" not in state:
        raise ConfigError("--init: only a genre-index model can be continued with model.text_dim")
    out = {k: v for k, v in state.items() if k != "genre_emb.weight"}
    own = model.state_dict()
    for k in own:
        if k.startswith("text_proj.") or k == "genre_text":
            out[k] = own[k].clone()
    last = max(int(k.split(".")[1]) for k in own if k.startswith("text_proj.") and k.endswith(".weight"))
    out[f"text_proj.{last}.weight"] = torch.zeros_like(own[f"text_proj.{last}.weight"])
    out[f"text_proj.{last}.bias"] = state["genre_emb.weight"][:-1].float().mean(0).to(own[f"text_proj.{last}.bias"].dtype)
    return out


class LatentDiffusionModule(L.LightningModule):
    """Batches: dict(latent (B, N, C) standardised, music (B, N, factor*Da), genre (B,) long)."""

    def __init__(self, config: dict):
        super().__init__()
        self.save_hyperparameters({"config": config})
        self.cfg = GeneratorConfig.from_dict(config)
        self.model = DanceDenoiser(self.cfg.model)
        self.ema = make_ema(self.model, self.cfg.train.ema_decay)
        self.schedule = NoiseSchedule(self.cfg.diffusion.num_steps, self.cfg.diffusion.schedule)
        self._decoder: dict = {}  # the frozen autoencoder for the kinetic loss (kept out of the state dict)

    def attach_decoder(self, ae, motion_norm: Normalizer, latent_norm: Normalizer, skeleton, fps: float) -> None:
        """The frozen autoencoder that decodes latents for ``train.kinetic_weight`` (not trained, not saved)."""
        for p in ae.parameters():
            p.requires_grad_(False)
        self._decoder = {"ae": ae.eval(), "mnorm": motion_norm, "lnorm": latent_norm, "skeleton": skeleton, "fps": fps}

    def on_fit_start(self):
        if self._decoder:
            self._decoder["ae"].to(self.device)

    def kinetic_stats(self, latent: torch.Tensor) -> torch.Tensor:
        """(B, N, C) standardised latents -> (B, J, 3) per joint of the decoded window (30 fps frames): RMS
        horizontal and vertical speed (m/s) of the trajectory low-passed by a Gaussian of ``KINETIC_SIGMA``
        frames (the band the generation smoothing keeps: energy added as jitter is not rewarded), and RMS
        acceleration of the unfiltered trajectory / 10 (m/s^2 / 10: extra jitter costs). Differentiable
        through the frozen decoder."""
        d = self._decoder
        rec = root_from_velocity(d["mnorm"].denormalize(d["ae"].decode(d["lnorm"].denormalize(latent))), d["fps"])
        j = decode(rec, d["skeleton"])["joints"]  # (B, T, J, 3) metres
        B, T, J, _ = j.shape
        low = gaussian_lowpass(j.reshape(B, T, J * 3), KINETIC_SIGMA).reshape(B, T, J, 3)
        v = (low[:, 1:] - low[:, :-1]) * d["fps"]
        a = (j[:, 2:] - 2 * j[:, 1:-1] + j[:, :-2]) * d["fps"] ** 2
        acc = (a ** 2).sum(-1).mean(1).clamp(min=1e-8).sqrt() / 10.0
        return torch.cat([rms_speeds(v), acc[..., None]], -1)

    def _kinetic(self, pred, x0, t) -> torch.Tensor:
        """Per-sample MSE of :meth:`kinetic_stats` of the x0 prediction vs the target, times alpha_bar(t)
        (the signal share: a noisy-input prediction is not pushed away from the posterior mean)."""
        with torch.no_grad():
            target = self.kinetic_stats(x0)
        err = ((self.kinetic_stats(pred) - target) ** 2).mean(dim=(1, 2))
        return err * self.schedule.alpha_bar.to(x0.device)[t]

    def _loss(self, model, batch, generator=None) -> torch.Tensor:
        x0 = batch["latent"].float()
        B = x0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (B,), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        x_t = self.schedule.q_sample(x0, t, noise)
        drop = torch.rand(B, device=x0.device, generator=generator) < self.cfg.diffusion.cond_drop
        genre = drop_genre(batch.get("genre"), self.cfg.diffusion.genre_drop, generator)
        pred = model(x_t, t, music=batch["music"].float(), genre=genre, drop_cond=drop)
        err = ((pred - x0) ** 2).mean(dim=(1, 2))
        gamma = self.cfg.train.min_snr_gamma
        if gamma > 0:
            ab = self.schedule.alpha_bar.to(x0.device)[t]
            err = err * torch.clamp(ab / (1 - ab), max=gamma) / gamma
        w = self.cfg.train.kinetic_weight
        if w > 0:
            if not self._decoder:
                raise ConfigError("train.kinetic_weight needs the autoencoder: call attach_decoder first")
            k = max(1, B // 4)  # decoding costs ~2x a denoiser step per sample: a quarter of the (shuffled) batch
            err = torch.cat([err[:k] + w * self._kinetic(pred[:k], x0[:k], t[:k]), err[k:]])
        return err.mean()

    def training_step(self, batch, batch_idx):
        loss = self._loss(self.model, batch)
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=batch["latent"].shape[0])
        return loss

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema.update_parameters(self.model)

    def validation_step(self, batch, batch_idx):
        g = torch.Generator(device=batch["latent"].device).manual_seed(1234 + batch_idx)
        self.log("val/loss", self._loss(self.ema.module, batch, g), prog_bar=True, sync_dist=True,
                 batch_size=batch["latent"].shape[0])

    def configure_optimizers(self):
        tc = self.cfg.train
        return adamw_warmup_cosine(self.model.parameters(), tc.lr, tc.weight_decay, tc.warmup_steps, tc.max_steps, 0.1)


def train_latent_generator(data_dir, ae_path, out_dir, config: GeneratorConfig | None = None, max_steps: int | None = None,
                           resume: bool = False, progress: bool = False, accelerator: str = "cpu", devices=1,
                           strategy: str = "auto", init=None) -> Path:
    """Prepared windows + a trained autoencoder -> OUT/model.safetensors (a latent "dance3d" generator).

    ``init``: a latent generator checkpoint (e.g. the committed milestone) to continue from on a new machine:
    its autoencoder (``ae_path`` may then be None), denoiser architecture and weights are used."""
    from ...data.windows import PreparedWindows, load_manifest

    data_dir, out = Path(data_dir), Path(out_dir)
    manifest = load_manifest(data_dir)
    init_gen = None
    if init is not None:
        from .checkpoint import load_generator

        init_gen = load_generator(init)
        if not init_gen.config.latent:
            raise ConfigError("--init for a latent generator must be a latent generator checkpoint")
        ae, ae_norm, ae_cfg = init_gen.ae, init_gen.normalizer, {"skeleton": init_gen.config.skeleton}
        ae_path = init
        cfg0 = config or GeneratorConfig()
        # the init's architecture and sampling defaults; the training-only genre dropout from the given config
        # (and model.text_dim: a genre-index model can be continued as a genre-sentence FiLM model)
        config = replace(cfg0, model=replace(init_gen.config.model, text_dim=cfg0.model.text_dim or init_gen.config.model.text_dim),
                         diffusion=replace(init_gen.config.diffusion, genre_drop=cfg0.diffusion.genre_drop))
    else:
        ae, ae_norm, ae_cfg = load_ae(ae_path)
    factor = ae.cfg.factor
    cfg = config or GeneratorConfig()
    if max_steps is not None:
        cfg = replace(cfg, train=replace(cfg.train, max_steps=int(max_steps)))
    win = int(manifest.get("window_frames", cfg.window))
    if win % factor:
        raise ConfigError(f"window of {win} frames is not a multiple of the autoencoder factor {factor}")
    train_ds = PreparedWindows(data_dir, split="train", recentre=True)
    val_ds = PreparedWindows(data_dir, split="val", recentre=True)
    if len(train_ds) == 0:
        raise InputError("prepared dataset has no training windows", data_dir)
    skeleton, fps = manifest.get("skeleton", "smpl24"), float(manifest.get("fps", 30.0))
    if ae_cfg.get("skeleton", skeleton) != skeleton:
        raise ConfigError(f"autoencoder is for {ae_cfg.get('skeleton')}, the data is {skeleton}")
    genres = list(manifest.get("genres", []))
    music_dim = int(train_ds[0]["music"].shape[-1])
    cfg = replace(cfg, window=win, fps=fps, skeleton=skeleton, genres=genres, ae=ae.cfg.to_dict(),
                  music_features=manifest.get("features", manifest.get("feature_kind", cfg.music_features)),
                  model=replace(cfg.model, motion_dim=ae.cfg.latent_dim, music_dim=music_dim * factor, patch=1,
                                n_genres=len(genres)))
    skel = get_skeleton(skeleton)
    t0 = time.time()
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "latents.safetensors"  # encoded windows, reused by --resume (same autoencoder and data)
    key = f"{_sha(ae_path)}:{manifest.get('fingerprint', '')}:{cfg.train.mirror_prob > 0}"
    tr, va, lat_norm = _load_cache(cache, key) if resume else (None, None, None)
    if tr is None:
        tr = build_latent_windows(train_ds, ae, ae_norm, skel, fps, factor, mirror=cfg.train.mirror_prob > 0)
        va = build_latent_windows(val_ds, ae, ae_norm, skel, fps, factor, mirror=False) if len(val_ds) else None
        lat_norm = (init_gen.latent_normalizer if init_gen is not None  # keep the init model's latent scale
                    else standardiser(tr["latent"].reshape(-1, tr["latent"].shape[-1]), floor=1e-4))
        for d in (tr, va):
            if d is not None:
                d["latent"] = lat_norm.normalize(d["latent"])
        _save_cache(cache, key, tr, va, lat_norm)
    print(f"{len(tr['latent'])} training windows encoded in {time.time() - t0:.0f} s", flush=True)
    L.seed_everything(cfg.train.seed, workers=True)
    module = LatentDiffusionModule(cfg.to_dict())
    if cfg.train.kinetic_weight > 0:
        module.attach_decoder(ae, ae_norm, lat_norm, skel, fps)
    if init_gen is not None and not (resume and (out / "last.ckpt").exists()):
        if init_gen.config.model.music_dim != cfg.model.music_dim:
            raise ConfigError(f"--init checkpoint hears {init_gen.config.music_features}, the data {cfg.music_features}")
        state = init_gen.model.state_dict()
        if bool(init_gen.config.model.text_dim) != bool(cfg.model.text_dim):
            state = _to_text_film(state, module.model)
        module.model.load_state_dict(state)
        module.ema.module.load_state_dict(state)
    if cfg.model.text_dim and not (resume and (out / "last.ckpt").exists()):
        from .train import _fill_genre_text

        _fill_genre_text(module, genres, cfg.model.text_dim)
    bs = cfg.train.batch_size
    train_dl = torch.utils.data.DataLoader(LatentWindows(**tr), batch_size=bs, shuffle=True, drop_last=True)
    val_dl = torch.utils.data.DataLoader(LatentWindows(**va), batch_size=bs) if va is not None else None
    data_summary = {"dataset": manifest.get("dataset"), "prepared": str(data_dir.resolve()), "train_windows": len(train_ds),
                    "val_windows": len(val_ds), "window_frames": win, "features": cfg.music_features,
                    "sequences": {s["name"]: s.get("split") for s in manifest.get("sequences", [])},
                    "autoencoder": str(ae_path)}
    t1 = time.time()

    def export(trainer, m: LatentDiffusionModule) -> None:
        prov = {"steps": int(trainer.global_step), "train_seconds": round(time.time() - t1, 1),
                "hardware": f"{platform.processor() or platform.machine()} x{os.cpu_count()}",
                "torch": torch.__version__, "date": time.strftime("%Y-%m-%d"),
                "val": {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}}
        save_generator(out / "model.safetensors", m.ema.module, m.cfg, ae_norm, data=data_summary, provenance=prov,
                       ae=ae, latent_normalizer=lat_norm)

    tc = cfg.train
    run = RunConfig(max_steps=tc.max_steps, ckpt_every=tc.ckpt_every, val_every=tc.val_every, limit_val_batches=20,
                    precision=tc.precision, grad_clip=tc.grad_clip, accelerator=accelerator, devices=devices,
                    strategy=strategy, progress=progress)
    out.mkdir(parents=True, exist_ok=True)
    fit(module, train_dl, val_dl, out, run, resume=resume, export=export)
    return out / "model.safetensors"
