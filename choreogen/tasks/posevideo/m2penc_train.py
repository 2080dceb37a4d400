"""Stage 1 of M2PEnc (paper section 3.4): pretrain the encoder on the synthetic pose set.

Windows of ``window`` frames (15 fps) are cut at random from the sequences of an SDGPip set
(:mod:`.sdgpip`), sequences drawn in proportion to their length; half of them are mirrored
left-right (keypoints flipped about the canonical frame's centre, left/right joints swapped; the
music is unchanged). Targets are rendered per batch with :func:`choreogen.video.guidance.render_torch`
(17 heatmaps, 10 part maps at 64 x 64 from the canonical 256-px frame). Loss (the paper's two):
``L_guid`` = mean |f - f_hat| over the part maps, ``L_heat`` = mean squared error of the heatmaps,
``L_kp`` = mean |k - k_hat| (map pixels) of the heatmaps' integral-regression keypoints
(:func:`~choreogen.models.m2penc.integral_keypoints`; it gives the peaks' positions a direct gradient,
which the per-pixel losses only give weakly), ``L_energy`` = mean over windows and joints of
| mean_t |k_hat(t+1) - k_hat(t)| - mean_t |k(t+1) - k(t)| | (map pixels per frame) of those keypoints:
how much each joint moves, not where (a deterministic encoder trained on positions alone regresses to
the mean pose and barely moves), ``loss = L_guid + heat_w * L_heat + kp_w * L_kp + energy_w * L_energy``.
The genre is dropped (set to "unknown") for ``genre_drop`` of the
windows so untagged songs work. An EMA of the weights (``ema``) is what gets exported. Validation also
reports ``kp_px``: the mean distance (canonical pixels) of the decoded keypoints to the targets.
Run through :func:`choreogen.training.runner.fit` (resumable ``last.ckpt``, wall-clock budget).
"""
from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch

from ...models.m2penc import M2PEnc, M2PEncConfig, decode_keypoints, integral_keypoints
from ...training.runner import EpochDataset, RunConfig, adamw_warmup_cosine, fit, make_ema
from ...video.guidance import render_torch
from . import m2penc as M
from . import sdgpip

FLIP = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]


def genre_vocab(sets: list[sdgpip.PoseSet]) -> list[str]:
    return sorted({str(g) for s in sets for g in s.genres if str(g)})


class WindowSet(EpochDataset):
    """Random windows: dict music (N, Dm) standardised, genre () long, keypoints (N, 17, 2) canonical px."""

    def __init__(self, ps: sdgpip.PoseSet, genres: list[str], stats: dict, window: int = 48, n: int = 4000,
                 seed: int = 0, flip: bool = True, genre_drop: float = 0.2, fixed: bool = False):
        self.ps, self.window, self.n, self.seed, self.flip, self.genre_drop, self.fixed = ps, window, n, seed, flip, genre_drop, fixed
        self.gidx = [genres.index(str(g)) if str(g) in genres else len(genres) for g in ps.genres]
        self.unknown = len(genres)
        lens = np.maximum(ps.seqs[:, 1] - window, 0).astype(np.float64) + 1
        self.p = lens / lens.sum()
        self.mean, self.std = stats["music_mean"].numpy(), stats["music_std"].numpy()

    def __getitem__(self, i):
        rng = self.rng(i)
        q = int(rng.choice(len(self.p), p=self.p))
        k, m = self.ps.sequence(q)
        s = int(rng.integers(0, max(1, len(k) - self.window) + 1))
        k, m = k[s:s + self.window].copy(), m[s:s + self.window]
        if len(k) < self.window:  # pad short sequences by repeating the last frame
            pad = self.window - len(k)
            k, m = np.concatenate([k, np.repeat(k[-1:], pad, 0)]), np.concatenate([m, np.repeat(m[-1:], pad, 0)])
        if self.flip and rng.random() < 0.5:
            k = k[:, FLIP]
            k[..., 0] = sdgpip.CANON - k[..., 0]
        g = self.gidx[q] if rng.random() >= self.genre_drop else self.unknown
        return {"music": torch.from_numpy(((m - self.mean) / self.std).astype(np.float32)),
                "genre": torch.tensor(g), "keypoints": torch.from_numpy(k.astype(np.float32))}


def music_stats(ps: sdgpip.PoseSet) -> dict:
    m = ps.music.astype(np.float64)
    return {"music_mean": torch.tensor(m.mean(0), dtype=torch.float32),
            "music_std": torch.tensor(np.maximum(m.std(0), 1e-3), dtype=torch.float32)}


