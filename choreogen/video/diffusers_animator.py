"""DiffusersAnimator: a user's diffusers ControlNet pipeline as an :class:`~.animator.Animator`.

Design (standard diffusers parts only): ``StableDiffusionControlNetImg2ImgPipeline``. Per frame:

* the **pose condition** is the frame's skeleton drawn OpenPose-style (:func:`.openpose.pose_image`),
  the input OpenPose ControlNets are trained on;
* the **img2img init image** carries the person's appearance: by default (``init="geometric"``) the
  :class:`~.animator.GeometricAnimator` frame (the photo already warped into the pose), so the
  diffusion model refines a frame that is right in layout and colour; ``init="reference"`` starts
  every frame from the unchanged photo (needs a higher ``strength`` to move the body);
* ``strength`` (0-1) is how much of that init image is re-noised and regenerated;
* the **noise** comes from a CPU ``torch.Generator`` seeded with ``seed`` for every frame: the same
  skeleton gives the same frame (deterministic per frame), and neighbouring frames share their noise.

Text: with a text encoder + tokenizer in the folder, ``prompt`` / ``negative_prompt`` are encoded
once in :meth:`DiffusersAnimator.prepare`; a folder without them (e.g. a pose-only model) gets zero
text embeddings of shape (1, 77, cross_attention_dim).

Loading (:meth:`DiffusersAnimator.from_pretrained`) never runs code or downloads: a local folder in
diffusers' layout (``model_index.json``, one sub-folder per component), ``local_files_only=True``,
``use_safetensors=True``; component libraries other than diffusers / transformers (custom code) and
weights only in pickle formats (.bin, .ckpt, .pt, .pth) are refused with an InputError naming the
folder. Frames: (S, S, 3) uint8 RGB, S = the reference's size (a multiple of 8).
"""
from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from ..device import check_device
from ..errors import ConfigError, InputError
from .animator import Animator, GeometricAnimator
from .openpose import pose_image
from .reference import Reference

INSTALL = "pip install 'choreogen[diffusers]'"
CONTROLNET_PIPELINES = {"StableDiffusionControlNetImg2ImgPipeline", "StableDiffusionControlNetPipeline"}
BASE_PIPELINES = {"StableDiffusionPipeline", "StableDiffusionImg2ImgPipeline"}
WEIGHTED = ("unet", "vae", "controlnet", "text_encoder", "safety_checker", "image_encoder")
PICKLE = (".bin", ".ckpt", ".pt", ".pth", ".pkl")
REQUIRED = ("unet", "vae", "scheduler")


def _diffusers():
    try:
        import diffusers.utils.logging  # noqa: F401
        import transformers.utils.logging  # noqa: F401
    except ImportError:
        raise ConfigError("the diffusers animator needs diffusers and transformers, the optional 'diffusers' extra: "
                          f"{INSTALL}") from None
    with _quiet():
        import diffusers
    return diffusers


@contextlib.contextmanager
def _quiet():
    """Silence diffusers' / transformers' warnings, info logs and loading bars (restored afterwards)."""
    from diffusers.utils import logging as dlog
    from transformers.utils import logging as tlog

    old = dlog.get_verbosity(), tlog.get_verbosity(), dlog.is_progress_bar_enabled()
    dlog.set_verbosity_error()
    tlog.set_verbosity_error()
    dlog.disable_progress_bar()
    try:
        yield
    finally:
        dlog.set_verbosity(old[0])
        tlog.set_verbosity(old[1])
        if old[2]:
            dlog.enable_progress_bar()


def _weights(folder: Path, what: str) -> None:
    """InputError unless ``folder`` holds safetensors weights (refusing pickle-only weights)."""
    if not folder.is_dir():
        raise InputError(f"the {what} folder is missing", folder)
    names = [p.name for p in folder.iterdir() if p.is_file()]
    if any(n.endswith(".safetensors") or n.endswith(".safetensors.index.json") for n in names):
        return
    pick = sorted(n for n in names if n.endswith(PICKLE))
    if pick:
        raise InputError(f"the {what} weights are only in a pickle format ({', '.join(pick)}); choreogen loads "
                         "safetensors only (they cannot run code): convert them, e.g. with diffusers' "
                         "save_pretrained(folder, safe_serialization=True)", folder)
    raise InputError(f"no {what} weights (*.safetensors) in the folder", folder)


