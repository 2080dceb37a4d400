"""M2PEnc as a dancer: song -> pose guidance maps + heatmaps (64 x 64, 15 fps) -> COCO-17 keypoints.

Checkpoint (task "posevideo.m2penc", :mod:`choreogen.checkpoints`): ``config`` = {"model":
:class:`~choreogen.models.m2penc.M2PEncConfig`, "info": fps, canonical frame (canon, px_per_m,
floor_y), music kind, genres, window (frames), training summary}; tensors ``model.*`` and
``normaliser.{music_mean, music_std}`` (Dm,).

:class:`M2PEncDancer` runs it over the whole song in windows of ``window`` frames that overlap by
half, decodes each window's heatmaps to keypoints (:func:`~choreogen.models.m2penc.decode_keypoints`)
(``decode="peak"``; ``"integral"``: the centroid of relu(heat)^2, the keypoints the training
loss sees; the checkpoint's ``info.decode`` picks the default) and cross-fades the keypoints of
overlapping windows (linear ramps), then smooths them over time
(1-2-1 kernel, twice). The result is a 2D :class:`~choreogen.motion.Motion` (``coco17``, canonical
pixels, 15 fps) that :func:`choreogen.video.retarget.fit` puts on the photo like any 2D driver.
M2PEnc is deterministic: the same song and genre give the same dance (``seed`` has no effect).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ... import checkpoints
from ...errors import ConfigError, InputError
from ...models.m2penc import M2PEnc, M2PEncConfig, decode_keypoints, integral_keypoints
from ...motion import Motion
from . import sdgpip

TASK, DEFAULT = "posevideo.m2penc", "m2penc"


@dataclass
class M2PEncModel:
    """A loaded encoder: model + music statistics (music_mean/std (Dm,)) + info."""

    model: M2PEnc
    stats: dict
    info: dict

    @property
    def genres(self) -> list:
        return list(self.info.get("genres", []))

    def genre_index(self, genre: str | None) -> int:
        if genre is None or genre == "":
            return self.model.cfg.n_genres - 1
        from ...text.prompts import load_prompt_set

        g = [x.lower() for x in self.genres]
        key = genre.strip().lower()
        if key not in g:
            ps = load_prompt_set()
            keys = [ps.key_of(x) for x in g]
            k = ps.key_of(key)
            if k is None or k not in keys:
                raise ConfigError(f"unknown genre '{genre}' (this M2PEnc model knows: {', '.join(self.genres)}; "
                                  "--prompt takes a free description)")
            return keys.index(k)
        return g.index(key)

    @torch.no_grad()
    def maps(self, music: np.ndarray, genre: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised-later raw music (N, Dm) -> guidance (N, n_guid, R, R), heat (N, n_heat, R, R)."""
        m = (torch.as_tensor(music, dtype=torch.float32) - self.stats["music_mean"]) / self.stats["music_std"]
        g, h = self.model(m[None], torch.tensor([genre]))
        return g[0], h[0]


def save(enc: M2PEncModel, path: str | os.PathLike, half: bool = False) -> Path:
    t = {f"model.{k}": v for k, v in enc.model.state_dict().items()}
    t.update({f"normaliser.{k}": v.detach().float() for k, v in enc.stats.items()})
    info = json.loads(json.dumps(enc.info, default=str))
    env = checkpoints.Envelope(TASK, {"model": enc.model.cfg.to_dict(), "info": info}, t,
                               {k: info[k] for k in ("steps", "data", "validation") if k in info},
                               {"kind": "standardise", "music": "(m - music_mean) / music_std"})
    return checkpoints.write(path, env, half=half)


def _build(env: checkpoints.Envelope) -> M2PEncModel:
    try:
        cfg = M2PEncConfig.from_dict(env.config["model"])
        info = dict(env.config["info"])
    except (KeyError, TypeError) as e:
        raise InputError(f"checkpoint config is incomplete ({e})", env.path) from None
    model = M2PEnc(cfg)
    try:
        model.load_state_dict(env.part("model.", torch.float32))
    except RuntimeError as e:
        raise InputError(f"checkpoint weights do not match its config ({str(e).splitlines()[0]})", env.path) from None
    stats = {k: env.tensors[f"normaliser.{k}"].float() for k in ("music_mean", "music_std")
             if f"normaliser.{k}" in env.tensors}
    if len(stats) != 2:
        raise InputError("checkpoint has no music normaliser", env.path)
    return M2PEncModel(model.eval(), stats, info)


