"""Training of the flow diffusion model (stage 2): music + photo latent -> latent flow sequences.

Targets: the frozen LFAE's flow + occlusion from each synthetic clip's source photo to every frame
(:func:`extract_flows`, (T, 3, 16, 16) per clip, cached in ``OUT/flows.npz``), windows of 40 frames
(4 s at 10 fps) at random starts; also left-right mirrored (frames and photo flipped: flow x
negated and mirrored; the photo latent of the flipped photo). x0-prediction, MSE, cosine schedule
(1000 steps), the music replaced by the null embedding 15 % of the time (classifier-free guidance).
EMA of the weights (0.998) is what is exported.
"""
from __future__ import annotations

import copy
from pathlib import Path

import lightning as L
import numpy as np
import torch

from ...diffusion.schedule import NoiseSchedule
from ...models.flow_unet import FlowUNet, FlowUNetConfig
from ...training.runner import EpochDataset, RunConfig, adamw_warmup_cosine, fit, make_ema
from .checkpoint import FlowGen, load_lfae
from .data import FPS, MUSIC_KIND, load_split

WINDOW = 40


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a).transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


@torch.no_grad()
def extract_flows(lfae, split, batch: int = 64, max_clips: int | None = None, device: str = "cpu") -> dict:
    """Per clip with music and a source photo: flows (T, 3, 16, 16) float16, z (2, C, 16, 16)
    (photo, flipped photo) float32, music (T, Dm) float32. ``max_clips``: a seeded random subset."""
    out = {"flows": [], "z": [], "music": [], "names": []}
    order = np.arange(len(split.clips))
    if max_clips is not None and max_clips < len(order):
        order = np.sort(np.random.default_rng(16).permutation(order)[:max_clips])
    for c in order:
        pi = int(split.clips[c, 2])
        if pi < 0 or not split.has_music[c]:
            continue
        frames = split.clip(c)
        photo = _t(split.photos[pi:pi + 1]).to(device)
        fl = []
        for i in range(0, len(frames), batch):
            drv = _t(frames[i:i + batch]).to(device)
            f, o = lfae.flow(photo.expand(len(drv), -1, -1, -1), drv)
            fl.append(torch.cat([f, o], 1).cpu())
        out["flows"].append(torch.cat(fl).half().numpy())
        out["z"].append(lfae.encoder(torch.cat([photo, photo.flip(-1)])).cpu().numpy())
        out["music"].append(split.clip_music(c))
        out["names"].append(split.names[c])
    return out


def mirror(a: torch.Tensor) -> torch.Tensor:
    """(..., 3, h, w) flow + occlusion of the left-right mirrored video."""
    a = a.flip(-1).clone()
    a[..., 0, :, :] = -a[..., 0, :, :]
    return a


class FlowWindows(EpochDataset):
    """Random 40-frame windows: {"x0" (N, 3, h, w), "ref" (C, h, w), "music" (N, Dm)}, normalised."""

    def __init__(self, data: dict, stats: dict, n: int, seed: int = 0, fixed: bool = False, window: int = WINDOW):
        self.d, self.s, self.n, self.seed, self.fixed, self.window = data, stats, n, seed, fixed, window
        self.keep = [i for i, f in enumerate(data["flows"]) if len(f) >= window]

    def __getitem__(self, i):
        rng = self.rng(i)
        c = self.keep[int(rng.integers(len(self.keep)))]
        fl = self.d["flows"][c]
        s = int(rng.integers(len(fl) - self.window + 1))
        x = torch.from_numpy(fl[s:s + self.window].astype(np.float32))
        flip = bool(rng.random() < 0.5)
        if flip:
            x = mirror(x)
        x = (x - self.s["flow_mean"][:, None, None]) / self.s["flow_std"][:, None, None]
        m = (torch.from_numpy(self.d["music"][c][s:s + self.window]) - self.s["music_mean"]) / self.s["music_std"]
        return {"x0": x, "ref": torch.from_numpy(self.d["z"][c][int(flip)]), "music": m}


def compute_stats(data: dict) -> dict:
    fl = np.concatenate(data["flows"]).astype(np.float32)
    mu = np.concatenate(data["music"])
    return {"flow_mean": torch.tensor(fl.mean((0, 2, 3))), "flow_std": torch.tensor(fl.std((0, 2, 3)) + 1e-3),
            "music_mean": torch.tensor(mu.mean(0)), "music_std": torch.tensor(np.maximum(mu.std(0), 1e-2))}


