"""``choreogen video SONG --image PHOTO --out dance.mp4``: the person in a photo dances to a song.

Default driver: a 3D dance generated for the song by the bundled model, projected and fitted to the
photo's body; ``--motion`` (any motion file) or ``--keypoints`` (a 2D keypoint file, e.g. from
``choreogen keypoints VIDEO``) drive it instead. ``--method flow``: the latent-flow route (issue
16): the bundled flow-diffusion model generates latent optical flows from the photo and the music
and the latent flow auto-encoder decodes them (no keypoints drive it). Needs ``choreogen[video]``.
``--animator diffusers:FOLDER``: your local diffusers ControlNet pipeline renders the frames (``choreogen[diffusers]``).
``--animator refined``: the geometric warp corrected by the bundled learned refiner (``refined:CKPT``: another one).
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("video")
    def video(
        song: Path = typer.Argument(..., help="Music file (any format ffmpeg decodes); its audio is muxed in."),
        image: Path = typer.Option(..., "--image", "-i", help="Photo of one person (full or upper body)."),
        out: Path = typer.Option(..., "--out", "-o", help="Output .mp4 (H.264 + AAC)."),
        seconds: Optional[float] = typer.Option(None, help="Only the first S seconds (default: the whole song)."),
        seed: int = typer.Option(0, help="Random seed of the generated dance."),
        size: int = typer.Option(256, help="Frame size in pixels: 256 or 512 (square; --method flow: 128 or 256)."),
        fps: float = typer.Option(30.0, help="Frame rate of the video."),
        genre: Optional[str] = typer.Option(None, help="Genre of the generated dance (see `choreogen models`)."),
        prompt: Optional[str] = typer.Option(None, help="Free English description of the dance (instead of --genre)."),
        motion: Optional[Path] = typer.Option(None, help="Drive the photo with this dance (npz/bvh/pkl/...)."),
        keypoints: Optional[Path] = typer.Option(None, help="Drive the photo with a 2D keypoint file (coco17/mediapipe33)."),
        model: Optional[str] = typer.Option(None, "--model", help="Dance model for generation (default: the bundled default, dance3d-latent; "
                                            "--method flow: bundled flow-video)."),
        method: str = typer.Option("pose", help="pose (3D dance -> skeleton -> geometric animator) or flow "
                                   "(latent optical flows from photo + music, no keypoints)."),
        steps: Optional[int] = typer.Option(None, help="--method flow: DDIM steps (default: the model's, 25)."),
        guidance: Optional[float] = typer.Option(None, help="--method flow: music guidance weight (default 2)."),
        tempo_norm: Optional[bool] = typer.Option(None, "--tempo-norm/--no-tempo-norm",
                                                  help="--method flow: move at the song's tempo by generating for the song "
                                                       "stretched to the model's reference tempo (default: on when the "
                                                       "model has one)."),
        pose_source: str = typer.Option("teacher", help="--method pose: where the generated pose comes from: teacher "
                                        "(3D generator -> projection) or m2penc (music-to-pose encoder -> 64x64 "
                                        "heatmaps -> keypoints); --model then names that model."),
        animator: str = typer.Option("geometric", help="geometric; refined[:CHECKPOINT] (the warp + the learned refiner, "
                                     "default its bundled weights); or diffusers:FOLDER[,CONTROLNET_FOLDER]: your local "
                                     "diffusers ControlNet pipeline (safetensors; see docs/VIDEO.md)."),
        animator_steps: Optional[int] = typer.Option(None, help="--animator diffusers: scheduler steps (default 20)."),
        animator_prompt: str = typer.Option("", help="--animator diffusers: text prompt (needs a text encoder)."),
        animator_device: str = typer.Option("cpu", help="--animator diffusers: torch device (cpu, cuda, cuda:N, mps)."),
    ) -> None:
        """Animate the person in --image to SONG (see docs/VIDEO.md)."""
        from ..errors import ConfigError, InputError

        if method not in ("pose", "flow"):
            raise ConfigError(f"--method must be pose or flow, got {method!r}")
        anim = _animator(animator, animator_steps, animator_prompt, animator_device, method)
        if method == "flow":
            if motion is not None or keypoints is not None or genre is not None or prompt is not None:
                raise ConfigError("--motion, --keypoints, --genre and --prompt are for --method pose")
            if pose_source != "teacher":
                raise ConfigError("--pose-source is for --method pose")
            from ..api import FlowVideoPipeline

            fpipe = FlowVideoPipeline.from_pretrained(model)
            r = fpipe(song, image, out, seconds=seconds, seed=seed, size=size, fps=fps, steps=steps,
                      guidance=guidance, tempo_norm=tempo_norm, progress=True)
            t = r.timings
            if r.tempo:
                typer.echo(f"tempo: {r.tempo['tempo_bpm']:.1f} BPM, generated at {r.tempo['tempo_ref']:.1f} BPM "
                           f"(x{r.tempo['tempo_rate']:.3f}) and played back at the song's tempo")
            typer.echo(f"{out}: {r.n_frames} frames {size}x{size} at {fps:g} fps in {t['total']:.1f} s "
                       f"(photo {t['reference']:.1f} s, music {t['music']:.1f} s, flows {t['flows']:.1f} s, "
                       f"video {t['decode_encode']:.1f} s)")
            return
        if steps is not None or guidance is not None or tempo_norm is not None:
            raise ConfigError("--steps, --guidance and --tempo-norm are for --method flow (the pose route's dancer "
                              "follows the tempo through its own model)")
        from ..api import PoseVideoPipeline
        from ..io import load_motion

        if motion is not None and keypoints is not None:
            raise ConfigError("give --motion or --keypoints, not both")
        drv = None
        if motion is not None:
            drv = load_motion(motion)
        if keypoints is not None:
            drv = load_motion(keypoints)
            if drv.positions().shape[-1] != 2:
                raise InputError("--keypoints needs a 2D keypoint file (use --motion for 3D dances)", keypoints)
        if pose_source != "teacher" and drv is not None:
            raise ConfigError("--pose-source generates the pose; it cannot be combined with --motion or --keypoints")
        pipe = PoseVideoPipeline.from_pretrained(model, animator=anim, pose_source=pose_source)
        res = pipe(song, image, out, motion=drv, seconds=seconds, seed=seed, size=size, fps=fps, genre=genre,
                   prompt=prompt, progress=True)
        t = res.timings
        typer.echo(f"{out}: {len(res.driving.keypoints)} frames {size}x{size} at {fps:g} fps in {t['total']:.1f} s "
                   f"(photo {t['reference']:.1f} s, dance {t['dance']:.1f} s, video {t['animate_encode']:.1f} s)")


def _animator(spec: str, steps, prompt: str, device: str, method: str):
    """``--animator`` -> None (the default geometric animator), a RefinedAnimator or a loaded DiffusersAnimator."""
    from ..errors import ConfigError

    if spec == "geometric" or spec == "refined" or spec.startswith("refined:"):
        if steps is not None or prompt or device != "cpu":
            raise ConfigError("--animator-steps, --animator-prompt and --animator-device are for --animator diffusers:FOLDER")
        if spec == "geometric":
            return None
        if method != "pose":
            raise ConfigError("--animator is for --method pose")
        from ..video.refined_animator import RefinedAnimator

        return RefinedAnimator.from_pretrained(spec[len("refined:"):] or None)
    if not spec.startswith("diffusers:") or not spec[len("diffusers:"):]:
        raise ConfigError(f"--animator must be geometric, refined[:CHECKPOINT] or diffusers:FOLDER[,CONTROLNET_FOLDER], "
                          f"got {spec!r}")
    if method != "pose":
        raise ConfigError("--animator is for --method pose")
    from ..video.diffusers_animator import DiffusersAnimator

    folder, _, controlnet = spec[len("diffusers:"):].partition(",")
    opts = {"prompt": prompt} if steps is None else {"prompt": prompt, "steps": steps}
    return DiffusersAnimator.from_pretrained(folder, controlnet=controlnet or None, device=device, **opts)
