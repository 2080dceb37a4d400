"""Tempo, beat and downbeat times (seconds) from audio.

Method (``method="auto"``, the default):

1. Onset strength envelope: librosa mel spectral flux of the mono audio at 22050 Hz, hop 256
   (86.1 frames/s, 11.6 ms resolution).
2. Tempo: librosa's estimate (autocorrelation tempogram with a log-normal prior around 120 BPM).
   That prior settles factor-2 ambiguities but can lock onto a 2:3 relation of the true tempo
   (e.g. 113 BPM for a 170 BPM song). The estimate and its 3/2 and 2/3 relatives (kept inside
   40-240 BPM) are each refined, and the one whose beat period folds the envelope into the most
   peaked phase histogram (max / mean) wins.
3. Two beat sequences: a *grid* (one tempo and phase for the whole song, refined to 0.01 %
   by folding the envelope at candidate periods) and librosa's dynamic-programming tracker
   (``beat_track``, Ellis 2007) seeded with the same tempo.
4. If the tracker's beats stay on the grid or its half-beat (>= 80 % within 0.1 beat: the music
   has a constant tempo, the tracker merely drifts or flips to off-beats in some sections), the
   grid is returned over the span where the song has onsets (silent lead-in/out dropped);
   otherwise the tracker's beats.
   ``method="grid"`` / ``"dp"`` force one of them, ``"librosa"`` is plain ``beat_track`` with
   librosa's defaults (hop 512) for comparison.

Downbeats: each beat gets a salience = z-score of low-frequency (< 150 Hz, kick/bass) onset strength
at the beat + z-score of the harmonic change (cosine distance of beat-synchronous chroma to the
previous beat; STFT chroma, A440 tuning). For a meter m in (3, 4) (``meter=None`` tries both) and a bar phase p < m, the
score is the mean salience of beats p, p + m, ... minus that of the others, divided by their pooled
standard deviation; the best (m, p) wins, and beats p, p + m, ... are the downbeats. Ballroom waltz
is 3/4, most other dance music 4/4.

Silence gives tempo 0 and no beats. Results are cached like the features.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .cache import load_json, make_key, resolve_cache_dir, save_json
from .source import DEFAULT_MIN_DURATION, MusicSource, Source

BEAT_SR = 22050
BEAT_HOP = 256
METHODS = ("auto", "grid", "dp", "librosa")
BPM_RANGE = (40.0, 240.0)


@dataclass
class BeatAnalysis:
    """Tempo in BPM, beat and downbeat times in seconds, meter (beats per bar) and the method used."""

    tempo: float
    beats: np.ndarray
    downbeats: np.ndarray
    meter: int
    method: str
    duration: float

    def to_dict(self) -> dict:
        return {"tempo_bpm": self.tempo, "beats": [round(float(t), 6) for t in self.beats],
                "downbeats": [round(float(t), 6) for t in self.downbeats], "meter": self.meter,
                "method": self.method, "duration": self.duration}

    @classmethod
    def from_dict(cls, d: dict) -> "BeatAnalysis":
        return cls(float(d["tempo_bpm"]), np.asarray(d["beats"], dtype=np.float64),
                   np.asarray(d["downbeats"], dtype=np.float64), int(d["meter"]), str(d["method"]),
                   float(d["duration"]))


def analyze_beats(source: Source, method: str = "auto", meter: int | None = None, cache: bool | str = True,
                  min_duration: float = DEFAULT_MIN_DURATION) -> BeatAnalysis:
    """Tempo, beats, downbeats and meter of a song (see the module docstring for the method)."""
    if method not in METHODS:
        raise ConfigError(f"unknown beat method {method!r} (choose from {', '.join(METHODS)})")
    if meter not in (None, 2, 3, 4, 6):
        raise ConfigError(f"meter must be 2, 3, 4, 6 or None (automatic), got {meter!r}")
    src = source if isinstance(source, MusicSource) else MusicSource(source, min_duration=min_duration)
    folder = resolve_cache_dir(cache)
    key = None
    if folder is not None:
        key = make_key(src.digest(), kind="beats", method=method, meter=meter)
        hit = load_json(folder, key)
        if hit is not None:
            try:
                return BeatAnalysis.from_dict(hit)
            except (KeyError, TypeError, ValueError):
                pass
    res = _analyze(src, method, meter)
    if key is not None:
        save_json(folder, key, res.to_dict())
    return res


def beat_times(source: Source, method: str = "auto", cache: bool | str = True) -> np.ndarray:
    """Beat times in seconds, (B,) float64, increasing."""
    return analyze_beats(source, method=method, cache=cache).beats


def downbeat_times(source: Source, meter: int | None = None, cache: bool | str = True) -> np.ndarray:
    """Downbeat (bar start) times in seconds, (K,) float64; ``meter`` None estimates 3 or 4."""
    return analyze_beats(source, meter=meter, cache=cache).downbeats


def tempo(source: Source, cache: bool | str = True) -> float:
    """Global tempo in beats per minute (0.0 for silence)."""
    return analyze_beats(source, cache=cache).tempo


# --------------------------------------------------------------------------------------------
def onset_envelope(y: np.ndarray, sr: int = BEAT_SR, hop: int = BEAT_HOP, fmax: float | None = None) -> np.ndarray:
    """librosa onset strength (mel spectral flux) of mono ``y``; ``fmax`` limits the mel bands."""
    from . import spectral

    if fmax is None:
        return spectral.onset_strength(y, sr, hop)
    return spectral.onset_strength(y, sr, hop, fmax=fmax, n_mels=max(4, min(128, int(fmax // 12))))


def _fold(env: np.ndarray, rate: float, bpm: float, nbins: int = 48) -> np.ndarray:
    """Mean envelope per beat-phase bin when folded at the period 60 / bpm."""
    phase = (np.arange(len(env)) / rate) * (bpm / 60.0) % 1.0
    idx = np.minimum((phase * nbins).astype(np.int64), nbins - 1)
    s = np.bincount(idx, weights=env, minlength=nbins)
    c = np.bincount(idx, minlength=nbins)
    return s / np.maximum(c, 1)


def _refine_tempo(env: np.ndarray, rate: float, bpm0: float, span: float = 0.03, steps: int = 241) -> float:
    """The tempo within bpm0 * (1 +- span) whose fold has the highest peak (two passes)."""
    best = bpm0
    for width, n in ((span, steps), (span / steps * 4, 81)):
        cands = np.linspace(best * (1 - width), best * (1 + width), n)
        scores = [_fold(env, rate, b).max() for b in cands]
        best = float(cands[int(np.argmax(scores))])
    return best


def _peakiness(env: np.ndarray, rate: float, bpm: float) -> float:
    f = _fold(env, rate, bpm)
    return float(f.max() / max(f.mean(), 1e-12))


def estimate_tempo(env: np.ndarray, rate: float) -> float:
    """Tempo in BPM (librosa prior + the 2:3 check of the module docstring)."""
    import librosa

    t0 = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=env, sr=rate * BEAT_HOP,
                                                   hop_length=BEAT_HOP))[0])
    cands = [t0 * r for r in (1.0, 1.5, 2.0 / 3.0) if BPM_RANGE[0] <= t0 * r <= BPM_RANGE[1]]
    refined = [_refine_tempo(env, rate, c) for c in cands]
    scores = [_peakiness(env, rate, b) for b in refined]
    return refined[int(np.argmax(scores))]


def _grid(env: np.ndarray, rate: float, bpm: float) -> tuple[float, float]:
    """(period s, phase s) of the constant-tempo grid that collects the most onset strength."""
    period = 60.0 / bpm
    t = np.arange(len(env)) / rate
    offs = np.linspace(0.0, period, 200, endpoint=False)
    grid = np.arange(0.0, t[-1] + period, period)
    scores = [np.interp(grid + o, t, env, right=0.0).sum() for o in offs]
    return period, float(offs[int(np.argmax(scores))])


def _analyze(src: MusicSource, method: str, meter: int | None) -> BeatAnalysis:
    import librosa

    y = src.audio(BEAT_SR)
    dur = len(y) / BEAT_SR
    empty = BeatAnalysis(0.0, np.zeros(0), np.zeros(0), meter or 4, method, dur)
    if np.abs(y).max(initial=0.0) <= 1e-4:
        return empty
    if method == "librosa":
        bpm, frames = librosa.beat.beat_track(y=y, sr=BEAT_SR, units="frames")
        beats = librosa.frames_to_time(frames, sr=BEAT_SR)
        bpm = float(np.atleast_1d(bpm)[0])
    else:
        env = onset_envelope(y)
        rate = BEAT_SR / BEAT_HOP
        if env.max() <= 0:
            return empty
        bpm = estimate_tempo(env, rate)
        _, frames = librosa.beat.beat_track(onset_envelope=env, sr=BEAT_SR, hop_length=BEAT_HOP, bpm=bpm,
                                            tightness=100, trim=(method == "dp"))
        dp = librosa.frames_to_time(frames, sr=BEAT_SR, hop_length=BEAT_HOP)
        period, phase = _grid(env, rate, bpm)
        use_grid = method == "grid"
        if method == "auto" and len(dp) >= 8:
            d = ((dp - phase) / period) % 1.0
            near = np.minimum.reduce([d, np.abs(d - 0.5), 1.0 - d])
            use_grid = float(np.mean(near < 0.1)) >= 0.8
        if use_grid:
            lo, hi = _active_span(env, rate)
            lo, hi = lo - period / 4, hi + period / 4
            k0 = int(np.ceil((max(lo, 0.0) - phase) / period))
            beats = phase + period * np.arange(k0, int(np.floor((min(hi, dur) - phase) / period)) + 1)
            beats = beats[(beats >= 0) & (beats < dur)]
            method_used = "grid"
        else:
            beats = dp
            method_used = "dp"
        method = method_used if method == "auto" else method
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 2:
        return BeatAnalysis(bpm, beats, beats[:1], meter or 4, method, dur)
    m, down = _downbeats(y, beats, meter)
    return BeatAnalysis(float(bpm), beats, down, m, method, dur)


def _active_span(env: np.ndarray, rate: float) -> tuple[float, float]:
    """(start, end) seconds of the part of the song with onsets: the 1 s moving average of the
    envelope above 10 % of its median over the song (drops silent or near-silent lead-in/out)."""
    w = max(1, int(round(rate)))
    smooth = np.convolve(env, np.ones(w) / w, mode="same")
    on = np.flatnonzero(smooth > 0.1 * max(np.median(smooth), 1e-12))
    if len(on) == 0:
        return 0.0, len(env) / rate
    first = on[0] + w // 2 if on[0] > 0 else 0  # the average rises half a window early
    last = on[-1] - w // 2 if on[-1] < len(env) - 1 else len(env) - 1
    return first / rate, max(first, last) / rate


def _zscore(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def _downbeats(y: np.ndarray, beats: np.ndarray, meter: int | None) -> tuple[int, np.ndarray]:
    """(meter, downbeat times) from bass onsets and chroma changes at the beats."""
    import librosa

    rate = BEAT_SR / BEAT_HOP
    low = onset_envelope(y, fmax=150.0)
    fr = np.clip(np.round(beats * rate).astype(int), 0, len(low) - 1)
    w = max(1, int(round(0.04 * rate)))
    bass = np.array([low[max(0, f - w): f + w + 1].max() for f in fr])
    from . import spectral

    chroma = spectral.chroma_stft(y, BEAT_SR, BEAT_HOP * 2)
    bfr = np.clip(np.round(beats * rate / 2).astype(int), 0, chroma.shape[1] - 1)
    sync = librosa.util.sync(chroma, np.unique(bfr), aggregate=np.median)
    # sync column j spans [beat j-1, beat j) (column 0 = before the first beat); compare j-1 and j
    sync = sync / (np.linalg.norm(sync, axis=0, keepdims=True) + 1e-9)
    change = np.zeros(len(beats))
    cs = 1.0 - np.sum(sync[:, 1:] * sync[:, :-1], axis=0)  # change at the start of beat span j
    n = min(len(beats), len(cs))
    change[:n] = cs[:n]
    sal = _zscore(bass) + _zscore(change)
    best = (-np.inf, 4, 0)
    for m in ([meter] if meter else [3, 4]):
        if len(beats) < 2 * m:
            continue
        for p in range(m):
            on = sal[p::m]
            off = np.delete(sal, np.arange(p, len(sal), m))
            pooled = np.sqrt((on.var() + off.var()) / 2) + 1e-9
            score = (on.mean() - off.mean()) / pooled
            if score > best[0]:
                best = (score, m, p)
    _, m, p = best
    return m, beats[p::m]


def annotation_offset(source: Source, times: np.ndarray, max_shift: float = 0.25) -> float:
    """Seconds to add to annotated ``times`` (e.g. a chart's beats) to align them with the audio.

    The shift (within +-``max_shift``, 2.5 ms steps) that maximises the mean onset strength
    sampled at ``times + shift``. Independent of the beat tracker.
    """
    src = source if isinstance(source, MusicSource) else MusicSource(source)
    env = onset_envelope(src.audio(BEAT_SR))
    t = np.arange(len(env)) * BEAT_HOP / BEAT_SR
    shifts = np.arange(-max_shift, max_shift + 1e-9, 0.0025)
    scores = [np.interp(np.asarray(times) + s, t, env).mean() for s in shifts]
    return float(shifts[int(np.argmax(scores))])
