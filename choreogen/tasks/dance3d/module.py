"""LightningModule for the dance diffusion generator (training step, EMA, validation)."""
from __future__ import annotations

import lightning as L
import torch

from ...diffusion.losses import make_strategy, motion_loss_terms
from ...diffusion.precond import precondition
from ...diffusion.schedule import NoiseSchedule
from ...models.denoiser import DanceDenoiser
from ...motion.representation import Normalizer, mirror_features
from ...motion.skeleton import get_skeleton
from ...training.runner import adamw_warmup_cosine, make_ema
from .config import GeneratorConfig


def drop_genre(genre: torch.Tensor | None, p: float, generator=None) -> torch.Tensor | None:
    """(B,) genre indices with a share ``p`` set to -1 ("none"; the music stays): trains the
    music-only condition that genre guidance contrasts with (``diffusion.genre_guidance``)."""
    if genre is None or p <= 0:
        return genre
    keep = torch.rand(genre.shape[0], device=genre.device, generator=generator) >= p
    return torch.where(keep, genre, torch.full_like(genre, -1))


class DanceDiffusionModule(L.LightningModule):
    """Batches: dict(motion (B, T, Dm) un-normalised features, music (B, T, Da), genre (B,) long).

    The normaliser is fitted beforehand on the training windows and stored as buffers, so it
    travels with every checkpoint. ``self.ema`` holds the exponential moving average of the
    weights (used for validation and export).
    """

    def __init__(self, config: dict, normalizer_lo: torch.Tensor | None = None, normalizer_hi: torch.Tensor | None = None):
        super().__init__()
        # hparams are plain JSON types so Lightning checkpoints load with weights_only=True
        self.save_hyperparameters({"config": config})
        self.cfg = GeneratorConfig.from_dict(config)
        self.model = DanceDenoiser(self.cfg.model)
        self.ema = make_ema(self.model, self.cfg.train.ema_decay)  # averaged copy: never trained, ignored by DDP
        dm = self.cfg.model.motion_dim
        self.register_buffer("norm_lo", normalizer_lo if normalizer_lo is not None else torch.zeros(dm))
        self.register_buffer("norm_hi", normalizer_hi if normalizer_hi is not None else torch.ones(dm))
        self.schedule = NoiseSchedule(self.cfg.diffusion.num_steps, self.cfg.diffusion.schedule)
        self.skeleton = get_skeleton(self.cfg.skeleton)
        self.strategy = make_strategy(self.cfg.train.loss_strategy, self.cfg.train.loss_weights)
        self.automatic_optimization = self.cfg.train.loss_strategy == "fixed"
        # GCDance's genre-classification term: a linear genre classifier on the time mean and std of the
        # predicted motion, trained jointly (only with loss_weights["genre"]; not exported: generation needs none)
        n_g = self.cfg.model.n_genres
        self.genre_head = torch.nn.Linear(2 * dm, n_g) if "genre" in self.cfg.train.loss_weights and n_g > 1 else None

    def trained_parameters(self) -> list:
        heads = list(self.genre_head.parameters()) if self.genre_head is not None else []
        return [p for p in list(self.model.parameters()) + heads if p.requires_grad]

    @property
    def normalizer(self) -> Normalizer:
        return Normalizer(self.norm_lo.detach().cpu().numpy(), self.norm_hi.detach().cpu().numpy())

    def _norm(self, x: torch.Tensor) -> torch.Tensor:
        rng = torch.where(self.norm_hi - self.norm_lo > 1e-8, self.norm_hi - self.norm_lo, torch.ones_like(self.norm_hi))
        return (x - self.norm_lo) / rng * 2 - 1

    def _augment(self, motion: torch.Tensor) -> torch.Tensor:
        """Left/right mirror each training window with probability ``train.mirror_prob``."""
        p = self.cfg.train.mirror_prob
        if p <= 0:
            return motion
        flip = torch.rand(motion.shape[0], device=motion.device) < p
        if not bool(flip.any()):
            return motion
        return torch.where(flip[:, None, None], mirror_features(motion, self.skeleton), motion)

    def _terms(self, model, batch, generator=None, augment=False):
        motion = batch["motion"].float()
        x0 = self._norm(self._augment(motion) if augment else motion)
        B = x0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (B,), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator, dtype=x0.dtype)
        x_t = self.schedule.q_sample(x0, t, noise)
        drop = torch.rand(B, device=x0.device, generator=generator) < self.cfg.diffusion.cond_drop
        genre = drop_genre(batch.get("genre"), self.cfg.diffusion.genre_drop, generator)
        out = model(x_t, t, music=batch["music"].float(), genre=genre, drop_cond=drop)
        pred = precondition(out, x_t, t, self.schedule, self.cfg.diffusion.sigma_data)
        terms = motion_loss_terms(pred.float(), x0, self.normalizer, self.skeleton, frame_mask=self._snr_weight(t, x0),
                                  fps=self.cfg.fps)
        if self.genre_head is not None:
            terms["genre"] = self._genre_term(pred.float(), batch.get("genre"), drop)
        return terms

    def _genre_term(self, pred: torch.Tensor, genre: torch.Tensor | None, drop: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the genre head on the predicted x0 (B, T, D), over rows with a genre and kept condition."""
        if genre is None:
            return pred.sum() * 0.0
        keep = (genre >= 0) & ~drop
        if not bool(keep.any()):
            return pred.sum() * 0.0
        logits = self.genre_head(torch.cat([pred.mean(1), pred.std(1)], dim=-1))
        return torch.nn.functional.cross_entropy(logits[keep], genre[keep])

    def _snr_weight(self, t: torch.Tensor, x0: torch.Tensor) -> torch.Tensor | None:
        """Min-SNR-gamma (Hang et al. 2023) per-sample loss weights as a (B, T) frame mask.

        With x0 prediction, uniform weighting lets the high-noise steps (where the best answer is
        the mean pose) dominate the gradient and the denoiser learns to ignore its input for
        thousands of steps; min(SNR, gamma) / gamma puts the weight where x_t is informative."""
        gamma = self.cfg.train.min_snr_gamma
        if gamma <= 0:
            return None
        ab = self.schedule.alpha_bar.to(x0.device)[t]
        w = torch.clamp(ab / (1 - ab), max=gamma) / gamma
        return w.to(x0.dtype)[:, None].expand(x0.shape[0], x0.shape[1])

    def training_step(self, batch, batch_idx):
        terms = self._terms(self.model, batch, augment=True)
        for k, v in terms.items():
            self.log(f"train/{k}", v.detach(), on_step=True, prog_bar=False, batch_size=batch["motion"].shape[0])
        if self.automatic_optimization:
            total = self.strategy.total(terms)
            self.log("train/loss", total.detach(), prog_bar=True, batch_size=batch["motion"].shape[0])
            return total
        opt = self.optimizers()
        sched = self.lr_schedulers()
        opt.zero_grad()
        total = self.strategy.backward(terms, self.trained_parameters())
        self.clip_gradients(opt, gradient_clip_val=self.cfg.train.grad_clip, gradient_clip_algorithm="norm")
        opt.step()
        if sched is not None:
            sched.step()
        self.log("train/loss", total, prog_bar=True, batch_size=batch["motion"].shape[0])
        return None

    def on_train_batch_end(self, outputs, batch, batch_idx):
        self.ema.update_parameters(self.model)

    def validation_step(self, batch, batch_idx):
        g = torch.Generator(device=batch["motion"].device).manual_seed(1234 + batch_idx)
        terms = self._terms(self.ema.module, batch, generator=g)
        total = sum(self.cfg.train.loss_weights.get(k, 0.0) * v for k, v in terms.items())
        bs = batch["motion"].shape[0]
        for k, v in terms.items():
            self.log(f"val/{k}", v, sync_dist=True, batch_size=bs)
        self.log("val/loss", total, prog_bar=True, sync_dist=True, batch_size=bs)

    def configure_optimizers(self):
        tc = self.cfg.train
        return adamw_warmup_cosine(self.trained_parameters(), tc.lr, tc.weight_decay, tc.warmup_steps, tc.max_steps, 0.1)
