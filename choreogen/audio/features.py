"""Music features aligned to the motion frame rate.

Frame ``k`` of every feature array describes the music around time ``k / fps`` seconds (librosa
frames are centred, ``center=True``). ``T = n_frames`` if given, else ``round(duration * fps)``;
longer arrays are cropped, shorter ones padded by repeating the last frame (one-hot event columns
are padded with zeros).

Kinds (``feature_dim(kind)`` gives D):

* ``"baseline35"`` (D = 35): EDGE's hand-crafted features (EDGE ``baseline_features.py``, the
  FACT/AIST++ recipe of METRICS_SPEC §6a), recomputed clean-room with librosa at
  ``sr = fps * 512`` Hz and hop 512 (30 fps -> 15360 Hz), columns in EDGE's order:

  ====== =====================================================================================
  0      onset strength envelope (``librosa.onset.onset_strength``, mel spectral flux)
  1-20   20 MFCC (``librosa.feature.mfcc``, n_fft 2048)
  21-32  12 chroma_cens (``librosa.feature.chroma_cens``)
  33     onset peaks one-hot (``librosa.onset.onset_detect`` on the envelope)
  34     beats one-hot (``librosa.beat.beat_track`` on the envelope, ``tightness=100``,
         ``start_bpm`` = the AIST++ rule when the file name holds an AIST music id such as
         ``mHO2`` (mHO: 110 + 5 n, other genres 80 + 10 n), else librosa's tempo estimate of the
         audio at 22050 Hz, hop 512, exactly as EDGE does; ``start_bpm=`` overrides)
  ====== =====================================================================================

* ``"mel"`` (D = 80): log-mel spectrogram in dB (``power_to_db``, ref 1.0, no top-dB clip) of the
  audio at 22050 Hz, n_fft 2048, hop ``22050 / fps`` samples (735 at 30 fps), 80 mel bands
  0-11025 Hz (Slaney). GCDance-style STFT/mel input; no onset column (use the combined kind).
* ``"baseline35+mel"`` (D = 115): the two concatenated, baseline first.
* ``"fast35"`` (D = 35): the baseline35 layout computed with numpy/scipy only (no librosa import,
  no numba compilation: fast in a fresh process); see :mod:`choreogen.audio.fast`. The default
  generator uses it.
* ``"fast35+rhythm"`` (D = 40): ``fast35`` plus 5 rhythm columns from its beat column (beat phase
  sin/cos, two-beat phase sin/cos, log2 tempo / 120 BPM); see :mod:`choreogen.audio.rhythm_cond`.

When ``fps * 512`` (or ``22050 / fps``) is not an integer, features are computed on the nearest
integer grid and re-timed to ``k / fps`` (linear interpolation; events moved to the nearest frame).
"""
from __future__ import annotations

import re

import numpy as np

from ..errors import ConfigError
from . import spectral
from .cache import load_arrays, make_key, resolve_cache_dir, save_arrays
from .source import DEFAULT_MIN_DURATION, MusicSource, Source

BASELINE_HOP = 512
MEL_SR = 22050
N_MELS = 80
KINDS: dict[str, int] = {"baseline35": 35, "mel": N_MELS, "baseline35+mel": 35 + N_MELS, "fast35": 35,
                         "fast35+rhythm": 40}  # fast35 + beat phase / tempo (audio/rhythm_cond.py)
BASELINE_ONEHOT_COLS = (33, 34)
_AIST_ID = re.compile(r"(?:^|_)m(BR|PO|LO|MH|LH|WA|KR|JS|JB|HO)(\d)(?:_|$)")


def feature_dim(kind: str) -> int:
    """Number of columns D of ``music_features(..., kind=kind)``."""
    if kind not in KINDS:
        raise ConfigError(f"unknown music feature kind {kind!r} (choose from {', '.join(KINDS)})")
    return KINDS[kind]


def aist_start_bpm(name: str) -> float | None:
    """The AIST++ tempo rule (FACT/EDGE) for a music id in a file stem, e.g. 'mHO2' -> 120."""
    m = _AIST_ID.search(name)
    if m is None:
        return None
    genre, n = m.group(1), int(m.group(2))
    return float(110 + 5 * n) if genre == "HO" else float(80 + 10 * n)


