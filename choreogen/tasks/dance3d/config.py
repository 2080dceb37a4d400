"""Generator configuration: declared once, saved inside every checkpoint (self-describing).

``GeneratorConfig`` nests the denoiser architecture, the diffusion settings, the data/feature
settings a checkpoint needs at generation time, and the training hyper-parameters. It converts to
and from plain JSON (``to_dict`` / ``from_dict``); unknown keys are rejected with a clear error.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from ...errors import ConfigError
from ...models.denoiser import DenoiserConfig


@dataclass
class DiffusionConfig:
    num_steps: int = 1000
    schedule: str = "cosine"
    sample_steps: int = 20  # default DDIM steps at generation time
    guidance: float = 1.5  # default classifier-free guidance weight
    eta: float = 0.0  # default DDIM stochasticity at generation (0 deterministic DDIM, 1 DDPM-like)
    cond_drop: float = 0.25  # probability of dropping music+genre in training (CFG)
    sigma_data: float = 0.0  # >0: EDM-style output preconditioning (choreogen.diffusion.precond)
    smooth: float = 0.0  # default Gaussian sigma (frames) over the generated rotations (generation only)
    smooth_root: float = 0.0  # the same for the root position (0: as ``smooth``)
    smooth_height: float = -1.0  # the same for the root's height alone (< 0: as the root position)
    foot_lock: str = "root"  # how planted feet stop sliding: "root" (shift the root) or "ik" (leg IK)
    joint_hop: int = 0  # >0 (latent generators): default joint sampling, windows every joint_hop tokens (0: sequential)
    genre_drop: float = 0.0  # probability of dropping the genre alone in training (the music kept): genre guidance
    genre_guidance: float = 0.0  # default extra guidance towards the genre, w_g (cond - cond without genre); needs genre_drop


@dataclass
class TrainConfig:
    batch_size: int = 32
    lr: float = 4e-4
    weight_decay: float = 0.02
    max_steps: int = 20000
    warmup_steps: int = 500
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    val_every: int = 500  # steps between validations
    ckpt_every: int = 500  # steps between resumable checkpoints
    loss_strategy: str = "fixed"  # fixed | aligned-mtl | nash-mtl | upgrad
    loss_weights: dict = field(default_factory=lambda: {"simple": 0.636, "vel": 2.964, "fk": 0.646, "foot": 10.942})
    seed: int = 0
    num_workers: int = 0
    precision: str = "32-true"  # "bf16-mixed" on GPU
    mirror_prob: float = 0.0  # probability of training on the left/right mirror image of a window
    min_snr_gamma: float = 0.0  # >0: weight each sample's loss by min(SNR(t), gamma) / gamma (Min-SNR)
    # latent generators: weight of the decoded kinetic loss (x0 prediction and target decoded by the frozen
    # autoencoder; MSE of each joint's RMS horizontal/vertical low-passed speed (m/s) and RMS acceleration (/10)
    # over the window, times alpha_bar(t)), on a quarter of each batch
    kinetic_weight: float = 0.0


@dataclass
class GeneratorConfig:
    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    diffusion: DiffusionConfig = field(default_factory=DiffusionConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    skeleton: str = "smpl24"
    fps: float = 30.0
    window: int = 150  # frames per training/generation window (5 s at 30 fps)
    music_features: str = "baseline35"
    genres: list = field(default_factory=list)
    # latent generator: the motion autoencoder's config (choreogen.models.motion_ae.MotionAEConfig fields);
    # empty = the denoiser works on the feature vector itself. With it, ``model`` is the denoiser over
    # latents (motion_dim = latent_dim, patch 1, music_dim = music features x the AE factor).
    ae: dict = field(default_factory=dict)
    # tempo normalisation (choreogen.audio.tempo_norm): reference BPM per genre name, "*" for any other / none;
    # empty = off. Songs are danced at their genre's reference tempo and the dance played back at the song's.
    tempo_ref: dict = field(default_factory=dict)

    @property
    def latent(self) -> bool:
        return bool(self.ae)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "GeneratorConfig":
        def build(klass, data, where):
            names = {f.name for f in fields(klass)}
            extra = set(data) - names
            if extra:
                raise ConfigError(f"unknown config keys in {where}: {sorted(extra)}")
            return data

        d = dict(d)
        sub = {
            "model": (DenoiserConfig, d.pop("model", {})),
            "diffusion": (DiffusionConfig, d.pop("diffusion", {})),
            "train": (TrainConfig, d.pop("train", {})),
        }
        build(cls, d, "generator config")
        kwargs = {k: klass(**build(klass, v, k)) for k, (klass, v) in sub.items()}
        return cls(**kwargs, **d)

    @classmethod
    def from_json(cls, s: str) -> "GeneratorConfig":
        return cls.from_dict(json.loads(s))