class M2PEncModule(L.LightningModule):
    def __init__(self, model_cfg: dict, lr: float = 2e-3, warmup: int = 200, total_steps: int = 4000,
                 heat_w: float = 20.0, kp_w: float = 0.1, ema: float = 0.995, energy_w: float = 0.0):
        super().__init__()
        self.save_hyperparameters()
        self.model = M2PEnc(M2PEncConfig.from_dict(model_cfg))
        self.ema = make_ema(self.model, ema)

    def _losses(self, batch, model) -> dict:
        k = batch["keypoints"]
        c = torch.ones(k.shape[:-1], device=k.device)
        res = model.cfg.res
        heat_t, guid_t = render_torch(k, c, sdgpip.CANON, res)
        guid, heat = model(batch["music"], batch["genre"])
        lg = (guid - guid_t).abs().mean()
        lh = (heat - heat_t).pow(2).mean()
        kp_hat, kp_t = integral_keypoints(heat), k * (res / sdgpip.CANON)  # (B, N, 17, 2) map pixels
        lk = (kp_hat - kp_t).abs().mean()
        speed = lambda q: (q[:, 1:] - q[:, :-1]).norm(dim=-1).mean(1)  # noqa: E731  (B, 17) px per frame
        le = (speed(kp_hat) - speed(kp_t)).abs().mean()
        hp = self.hparams
        loss = lg + hp.heat_w * lh + hp.kp_w * lk + hp.get("energy_w", 0.0) * le
        return {"guid": lg, "heat": lh, "kp": lk, "energy": le, "loss": loss, "_heat": heat}

    def training_step(self, batch, i):
        ls = self._losses(batch, self.model)
        self.log_dict({f"train/{k}": v for k, v in ls.items() if not k.startswith("_")})
        return ls["loss"]

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema.update_parameters(self.model)

    def validation_step(self, batch, i):
        with torch.no_grad():
            ls = self._losses(batch, self.ema.module)
            kp, _ = decode_keypoints(ls.pop("_heat"))
            err = (kp * (sdgpip.CANON / self.ema.module.cfg.res) - batch["keypoints"]).norm(dim=-1).mean()
        self.log_dict({f"val/{k}": v for k, v in ls.items()} | {"val/kp_px": err})

    def configure_optimizers(self):
        hp = self.hparams
        return adamw_warmup_cosine(self.model.parameters(), hp.lr, 1e-4, hp.warmup, hp.total_steps, 0.05)


def make_exporter(path: str | Path, info: dict, stats: dict, half: bool = False, also: str | Path | None = None):
    """Export function for :func:`fit`: writes the EMA model as a posevideo.m2penc envelope."""
    def export(trainer, module):  # steps count the init model's too (finetune_steps: this run's)
        inf = dict(info, steps=int(trainer.global_step) + int(info.get("init_steps", 0)),
                   finetune_steps=int(trainer.global_step))
        enc = M.M2PEncModel(module.ema.module, stats, inf)
        M.save(enc, path)
        if also is not None:
            M.save(enc, also, half=True)
    return export


def train_m2penc(data_dir: str | Path, out_dir: str | Path, steps: int = 4000, minutes: float | None = None,
                 batch: int = 4, window: int = 48, model_cfg: dict | None = None, run_kw: dict | None = None,
                 ship: str | Path | None = None, init: str | Path | None = None, energy_w: float = 0.0,
                 lr: float = 2e-3) -> L.Trainer:
    """Train on ``data_dir``/train.npz (validate on val.npz); exports ``out_dir``/model.safetensors
    (and the fp16 ``ship`` file if given). ``init``: start from an exported M2PEnc's weights."""
    d, out = Path(data_dir), Path(out_dir)
    tr, va = sdgpip.load(d / "train.npz"), sdgpip.load(d / "val.npz")
    genres = genre_vocab([tr])
    stats = music_stats(tr)
    cfg = model_cfg or M2PEncConfig(music_dim=tr.music.shape[1], n_genres=len(genres) + 1).to_dict()
    module = M2PEncModule(cfg, total_steps=steps, energy_w=energy_w, lr=lr)
    init_steps = 0
    if init is not None:
        enc = M.load(init)
        init_steps = int(enc.info.get("steps", 0))
        module.model.load_state_dict(enc.model.state_dict())
        module.ema.module.load_state_dict(enc.model.state_dict())
    dl = torch.utils.data.DataLoader(WindowSet(tr, genres, stats, window, n=batch * 500), batch_size=batch)
    vl = torch.utils.data.DataLoader(WindowSet(va, genres, stats, window, n=batch * 8, seed=1, flip=False,
                                               genre_drop=0.0, fixed=True), batch_size=batch)
    info = {"fps": sdgpip.FPS, "canon": sdgpip.CANON, "px_per_m": sdgpip.PX_PER_M, "floor_y": sdgpip.FLOOR_Y,
            "music_kind": sdgpip.MUSIC_KIND, "genres": genres, "window": window, "energy_w": energy_w,
            "init": str(init) if init is not None else None, "init_steps": init_steps,
            "data": {"train_sequences": len(tr.names), "train_minutes": round(len(tr.keypoints) / sdgpip.FPS / 60, 1),
                     "sources": sorted({str(s) for s in tr.sources})}}
    run = RunConfig(**dict(dict(max_steps=steps, ckpt_every=250, val_every=500, limit_val_batches=8, log_every=25,
                                max_minutes=minutes, grad_clip=1.0), **(run_kw or {})))
    out.mkdir(parents=True, exist_ok=True)
    return fit(module, dl, vl, out, run, export=make_exporter(out / "model.safetensors", info, stats, also=ship))
