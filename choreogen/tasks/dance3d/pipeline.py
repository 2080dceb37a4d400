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

from ...errors import ConfigError
from ...diffusion.precond import precondition
from ...diffusion.sampler import guided_denoiser
from ...diffusion.schedule import NoiseSchedule
from ...motion.representation import N_CONTACT, decode_to_smpl
from ...motion.sequence import Motion
from ...motion.skeleton import get_skeleton
from .checkpoint import DEFAULT, LoadedGenerator, load_generator
from .longform import LongformSampler, WindowPlan

MIN_SONG_SECONDS = 1.0


def default_checkpoint() -> str | Path:
    """``$CHOREOGEN_MODEL`` if set, else the bundled default model (``DEFAULT``: "dance3d-latent")."""
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
    genre_match: object = None  # choreogen.text.classifier.GenreMatch when a prompt chose the genre


def resolve_genre(gen: LoadedGenerator, genre: str | None) -> int:
    """Map a genre label, an alias of one ("cha-cha", "Viennese waltz": choreogen/assets/text/genre_prompts.json)
    or text containing exactly one label to the model's genre index; -1 = none. ConfigError otherwise."""
    if genre is None or genre == "":
        return -1
    from ...text.prompts import load_prompt_set, norm_label

    genres = [g.lower() for g in gen.config.genres]
    g = genre.strip().lower()
    if g in genres:
        return genres.index(g)
    ps = load_prompt_set()
    key = ps.key_of(g)
    keys = [ps.key_of(x) for x in genres]
    if key is not None and key in keys:
        return keys.index(key)
    hits = [i for i, name in enumerate(genres) if norm_label(name) in norm_label(g)]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(gen.config.genres) or "(this model has no genre labels)"
    raise ConfigError(f"unknown genre '{genre}' (this model knows: {known}; --prompt takes a free description)")


def resolve_prompt(gen: LoadedGenerator, prompt: str):
    """A free-text prompt -> (genre index, GenreMatch) with the prompt classifier over this checkpoint's genre
    vocabulary. ConfigError for an empty, too long or non-English prompt, and when it matched no genre well."""
    from ...text.classifier import classify_prompt

    m = classify_prompt(prompt, list(gen.config.genres))
    if not m.accepted:
        raise ConfigError(f"--prompt: {m.describe()}; describe the dance in English (steps, tempo, mood, music) or give "
                          f"--genre ({', '.join(gen.config.genres)})")
    return m.index, m


@dataclass(frozen=True)
class SamplingOptions:
    """Validated sampling settings (None in a call = the checkpoint's default)."""

    steps: int
    guidance: float
    eta: float
    smooth: float
    smooth_root: float
    overlap: float
    batch: int | None
    genre_guidance: float = 0.0
    smooth_height: float = -1.0  # < 0: as smooth_root


