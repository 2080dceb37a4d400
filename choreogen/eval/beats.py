"""Beat Alignment Score: motion beats, music beats from audio, and the three reference variants.

Clean-room implementation of METRICS_SPEC §6. Frame indices everywhere; the music must be
analysed at the motion's frame rate (``sr = fps * 512``, hop 512).

=========  ==========================  =============================  ========================
variant    motion beats                music beats (from audio)        average over
=========  ==========================  =============================  ========================
fact       sum_j |P[t]-P[t-1]| (0 at    onset_strength on the mix,       motion beats
           t=0), strict minima ±10      beat_track(start_bpm from the    (0 if none)
           frames (60 fps), no smooth   AIST++ id, tightness 100)
bailando   mean_j |P[k+1]-P[k]|,        HPSS -> percussive ->            music beats < T-1
           gaussian sigma 5, minima     onset_strength(median) ->
           order 1                      beat_track defaults
lodge      bailando detector on zero-   onset_strength at sr=30*512,     all music beats of the
           started 30 fps joints        start_bpm = tempo(y) assuming    file (the reference's
                                        sr 22050, tightness 100          length bug)
=========  ==========================  =============================  ========================

All use sigma = 3 frames in ``exp(-d^2 / (2 sigma^2))``.
"""
from __future__ import annotations

import os
import re

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import argrelextrema

from ..errors import InputError

VARIANTS = ("fact", "bailando", "lodge")
HOP = 512


def _positions(P) -> np.ndarray:
    P = np.asarray(P, dtype=np.float64)
    if P.ndim == 2 and P.shape[1] % 3 == 0:
        P = P.reshape(len(P), -1, 3)
    if P.ndim != 3:
        raise InputError(f"motion beats need joint positions (T, J, D), got shape {P.shape}")
    return P


# ------------------------------------------------------------------------------- motion beats
def motion_beats_fact(positions, order: int = 10) -> np.ndarray:
    """FACT motion beats: strict local minima (±``order`` frames) of the summed joint speed.

    ``positions``: (T, J, 3) (or (T, J*3)) at 60 fps for the reference's ``order = 10``. The
    velocity is zero-padded at frame 0, so beat indices refer to frames of the input. As in the
    reference, velocities, norms and the envelope are float32: on interpolated motion (equal
    velocities in neighbouring frames) the strict-minimum test depends on that rounding.
    """
    P = _positions(positions)
    v = np.zeros(P.shape, dtype=np.float32)
    v[1:] = P[1:] - P[:-1]
    env = np.linalg.norm(v, axis=-1).sum(axis=-1)
    return argrelextrema(env, np.less, order=order)[0].astype(np.int64)


def motion_envelope_bailando(positions, sigma: float = 5.0) -> np.ndarray:
    """Bailando's smoothed motion envelope (T-1,): mean joint speed, Gaussian-smoothed (sigma 5)."""
    P = _positions(positions)
    s = np.linalg.norm(P[1:] - P[:-1], axis=-1).mean(axis=-1)
    return gaussian_filter1d(s, sigma) if len(s) else s


def motion_beats_bailando(positions, sigma: float = 5.0) -> tuple[np.ndarray, int]:
    """Bailando/LODGE motion beats: strict local minima (order 1) of the smoothed envelope.

    Returns ``(beats, length)`` with ``length = T - 1`` (the envelope length, used to truncate the
    music beats). Index k refers to the step between frames k and k+1 (one frame earlier than FACT).
    """
    s = motion_envelope_bailando(positions, sigma)
    beats = argrelextrema(s, np.less)[0].astype(np.int64) if len(s) >= 3 else np.zeros(0, np.int64)
    return beats, len(s)


# -------------------------------------------------------------------------------- score
def alignment_score(music_beats, motion_beats, sigma: float = 3.0, over: str = "motion",
                    strict: bool = False) -> float:
    """Gaussian beat alignment: mean over the beats of ``over`` ("motion": FACT; "music": Bailando,
    LODGE) of ``exp(-min_distance^2 / (2 sigma^2))`` to the nearest beat of the other list (frames).

    Returns 0.0 when either list is empty. ``strict=True`` instead raises ``ValueError`` where the
    Bailando reference crashes (no motion beat while averaging over music beats).
    """
    music = np.asarray(music_beats, dtype=np.float64).ravel()
    motion = np.asarray(motion_beats, dtype=np.float64).ravel()
    if over not in ("motion", "music"):
        raise ValueError(f"over must be 'motion' or 'music', got {over!r}")
    src, ref = (motion, music) if over == "motion" else (music, motion)
    if len(ref) == 0 and strict and over == "music":
        raise ValueError("no motion beat: the Bailando reference fails (min of an empty array)")
    if len(src) == 0 or len(ref) == 0:
        return 0.0
    d = np.min(np.abs(src[:, None] - ref[None, :]), axis=1)
    return float(np.mean(np.exp(-(d ** 2) / (2.0 * sigma ** 2))))