def music_features(source: Source, kind: str = "baseline35", fps: float = 30.0, n_frames: int | None = None,
                   cache: bool | str = True, *, start_bpm: float | None = None,
                   min_duration: float = DEFAULT_MIN_DURATION) -> np.ndarray:
    """Frame-aligned music features, (T, D) float32 (see the module docstring for the kinds).

    Args:
        source: audio file path, or ``(y, sr)`` with y (N,) or (C, N) float samples.
        kind: "baseline35", "mel" or "baseline35+mel".
        fps: motion frame rate; frame k covers time k / fps seconds.
        n_frames: output length T (crop, or pad by repeating the last frame); default
            round(duration * fps).
        cache: True (default folder), False, or a folder (see :mod:`choreogen.audio.cache`).
        start_bpm: tempo seed of the baseline beat column (default: see module docstring).
        min_duration: refuse shorter audio with an InputError giving the duration (seconds).
    """
    feature_dim(kind)
    fps = _check_fps(fps)
    if n_frames is not None and (int(n_frames) != n_frames or n_frames < 1):
        raise ConfigError(f"n_frames must be a positive integer, got {n_frames!r}")
    src = source if isinstance(source, MusicSource) else MusicSource(source, min_duration=min_duration)
    if kind == "fast35+rhythm":
        from .rhythm_cond import with_rhythm

        return with_rhythm(music_features(src, "fast35", fps, n_frames, cache, min_duration=min_duration), fps)
    parts = ["baseline35", "mel"] if kind == "baseline35+mel" else [kind]
    arrays = []
    T = None if n_frames is None else int(n_frames)
    for part in parts:
        arr, dur = _cached_part(src, part, fps, cache, start_bpm)
        if T is None:
            T = max(1, int(round(dur * fps)))
        arrays.append(fit_length(arr, T, BASELINE_ONEHOT_COLS if part in ("baseline35", "fast35") else ()))
    return np.ascontiguousarray(np.concatenate(arrays, axis=1), dtype=np.float32)


def fit_length(arr: np.ndarray, T: int, onehot_cols=()) -> np.ndarray:
    """Crop (T', D) to T rows, or pad by repeating the last row (zeros in ``onehot_cols``)."""
    if arr.shape[0] >= T:
        return arr[:T]
    pad = np.repeat(arr[-1:], T - arr.shape[0], axis=0)
    if len(onehot_cols):
        pad[:, list(onehot_cols)] = 0.0
    return np.concatenate([arr, pad], axis=0)


def _check_fps(fps) -> float:
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        raise ConfigError(f"fps must be a number, got {fps!r}") from None
    if not np.isfinite(fps) or not 1.0 <= fps <= 240.0:
        raise ConfigError(f"fps must be between 1 and 240, got {fps:g}")
    return fps


def _cached_part(src: MusicSource, part: str, fps: float, cache, start_bpm):
    """(natural-length array, duration seconds) for one kind, through the cache."""
    folder = resolve_cache_dir(cache)
    if part == "baseline35" and start_bpm is None:
        start_bpm = aist_start_bpm(src.stem)
    key = None
    if folder is not None:
        key = make_key(src.digest(), kind=part, fps=round(fps, 6), start_bpm=start_bpm)
        hit = load_arrays(folder, key)
        if hit is not None and "features" in hit and hit["features"].ndim == 2 \
                and hit["features"].shape[1] == KINDS[part]:
            return hit["features"], float(hit["duration"])
    if part == "baseline35":
        arr, dur = _baseline35(src, fps, start_bpm)
    elif part == "fast35":
        arr, dur = _fast35(src, fps)
    else:
        arr, dur = _logmel(src, fps)
    if key is not None:
        save_arrays(folder, key, features=arr.astype(np.float32), duration=np.float64(dur))
    return arr, dur


