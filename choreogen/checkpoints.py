"""One checkpoint envelope for every model, one loader, one cache, one list of bundled models.

File: safetensors (loading reads tensors and JSON strings only; it never unpickles or executes
code). String metadata of the envelope (``format`` = "choreogen.checkpoint", ``version`` = "1"):

* ``task``        which task room builds the model: "dance3d", "skeleton.repair", "skeleton.generate", ...
* ``config``      JSON: the task's declared config (architecture, fps, window, features, genres, ...)
* ``normaliser``  JSON: how inputs/outputs are (de)normalised; its tensors are stored as ``normaliser.*``
* ``provenance``  JSON: training data summary, steps, wall time, hardware, date, validation numbers

Tensors carry the task's own prefixes (``model.``, ``vae.``, ``denoiser.``, ``normaliser.``, ...).
Files written by choreogen 0.1 (formats "choreogen-generator", "choreogen.skeleton_vae",
"choreogen.skelgen") are read through :func:`_from_legacy` into the same :class:`Envelope`.

This module imports no model code: task rooms turn an :class:`Envelope` into their models
(``load_model(name_or_path, task, build)`` caches what ``build`` returns).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .errors import ConfigError, InputError
from .fileio import atomic_path

FORMAT = "choreogen.checkpoint"
VERSION = "1"
ASSET_DIR = Path(__file__).resolve().parent / "assets" / "models"


@dataclass(frozen=True)
class Bundled:
    """A model shipped inside the package (``choreogen/assets/models/<file>``)."""

    name: str
    file: str
    task: str
    what: str

    @property
    def path(self) -> Path:
        return ASSET_DIR / self.file


BUNDLED: dict[str, Bundled] = {b.name: b for b in (
    Bundled("dance3d", "generator.safetensors", "dance3d", "music -> SMPL-24 dance (Tang2018 ballroom, 4 genres)"),
    Bundled("dance3d-latent", "generator_latent.safetensors", "dance3d",
            "music -> SMPL-24 dance, latent diffusion over a motion autoencoder (Tang2018, 4 genres; issue 12)"),
    Bundled("repair-coco17", "repair_coco17.safetensors", "skeleton.repair", "2D COCO-17 keypoint repair"),
    Bundled("repair-smpl24", "repair_smpl24.safetensors", "skeleton.repair", "3D SMPL-24 joint repair"),
    Bundled("skeleton2d", "skelgen_coco17.safetensors", "skeleton.generate", "music -> 2D COCO-17 skeleton dance"),
    Bundled("skeleton3d", "skelgen_smpl24.safetensors", "skeleton.generate", "music -> 3D SMPL-24 skeleton dance"),
    Bundled("prompt-genre", "prompt_genre.safetensors", "text.prompt_genre",
            "free-text prompt -> genre (tang2018 4, aistpp 10, finedance 16) over all-MiniLM-L6-v2"),
    Bundled("flow-lfae", "flow_lfae.safetensors", "flowvideo.lfae",
            "latent flow auto-encoder: 64x64 frame <-> 16x16 latent, flow + occlusion between two frames"),
    Bundled("flow-video", "flow_diffusion.safetensors", "flowvideo.diffusion",
            "photo latent + music -> 40 frames (10 fps) of 16x16 latent flow + occlusion"),
    Bundled("m2penc", "m2penc.safetensors", "posevideo.m2penc",
            "music -> 64x64 pose guidance maps + keypoint heatmaps (M2PEnc, 15 fps; teacher dance3d + Tang2018)"),
    Bundled("refiner", "refiner.safetensors", "video.refiner",
            "photo animator's learned refiner: geometric warp + pose part maps + photo -> corrected frame (128x128)"),
)}


@dataclass
class Envelope:
    """A checkpoint in memory: task, config, tensors (name -> torch.Tensor), normaliser, provenance."""

    task: str
    config: dict
    tensors: dict
    provenance: dict = field(default_factory=dict)
    normaliser: dict = field(default_factory=dict)
    path: Path | None = None
    legacy: str | None = None  # the 0.1 format it was read from, if any

    def part(self, prefix: str, dtype=None) -> dict:
        """Tensors under ``prefix`` with the prefix removed (optionally cast, e.g. torch.float32)."""
        n = len(prefix)
        return {k[n:]: (v.to(dtype) if dtype is not None and v.is_floating_point() else v)
                for k, v in self.tensors.items() if k.startswith(prefix)}

    @property
    def name(self) -> str:
        return self.provenance.get("model_id") or (self.path.stem if self.path else self.task)


def resolve(name_or_path: str | os.PathLike | None, task: str, default: str | None = None) -> Path:
    """A bundled model name (``choreogen models``) or a file path -> the checkpoint's path.

    ``None`` -> ``default`` (a bundled name). Missing files raise InputError naming them; a
    bundled name of another task raises ConfigError."""
    key = default if name_or_path is None else name_or_path
    if key is None:
        raise ConfigError(f"no default {task} model: give a checkpoint path")
    if isinstance(key, str) and key in BUNDLED:
        b = BUNDLED[key]
        if b.task != task:
            raise ConfigError(f"'{key}' is a {b.task} model, not a {task} model")
        if not b.path.is_file():
            raise ConfigError(f"the bundled model '{key}' is missing from this installation: {b.path}")
        return b.path
    p = Path(key)
    if not p.is_file():
        raise InputError("model checkpoint not found" if not p.exists() else "model checkpoint is not a file", p)
    return p


def read(path: str | os.PathLike) -> Envelope:
    """Read any choreogen checkpoint (envelope or 0.1 legacy format); InputError naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    p = Path(path)
    meta = read_metadata(p)
    try:
        tensors = load_file(str(p))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InputError(f"checkpoint tensors are unreadable ({e.__class__.__name__})", p) from None
    try:
        if meta.get("format") == FORMAT:
            if meta.get("version") != VERSION:
                raise InputError(f"checkpoint version {meta.get('version')} is not supported (this choreogen "
                                 f"reads version {VERSION})", p)
            return Envelope(task=meta["task"], config=json.loads(meta["config"]), tensors=tensors,
                            provenance=json.loads(meta.get("provenance", "{}")),
                            normaliser=json.loads(meta.get("normaliser", "{}")), path=p)
        return _from_legacy(meta, tensors, p)
    except (KeyError, TypeError, json.JSONDecodeError) as e:
        raise InputError(f"checkpoint metadata is incomplete or corrupt ({e.__class__.__name__}: {e})", p) from None