def bas(positions, music_beats, variant: str = "bailando", sigma: float = 3.0,
        fact_order: int = 10, strict: bool = False) -> dict:
    """Beat Alignment Score of one motion with given music-beat frame indices.

    ``positions``: (T, J, 3) at the music beats' frame rate (BAS is translation invariant, so the
    origin convention does not matter). Returns ``{"bas", "motion_beats", "music_beats"}`` with the
    music beats actually used (FACT: < T; Bailando: < T - 1; LODGE: all).
    """
    music = np.asarray(music_beats, dtype=np.int64).ravel()
    P = _positions(positions)
    if variant == "fact":
        mb = motion_beats_fact(P, order=fact_order)
        used = music[music < len(P)]
        score = alignment_score(used, mb, sigma, over="motion")
    elif variant in ("bailando", "lodge"):
        mb, length = motion_beats_bailando(P)
        used = music[music < length] if variant == "bailando" else music
        score = alignment_score(used, mb, sigma, over="music", strict=strict)
    else:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    return {"bas": score, "motion_beats": mb, "music_beats": used}


# --------------------------------------------------------------------------- music beats
_AIST_BPM = re.compile(r"m(BR|PO|LO|MH|LH|WA|KR|JS|JB|HO)(\d)")


def aist_start_bpm(name: str) -> float | None:
    """FACT's tempo rule from an AIST++ music id (``mHO2`` -> 120): None if the name has no id."""
    m = _AIST_BPM.search(os.path.basename(str(name)))
    if not m:
        return None
    genre, digit = m.group(1), int(m.group(2))
    return 110.0 + 5 * digit if genre == "HO" else 80.0 + 10 * digit


def load_audio(path, sr: int) -> np.ndarray:
    """Mono audio at ``sr`` Hz via librosa (any format librosa/soundfile/audioread reads)."""
    import librosa

    p = os.fspath(path)
    if not os.path.isfile(p):
        raise InputError("music file not found", p)
    try:
        y, _ = librosa.load(p, sr=sr)
    except Exception as e:  # decoder errors come in many types
        raise InputError(f"cannot decode audio ({e.__class__.__name__})", p) from None
    if y.size == 0:
        raise InputError("audio has no samples", p)
    return y


def music_beats(path, variant: str = "bailando", fps: float | None = None,
                start_bpm: float | None = None) -> dict:
    """Music-beat frame indices computed from an audio file with the variant's librosa settings.

    ``fps``: the frame rate of the beat grid (default 60 for fact/bailando, 30 for lodge); the audio
    is loaded at ``fps * 512`` Hz with hop 512. FACT's ``start_bpm`` defaults to the AIST++ music-id
    rule (:func:`aist_start_bpm`) and otherwise to librosa's default 120. Returns
    ``{"beats", "n_frames", "fps", "start_bpm"}``.
    """
    import librosa

    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    fps = float(fps if fps is not None else (30.0 if variant == "lodge" else 60.0))
    sr = int(round(fps * HOP))
    y = load_audio(path, sr)
    if variant == "bailando":
        _, perc = librosa.effects.hpss(y)
        env = librosa.onset.onset_strength(y=perc, aggregate=np.median, sr=sr)
        _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr)
        bpm = None
    elif variant == "fact":
        bpm = start_bpm if start_bpm is not None else aist_start_bpm(path)
        bpm = 120.0 if bpm is None else float(bpm)
        env = librosa.onset.onset_strength(y=y, sr=sr)
        _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP,
                                           start_bpm=bpm, tightness=100)
    else:  # lodge: tempo estimated as if the audio were at librosa's default 22050 Hz (reference bug)
        env = librosa.onset.onset_strength(y=y, sr=sr)
        bpm = float(np.atleast_1d(librosa.feature.tempo(y=y))[0]) if start_bpm is None else float(start_bpm)
        _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=HOP,
                                           start_bpm=bpm, tightness=100)
    return {"beats": np.asarray(beats, np.int64), "n_frames": int(len(env)), "fps": fps, "start_bpm": bpm}
