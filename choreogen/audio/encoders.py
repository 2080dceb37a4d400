"""Pluggable music encoders: audio -> (T, dim) embeddings at the motion frame rate.

Every encoder has a ``name``, an output width ``dim`` and ``encode(y, sr, fps, n_frames)`` taking
mono float32 samples ``y`` (N,) at ``sr`` Hz and returning a (n_frames, dim) float32 array whose row
k describes time k / fps seconds.

Built in (no weights): ``"baseline35"``, ``"mel"``, ``"baseline35+mel"`` wrap
:func:`~choreogen.audio.features.music_features`. The default encoder is ``"baseline35"``.

User weights (choreogen never downloads anything):

* ``"torchscript"``: a TorchScript file (``torch.jit.save``) whose ``forward(audio)`` takes
  (1, N) float32 mono audio and returns (1, T', D) / (T', D) frame embeddings or (1, D) / (D,)
  clip embeddings. Settings come from, in order: keyword arguments, attributes of the scripted
  module (``sample_rate``, ``frame_rate``, ``window_s``, ``hop_s``), a JSON file next to it
  (``model.pt`` -> ``model.json``), then defaults (16000 Hz, whole song in one call). With
  ``window_s`` the song is cut into windows (``hop_s`` apart, the last one zero-padded); a clip
  embedding is placed at its window's centre. Frame embeddings are placed at ``i / frame_rate``
  (or spread evenly over their window if no frame rate is given). The result is linearly
  interpolated to k / fps.
* ``"safetensors"``: weights of :class:`~choreogen.audio.nets.MelConvEncoder` plus a JSON config
  (``{"arch": "mel_conv", "sample_rate": 22050, "n_fft": 2048, "hop": 512, "n_mels": 64,
  "hidden": 128, "dim": 64, "layers": 2, "kernel": 3}``); pass the ``.safetensors`` file (the
  config is ``<stem>.json`` or ``config.json`` beside it) or a folder holding
  ``model.safetensors`` + ``config.json``. Input is the log-mel (dB) of the audio.
* Named adapters ``"wav2clip"``, ``"clap"``, ``"jukebox"``, ``"mert"``: a TorchScript export of
  that model's audio encoder supplied by the user, with the model's known sample rate, width and
  windowing as defaults (see :data:`ADAPTERS` and docs/AUDIO.md). Without weights they raise a
  :class:`~choreogen.errors.ConfigError` saying which file is needed.
"""
from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Callable

import numpy as np

from ..errors import ConfigError, InputError


