"""``choreogen generate SONG``: a dance for a song (npz + BVH + mp4)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

# An --out ending like this names a file, but --out is a folder: refuse it rather than create a folder "x.mp4".
FILE_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".gif", ".webm", ".npz", ".npy", ".bvh", ".pkl", ".json",
                 ".wav", ".mp3", ".ogg", ".flac", ".m4a", ".fbx", ".txt")


def register(app: typer.Typer) -> None:
    @app.command("generate")
    def generate(
        song: Path = typer.Argument(..., help="Song: wav, mp3, ogg, flac or m4a, any length; or a folder of songs "
                                   "(one loaded model, npz + BVH per song: see generate-batch)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output folder for <name>.npz, <name>.bvh, <name>.mp4 "
                                 "(a folder: a name ending in a file suffix such as .mp4 is refused)."),
        genre: Optional[str] = typer.Option(None, help="Genre label of the model (e.g. waltz) or an alias (cha-cha)."),
        prompt: Optional[str] = typer.Option(None, help="Free English description of the dance, classified into one of "
                                             "the model's genres (prints which and how sure; an off-topic prompt is "
                                             "refused with exit 2)."),
        seconds: Optional[float] = typer.Option(None, help="Dance this many seconds (default: the whole song)."),
        start: float = typer.Option(0.0, help="Start this many seconds into the song."),
        seed: int = typer.Option(0, help="Random seed: same seed, same dance (bit-identical on CPU)."),
        steps: Optional[int] = typer.Option(None, help="DDIM steps (default: the model's, 20)."),
        guidance: Optional[float] = typer.Option(None, help="Classifier-free guidance weight (1 = off; default: the model's)."),
        batch: Optional[int] = typer.Option(None, help="Windows denoised together (default: all; lower bounds memory)."),
        eta: Optional[float] = typer.Option(None, help="DDIM stochasticity 0..1 (default: the model's)."),
        model: str = typer.Option("default", "--model", help="'default' (dance3d-latent), 'dance3d', 'skeleton2d', 'skeleton3d' or a checkpoint path."),
        device: str = typer.Option("cpu", help="cpu, cuda, cuda:N or mps."),
        skeleton: Optional[str] = typer.Option(None, help="Skeleton the dance must have: smpl24 or smplh52 (body + hands; "
                                               "needs a 52-joint --model). Default: the model's."),
        keep_joints: Optional[str] = typer.Option(None, help="Editing: keep these joints of --reference ('upper', 'lower', "
                                                  "'body' = generate only the hands, 'hands', or names)."),
        reference: Optional[Path] = typer.Option(None, help="Editing: reference dance for --keep-joints."),
        inbetween: Optional[tuple[Path, Path]] = typer.Option(None, help="Editing: two clips A B; generate between them."),
        gap: float = typer.Option(2.0, help="Seconds to generate between the --inbetween clips."),
        continue_: Optional[Path] = typer.Option(None, "--continue", help="Editing: continue this dance."),
        no_video: bool = typer.Option(False, "--no-video", help="Skip the mp4."),
        no_bvh: bool = typer.Option(False, "--no-bvh", help="Skip the BVH."),
        foot_lock: bool = typer.Option(True, "--foot-lock/--no-foot-lock",
                                       help="Stop planted feet from sliding (how: --foot-lock-mode)."),
        foot_lock_mode: Optional[str] = typer.Option(None, help="'ik' (legs re-bent, most travel kept) or 'root' "
                                                     "(the root shifted; default: the model's, root for the bundled ones)."),
        smooth: Optional[float] = typer.Option(None, help="Gaussian sigma (frames) over the generated rotations; 0 = off (default: the model's)."),
        smooth_root: Optional[float] = typer.Option(None, help="The same for the root position (default: the model's, else --smooth)."),
        smooth_height: Optional[float] = typer.Option(None, help="The same for the root's height alone (default: the model's, else --smooth-root)."),
        beat_stride: Optional[int] = typer.Option(None, help="Long-form windows start this many beats apart "
                                                  "(on the music's beat grid) instead of every 2.5 s."),
        hop: Optional[int] = typer.Option(None, help="Latent models: sample the whole song jointly, the model's "
                                          "windows every HOP latent tokens (0.2 s each) averaged (0 = sequential "
                                          "windows; default: the model's)."),
        tempo_norm: Optional[bool] = typer.Option(None, "--tempo-norm/--no-tempo-norm",
                                                  help="Dance the song at its genre's reference tempo and play the "
                                                  "dance back at the song's (faster music, faster dance; default: "
                                                  "on for models with reference tempi, off when editing)."),
        genre_guidance: Optional[float] = typer.Option(None, help="Extra guidance towards the --genre/--prompt genre "
                                                       "(models trained with genre dropout; default: the model's)."),
    ) -> None:
        """Generate a dance for SONG with the bundled model (or --model): writes npz, BVH and mp4."""
        from ..device import check_device
        from ..fileio import check_output_dir, require_file

        from ..errors import ConfigError

        if out.suffix.lower() in FILE_SUFFIXES:
            raise ConfigError(f"the output must be a folder (for {Path(song).stem}.npz, .bvh and .mp4), but "
                              f"'{out.name}' looks like a file name; give a folder such as "
                              f"{out.with_suffix('') if str(out.with_suffix('')) else 'out'}/", out)
        if foot_lock_mode is not None and foot_lock_mode not in ("root", "ik"):
            raise ConfigError(f"--foot-lock-mode must be 'root' or 'ik', got '{foot_lock_mode}'")
        foot_lock = (foot_lock_mode or True) if foot_lock else False
        device = check_device(device)
        check_output_dir(out)
        if song.is_dir():
            _folder(song, out, genre, seconds, seed, steps, model, no_bvh,
                    edits=any(x is not None for x in (keep_joints, inbetween, continue_, prompt)))
            return
        require_file(song, "song")  # before torch is imported: a typo is reported at once
        if genre is not None and prompt is not None:
            raise ConfigError("give --genre or --prompt, not both")
        if prompt is not None:
            from ..text.prompts import check_prompt

            check_prompt(prompt)  # empty / too long / not English: before any model is loaded
        if model in ("skeleton2d", "skeleton3d"):
            if genre is not None or prompt is not None:
                raise ConfigError(f"the {model} model takes no genre: drop --genre/--prompt")
            _skeleton(song, out, model, seconds, seed, steps, no_video)
            return
        _smpl(song, out, genre, seconds, start, seed, steps, guidance, batch, model, device, keep_joints,
              reference, inbetween, gap, continue_, no_video, no_bvh, eta, foot_lock, smooth, smooth_root, prompt, skeleton, beat_stride,
              hop=hop, tempo_norm=tempo_norm, genre_guidance=genre_guidance, smooth_height=smooth_height)


def _folder(folder, out, genre, seconds, seed, steps, model, no_bvh, edits):
    """A folder of songs: the batch job (``generate-batch``) with these options."""
    from rich.console import Console

    from ..errors import ConfigError
    from ..tasks.dance3d.batch import BatchOptions, collect_songs, generate_batch

    if edits:
        raise ConfigError("editing options and --prompt apply to one song; a folder takes --genre, --seconds, "
                          "--seed, --steps, --model, --no-bvh (see generate-batch)")
    if model in ("skeleton2d", "skeleton3d"):
        raise ConfigError(f"a folder of songs works with 3D dance models, not {model}")
    con = Console(stderr=True)
    songs = collect_songs([folder])
    opt = BatchOptions(checkpoint=None if model == "default" else model, genre=genre, seconds=seconds, seed=seed,
                       steps=steps, bvh=not no_bvh)
    res = generate_batch(songs, out, opt, progress=lambda i, n: con.print(f"[{i}/{n}] done", markup=False))
    failed = [r for r in res if r["status"] == "failed"]
    for r in failed:
        con.print(f"error: {r['error']}", markup=False, highlight=False, soft_wrap=True)
    con.print(f"{len(res) - len(failed)} of {len(res)} songs -> {out}/ (npz{'' if no_bvh else ', bvh'}; no mp4 for "
              "folders: `choreogen render` one)", markup=False, highlight=False)
    if failed:
        raise typer.Exit(2)


def _smpl(song, out, genre, seconds, start, seed, steps, guidance, batch, model, device, keep_joints, reference,
          inbetween, gap, continue_, no_video, no_bvh, eta=None, foot_lock=True, smooth=None, smooth_root=None,
          prompt=None, skeleton=None, beat_stride=None, hop=None, tempo_norm=None, genre_guidance=None, smooth_height=None):
    from rich.console import Console

    from ..errors import ConfigError
    from ..checkpoints import BUNDLED
    from ..fileio import require_file, staged_dir
    from ..tasks.dance3d import editing
    from ..tasks.dance3d.pipeline import generate_dance, get_generator
    from ..io import load_motion, save_motion

    con = Console(stderr=True)
    require_file(song, "song")
    ckpt = None if model == "default" else (model if model in BUNDLED else Path(model))
    gen = get_generator(ckpt, device)
    cfg = gen.config
    if skeleton is not None and skeleton != cfg.skeleton:
        from ..motion.skeleton import get_skeleton

        known = ("smpl24", "smplh52")
        if skeleton not in known:
            raise ConfigError(f"--skeleton must be one of {', '.join(known)}, got '{skeleton}'")
        n = get_skeleton(cfg.skeleton).num_joints
        raise ConfigError(f"--skeleton {skeleton}: the model '{gen.model_id}' is a {n}-joint {cfg.skeleton} checkpoint"
                          + (" without hands" if skeleton == "smplh52" else "") + f"; give a {skeleton} checkpoint "
                          "with --model PATH (train one with `choreogen train` on FineDance data, docs/GENERATION.md)")
    if prompt is not None:
        from ..tasks.dance3d.pipeline import resolve_prompt

        _, match = resolve_prompt(gen, prompt)  # refuses an off-topic prompt before any audio work
        con.print(f"genre: {match.describe()}", markup=False, highlight=False, soft_wrap=True)
    constraint = None
    n_edit = sum(x is not None for x in (keep_joints, inbetween, continue_))
    if n_edit > 1:
        raise ConfigError("use only one of --keep-joints, --inbetween, --continue")
    if keep_joints is not None:
        if reference is None:
            raise ConfigError("--keep-joints needs --reference MOTION")
        ref = load_motion(reference)
        constraint = editing.keep_joints(ref, keep_joints, cfg.skeleton, cfg.fps)
        if not seconds:
            seconds = constraint.known.shape[0] / cfg.fps
            con.print(f"note: editing: the dance takes the length of the reference {reference}, {seconds:.1f} s "
                      "(--seconds sets another)", markup=False, highlight=False, soft_wrap=True)
    elif inbetween is not None:
        constraint = editing.inbetween(load_motion(inbetween[0]), load_motion(inbetween[1]), gap, cfg.skeleton, cfg.fps)
        if seconds:
            con.print("note: --inbetween: the dance is clip A + the gap + clip B; --seconds is ignored",
                      markup=False, highlight=False, soft_wrap=True)
        seconds = constraint.known.shape[0] / cfg.fps
    elif continue_ is not None:
        constraint = editing.continue_from(load_motion(continue_), cfg.skeleton, cfg.fps)

    from tqdm import tqdm

    bar = tqdm(total=1, desc="denoising", unit="step", leave=False, disable=None)

    def progress(i, n):
        bar.total = n
        bar.n = i
        bar.refresh()

    res = generate_dance(song, ckpt, genre=genre, seconds=seconds, start=start, seed=seed, steps=steps,
                         guidance=guidance, batch=batch, device=device, constraint=constraint, progress=progress,
                         eta=eta, foot_lock=foot_lock, smooth=smooth, smooth_root=smooth_root, prompt=prompt,
                         beat_stride=beat_stride, hop=hop, tempo_norm=tempo_norm, genre_guidance=genre_guidance,
                         smooth_height=smooth_height)
    bar.close()
    m = res.motion
    if genre and m.genre and genre.strip().lower() != m.genre.lower():
        con.print(f"genre: understood '{genre}' as {m.genre}", markup=False, highlight=False, soft_wrap=True)
    if seconds is not None and m.meta["seconds"] < seconds - 0.05:
        con.print(f"note: the song has only {m.meta['seconds']:.1f} s left after {start:g} s: the dance is "
                  f"{m.duration:.1f} s long, shorter than the {seconds:g} s asked", markup=False, highlight=False, soft_wrap=True)
    name = Path(song).stem
    with staged_dir(out) as tmp:
        save_motion(m, tmp / f"{name}.npz")
        if not no_bvh:
            from ..io.bvh import save_bvh

            save_bvh(m, tmp / f"{name}.bvh")
        if not no_video:
            from ..render import render_motion

            music = song
            if start > 0:  # the video's audio starts where the dance starts
                import soundfile as sf

                from ..audio import load_audio

                y, sr = load_audio(song)
                music = tmp / "excerpt.wav"
                sf.write(music, y[int(round(start * sr)):], sr)
            render_motion(m, tmp / f"{name}.mp4", music=music)
            if start > 0:
                music.unlink()
    con.print(f"{m.duration:.1f} s of dance ({m.num_frames} frames at {m.fps:g} fps, {m.meta['windows']} windows, "
              f"{m.meta['steps']} steps) in {res.seconds_wall:.1f} s -> {out}/{name}.npz"
              + ("" if no_bvh else ", .bvh") + ("" if no_video else ", .mp4"))


def _skeleton(song, out, model, seconds, seed, steps, no_video):
    from ..fileio import require_file, staged_dir
    from ..io import save_motion

    require_file(song, "song")
    from ..tasks.skeleton import generate_skeleton

    import time

    from rich.console import Console

    t0 = time.perf_counter()
    m = generate_skeleton(song, model=model, seconds=seconds, seed=seed, **({"steps": steps} if steps else {}))
    wall = time.perf_counter() - t0
    if seconds is not None and m.duration < seconds - 0.05:
        Console(stderr=True).print(f"note: the song is only {m.duration:.1f} s long: the dance is {m.duration:.1f} s, "
                                   f"shorter than the {seconds:g} s asked", markup=False, highlight=False, soft_wrap=True)
    name = Path(song).stem
    with staged_dir(out) as tmp:
        save_motion(m, tmp / f"{name}.npz")
        if not no_video:
            from ..render import render_motion

            render_motion(m, tmp / f"{name}.mp4", music=song)
    Console(stderr=True).print(f"{m.duration:.1f} s {model} dance ({m.num_frames} frames, {m.skeleton}) in {wall:.1f} s "
                               f"-> {out}/{name}.npz" + ("" if no_video else ", .mp4"))
