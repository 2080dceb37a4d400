"""Song -> dance: the generation pipeline behind ``choreogen generate`` and :func:`generate_dance`.

Steps: decode the song (any format/length) -> music features at the model's fps -> long-form
window sampling (batched DDIM with classifier-free guidance and overlap inpainting, plus optional
editing constraints) -> SMPL poses/translation + FK joints -> canonical frame (Y-up, floor 0) ->
:class:`~choreogen.motion.Motion` (30 fps). Deterministic on CPU for a given seed.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...errors import ConfigError, InputError
from ...diffusion.precond import precondition
from ...diffusion.schedule import NoiseSchedule
from ...motion.representation import N_CONTACT, decode_to_smpl
from ...motion.sequence import Motion
from ...motion.skeleton import get_skeleton
from .checkpoint import DEFAULT, LoadedGenerator, load_generator
from .longform import LongformSampler, WindowPlan

MIN_SONG_SECONDS = 1.0


def default_checkpoint() -> str | Path:
    """``$CHOREOGEN_MODEL`` if set, else the bundled "dance3d" model."""
    return os.environ.get("CHOREOGEN_MODEL") or DEFAULT


def get_generator(checkpoint: str | os.PathLike | None = None, device: str = "cpu") -> LoadedGenerator:
    """A bundled name or checkpoint path (None: :func:`default_checkpoint`) -> the loaded model (cached)."""
    from ...device import check_device

    return load_generator(checkpoint or default_checkpoint(), device=check_device(device))


@dataclass
class Constraint:
    """Editing constraint in global (canonical, 30 fps) feature space.

    known: (T, D) un-normalised features; mask: (T, D) in {0, 1}. Build with
    :mod:`choreogen.tasks.dance3d.editing`.
    """

    known: torch.Tensor
    mask: torch.Tensor
    description: str = ""


@dataclass
class GenerationResult:
    motion: Motion
    seconds_wall: float
    timings: dict = field(default_factory=dict)


def resolve_genre(gen: LoadedGenerator, genre: str | None) -> int:
    """Map a genre label (or free text mentioning one) to the model's genre index; -1 = none."""
    if genre is None or genre == "":
        return -1
    genres = [g.lower() for g in gen.config.genres]
    g = genre.strip().lower()
    if g in genres:
        return genres.index(g)
    hits = [i for i, name in enumerate(genres) if name in g]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(gen.config.genres) or "(this model has no genre labels)"
    raise ConfigError(f"unknown genre '{genre}' (this model knows: {known})")