def check_pipeline_folder(path: str | os.PathLike, controlnet: str | os.PathLike | None = None) -> dict:
    """Validate a diffusers pipeline folder before loading; returns its ``model_index.json`` (a dict).

    Raises InputError naming the path for: a missing folder, a single checkpoint file, no or a broken
    model_index.json, an unsupported pipeline class, custom-code components, a missing component,
    pickle-only or missing weights, and a ControlNet neither in the folder nor given.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("diffusers pipeline folder not found", p)
    if p.is_file():
        raise InputError("a single checkpoint file is not supported: give a diffusers pipeline folder "
                         "(model_index.json + unet/ vae/ controlnet/ scheduler/ ...)", p)
    idx_file = p / "model_index.json"
    if not idx_file.is_file():
        raise InputError("not a diffusers pipeline folder (no model_index.json)", p)
    try:
        idx = json.loads(idx_file.read_text(encoding="utf-8"))
        if not isinstance(idx, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise InputError("model_index.json is not valid JSON", idx_file) from None
    cls = idx.get("_class_name")
    if cls not in CONTROLNET_PIPELINES | BASE_PIPELINES:
        raise InputError(f"unsupported pipeline class {cls!r} in model_index.json; supported: Stable Diffusion "
                         f"(1.x/2.x) ControlNet pipelines ({', '.join(sorted(CONTROLNET_PIPELINES))}), or "
                         f"{', '.join(sorted(BASE_PIPELINES))} plus a separate ControlNet folder", p)
    comps = {k: v for k, v in idx.items() if not k.startswith("_") and isinstance(v, list)}
    for name, spec in comps.items():
        if len(spec) != 2 or spec[0] not in ("diffusers", "transformers", None):
            raise InputError(f"component {name!r} comes from {spec!r} in model_index.json: only diffusers and "
                             "transformers components are loaded (no custom code)", p)
    has = {k for k, v in comps.items() if v[0] is not None}
    for name in REQUIRED:
        if name not in has:
            raise InputError(f"the pipeline has no {name} (model_index.json)", p)
    if controlnet is None and "controlnet" not in has:
        raise InputError("the pipeline has no ControlNet; give one (a ControlNetModel folder) or a "
                         "ControlNet pipeline folder", p)
    if ("text_encoder" in has) != ("tokenizer" in has):
        raise InputError("the pipeline has a text encoder without a tokenizer or the other way round", p)
    for name in sorted(has & set(WEIGHTED)):
        if name == "controlnet" and controlnet is not None:
            continue
        _weights(p / name, name)
    if controlnet is not None:
        c = Path(controlnet)
        if not c.is_dir() or not (c / "config.json").is_file():
            raise InputError("not a diffusers ControlNet folder (no config.json)", c)
        _weights(c, "controlnet")
    return idx


def load_pipeline(path: str | os.PathLike, controlnet: str | os.PathLike | None = None, device: str = "cpu"):
    """Folder -> a ``StableDiffusionControlNetImg2ImgPipeline`` on ``device`` (float32, progress bars off)."""
    idx = check_pipeline_folder(path, controlnet)
    device = check_device(device)
    diffusers = _diffusers()
    nulls = {k: None for k, v in idx.items() if isinstance(v, list) and not k.startswith("_") and v[0] is None}
    opts = dict(local_files_only=True, use_safetensors=True, low_cpu_mem_usage=False)
    where = Path(path)
    try:
        with _quiet():
            if controlnet is not None:
                where = Path(controlnet)
                nulls["controlnet"] = diffusers.ControlNetModel.from_pretrained(controlnet, **opts)
                where = Path(path)
            pipe = diffusers.StableDiffusionControlNetImg2ImgPipeline.from_pretrained(path, **opts, **nulls)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise InputError(f"cannot load the diffusers pipeline ({msg[:300]})", where) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


class DiffusersAnimator(Animator):
    """Reference + per-frame skeleton -> frames through a diffusers ControlNet img2img pipeline.

    ``pipe``: a ``StableDiffusionControlNetImg2ImgPipeline`` (or any object with its call signature,
    ``encode_prompt``, ``unet``, ``text_encoder`` and ``_execution_device``). ``steps``: scheduler
    steps (img2img runs ``int(steps * strength)`` of them); ``guidance``: classifier-free guidance
    scale (1 = off, half the cost); ``control_scale``: ControlNet conditioning scale; ``seed``: the
    noise seed of every frame; ``init``: "geometric" or "reference" (see module doc).
    """

    def __init__(self, pipe, *, steps: int = 20, strength: float = 0.6, guidance: float = 7.5,
                 control_scale: float = 1.0, seed: int = 0, prompt: str = "", negative_prompt: str = "",
                 init: str = "geometric", source: str = ""):
        if int(steps) < 1:
            raise ConfigError(f"--animator-steps must be at least 1, got {steps}")
        if not 0.0 < float(strength) <= 1.0:
            raise ConfigError(f"strength must be in (0, 1], got {strength}")
        if int(steps * strength) < 1:
            raise ConfigError(f"steps x strength must be at least 1 (got {steps} x {strength})")
        if init not in ("geometric", "reference"):
            raise ConfigError(f"init must be geometric or reference, got {init!r}")
        if (prompt or negative_prompt) and getattr(pipe, "text_encoder", None) is None:
            raise ConfigError("this diffusers pipeline has no text encoder: a prompt cannot be used", source or None)
        self.pipe, self.steps, self.strength, self.guidance = pipe, int(steps), float(strength), float(guidance)
        self.control_scale, self.seed, self.init, self.source = float(control_scale), int(seed), init, source
        self.prompt, self.negative_prompt = prompt, negative_prompt
        self.ref: Reference | None = None

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike, *, controlnet: str | os.PathLike | None = None,
                        device: str = "cpu", **options) -> "DiffusersAnimator":
        """Load a local diffusers folder (see :func:`check_pipeline_folder`); ``controlnet``: a separate
        ControlNetModel folder for a plain Stable Diffusion pipeline folder; ``options``: see the class."""
        return cls(load_pipeline(path, controlnet, device), source=str(path), **options)

    def prepare(self, reference: Reference) -> None:
        import torch

        S = reference.size
        if S % 8:
            raise ConfigError(f"the diffusers animator needs a frame size that is a multiple of 8, got {S}")
        self.ref = reference
        self.geometric = None
        if self.init == "geometric":
            self.geometric = GeometricAnimator()
            self.geometric.prepare(reference)
        pipe = self.pipe
        dev = pipe._execution_device
        cfg = self.guidance > 1.0
        with torch.no_grad():
            if getattr(pipe, "text_encoder", None) is not None:
                pos, neg = pipe.encode_prompt(self.prompt, dev, 1, cfg, self.negative_prompt)
            else:
                dim = pipe.unet.config.cross_attention_dim
                if not isinstance(dim, int):
                    raise ConfigError(f"a UNet without a text encoder needs one cross_attention_dim, got {dim}",
                                      self.source or None)
                pos = torch.zeros(1, 77, dim, device=dev, dtype=pipe.unet.dtype)
                neg = pos if cfg else None
        self.embeds = (pos, neg)

    def condition(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        """The (S, S, 3) uint8 RGB pose condition image of one frame."""
        return pose_image(keypoints, confidence, self.ref.size)

    def render(self, keypoints: np.ndarray, confidence: np.ndarray) -> np.ndarray:
        import torch
        from PIL import Image

        if self.ref is None:
            raise RuntimeError("call prepare(reference) first")
        S = self.ref.size
        init = self.geometric.render(keypoints, confidence) if self.geometric is not None else self.ref.image
        gen = torch.Generator("cpu").manual_seed(self.seed)
        pos, neg = self.embeds
        with _quiet():
            out = self.pipe(prompt_embeds=pos, negative_prompt_embeds=neg, image=Image.fromarray(init),
                            control_image=Image.fromarray(self.condition(keypoints, confidence)), height=S, width=S,
                            strength=self.strength, num_inference_steps=self.steps, guidance_scale=self.guidance,
                            controlnet_conditioning_scale=self.control_scale, generator=gen, output_type="np")
        img = np.asarray(out.images[0], np.float32)
        return (np.clip(img, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