class Dance3DPipeline:
    """Song -> dance with one loaded generator (diffusers-style: load once, call many times).

        pipe = Dance3DPipeline.from_pretrained()            # bundled default, or a name/path
        result = pipe("song.mp3", genre="waltz", seconds=30, seed=0)
        result.motion                                        # canonical 30 fps Motion (SMPL-24)

    Holds the denoiser, its noise schedule, normaliser and the checkpoint's sampling defaults.
    The pipeline composes shared rooms: ``audio`` (features), ``diffusion`` (guidance, DDIM),
    :mod:`.longform` (windows), :mod:`.postprocess`; it does no I/O besides reading the song.
    """

    def __init__(self, generator: LoadedGenerator, device: str = "cpu"):
        self.generator, self.device = generator, device
        self.config = generator.config
        self.schedule = NoiseSchedule(self.config.diffusion.num_steps, self.config.diffusion.schedule)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike | None = None, device: str = "cpu") -> "Dance3DPipeline":
        """A bundled model name (``choreogen models``), a checkpoint path, or None (``$CHOREOGEN_MODEL``
        or the bundled default). Models are cached per file and device."""
        from ...device import check_device

        device = check_device(device)
        return cls(get_generator(name_or_path, device), device)

    @property
    def genres(self) -> list[str]:
        return list(self.config.genres)

    def options(self, steps=None, guidance=None, eta=None, smooth=None, smooth_root=None, overlap=0.5,
                batch=None, genre_guidance=None, smooth_height=None) -> SamplingOptions:
        """Fill defaults from the checkpoint and validate (ConfigError naming the option)."""
        d = self.config.diffusion
        steps = d.sample_steps if steps is None else int(steps)
        guidance = d.guidance if guidance is None else float(guidance)
        eta = d.eta if eta is None else float(eta)
        smooth = d.smooth if smooth is None else float(smooth)
        if smooth_root is None:
            smooth_root = d.smooth_root if d.smooth_root > 0 else smooth
        smooth_root = float(smooth_root)
        if smooth_height is None:
            smooth_height = d.smooth_height if d.smooth_height >= 0 else smooth_root
        smooth_height = float(smooth_height)
        genre_guidance = d.genre_guidance if genre_guidance is None else float(genre_guidance)
        checks = [
            (np.isfinite(genre_guidance) and 0.0 <= genre_guidance <= 20.0,
             f"--genre-guidance must be between 0 and 20, got {genre_guidance}"),
            (np.isfinite(eta) and 0.0 <= eta <= 1.0, f"--eta must be between 0 and 1, got {eta}"),
            (np.isfinite(smooth) and 0.0 <= smooth <= 10.0, f"--smooth must be between 0 and 10 frames, got {smooth}"),
            (np.isfinite(smooth_root) and 0.0 <= smooth_root <= 30.0,
             f"--smooth-root must be between 0 and 30 frames, got {smooth_root}"),
            (np.isfinite(smooth_height) and 0.0 <= smooth_height <= 30.0,
             f"--smooth-height must be between 0 and 30 frames, got {smooth_height}"),
            (1 <= steps <= d.num_steps, f"--steps must be between 1 and {d.num_steps}, got {steps}"),
            (np.isfinite(guidance) and 0.0 <= guidance <= 20.0, f"--guidance must be between 0 and 20, got {guidance}"),
            (0.0 < overlap < 1.0, f"overlap must be in (0, 1), got {overlap}"),
            (batch is None or batch >= 1, f"--batch must be at least 1, got {batch}"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(msg)
        return SamplingOptions(steps, guidance, eta, smooth, smooth_root, overlap, batch, genre_guidance, smooth_height)

    def __call__(
        self,
        song: str | os.PathLike,
        genre: str | None = None,
        seconds: float | None = None,
        start: float = 0.0,
        seed: int = 0,
        steps: int | None = None,
        guidance: float | None = None,
        batch: int | None = None,
        overlap: float = 0.5,
        constraint: Constraint | None = None,
        progress=None,
        stage_radius: float | None = 5.0,
        eta: float | None = None,
        foot_lock: bool | str = True,
        smooth: float | None = None,
        smooth_root: float | None = None,
        prompt: str | None = None,
        beat_stride: int | None = None,
        hop: int | None = None,
        tempo_norm: bool | None = None,
        genre_guidance: float | None = None,
        smooth_height: float | None = None,
    ) -> GenerationResult:
        """Generate a dance for ``song`` (whole song by default; ``seconds`` from ``start``).

        Returns a canonical 30 fps :class:`Motion` with SMPL ``poses``/``trans`` and FK ``joints``.
        ``overlap``: fraction of a window shared with the next one (0 < overlap < 1).
        ``stage_radius``: keep the dancer within this many metres of the start (slow correction, see
        :func:`choreogen.tasks.dance3d.postprocess.contain`); None disables it (editing constraints
        always disable it, so given positions are kept).
        ``foot_lock``: stop planted feet from sliding (off for editing constraints): "ik" pins each planted
        foot by leg IK after taking 35 % of the slide from the root, so most of the travel is kept
        (:func:`choreogen.tasks.dance3d.postprocess.lock_feet_ik`);
        "root" cancels the sliding of feet the model marks as planted by correcting the root trajectory
        (:func:`~choreogen.tasks.dance3d.postprocess.lock_feet`; poses untouched, but the travel
        shrinks); True = the checkpoint's ``diffusion.foot_lock``; False = off.
        ``smooth``: Gaussian sigma in frames applied over time to the generated root and rotations
        before decoding (:func:`choreogen.tasks.dance3d.postprocess.smooth_features`); None = the
        checkpoint's default (``diffusion.smooth``), 0 = off. ``smooth_root``: the same for the root
        position (None = the checkpoint's ``diffusion.smooth_root``, or ``smooth`` if that is 0).
        ``smooth_height``: the same for the root's height alone (the body's rise and fall; None = the
        checkpoint's ``diffusion.smooth_height``, or ``smooth_root`` if that is negative).
        Given values of an editing constraint are restored afterwards.
        ``prompt``: a free-text description ("a slow romantic dance with long gliding steps") classified
        into this checkpoint's genres (:mod:`choreogen.text`); the result's ``genre_match`` says what it
        was understood as. An off-topic prompt raises ConfigError. Give ``genre`` or ``prompt``, not both.
        ``beat_stride``: start each long-form window this many beats after the previous one (beats of
        the model's own beat feature; :func:`choreogen.diffusion.windows.beat_starts`) instead of a
        constant ``overlap``: window joins land on the beat grid and their spacing follows the tempo.
        ``hop`` (latent generators): joint sampling of the whole song as one sequence, the denoiser's
        windows every ``hop`` latent tokens (6 frames each) averaged at every step
        (:mod:`choreogen.diffusion.joint`); 0 = sequential windows with overlap inpainting; None = the
        checkpoint's default (``diffusion.joint_hop``). ``overlap`` and ``beat_stride`` apply to sequential windows.
        ``tempo_norm``: dance the song time-stretched to its genre's reference tempo and play the dance back
        at the song's tempo (:mod:`.tempo_play`), so faster music is danced faster; None = on when the
        checkpoint has reference tempi (``tempo_ref``) and there is no editing constraint or ``beat_stride``.
        ``genre_guidance``: extra guidance towards the requested genre, w_g (cond - cond without the genre), for
        models trained with ``diffusion.genre_drop``; None = the checkpoint's ``diffusion.genre_guidance``.
        """
        t0 = time.perf_counter()
        if foot_lock not in (True, False, "root", "ik"):
            raise ConfigError(f"--foot-lock-mode must be 'root' or 'ik', got {foot_lock!r}")
        opt = self.options(steps, guidance, eta, smooth, smooth_root, overlap, batch, genre_guidance, smooth_height)
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"--seconds must be positive, got {seconds}")
        if genre and prompt is not None:
            raise ConfigError("give a genre label or a prompt, not both")
        match = None
        if prompt is not None:
            genre_idx, match = resolve_prompt(self.generator, prompt)
        else:
            genre_idx = resolve_genre(self.generator, genre)
        t_feat = time.perf_counter()
        y, sr = self._song(song, start, seconds)
        frames = int(round(len(y) / sr * self.config.fps))
        tempo_info = {}
        if self._tempo_on(tempo_norm, constraint, beat_stride):
            from .tempo_play import reference_for, to_reference

            name = self.config.genres[genre_idx] if genre_idx >= 0 else None
            y, tempo_info = to_reference(y, sr, reference_for(self.config.tempo_ref, name))
        if beat_stride is not None and not 1 <= int(beat_stride) <= 32:
            raise ConfigError(f"--beat-stride must be between 1 and 32 beats, got {beat_stride}")
        plan, music = self._music(y, sr, opt.overlap, beat_stride)
        hop = self._hop(hop, beat_stride)
        t_feat = time.perf_counter() - t_feat
        known = mask = None
        if constraint is not None:
            known = torch.zeros(plan.padded, constraint.known.shape[-1])
            mask = torch.zeros_like(known)
            n = min(plan.padded, constraint.known.shape[0])
            known[:n] = constraint.known[:n]
            mask[:n] = constraint.mask[:n]
        g = torch.Generator(device="cpu").manual_seed(int(seed))
        t_samp = time.perf_counter()
        factory = self._denoiser_factory(genre_idx, opt.guidance, opt.genre_guidance)
        if self.config.latent:
            from .latent_sampling import sample_latent_track

            feats = sample_latent_track(self.generator, factory, plan, music, opt.steps, g, opt.batch, progress,
                                        opt.eta, known, mask, hop=hop)
        else:
            sampler = LongformSampler(factory, self.generator.normalizer, self.schedule, plan, known, mask)
            feats = sampler.sample(music, steps=opt.steps, generator=g, batch=opt.batch, progress=progress, eta=opt.eta)
        if tempo_info:
            from .tempo_play import play_back

            feats = play_back(feats, frames)
        t_samp = time.perf_counter() - t_samp
        meta = {**tempo_info, "seed": int(seed), "model": self.generator.model_id, "steps": opt.steps, "guidance": opt.guidance,
                "eta": opt.eta, "smooth": opt.smooth, "smooth_root": opt.smooth_root,
                "smooth_height": opt.smooth_height, "start": start,
                "music_offset_s": float(start), "seconds": frames / self.config.fps, "windows": plan.n_windows,
                "window": plan.window, "overlap": plan.overlap, "beat_stride": beat_stride or 0, "hop": hop or 0,
                "constraint": constraint.description if constraint else ""}
        if opt.genre_guidance and genre_idx >= 0:
            meta["genre_guidance"] = opt.genre_guidance
        if match is not None:
            meta.update(prompt=match.prompt, prompt_probability=round(match.probability, 4),
                        prompt_similarity=round(match.similarity, 4))
        motion = self._to_motion(feats, song, genre_idx, opt, constraint, meta, foot_lock, stage_radius)
        wall = time.perf_counter() - t0
        return GenerationResult(motion, wall, {"features": t_feat, "sampling": t_samp, "total": wall}, match)

    # ------------------------------------------------------------------------------ the steps
    def _tempo_on(self, tempo_norm: bool | None, constraint, beat_stride) -> bool:
        if tempo_norm is None:
            return bool(self.config.tempo_ref) and constraint is None and beat_stride is None
        if tempo_norm and not self.config.tempo_ref:
            raise ConfigError("--tempo-norm needs a model with reference tempi (tempo_ref in its config; "
                              "benchmarks/set_generation_defaults.py --tempo-ref adds them)")
        if tempo_norm and (constraint is not None or beat_stride is not None):
            raise ConfigError("--tempo-norm cannot be combined with editing constraints or --beat-stride")
        return bool(tempo_norm)

    def _hop(self, hop: int | None, beat_stride: int | None) -> int | None:
        """The joint-sampling hop in latent tokens, or None for sequential windows."""
        cfg = self.config
        if hop is None:
            hop = 0 if beat_stride is not None or not cfg.latent else int(cfg.diffusion.joint_hop)
        hop = int(hop)
        if hop == 0:
            return None
        if not cfg.latent:
            raise ConfigError("--hop (joint sampling) needs a latent generator (e.g. --model dance3d-latent)")
        if beat_stride is not None:
            raise ConfigError("give --hop or --beat-stride, not both")
        n = cfg.window // self.generator.ae.cfg.factor
        if not 1 <= hop <= n:
            raise ConfigError(f"--hop must be between 1 and {n} latent tokens (the window), got {hop}")
        return hop

    def _song(self, song, start: float, seconds: float | None) -> tuple[np.ndarray, int]:
        """Decoded mono audio of the part to dance: ``seconds`` from ``start`` (or to the end)."""
        from ...audio import load_audio

        y, sr = load_audio(song, min_duration=MIN_SONG_SECONDS, require_sound=True)
        duration = len(y) / sr
        if start < 0 or start >= duration - MIN_SONG_SECONDS:
            raise ConfigError(f"--start {start} s leaves less than {MIN_SONG_SECONDS} s of a {duration:.1f} s song")
        s0 = int(round(start * sr))
        s1 = len(y) if seconds is None else min(len(y), s0 + int(round(seconds * sr)))
        return y[s0:s1], sr

    def _music(self, y: np.ndarray, sr: int, overlap: float,
               beat_stride: int | None = None) -> tuple[WindowPlan, torch.Tensor]:
        """Window plan for the song and its music features (plan.padded, Da) at the model fps."""
        from ...audio import music_features
        from ...diffusion.windows import beat_starts

        cfg = self.config
        unit = self.generator.ae.cfg.factor if cfg.latent else cfg.model.patch  # frames per token
        total = int(round(len(y) / sr * cfg.fps))
        ov = max(0, int(round(cfg.window * overlap))) // unit * unit
        plan = WindowPlan(total=total, window=cfg.window, overlap=ov)
        if beat_stride is None:
            feats = music_features((y, sr), kind=cfg.music_features, fps=cfg.fps, n_frames=plan.padded, cache=False)
            return plan, torch.as_tensor(np.asarray(feats, np.float32), device=self.device)
        kind = cfg.music_features
        if kind.split("+")[0] not in ("baseline35", "fast35"):
            raise ConfigError(f"--beat-stride needs a model whose music features have a beat column "
                              f"(baseline35 / fast35), not {kind!r}")
        feats = np.asarray(music_features((y, sr), kind=kind, fps=cfg.fps, n_frames=total + cfg.window,
                                          cache=False), np.float32)
        beats = np.flatnonzero(feats[:total, 34] > 0.5)
        starts = beat_starts(total, cfg.window, beats, int(beat_stride))
        if cfg.latent:  # window starts on latent tokens
            starts = tuple(sorted({int(s) // unit * unit for s in starts}))
        plan = WindowPlan(total=total, window=cfg.window, overlap=min(
            [cfg.window] + [starts[k - 1] + cfg.window - starts[k] for k in range(1, len(starts))]),
            custom_starts=starts)
        return plan, torch.as_tensor(feats[: plan.padded], device=self.device)

    def _denoiser_factory(self, genre_idx: int, guidance: float, genre_guidance: float = 0.0):
        """music windows (K, W, Da) -> denoise(x_t, t) -> x0 with classifier-free guidance
        (:func:`choreogen.diffusion.sampler.guided_denoiser`) over the conditioning mapping
        {music_kv, genre}; the music keys/values are computed once per window batch.
        ``genre_guidance`` w_g > 0 (with a genre) adds w_g * (cond - the same with the genre "none")."""
        model, schedule, sd, device = self.generator.model, self.schedule, self.config.diffusion.sigma_data, self.device

        def model_fn(x, t, drop_cond, **cond):
            return precondition(model(x, t, dict(cond, drop_cond=drop_cond)), x, t, schedule, sd)

        def factory(mus_windows: torch.Tensor):
            K = mus_windows.shape[0]
            g = torch.full((K,), genre_idx, dtype=torch.long, device=device)
            gg = genre_guidance if genre_idx >= 0 else 0.0
            with torch.no_grad():
                tokens = model.encode_music(mus_windows.to(torch.float32))
                if guidance == 1.0 and not gg:
                    return _no_grad(guided_denoiser(model_fn, {"music_kv": model.memory_kv(tokens), "genre": g}, 1.0))
                null = model.null_music.to(tokens.dtype).expand_as(tokens)
                kv = model.memory_kv(torch.cat([tokens, null]))  # one projection for both halves
            cond = {"music_kv": [(k[:K], v[:K]) for k, v in kv], "genre": g}
            uncond = {"music_kv": [(k[K:], v[K:]) for k, v in kv], "genre": g}
            extra = [(float(gg), dict(cond, genre=torch.full_like(g, -1)))] if gg else []
            return _no_grad(guided_denoiser(model_fn, cond, guidance, uncond, extra))

        return factory

    def _to_motion(self, feats, song, genre_idx: int, opt: SamplingOptions, constraint, meta: dict,
                   foot_lock: bool, stage_radius) -> Motion:
        """Generated features (T, D) -> smoothed, decoded, canonical Motion (+ foot lock, stage)."""
        cfg = self.config
        if opt.smooth > 0 or opt.smooth_root > 0 or opt.smooth_height > 0:
            from .postprocess import smooth_features

            raw = np.asarray(feats, np.float32)
            sm = smooth_features(raw, opt.smooth, N_CONTACT, root_sigma=opt.smooth_root, height_sigma=opt.smooth_height)
            if constraint is not None:  # given values stay exactly as given
                cm = np.asarray(constraint.mask[: len(sm)], np.float32)
                sm[: len(cm)] = cm * raw[: len(cm)] + (1 - cm) * sm[: len(cm)]
            feats = torch.from_numpy(sm)
        skel = get_skeleton(cfg.skeleton)
        poses, trans, joints = decode_to_smpl(feats, skel)
        motion = Motion(
            skeleton=skel.name, fps=cfg.fps, joints=joints, poses=poses, trans=trans,
            music=os.path.abspath(song),  # absolute: the npz may be rendered from another folder
            genre=(cfg.genres[genre_idx] if genre_idx >= 0 else None), name=Path(song).stem, meta=meta,
        )
        motion = motion.canonical(floor="tracked")
        if constraint is None:
            from .postprocess import contain, lock_feet, lock_feet_ik

            if foot_lock:
                contacts = feats[..., :N_CONTACT]
                contacts = contacts.numpy() if isinstance(contacts, torch.Tensor) else np.asarray(contacts)
                mode = cfg.diffusion.foot_lock if foot_lock is True else foot_lock
                if mode not in ("root", "ik"):
                    raise ConfigError(f"the checkpoint's diffusion.foot_lock must be 'root' or 'ik', got {mode!r}")
                motion = (lock_feet_ik if mode == "ik" else lock_feet)(motion, contacts)
            motion = contain(motion, stage_radius)
        return motion


def _no_grad(fn):
    def wrapped(x, t):
        with torch.no_grad():
            return fn(x, t)

    return wrapped


def generate_dance(song: str | os.PathLike, checkpoint: str | os.PathLike | None = None, device: str = "cpu",
                   **kwargs) -> GenerationResult:
    """One call of :class:`Dance3DPipeline` (``checkpoint``: bundled name or path; see its ``__call__``)."""
    return Dance3DPipeline.from_pretrained(checkpoint, device)(song, **kwargs)