class MusicEncoder(ABC):
    """Audio -> (T, dim) embeddings at a given frame rate."""

    name: str = "encoder"
    dim: int = 0

    @abstractmethod
    def encode(self, y: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
        """y (N,) float32 mono at sr Hz -> (n_frames, dim) float32; row k at time k / fps s."""


class FeatureEncoder(MusicEncoder):
    """The hand-crafted features of :func:`music_features` as an encoder."""

    def __init__(self, kind: str = "baseline35"):
        from .features import feature_dim

        self.name = kind
        self.kind = kind
        self.dim = feature_dim(kind)

    def encode(self, y, sr, fps, n_frames):
        from .features import music_features

        return music_features((np.asarray(y, dtype=np.float32), int(sr)), kind=self.kind, fps=fps,
                              n_frames=n_frames, cache=False, min_duration=0.0)


# --------------------------------------------------------------------------------------------
def _resample(y: np.ndarray, sr: int, target: int) -> np.ndarray:
    if sr == target:
        return np.asarray(y, dtype=np.float32)
    import soxr

    return soxr.resample(np.asarray(y, dtype=np.float32), sr, target, quality="HQ").astype(np.float32)


def _to_frames(times: np.ndarray, values: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """Linear interpolation of (M, D) embeddings at ``times`` onto k / fps, k < n_frames."""
    t_out = np.arange(n_frames) / fps
    if len(times) == 1:
        return np.repeat(values[:1], n_frames, axis=0).astype(np.float32)
    out = np.empty((n_frames, values.shape[1]), dtype=np.float32)
    for d in range(values.shape[1]):
        out[:, d] = np.interp(t_out, times, values[:, d])
    return out


def _require_weights(weights, what: str) -> Path:
    if weights is None:
        raise ConfigError(f"the {what} encoder needs a user-supplied weights file (weights=PATH); "
                          "choreogen never downloads weights")
    p = Path(weights)
    if not p.exists():
        raise ConfigError(f"{what} weights not found", p)
    return p


class TorchScriptEncoder(MusicEncoder):
    """A user TorchScript model: (1, N) audio at ``sample_rate`` -> frame or clip embeddings."""

    def __init__(self, weights: str | os.PathLike, name: str = "torchscript", sample_rate: int | None = None,
                 frame_rate: float | None = None, window_s: float | None = None, hop_s: float | None = None,
                 defaults: dict | None = None):
        import torch

        path = _require_weights(weights, name)
        if path.is_dir():
            raise ConfigError(f"the {name} encoder expects a TorchScript file, got a folder", path)
        try:
            self.model = torch.jit.load(str(path), map_location="cpu")
        except Exception as e:  # torch raises RuntimeError/ValueError with long messages
            first = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
            raise InputError(f"not a loadable TorchScript model ({first})", path) from None
        self.model.eval()
        side = {}
        js = path.with_suffix(".json")
        if js.exists():
            try:
                side = json.loads(js.read_text(encoding="utf-8"))
            except ValueError as e:
                raise ConfigError(f"invalid JSON ({e})", js) from None
        cfg = dict(defaults or {})
        cfg.update({k: v for k, v in side.items() if v is not None})
        for attr in ("sample_rate", "frame_rate", "window_s", "hop_s"):
            if hasattr(self.model, attr):
                cfg[attr] = getattr(self.model, attr)
        given = {"sample_rate": sample_rate, "frame_rate": frame_rate, "window_s": window_s, "hop_s": hop_s}
        cfg.update({k: v for k, v in given.items() if v is not None})
        self.name = name
        self.path = path
        self.sample_rate = int(cfg.get("sample_rate") or 16000)
        self.frame_rate = float(cfg["frame_rate"]) if cfg.get("frame_rate") else None
        self.window_s = float(cfg["window_s"]) if cfg.get("window_s") else None
        self.hop_s = float(cfg["hop_s"]) if cfg.get("hop_s") else self.window_s
        probe_len = int(self.sample_rate * (self.window_s or 1.0))
        self.dim = int(self._run(np.zeros(probe_len, dtype=np.float32))[1].shape[1])

    def _run(self, chunk: np.ndarray) -> tuple[bool, np.ndarray]:
        """(is_clip_embedding, (M, D) float32) for one chunk of audio."""
        import torch

        with torch.no_grad():
            out = self.model(torch.from_numpy(np.ascontiguousarray(chunk))[None])
        if isinstance(out, (tuple, list)):
            out = out[0]
        if not isinstance(out, torch.Tensor):
            raise InputError(f"the model returned {type(out).__name__}, expected a tensor", self.path)
        a = out.detach().float().cpu().numpy()
        if a.ndim == 3:
            a = a[0]
        if a.ndim == 1:
            return True, a[None]
        if a.ndim == 2 and a.shape[0] == 1 and (self.window_s is not None or self.frame_rate is None):
            return True, a
        if a.ndim != 2:
            raise InputError(f"the model returned shape {tuple(out.shape)}; expected (1, T, D), (T, D) or (D,)",
                             self.path)
        return False, a

    def encode(self, y, sr, fps, n_frames):
        y = _resample(y, int(sr), self.sample_rate)
        dur = len(y) / self.sample_rate
        if self.window_s is None:
            starts, win = [0], len(y)
        else:
            win = int(round(self.window_s * self.sample_rate))
            hop = max(1, int(round(self.hop_s * self.sample_rate)))
            starts = list(range(0, max(len(y) - win, 0) + 1, hop))
            if starts[-1] + win < len(y):
                starts.append(starts[-1] + hop)
        times, vals = [], []
        for s in starts:
            chunk = y[s:s + win]
            if len(chunk) < win:
                chunk = np.pad(chunk, (0, win - len(chunk)))
            clip, a = self._run(chunk)
            t0 = s / self.sample_rate
            if clip:
                times.append(np.array([t0 + min(win, len(y) - s) / self.sample_rate / 2]))
            elif self.frame_rate:
                times.append(t0 + np.arange(len(a)) / self.frame_rate)
            else:
                times.append(t0 + (np.arange(len(a)) + 0.5) * (win / self.sample_rate) / len(a))
            vals.append(a)
        t = np.concatenate(times)
        v = np.concatenate(vals, axis=0)
        keep = t <= dur + 1e-6
        if keep.any():
            t, v = t[keep], v[keep]
        return _to_frames(t, v, fps, n_frames)


class SafetensorsEncoder(MusicEncoder):
    """User weights for :class:`~choreogen.audio.nets.MelConvEncoder` + a JSON config."""

    def __init__(self, weights: str | os.PathLike, name: str = "safetensors"):
        import torch
        from safetensors.torch import load_file

        from .nets import MelConvEncoder

        path = _require_weights(weights, name)
        if path.is_dir():
            wpath, cpath = path / "model.safetensors", path / "config.json"
        else:
            wpath = path
            cpath = path.with_suffix(".json")
            if not cpath.exists():
                cpath = path.parent / "config.json"
        if not wpath.exists():
            raise ConfigError("safetensors weights not found", wpath)
        if not cpath.exists():
            raise ConfigError(f"no JSON config beside the weights (looked for {path.with_suffix('.json').name} "
                              "and config.json)", path)
        try:
            cfg = json.loads(cpath.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ConfigError(f"invalid JSON ({e})", cpath) from None
        if cfg.get("arch", "mel_conv") != "mel_conv":
            raise ConfigError(f"unknown architecture {cfg.get('arch')!r} (supported: mel_conv)", cpath)
        arch = {k: int(cfg[k]) for k in ("n_mels", "hidden", "dim", "layers", "kernel") if k in cfg}
        self.model = MelConvEncoder(**arch).eval()
        try:
            state = load_file(str(wpath))
        except Exception as e:
            raise InputError(f"not a readable safetensors file ({str(e)[:120]})", wpath) from None
        own = self.model.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        bad = [k for k, v in state.items() if k in own and tuple(v.shape) != tuple(own[k].shape)]
        if missing or unexpected or bad:
            raise ConfigError(f"weights do not match the config: missing {list(missing)[:3]}, "
                              f"unexpected {list(unexpected)[:3]}, wrong shape {bad[:3]}", wpath)
        self.model.load_state_dict(state, strict=True)
        self.name = name
        self.sample_rate = int(cfg.get("sample_rate", 22050))
        self.n_fft = int(cfg.get("n_fft", 2048))
        self.hop = int(cfg.get("hop", 512))
        self.n_mels = self.model.convs[0].in_channels
        self.dim = self.model.proj.out_features
        self._torch = torch

    def encode(self, y, sr, fps, n_frames):
        import librosa

        y = _resample(y, int(sr), self.sample_rate)
        S = librosa.feature.melspectrogram(y=y, sr=self.sample_rate, n_fft=self.n_fft, hop_length=self.hop,
                                           n_mels=self.n_mels)
        mel = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None).astype(np.float32)
        with self._torch.no_grad():
            emb = self.model(self._torch.from_numpy(mel)[None])[0].numpy()
        times = np.arange(emb.shape[0]) * self.hop / self.sample_rate
        return _to_frames(times, emb, fps, n_frames)


# --------------------------------------------------------------------------------------------
ADAPTERS: dict[str, dict] = {
    # defaults for user TorchScript exports of known music encoders (overridable, see docs/AUDIO.md)
    "wav2clip": {"sample_rate": 16000, "window_s": 2.0, "hop_s": 0.5,
                 "file": "TorchScript of Wav2CLIP's audio encoder: (1, N) 16 kHz audio -> (1, 512)"},
    "clap": {"sample_rate": 48000, "window_s": 10.0, "hop_s": 2.0,
             "file": "TorchScript of LAION-CLAP's audio branch (get_audio_embedding): (1, N) 48 kHz -> (1, 512)"},
    "jukebox": {"sample_rate": 44100, "window_s": 24.0, "hop_s": 24.0,
                "file": "TorchScript of a Jukebox (jukemirlib layer-66) feature extractor: (1, N) 44.1 kHz -> (1, T, 4800)"},
    "mert": {"sample_rate": 24000, "frame_rate": 75.0, "window_s": 10.0, "hop_s": 10.0,
             "file": "TorchScript of MERT-v1 (last hidden state): (1, N) 24 kHz -> (1, T, 768) at 75 Hz"},
}

_REGISTRY: dict[str, Callable[..., MusicEncoder]] = {}


def register_encoder(name: str, factory: Callable[..., MusicEncoder]) -> None:
    """Register ``factory(weights: Path | None) -> MusicEncoder`` under ``name`` (replaces any)."""
    if not name or not isinstance(name, str):
        raise ConfigError(f"encoder name must be a non-empty string, got {name!r}")
    _REGISTRY[name] = factory


def available_encoders() -> list[str]:
    return sorted(_REGISTRY)


def get_encoder(name: str = "baseline35", weights: str | os.PathLike | None = None) -> MusicEncoder:
    """Build the encoder registered as ``name`` with optional user weights (file or folder)."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown music encoder {name!r} (available: {', '.join(available_encoders())})")
    return _REGISTRY[name](None if weights is None else Path(weights))


def _builtin(kind: str):
    def factory(weights=None):
        if weights is not None:
            raise ConfigError(f"the {kind} encoder is hand-crafted and takes no weights", weights)
        return FeatureEncoder(kind)
    return factory


def _adapter(name: str):
    spec = {k: v for k, v in ADAPTERS[name].items() if k != "file"}

    def factory(weights=None):
        if weights is None:
            raise ConfigError(f"the {name} encoder needs user-supplied weights: pass the path of a "
                              f"{ADAPTERS[name]['file']} (choreogen never downloads weights; see docs/AUDIO.md)")
        if Path(weights).suffix == ".safetensors":
            raise ConfigError(f"the {name} adapter loads a TorchScript export, not raw safetensors weights",
                              weights)
        return TorchScriptEncoder(weights, name=name, defaults=spec)
    return factory


for _k in ("baseline35", "mel", "baseline35+mel", "fast35"):
    register_encoder(_k, _builtin(_k))
register_encoder("torchscript", lambda weights=None: TorchScriptEncoder(_require_weights(weights, "torchscript")))
register_encoder("safetensors", lambda weights=None: SafetensorsEncoder(_require_weights(weights, "safetensors")))
for _k in ADAPTERS:
    register_encoder(_k, _adapter(_k))