def generate_dance(
    song: str | os.PathLike,
    checkpoint: str | os.PathLike | None = None,
    genre: str | None = None,
    seconds: float | None = None,
    start: float = 0.0,
    seed: int = 0,
    steps: int | None = None,
    guidance: float | None = None,
    batch: int | None = None,
    overlap: float = 0.5,
    device: str = "cpu",
    constraint: Constraint | None = None,
    progress=None,
    stage_radius: float | None = 5.0,
    eta: float | None = None,
    foot_lock: bool = True,
    smooth: float | None = None,
    smooth_root: float | None = None,
) -> GenerationResult:
    """Generate a dance for ``song`` (whole song by default; ``seconds`` from ``start``).

    Returns a canonical 30 fps :class:`Motion` with SMPL ``poses``/``trans`` and FK ``joints``.
    ``overlap``: fraction of a window shared with the next one (0 < overlap < 1).
    ``stage_radius``: keep the dancer within this many metres of the start (slow correction, see
    :func:`choreogen.tasks.dance3d.postprocess.contain`); None disables it (editing constraints
    always disable it, so given positions are kept).
    ``foot_lock``: cancel the sliding of feet the model itself marks as planted by correcting the
    root trajectory (:func:`choreogen.tasks.dance3d.postprocess.lock_feet`; poses untouched; off for
    editing constraints).
    ``smooth``: Gaussian sigma in frames applied over time to the generated root and rotations
    before decoding (:func:`choreogen.tasks.dance3d.postprocess.smooth_features`); None = the
    checkpoint's default (``diffusion.smooth``), 0 = off. ``smooth_root``: the same for the root
    position (None = the checkpoint's ``diffusion.smooth_root``, or ``smooth`` if that is 0).
    Given values of an editing constraint are restored afterwards.
    """
    from ...audio import load_audio, music_features

    t0 = time.perf_counter()
    from ...device import check_device

    device = check_device(device)
    gen = get_generator(checkpoint, device)
    cfg = gen.config
    steps = cfg.diffusion.sample_steps if steps is None else int(steps)
    guidance = cfg.diffusion.guidance if guidance is None else float(guidance)
    eta = cfg.diffusion.eta if eta is None else float(eta)
    if not (np.isfinite(eta) and 0.0 <= eta <= 1.0):
        raise ConfigError(f"--eta must be between 0 and 1, got {eta}")
    smooth = cfg.diffusion.smooth if smooth is None else float(smooth)
    if not (np.isfinite(smooth) and 0.0 <= smooth <= 10.0):
        raise ConfigError(f"--smooth must be between 0 and 10 frames, got {smooth}")
    if smooth_root is None:
        smooth_root = cfg.diffusion.smooth_root if cfg.diffusion.smooth_root > 0 else smooth
    smooth_root = float(smooth_root)
    if not (np.isfinite(smooth_root) and 0.0 <= smooth_root <= 30.0):
        raise ConfigError(f"--smooth-root must be between 0 and 30 frames, got {smooth_root}")
    if not 1 <= steps <= cfg.diffusion.num_steps:
        raise ConfigError(f"--steps must be between 1 and {cfg.diffusion.num_steps}, got {steps}")
    if not np.isfinite(guidance) or not 0.0 <= guidance <= 20.0:
        raise ConfigError(f"--guidance must be between 0 and 20, got {guidance}")
    if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"--seconds must be positive, got {seconds}")
    if not 0.0 < overlap < 1.0:
        raise ConfigError(f"overlap must be in (0, 1), got {overlap}")
    if batch is not None and batch < 1:
        raise ConfigError(f"--batch must be at least 1, got {batch}")
    genre_idx = resolve_genre(gen, genre)

    y, sr = load_audio(song, min_duration=MIN_SONG_SECONDS, require_sound=True)
    duration = len(y) / sr
    if start < 0 or start >= duration - MIN_SONG_SECONDS:
        raise ConfigError(f"--start {start} s leaves less than {MIN_SONG_SECONDS} s of a {duration:.1f} s song")
    s0 = int(round(start * sr))
    s1 = len(y) if seconds is None else min(len(y), s0 + int(round(seconds * sr)))
    y = y[s0:s1]
    if seconds is not None and (s1 - s0) / sr < seconds - 0.05:
        seconds = (s1 - s0) / sr  # the song is shorter than asked: dance to its end
    fps = cfg.fps
    total = int(round(len(y) / sr * fps))
    t_feat = time.perf_counter()
    plan = WindowPlan(total=total, window=cfg.window, overlap=max(0, int(round(cfg.window * overlap))) // cfg.model.patch * cfg.model.patch)
    feats = music_features((y, sr), kind=cfg.music_features, fps=fps, n_frames=plan.padded, cache=False)
    music = torch.as_tensor(np.asarray(feats, np.float32), device=device)
    t_feat = time.perf_counter() - t_feat

    model = gen.model
    dtype = torch.float32
    schedule = NoiseSchedule(cfg.diffusion.num_steps, cfg.diffusion.schedule)
    sd = cfg.diffusion.sigma_data

    def factory(mus_windows: torch.Tensor):
        with torch.no_grad():
            tokens = model.encode_music(mus_windows.to(dtype))
            null = model.null_music.to(tokens.dtype).expand_as(tokens)
        K = mus_windows.shape[0]
        g = torch.full((K,), genre_idx, dtype=torch.long, device=device)

        with torch.no_grad():  # music keys/values once per window batch, not once per step
            kv = model.memory_kv(tokens if guidance == 1.0 else torch.cat([tokens, null]))
        drop = torch.cat([torch.zeros(K, dtype=torch.bool), torch.ones(K, dtype=torch.bool)]).to(device)

        def denoise(x, t):
            with torch.no_grad():
                if guidance == 1.0:
                    return precondition(model(x, t, genre=g, music_kv=kv), x, t, schedule, sd)
                out = model(torch.cat([x, x]), torch.cat([t, t]), genre=torch.cat([g, g]), drop_cond=drop, music_kv=kv)
                out = precondition(out, torch.cat([x, x]), torch.cat([t, t]), schedule, sd)
                c, u = out[:K], out[K:]
                return u + guidance * (c - u)

        return denoise

    known = mask = None
    if constraint is not None:
        known = torch.zeros(plan.padded, constraint.known.shape[-1])
        mask = torch.zeros_like(known)
        n = min(plan.padded, constraint.known.shape[0])
        known[:n] = constraint.known[:n]
        mask[:n] = constraint.mask[:n]
    sampler = LongformSampler(factory, gen.normalizer, schedule, plan, known, mask)
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    t_samp = time.perf_counter()
    feats_out = sampler.sample(music, steps=steps, generator=g, batch=batch, progress=progress, eta=eta)
    t_samp = time.perf_counter() - t_samp

    if smooth > 0 or smooth_root > 0:
        from .postprocess import smooth_features

        raw = np.asarray(feats_out, np.float32)
        sm = smooth_features(raw, smooth, N_CONTACT, root_sigma=smooth_root)
        if constraint is not None:  # given values stay exactly as given
            cm = np.asarray(constraint.mask[: len(sm)], np.float32)
            sm[: len(cm)] = cm * raw[: len(cm)] + (1 - cm) * sm[: len(cm)]
        feats_out = torch.from_numpy(sm)
    skel = get_skeleton(cfg.skeleton)
    poses, trans, joints = decode_to_smpl(feats_out, skel)
    motion = Motion(
        skeleton=skel.name, fps=fps, joints=joints, poses=poses, trans=trans,
        music=os.path.abspath(song),  # absolute: the npz may be rendered from another folder
        genre=(cfg.genres[genre_idx] if genre_idx >= 0 else None),
        name=Path(song).stem,
        meta={"seed": int(seed), "model": gen.model_id, "steps": steps, "guidance": guidance, "eta": eta, "smooth": smooth, "smooth_root": smooth_root,
              "start": start, "music_offset_s": float(start), "seconds": len(y) / sr, "windows": plan.n_windows, "window": plan.window,
              "overlap": plan.overlap, "constraint": constraint.description if constraint else ""},
    )
    motion = motion.canonical(floor="tracked")
    if constraint is None:
        from .postprocess import contain, lock_feet

        if foot_lock:
            contacts = feats_out[..., :N_CONTACT]
            motion = lock_feet(motion, contacts.numpy() if isinstance(contacts, torch.Tensor) else np.asarray(contacts))
        motion = contain(motion, stage_radius)
    wall = time.perf_counter() - t0
    return GenerationResult(motion, wall, {"features": t_feat, "sampling": t_samp, "total": wall})
