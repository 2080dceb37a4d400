"""Audio-driven skeleton generation by latent diffusion (DanceFusion §3.5, issue #6).

A song becomes a 2D COCO-17 or 3D SMPL-24 skeleton dance in four steps:

1. music features at 30 fps (``choreogen.audio.music_features``, kind from the checkpoint,
   "baseline35+mel" = 115-D for the shipped models), standardised with the training statistics;
2. per-frame VAE latents (B, W, C) sampled window by window with DDIM
   (:func:`choreogen.diffusion.sampler.ddim_sample`) from a music-conditioned
   :class:`choreogen.models.denoiser.DanceDenoiser` (``motion_dim`` = C, predicts x0, classifier-free
   guidance through :func:`choreogen.diffusion.sampler.guided_denoiser`);
3. the pure SkeletonVAE decoder (``residual=False``) turns each window's latents into joints in
   the window's own normalised frame (2D: body heights, centred on the window; 3D: metres, x/z
   centred on the window, y = height above the floor);
4. windows are stitched into one sequence (:func:`stitch_windows`; models with ``info["frame"] == "root"``
   decode per-frame root-relative joints plus the root's velocity, cross-faded and integrated by
   :func:`choreogen.tasks.skeleton.rootframe.stitch_root_frame`).

Why not :class:`choreogen.tasks.dance3d.longform.LongformSampler`: it shifts root x/z in columns 4
and 6 of an un-normalised EDGE vector, but a latent has no root columns, and each VAE window has
its own centre (its latents encode positions relative to the window's mean). Windows are
therefore decoded separately and joined by :func:`stitch_windows`: each window is translated so
that its overlap matches the previous window's (least squares on the translation), then the
windows are cross-faded linearly over the overlap. Overlap inpainting *on the latents* (window
k+1's first O latent frames constrained to window k's last O through the sampler's constraint
hook, EDGE-style batched long-form sampling) is available (``info["inpaint"]``) but off in the
shipped models: the inpainted latents are centred on window k, the rest of window k+1 on its own
centre, so the decoded window jumps by the centre difference at frame O (measured: 0.4 m jumps
for the 3D model); independent windows + aligned cross-fade have no such jump.
``info["latent_smooth"]`` (frames, Gaussian sigma) smooths each window's latent track before
decoding (the patch-2 denoiser, briefly trained, leaves jitter between frame pairs).

Checkpoint (``choreogen/assets/models/skelgen_{coco17,smpl24}.safetensors``): one safetensors
file holding the pure VAE (``vae.*``), the denoiser (``denoiser.*``) and the standardisation
statistics (``stats.*``), with JSON configs in the metadata (format "choreogen.skelgen"); loading
never unpickles.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from ... import checkpoints
from ...diffusion.windows import WindowPlan, overlap_add
from ...errors import ConfigError, InputError
from ...motion.sequence import Motion
from .checkpoint import SkelGen, load_skelgen, save_skelgen  # noqa: F401  (public names of this module)

MODELS = {"skeleton2d": "coco17", "skeleton3d": "smpl24"}
ASSETS = checkpoints.ASSET_DIR
MIN_SONG_SECONDS = 1.0
IMAGE_SIZE = 512  # 2D output: pixels of a square image, dancer centred
BODY_PX = 0.55 * IMAGE_SIZE  # body height in that image


def default_checkpoint(model: str) -> Path:
    """Path of the bundled skeleton generator ``model`` (skeleton2d | skeleton3d)."""
    if model not in MODELS:
        raise ConfigError(f"unknown skeleton model {model!r} (choose skeleton2d or skeleton3d)")
    return checkpoints.BUNDLED[model].path


# ------------------------------------------------------------------------------------ sampling
def window_starts(total: int, window: int, overlap: int) -> list[int]:
    """Start frames of the windows covering ``total`` frames (stride = window - overlap)."""
    return WindowPlan(total, window, overlap).starts


def sample_latents(denoise, n_windows: int, window: int, overlap: int, channels: int, schedule, steps: int,
                   generator: torch.Generator, inpaint: bool = True) -> torch.Tensor:
    """DDIM-sample (K, W, C) standardised latents, all windows in one batch, with the diffusion
    room's window sampler. With ``inpaint``, window k+1's first ``overlap`` frames are inpainted
    with window k's last ones (current x0 prediction, every step, full strength); without, windows
    are sampled independently (joined by :func:`stitch_windows` only)."""
    from ...diffusion.windows import LongformSampler

    S = window - overlap
    plan = WindowPlan(total=window + (n_windows - 1) * S, window=window, overlap=overlap)
    sampler = LongformSampler(lambda _cond: denoise, schedule, plan, dims=channels, taper=0, inpaint=inpaint)
    z, _ = sampler.sample_windows(torch.zeros(plan.padded, 0), steps, generator)
    return z


def stitch_windows(local: np.ndarray, starts: list[int], total: int, shift_axes: tuple[int, ...]) -> np.ndarray:
    """(K, W, J, D) windows in their own frames -> (total, J, D) one sequence.

    Window k+1 is translated along ``shift_axes`` by the mean difference between window k (already
    placed) and itself over their shared frames, then windows are cross-faded
    (:func:`choreogen.diffusion.windows.overlap_add`: weights rising linearly over the overlap, so
    there is no jump at a window boundary). ``starts`` must be evenly spaced (a :class:`WindowPlan`).
    """
    K, W, J, D = local.shape
    placed = local.astype(np.float64).copy()
    ax = list(shift_axes)
    for k in range(1, K if ax else 1):
        o = starts[k - 1] + W - starts[k]  # overlap frames
        if o > 0:
            prev = placed[k - 1, W - o:]
            cur = placed[k, :o]
            placed[k][..., ax] += (prev[..., ax] - cur[..., ax]).reshape(-1, len(ax)).mean(0)
        else:  # no overlap: continue from the previous window's last frame
            placed[k][..., ax] += placed[k - 1, -1][..., ax].mean(0) - placed[k, 0][..., ax].mean(0)
    stride = starts[1] - starts[0] if K > 1 else W
    plan = WindowPlan(total=max(total, 1), window=W, overlap=W - stride)
    if plan.n_windows != K or plan.starts != list(starts):
        plan = WindowPlan(total=starts[-1] + W, window=W, overlap=W - stride)
    return overlap_add(placed, plan)[:total]


def smooth_joints(joints: np.ndarray, sigma: float) -> np.ndarray:
    """(T, J, D) -> the same, Gaussian-smoothed over time with ``sigma`` frames (0: unchanged).
    ``info["joint_smooth"]``: the root-frame VAE's per-frame decoding leaves frame-to-frame jitter in the
    pose (mean joint acceleration 2.3x the captures' when decoding their own latents)."""
    if sigma <= 0:
        return joints
    from scipy.ndimage import gaussian_filter1d

    return gaussian_filter1d(np.asarray(joints, np.float64), sigma, axis=0, mode="nearest")


def generate_latent_windows(gen: SkelGen, music: np.ndarray, seed: int = 0, steps: int = 20,
                            guidance: float | None = None) -> tuple[np.ndarray, list[int]]:
    """Music features (T, Da) at the model fps -> decoded windows (K, W, J, D) in window-local
    normalised units and their start frames. Deterministic for a seed on CPU."""
    from ...diffusion.sampler import guided_denoiser
    from ...diffusion.schedule import NoiseSchedule

    info = gen.info
    W, O = int(info["window"]), int(info["overlap"])
    T = len(music)
    starts = window_starts(T, W, O)
    padded = starts[-1] + W
    mus = np.concatenate([music, np.repeat(music[-1:], padded - T, 0)]) if padded > T else music
    mus = (torch.as_tensor(mus, dtype=torch.float32) - gen.stats["music_mean"]) / gen.stats["music_std"]
    mus_w = torch.stack([mus[s:s + W] for s in starts])
    schedule = NoiseSchedule(int(info.get("num_steps", 1000)), info.get("schedule", "cosine"))
    w = float(info.get("guidance", 1.0) if guidance is None else guidance)
    with torch.no_grad():
        tokens = gen.denoiser.encode_music(mus_w)

    def model_fn(x, t, drop_cond, music_tokens):
        return gen.denoiser(x, t, drop_cond=drop_cond, music_tokens=music_tokens)

    denoise = guided_denoiser(model_fn, {"music_tokens": tokens}, w)
    g = torch.Generator().manual_seed(int(seed))
    C = gen.vae.cfg.latent_dim
    with torch.no_grad():
        z = sample_latents(denoise, len(starts), W, O, C, schedule, steps, g, inpaint=bool(info.get("inpaint", False)))
        z = z * gen.stats["latent_std"] + gen.stats["latent_mean"]
        sm = float(info.get("latent_smooth", 0.0))
        if sm > 0:  # Gaussian smoothing of each window's latent track over time (sigma in frames)
            from scipy.ndimage import gaussian_filter1d

            z = torch.as_tensor(gaussian_filter1d(z.numpy(), sm, axis=1, mode="nearest"), dtype=z.dtype)
        local = gen.vae.decode(z).numpy()
    return local, starts


def generate_skeleton(song: str | os.PathLike, model: str = "skeleton2d", seconds: float | None = None, seed: int = 0,
                      steps: int = 20, checkpoint: str | os.PathLike | None = None,
                      guidance: float | None = None) -> Motion:
    """Generate a skeleton dance for ``song`` (whole song, or its first ``seconds``).

    Returns a 30 fps :class:`Motion`: ``skeleton2d`` -> coco17 joints (T, 17, 2) in pixels of a
    512 x 512 image (x right, y down), the dancer centred by a slow follow camera (1 s Gaussian),
    body height ~280 px; ``skeleton3d`` -> smpl24 joints (T, 24, 3) in metres, Y-up, floor at
    y = 0, root at the xz origin at frame 0. Same seed, same dance (bit-identical on CPU).
    Errors (InputError/ConfigError naming the file): missing/undecodable/too short/silent song,
    missing or wrong checkpoint, bad ``seconds``/``steps``.
    """
    from scipy.ndimage import gaussian_filter1d

    from ...audio import load_audio, music_features

    if model not in MODELS:
        raise ConfigError(f"unknown skeleton model {model!r} (choose skeleton2d or skeleton3d)")
    if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"--seconds must be positive, got {seconds}")
    ckpt = Path(checkpoint) if checkpoint is not None else default_checkpoint(model)
    gen = load_skelgen(ckpt)
    info = gen.info
    if info.get("skeleton") != MODELS[model]:
        raise InputError(f"checkpoint is for {info.get('skeleton')!r}, not {MODELS[model]} ({model})", ckpt)
    n_train = int(info.get("num_steps", 1000))
    if not 1 <= int(steps) <= n_train:
        raise ConfigError(f"--steps must be between 1 and {n_train}, got {steps}")
    y, sr = load_audio(song, min_duration=MIN_SONG_SECONDS, require_sound=True)
    if seconds is not None:
        y = y[: int(round(seconds * sr))]
        if len(y) / sr < MIN_SONG_SECONDS:
            raise ConfigError(f"--seconds must be at least {MIN_SONG_SECONDS}, got {seconds}")
    fps = float(info.get("fps", 30.0))
    total = int(round(len(y) / sr * fps))
    feats = np.asarray(music_features((y, sr), kind=info.get("music_kind", "baseline35+mel"), fps=fps,
                                      n_frames=total, cache=False), np.float32)
    local, starts = generate_latent_windows(gen, feats, seed=seed, steps=int(steps), guidance=guidance)
    dim = gen.vae.cfg.dim
    if info.get("frame", "window") == "root":
        from .rootframe import stitch_root_frame

        joints = stitch_root_frame(local, starts, total, fps)
    else:
        joints = stitch_windows(local, starts, total, shift_axes=(0, 1) if dim == 2 else (0, 2))
    joints = smooth_joints(joints, float(info.get("joint_smooth", 0.0)))
    meta = {"seed": int(seed), "steps": int(steps), "model": model, "checkpoint": ckpt.name,
            "windows": len(starts), "window": int(info["window"]), "overlap": int(info["overlap"]),
            "generator": "latent diffusion (DanceFusion)"}
    if dim == 2:
        centre = joints.mean(1)  # (T, 2) body centre, body heights
        cam = gaussian_filter1d(centre, sigma=fps, axis=0, mode="nearest")
        px = (joints - cam[:, None, :]) * BODY_PX + IMAGE_SIZE / 2.0
        meta.update({"image_size": [IMAGE_SIZE, IMAGE_SIZE], "units": "pixels"})
        m = Motion(skeleton="coco17", fps=fps, joints=px.astype(np.float32),
                   confidence=np.ones(px.shape[:2], np.float32), music=os.path.abspath(song), name=Path(song).stem, meta=meta)
        return m
    meta["units"] = "metres"
    m = Motion(skeleton="smpl24", fps=fps, joints=joints.astype(np.float32), music=os.path.abspath(song),
               name=Path(song).stem, meta=meta)
    return m.canonical(floor="global")