def load(path: str | os.PathLike | None = None) -> M2PEncModel:
    """Bundled name or path (None = the bundled ``m2penc``) -> :class:`M2PEncModel` (cached)."""
    return checkpoints.load_model(path, TASK, _build, default=DEFAULT)


def _smooth(k: np.ndarray, passes: int = 2) -> np.ndarray:
    for _ in range(passes):
        p = np.concatenate([k[:1], k, k[-1:]])
        k = 0.25 * p[:-2] + 0.5 * p[1:-1] + 0.25 * p[2:]
    return k


class M2PEncDancer:
    """``dancer(song, seconds=, seed=, genre=, prompt=) -> Motion`` (coco17 2D, canonical px, 15 fps)
    for :class:`~choreogen.tasks.posevideo.pipeline.PoseVideoPipeline`; ``last_maps`` keeps the first
    window's guidance and heatmaps (for inspection)."""

    def __init__(self, model: str | os.PathLike | M2PEncModel | None = None, decode: str | None = None):
        self.enc = model if isinstance(model, M2PEncModel) else load(model)
        self.decode = decode or self.enc.info.get("decode", "peak")
        if self.decode not in ("peak", "integral"):
            raise ConfigError(f"decode must be peak or integral, got {self.decode!r}")
        self.last_maps = None

    def keypoints(self, music: np.ndarray, genre: int) -> tuple[np.ndarray, np.ndarray]:
        """Music (T, Dm) at 15 fps -> keypoints (T, 17, 2) canonical px, confidence (T, 17)."""
        T = len(music)
        win = int(self.enc.info.get("window", 48))
        hop = max(1, win // 2)
        res = self.enc.model.cfg.res
        scale = float(self.enc.info.get("canon", sdgpip.CANON)) / res
        acc = np.zeros((T, 17, 2))
        conf = np.zeros((T, 17))
        wsum = np.zeros(T)
        starts = list(range(0, max(1, T - win) + 1, hop))
        if starts[-1] + win < T:
            starts.append(T - win)
        ramp = np.minimum(np.arange(1, win + 1), np.arange(win, 0, -1)).astype(np.float64)
        ramp = np.minimum(ramp, hop) / hop
        for s in starts:
            seg = music[s:s + win]
            g, h = self.enc.maps(seg, genre)
            if self.last_maps is None:
                self.last_maps = (g.numpy(), h.numpy())
            k, c = decode_keypoints(h)
            if self.decode == "integral":
                k = integral_keypoints(h)
            n = len(seg)
            w = ramp[:n] if len(starts) > 1 else np.ones(n)
            if s == 0:
                w = np.where(np.arange(n) < hop, 1.0, w)
            if s + n >= T:
                w = np.where(np.arange(n) >= n - hop, 1.0, w)
            acc[s:s + n] += w[:, None, None] * k.numpy().astype(np.float64) * scale
            conf[s:s + n] += w[:, None] * c.numpy()
            wsum[s:s + n] += w
        acc /= np.maximum(wsum, 1e-9)[:, None, None]
        conf /= np.maximum(wsum, 1e-9)[:, None]
        return _smooth(acc).astype(np.float32), conf.astype(np.float32)

    def __call__(self, song, seconds: float | None = None, seed: int = 0, genre: str | None = None,
                 prompt: str | None = None) -> Motion:
        from ...audio.features import music_features

        info = self.enc.info
        if prompt is not None and genre is None:
            genre = _prompt_genre(prompt, self.enc.genres)
        gi = self.enc.genre_index(genre)
        music = music_features(song, info.get("music_kind", sdgpip.MUSIC_KIND), fps=float(info.get("fps", sdgpip.FPS)))
        if seconds is not None:
            music = music[: max(1, int(round(seconds * float(info.get("fps", sdgpip.FPS)))))]
        k, c = self.keypoints(music, gi)
        # the video room needs confident torso joints; a blurred prediction still gives positions
        c = np.maximum(c, 0.5).astype(np.float32)
        return Motion(skeleton="coco17", fps=float(info.get("fps", sdgpip.FPS)), joints=k, confidence=c,
                      name=Path(str(song)).stem, meta={"source": str(song), "units": "pixels",
                                                       "dancer": "m2penc", "genre": genre or ""})


def _prompt_genre(prompt: str, genres: list) -> str:
    from ...text.classifier import classify_prompt

    m = classify_prompt(prompt, genres)
    if not m.accepted:
        raise ConfigError(f"--prompt: {m.describe()}; describe the dance in English or give --genre ({', '.join(genres)})")
    return genres[m.index]