class FlowModule(L.LightningModule):
    def __init__(self, model_cfg: dict, stats: dict, info: dict, lr: float = 5e-4, warmup: int = 200,
                 total_steps: int = 4000, p_uncond: float = 0.15, ema: float = 0.998):
        super().__init__()
        self.save_hyperparameters(ignore=["stats", "info"])
        self.model = FlowUNet(FlowUNetConfig.from_dict(model_cfg))
        self.ema = make_ema(self.model, ema)
        self.stats, self.info = stats, info
        self.schedule = NoiseSchedule(1000, "cosine")

    def _loss(self, batch, gen=None):
        x0 = batch["x0"]
        B = len(x0)
        t = torch.randint(0, self.schedule.num_steps, (B,), generator=gen).to(x0.device)
        noise = torch.randn(x0.shape, generator=gen).to(x0.device)
        xt = self.schedule.q_sample(x0, t, noise)
        drop = (torch.rand(B, generator=gen) < self.hparams.p_uncond).to(x0.device)
        pred = self.model(xt, t, batch["ref"], batch["music"], drop_cond=drop)
        return (pred - x0).pow(2).mean()

    def training_step(self, batch, i):
        loss = self._loss(batch)
        self.log("train/loss", loss)
        return loss

    def on_train_batch_end(self, *a):
        self.ema.update_parameters(self.model)

    def validation_step(self, batch, i):
        with torch.no_grad():
            self.log("val/loss", self._loss(batch, torch.Generator().manual_seed(i)))

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_warmup_cosine(self.model.parameters(), hp.lr, 1e-4, hp.warmup, hp.total_steps, 0.1)

    def flowgen(self) -> FlowGen:
        m = copy.deepcopy(self.ema.module).eval()
        return FlowGen(m, self.stats, dict(self.info))


def _cached_flows(lfae, path: Path, split_path: Path, max_clips: int | None = None, device: str = "cpu") -> dict:
    if path.is_file():
        d = np.load(path, allow_pickle=False)
        idx = np.cumsum([0] + list(d["lengths"]))
        return {"flows": [d["flows"][a:b] for a, b in zip(idx[:-1], idx[1:])], "z": list(d["z"]),
                "music": [d["music"][a:b] for a, b in zip(idx[:-1], idx[1:])], "names": list(d["names"])}
    data = extract_flows(lfae.to(device), load_split(split_path), max_clips=max_clips, device=device)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, flows=np.concatenate(data["flows"]), z=np.stack(data["z"]), music=np.concatenate(data["music"]),
             lengths=np.array([len(f) for f in data["flows"]]), names=np.array(data["names"]))
    return data


def train_flow(data_dir, lfae_path, out_dir, steps: int = 4000, minutes: float | None = None, batch: int = 4,
               model_cfg: dict | None = None, export=None, max_clips: int | None = None, run_kw: dict | None = None,
               workers: int = 0, extra: tuple[str, ...] = ()) -> L.Trainer:
    """``run_kw``: extra :class:`RunConfig` fields (accelerator, devices, precision, ...). ``extra``: more
    training splits of ``data_dir`` (e.g. ``"train_gen.npz"``, the generator-driven clips), all of their clips."""
    d, out = Path(data_dir), Path(out_dir)
    lfae, lfae_info = load_lfae(lfae_path)
    dev = "cuda" if (run_kw or {}).get("accelerator") == "gpu" else "cpu"
    train = _cached_flows(lfae, out / "flows_train.npz", d / "train.npz", max_clips, dev)
    for name in extra:
        more = _cached_flows(lfae, out / f"flows_{Path(name).stem}.npz", d / name, None, dev)
        train = {k: list(train[k]) + list(more[k]) for k in train}
    val = _cached_flows(lfae, out / "flows_val.npz", d / "val.npz", 12, dev)
    lfae.to("cpu")
    stats = compute_stats(train)
    cfg = model_cfg or FlowUNetConfig(latent_channels=lfae.cfg.latent_channels,
                                      music_dim=int(stats["music_mean"].numel()), frames=WINDOW).to_dict()
    info = {"window": WINDOW, "fps": FPS, "music_kind": MUSIC_KIND, "num_steps": 1000, "schedule": "cosine",
            "sample_steps": 25, "guidance": 2.0, "lfae": {"config": lfae.cfg.to_dict(), "steps": lfae_info.get("steps")},
            "train_clips": len(train["flows"])}
    module = FlowModule(cfg, stats, info, total_steps=steps)
    dl = torch.utils.data.DataLoader(FlowWindows(train, stats, n=batch * 500), batch_size=batch, num_workers=workers)
    vl = torch.utils.data.DataLoader(FlowWindows(val, stats, n=batch * 10, seed=1, fixed=True), batch_size=batch)
    run = RunConfig(**dict(dict(max_steps=steps, ckpt_every=250, val_every=500, limit_val_batches=10, log_every=25,
                                max_minutes=minutes, grad_clip=1.0), **(run_kw or {})))
    return fit(module, dl, vl, out, run, export=export)