def _from_legacy(meta: dict, tensors: dict, p: Path) -> Envelope:
    fmt = meta.get("format")
    if fmt == "choreogen-generator":
        if meta.get("format_version") != "1":
            raise InputError(f"checkpoint format version {meta.get('format_version')} is not supported "
                             "(this choreogen reads version 1)", p)
        prov = json.loads(meta.get("provenance", "{}"))
        prov["data"] = json.loads(meta.get("data", "{}"))
        t = {("normaliser." + k[len("normalizer."):] if k.startswith("normalizer.") else k): v for k, v in tensors.items()}
        return Envelope("dance3d", json.loads(meta["config"]), t, prov, {"kind": "minmax"}, p, fmt)
    if fmt == "choreogen.skeleton_vae":
        info = json.loads(meta.get("info", "{}"))
        cfg = {"model": json.loads(meta["config"]), "info": info}
        return Envelope("skeleton.repair", cfg, {f"model.{k}": v for k, v in tensors.items()}, {}, {}, p, fmt)
    if fmt == "choreogen.skelgen":
        cfg = {"vae": json.loads(meta["vae_config"]), "denoiser": json.loads(meta["denoiser_config"]),
               "info": json.loads(meta.get("info", "{}"))}
        t = {("normaliser." + k[len("stats."):] if k.startswith("stats.") else k): v for k, v in tensors.items()}
        return Envelope("skeleton.generate", cfg, t, {}, {"kind": "standardise"}, p, fmt)
    raise InputError(f"not a choreogen checkpoint (format={fmt!r})", p)


def write(path: str | os.PathLike, env: Envelope, half: bool = False) -> Path:
    """Write ``env`` atomically as an envelope file. ``half``: float16 weights (normaliser tensors
    stay float32); readers cast back to float32."""
    from safetensors.torch import save_file

    def cvt(k, v):
        v = v.detach().to("cpu")
        if half and v.is_floating_point() and not k.startswith("normaliser."):
            v = v.half()
        return v.contiguous()

    meta = {"format": FORMAT, "version": VERSION, "task": env.task,
            "config": json.dumps(env.config, sort_keys=True, default=str),
            "normaliser": json.dumps(env.normaliser, sort_keys=True, default=str),
            "provenance": json.dumps(env.provenance, sort_keys=True, default=str)}
    with atomic_path(path, suffix=".safetensors") as tmp:
        save_file({k: cvt(k, v) for k, v in env.tensors.items()}, str(tmp), metadata=meta)
    return Path(path)


_CACHE: dict[tuple, Any] = {}


def load_model(name_or_path: str | os.PathLike | None, task: str, build: Callable[[Envelope], Any],
               default: str | None = None, key: tuple = ()) -> Any:
    """``build(read(resolve(...)))``, cached by (file, modification time, task, key): a model is
    built once per process however many pipelines or calls use it. InputError if the file is
    of another task."""
    p = resolve(name_or_path, task, default)
    ck = (str(p.resolve()), p.stat().st_mtime_ns, task, key)
    if ck not in _CACHE:
        env = read(p)
        if env.task != task:
            raise InputError(f"is a {env.task} checkpoint, not a {task} one", p)
        _CACHE[ck] = build(env)
    return _CACHE[ck]


def list_models() -> list[dict]:
    """The bundled models: name, task, what, file size, training data and validation summary."""
    rows = []
    for b in BUNDLED.values():
        row = {"name": b.name, "task": b.task, "what": b.what, "file": b.file,
               "size_mb": round(b.path.stat().st_size / 1e6, 2) if b.path.is_file() else None}
        if b.path.is_file():
            env = read(b.path)
            prov, cfg = env.provenance, env.config
            info = cfg.get("info", {}) if isinstance(cfg.get("info"), dict) else {}
            data = prov.get("data", {}) or {}
            row["data"] = (data if isinstance(data, str) else data.get("dataset")) or info.get("data") or prov.get("data_summary")
            row["steps"] = prov.get("steps") or info.get("steps") or info.get("steps_trained")
            val = prov.get("val") or info.get("val") or {}
            row["validation"] = prov.get("validation") or {k: round(float(v), 4) for k, v in val.items()
                                                           if isinstance(v, (int, float))}
        rows.append(row)
    return rows


def read_metadata(path: str | os.PathLike) -> dict:
    """The raw string metadata of a safetensors checkpoint (no tensors read)."""
    from safetensors import SafetensorError, safe_open

    p = Path(path)
    if not p.is_file():
        raise InputError("model checkpoint not found", p)
    try:
        with safe_open(str(p), framework="pt") as f:
            return dict(f.metadata() or {})
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise InputError(f"not a readable safetensors checkpoint ({e.__class__.__name__})", p) from None