def _baseline35(src: MusicSource, fps: float, start_bpm: float | None):
    import librosa

    sr = int(round(fps * BASELINE_HOP))
    y = src.audio(sr)
    dur = len(y) / sr
    # one mel spectrogram (128 bands, n_fft 2048) feeds both, as in librosa's defaults; computed
    # block-wise (spectral.py), bit-identical to onset_strength(y=...) and mfcc(y=...)
    S_db = librosa.power_to_db(spectral.mel_power(y, sr, BASELINE_HOP))
    env = librosa.onset.onset_strength(S=S_db, sr=sr, hop_length=BASELINE_HOP)
    mfcc = librosa.feature.mfcc(S=S_db, n_mfcc=20).T
    del S_db
    chroma = librosa.feature.chroma_cens(y=y, sr=sr, hop_length=BASELINE_HOP, n_chroma=12).T
    peaks = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=BASELINE_HOP)
    if start_bpm is None:
        start_bpm = edge_start_bpm(src)
    beats = np.zeros(0, dtype=int)
    if env.max() > 0:
        _, beats = librosa.beat.beat_track(onset_envelope=env, sr=sr, hop_length=BASELINE_HOP,
                                           start_bpm=start_bpm, tightness=100)
    n = min(len(env), mfcc.shape[0], chroma.shape[0])
    out = np.zeros((n, 35), dtype=np.float32)
    out[:, 0] = env[:n]
    out[:, 1:21] = mfcc[:n]
    out[:, 21:33] = chroma[:n]
    out[peaks[peaks < n], 33] = 1.0
    out[beats[beats < n], 34] = 1.0
    src_rate = sr / BASELINE_HOP
    if abs(src_rate - fps) > 1e-9:
        out = retime(out, src_rate, fps, BASELINE_ONEHOT_COLS)
    return out, dur


def _fast35(src: MusicSource, fps: float):
    from .fast import HOP, fast35

    sr = int(round(fps * HOP))
    y = src.audio(sr)
    out = fast35(y, fps)
    src_rate = sr / HOP
    if abs(src_rate - fps) > 1e-9:
        out = retime(out, src_rate, fps, BASELINE_ONEHOT_COLS)
    return out, len(y) / sr


def edge_start_bpm(src: MusicSource) -> float:
    """EDGE's fallback tempo seed: librosa's tempo estimate of the audio at 22050 Hz, hop 512."""
    import librosa

    y = src.audio(22050)
    if not np.any(y):
        return 120.0
    env = spectral.onset_strength(y, 22050, 512)  # = onset_strength(y=y, sr=22050), bounded memory
    return float(np.atleast_1d(librosa.feature.tempo(onset_envelope=env, sr=22050, hop_length=512))[0])


def _logmel(src: MusicSource, fps: float):
    import librosa

    y = src.audio(MEL_SR)
    hop_exact = MEL_SR / fps
    hop = int(round(hop_exact))
    S = spectral.mel_power(y, MEL_SR, hop, n_fft=2048, n_mels=N_MELS, fmin=0.0, fmax=MEL_SR / 2)
    out = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=None).T.astype(np.float32)
    if abs(hop - hop_exact) > 1e-9:
        out = retime(out, MEL_SR / hop, fps, ())
    return out, len(y) / MEL_SR


def retime(arr: np.ndarray, src_rate: float, fps: float, onehot_cols=()) -> np.ndarray:
    """Resample (T', D) frames at ``src_rate`` Hz to frames at ``fps`` (frame k at k / fps s)."""
    n_src = arr.shape[0]
    dur = (n_src - 1) / src_rate
    T = int(np.floor(dur * fps)) + 1
    t_src = np.arange(n_src) / src_rate
    t_out = np.arange(T) / fps
    out = np.empty((T, arr.shape[1]), dtype=np.float32)
    for d in range(arr.shape[1]):
        if d in onehot_cols:
            out[:, d] = 0.0
            ev = np.flatnonzero(arr[:, d] > 0.5)
            idx = np.clip(np.round(ev / src_rate * fps).astype(int), 0, T - 1)
            out[idx, d] = 1.0
        else:
            out[:, d] = np.interp(t_out, t_src, arr[:, d])
    return out
