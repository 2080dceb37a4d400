"""FlowVideoPipeline: song + photo -> latent flows -> frames or an H.264 mp4 with the song (issue 16).

No keypoints drive anything: the photo analysis (:func:`choreogen.video.reference.analyse_photo`)
only finds the one person and their mask (bad photos are refused as on the pose route); the mask
gives the inpainted background. Steps: photo squared to 256, area-resized to 64x64 -> LFAE latent
z (C, 16, 16); music ``fast35+rhythm`` features at 10 fps -> flow diffusion over 4 s windows
(:func:`.generate.sample_flows`, whole song) -> flows re-timed to ``fps`` (linear) -> LFAE decoder
(64x64 frames) -> :func:`choreogen.video.flowrender.compose` at ``size`` (128 or 256): the person
from the full-size photo warped by the flow where the occlusion map says it is visible and from the
decoded frame elsewhere (``render="warp"``, default; sharper) or from the decoded frame alone
(``render="decoder"``, DabFusion's output) inside the warped person mask, the sharp inpainted
background outside (``render="raw"``: the decoded frames
only, upscaled) -> VideoWriter (temp file + rename).

Tempo normalisation (``tempo_norm``, on when the model stores a reference tempo ``info["tempo_ref"]``):
as for the 3D generator (:mod:`choreogen.audio.tempo_norm`), the song is time-stretched (pitch kept) to
the reference tempo, the flows are generated for that, and they are played back at the song's own
tempo (re-timed linearly), so a song played 1.25x as fast moves 1.25x as fast.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ...errors import ChoreogenError, ConfigError
from ...fileio import atomic_path
from ...render.encoder import VideoWriter, check_video_job
from ...video import flowrender as fr
from .checkpoint import FlowGen, load_flowgen, load_lfae

MIN_SONG_S = 2.0
SIZES = (128, 256)


@dataclass
class FlowVideoResult:
    """flows (T10, 3, 16, 16) at 10 fps (flow x, y in normalised units; occlusion); frames: list of
    (S, S, 3) uint8 (None when written to ``path``); fps of the video; timings in seconds."""

    flows: torch.Tensor
    fps: float
    n_frames: int
    frames: list | None = None
    path: Path | None = None
    timings: dict = field(default_factory=dict)
    tempo: dict = field(default_factory=dict)  # tempo_bpm, tempo_ref, tempo_rate when normalised


@dataclass
class FlowTrack:
    """flows (T, 3, h, w) at the model's fps in the song's time; sampled (T_c, 3, h, w): as generated, at
    ``sampled_fps`` frames per second of the song's time (model fps / tempo_rate); tempo info; music_s: seconds
    spent on the music features."""

    flows: torch.Tensor
    sampled: torch.Tensor
    sampled_fps: float
    tempo: dict
    music_s: float


class FlowVideoPipeline:
    """``lfae``: a :class:`~choreogen.models.flow_ae.LatentFlowAE`; ``gen``: a :class:`.checkpoint.FlowGen`."""

    def __init__(self, lfae, gen: FlowGen):
        self.lfae, self.gen = lfae, gen

    @classmethod
    def from_pretrained(cls, model: str | os.PathLike | None = None, lfae: str | os.PathLike | None = None
                        ) -> "FlowVideoPipeline":
        """Bundled models by default (``flow-video`` and ``flow-lfae``, see ``choreogen models``)."""
        return cls(load_lfae(lfae)[0], load_flowgen(model))

    @property
    def model_fps(self) -> float:
        return float(self.gen.info.get("fps", 10.0))

    def encode_photo(self, photo64: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(64, 64, 3) uint8 -> (z (C, 16, 16), the photo as (3, 64, 64) float in [0, 1])."""
        x = torch.from_numpy(photo64.astype(np.float32).transpose(2, 0, 1) / 255.0)[None]
        with torch.no_grad():
            return self.lfae.encoder(x)[0], x[0]

    def music(self, song, seconds: float | None = None, tempo_norm: bool | None = None) -> tuple[np.ndarray, dict]:
        """(T_c, Dm) features of the song (cut to ``seconds``) at the model's fps, and the tempo info
        ({} without normalisation: T_c = the song's frames; else tempo_bpm, tempo_ref, tempo_rate: the
        features are those of the song played ``tempo_rate`` times as fast, T_c = T / rate)."""
        from ...audio import load_audio
        from ...audio.features import music_features
        from ...audio.tempo_norm import direct_rate, estimate_bpm, stretch

        kind = self.gen.info.get("music_kind", "fast35+rhythm")
        ref = self.gen.info.get("tempo_ref")
        if tempo_norm and not ref:
            raise ConfigError("--tempo-norm needs a flow model with a reference tempo (tempo_ref in its info)")
        if not (ref if tempo_norm is None else tempo_norm):
            f = music_features(song, kind, fps=self.model_fps, min_duration=MIN_SONG_S)
            return (f if seconds is None else f[: max(1, int(round(seconds * self.model_fps)))]), {}
        y, sr = load_audio(song, min_duration=MIN_SONG_S)
        if seconds is not None:
            y = y[: max(1, int(round(seconds * sr)))]
        bpm = estimate_bpm(y, sr)
        rate = direct_rate(bpm, float(ref))
        frames = max(1, int(round(len(y) / sr * self.model_fps)))
        f = music_features((stretch(y, sr, rate), sr), kind, fps=self.model_fps, cache=False, min_duration=0.0)
        return f, {"tempo_bpm": round(bpm, 2), "tempo_ref": round(float(ref), 2), "tempo_rate": round(rate, 4),
                   "frames": frames}

    def flows(self, song, z: torch.Tensor, *, seconds: float | None = None, seed: int = 0, steps: int | None = None,
              guidance: float | None = None, overlap: int = 10, tempo_norm: bool | None = None,
              music: np.ndarray | None = None, progress: bool = False):
        """Latent flows for ``song`` from the photo latent ``z`` (C, 16, 16).

        Returns a :class:`FlowTrack` (with tempo normalisation the flows are sampled for the song at
        the reference tempo, T_c = T / tempo_rate frames, and re-timed to the song's T frames)."""
        t0 = time.perf_counter()
        if music is not None and tempo_norm:
            raise ConfigError("tempo_norm needs the song's audio, not precomputed music features")
        feats, tempo = self.music(song, seconds, tempo_norm) if music is None else (np.asarray(music, np.float32), {})
        n10 = tempo.pop("frames", len(feats))
        src_fps = self.model_fps / tempo.get("tempo_rate", 1.0)
        t_music = time.perf_counter() - t0
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=1, unit="step", desc="flows", file=sys.stderr, dynamic_ncols=True)

        def prog(i, n):
            if bar is not None:
                bar.total = n
                bar.n = i
                bar.refresh()

        try:
            src = sample_flows_for(self.gen, z, feats, seed, steps, guidance, overlap, prog)
        finally:
            if bar is not None:
                bar.n = bar.total
                bar.close()
        out = torch.from_numpy(fr.interpolate_time(src.numpy(), src_fps, self.model_fps, n10)) if tempo else src
        return FlowTrack(out, src, src_fps, tempo, t_music)

    @torch.no_grad()
    def decode(self, z: torch.Tensor, flows: torch.Tensor, x: torch.Tensor, batch: int = 64):
        """z (C, h, w), flows (T, 3, h, w), x (3, 64, 64) the photo -> iterator of (64, 64, 3) uint8 frames."""
        for i in range(0, len(flows), batch):
            f = flows[i:i + batch]
            n = len(f)
            out = self.lfae.animate(z[None].expand(n, -1, -1, -1), f[:, :2], f[:, 2:3].clamp(0, 1),
                                    x[None].expand(n, -1, -1, -1))
            for fr_ in (out.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy():
                yield fr_

    def __call__(self, song: str | os.PathLike, image, out: str | os.PathLike | None = None, *,
                 seconds: float | None = None, seed: int = 0, size: int = 256, fps: float = 30.0,
                 steps: int | None = None, guidance: float | None = None, overlap: int = 10,
                 render: str = "warp", music: np.ndarray | None = None, tempo_norm: bool | None = None,
                 progress: bool = False) -> FlowVideoResult:
        """Animate ``image`` (a photo path, or a :class:`~choreogen.video.reference.Reference`) to ``song``.

        ``out``: .mp4 to write (frames not kept); None returns the frames. ``size``: 128 or 256.
        ``fps``: output rate (the model's 10 fps flows are linearly re-timed). ``music``: precomputed
        features (T, Dm) at 10 fps instead of the song's (the song is still muxed in; no tempo
        normalisation). ``tempo_norm``: None = on when the model has a reference tempo; the result's
        ``tempo`` says the estimate and the playback rate used.
        """
        from ...video.reference import Reference, analyse_photo

        t0 = time.perf_counter()
        if size not in SIZES:
            raise ConfigError(f"--size must be 128 or 256 for the flow method, got {size}")
        if seconds is not None and not (np.isfinite(seconds) and seconds > 0):
            raise ConfigError(f"--seconds must be positive, got {seconds}")
        if not (np.isfinite(fps) and 1 <= fps <= 60):
            raise ConfigError(f"--fps must be between 1 and 60, got {fps:g}")
        if render not in ("decoder", "warp", "raw"):
            raise ConfigError(f"unknown render mode {render!r} (decoder, warp or raw)")
        if tempo_norm and not self.gen.info.get("tempo_ref"):  # before any photo or model work
            raise ConfigError("--tempo-norm needs a flow model with a reference tempo (tempo_ref in its info)")
        out, dur = check_video_job(song, out, MIN_SONG_S)
        ref = image if isinstance(image, Reference) else analyse_photo(image, 256)
        photo = fr.upscale(ref.image, size) if ref.size < size else _down(ref.image, size)
        mask = fr.resize_field(ref.mask, size)
        bg = fr.inpaint_background(photo, mask)
        z, x64 = self.encode_photo(_down(ref.image, self.lfae.cfg.size))
        t_ref = time.perf_counter()
        track = self.flows(song, z, seconds=seconds, seed=seed, steps=steps, guidance=guidance, overlap=overlap,
                           tempo_norm=tempo_norm, music=music, progress=progress)
        t_flow = time.perf_counter()
        n = max(1, int(round(len(track.flows) / self.model_fps * fps)))
        fl = torch.from_numpy(fr.interpolate_time(track.sampled.numpy(), track.sampled_fps, fps, n))
        res = FlowVideoResult(track.flows, float(fps), n, tempo=track.tempo)

        def frames():
            for k, dec in enumerate(self.decode(z, fl, x64)):
                f = fl[k].numpy()
                yield fr.compose(dec, f[:2], f[2], photo, mask, bg, render)

        if out is None:
            res.frames = list(frames())
        else:
            try:
                with atomic_path(out, suffix=".mp4") as tmp:
                    with VideoWriter(tmp, size, size, fps, n / fps, song, preset="veryfast") as vw:
                        for f in frames():
                            vw.write(f)
            except OSError as e:
                raise ChoreogenError(f"cannot write the video ({e.strerror or e.__class__.__name__})", out) from None
            res.path = out
        t1 = time.perf_counter()
        t_music = track.music_s
        res.timings = {"reference": t_ref - t0, "music": t_music, "flows": t_flow - t_ref - t_music,
                       "decode_encode": t1 - t_flow, "total": t1 - t0}
        return res


def sample_flows_for(gen, z, feats, seed, steps, guidance, overlap, progress):
    from .generate import sample_flows

    return sample_flows(gen, z, feats, seed=seed, steps=steps, guidance=guidance, overlap=overlap, progress=progress)


def _down(img: np.ndarray, size: int) -> np.ndarray:
    import cv2

    return img if img.shape[0] == size else cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
