"""Frame-aligned music features: baseline35 columns on a click track, EDGE/FACT parity, mel, caching."""
from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from choreogen.audio import cache_stats, feature_dim, music_features
from choreogen.audio.features import aist_start_bpm
from choreogen.errors import ConfigError, InputError

SR = 22050


def click_track(bpm=120.0, seconds=10.0, sr=SR, first=0.25, meter=None):
    """Short decaying 1.5 kHz clicks at first + k * 60 / bpm; accented bar starts if meter is set."""
    y = np.zeros(int(seconds * sr), dtype=np.float32)
    n = int(0.03 * sr)
    env = np.exp(-np.arange(n) / (0.006 * sr))
    times = np.arange(first, seconds - 0.05, 60.0 / bpm)
    for i, t in enumerate(times):
        accent = meter is not None and i % meter == 0
        f = 400.0 if accent else 1500.0
        s = int(round(t * sr))
        seg = (0.9 if accent else 0.5) * env * np.sin(2 * np.pi * f * np.arange(n) / sr)
        y[s:s + n] += seg[: len(y) - s].astype(np.float32)
    return y, times


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    d = tmp_path_factory.mktemp("clicks")
    y, times = click_track()
    sf.write(d / "click120.wav", y, SR)
    return d / "click120.wav", times


def test_dims():
    assert feature_dim("baseline35") == 35 and feature_dim("mel") == 80 and feature_dim("baseline35+mel") == 115
    with pytest.raises(ConfigError):
        feature_dim("jukebox")


def test_baseline35_columns_on_click_track(clicks):
    path, times = clicks
    F = music_features(path, fps=30, cache=False)
    assert F.shape == (300, 35) and F.dtype == np.float32
    fps = 30.0
    # beat one-hot: one beat per click, each within 2 frames (67 ms)
    beats = np.flatnonzero(F[:, 34])
    assert abs(len(beats) - len(times)) <= 2
    for b in beats:
        assert np.min(np.abs(times - b / fps)) <= 2 / fps
    # onset peaks: at the clicks too
    peaks = np.flatnonzero(F[:, 33])
    assert len(peaks) >= len(times) - 2
    for p in peaks:
        assert np.min(np.abs(times - p / fps)) <= 2 / fps
    # envelope column is largest at the click frames
    env = F[:, 0]
    click_frames = np.round(times * fps).astype(int)
    near = np.zeros(len(env), bool)
    for c in click_frames:
        near[max(0, c - 1): c + 2] = True
    assert env[near].mean() > 5 * env[~near].mean()
    # chroma_cens: unit-norm rows; MFCC 0 is the loudness term
    assert np.allclose(np.linalg.norm(F[:, 21:33], axis=1), 1.0, atol=1e-3)


def test_fact_beat_parity_golden(golden_dir):
    """Our baseline beat column = FACT/EDGE's cached feature (mint preprocessing, mHO2 -> 120 BPM)."""
    g = json.loads((golden_dir / "bas.json").read_text())["music_beats_from_audio"]["fact_preprocessing_mHO2"]
    wav = golden_dir / "inputs" / "music_DANCE_C_2_20s.wav"
    F = music_features(wav, fps=60, start_bpm=g["start_bpm"], cache=False)
    assert F.shape == (1200, 35)
    assert np.flatnonzero(F[:, 34]).tolist() == [b for b in g["beats"] if b < 1200]


def test_aist_rule():
    assert aist_start_bpm("gHO_sBM_cAll_d19_mHO2_ch01") == 120.0
    assert aist_start_bpm("mBR0") == 80.0 and aist_start_bpm("mJB5") == 130.0
    assert aist_start_bpm("my_song") is None


def test_lengths_and_fps(clicks):
    path, times = clicks
    F = music_features(path, fps=30, n_frames=320, cache=False)
    assert F.shape == (320, 35)
    # librosa gives 1 + N // 512 = 301 centred frames for 10 s at 15360 Hz; rows 301.. are padding
    assert np.array_equal(F[301:, :33], np.repeat(F[300:301, :33], 19, axis=0))
    assert not F[301:, 33:].any()
    assert music_features(path, fps=30, n_frames=100, cache=False).shape == (100, 35)
    G = music_features(path, fps=29.97, cache=False)  # non-integer sr: re-timed
    assert G.shape == (round(10 * 29.97), 35)
    for b in np.flatnonzero(G[:, 34]):
        assert np.min(np.abs(times - b / 29.97)) <= 2 / 29.97
    with pytest.raises(ConfigError):
        music_features(path, fps=0, cache=False)


def test_mel_and_combined(tmp_path):
    t = np.arange(3 * SR) / SR
    y = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    M = music_features((y, SR), kind="mel", fps=25, cache=False)
    assert M.shape == (75, 80)
    import librosa

    mel_f = librosa.mel_frequencies(n_mels=82, fmin=0, fmax=SR / 2)[1:-1]
    band = int(np.argmax(M[10:-10].mean(axis=0)))
    assert abs(mel_f[band] - 1000) < 60
    C = music_features((y, SR), kind="baseline35+mel", fps=25, cache=False)
    assert C.shape == (75, 115)
    assert np.allclose(C[:, 35:], M)
    assert np.allclose(C[:, :35], music_features((y, SR), kind="baseline35", fps=25, cache=False))


def test_array_source_matches_file(clicks):
    path, _ = clicks
    y, sr = sf.read(path, dtype="float32")
    a = music_features(path, fps=30, cache=False)
    b = music_features((y, sr), fps=30, cache=False)
    assert np.allclose(a, b, atol=1e-4)


def test_cache_hits_and_keys(clicks, tmp_path, monkeypatch):
    path, _ = clicks
    cdir = tmp_path / "cache"
    s0 = cache_stats()
    a = music_features(path, fps=30, cache=cdir)
    s1 = cache_stats()
    assert s1["writes"] == s0["writes"] + 1 and s1["hits"] == s0["hits"]
    files = list(cdir.glob("*.npz"))
    assert len(files) == 1
    mtime = files[0].stat().st_mtime_ns
    b = music_features(path, fps=30, cache=cdir)
    s2 = cache_stats()
    assert s2["hits"] == s1["hits"] + 1 and s2["writes"] == s1["writes"]
    assert np.array_equal(a, b) and files[0].stat().st_mtime_ns == mtime
    music_features(path, fps=60, cache=cdir)  # other fps -> other key
    music_features(path, kind="mel", fps=30, cache=cdir)  # other kind -> other key
    assert len(list(cdir.glob("*.npz"))) == 3
    # different content -> different key
    y, sr = sf.read(path, dtype="float32")
    sf.write(tmp_path / "other.wav", y * 0.5, sr)
    music_features(tmp_path / "other.wav", fps=30, cache=cdir)
    assert len(list(cdir.glob("*.npz"))) == 4
    # a corrupt entry is a miss, recomputed and rewritten
    files[0].write_bytes(b"garbage")
    c = music_features(path, fps=30, cache=cdir)
    assert np.array_equal(a, c)
    # default folder honours CHOREOGEN_CACHE; cache=False writes nothing
    monkeypatch.setenv("CHOREOGEN_CACHE", str(tmp_path / "envcache"))
    music_features(path, fps=30)
    assert len(list((tmp_path / "envcache" / "features").glob("*.npz"))) == 1
    w = cache_stats()["writes"]
    music_features(path, fps=24, cache=False)
    assert cache_stats()["writes"] == w


def test_bad_sources(tmp_path):
    sf.write(tmp_path / "tiny.wav", np.full(SR // 10, 0.1, np.float32), SR)
    with pytest.raises(InputError, match=r"too short: 0\.10 s"):
        music_features(tmp_path / "tiny.wav", cache=False)
    with pytest.raises(InputError, match="too short"):
        music_features((np.zeros(100, np.float32), SR), cache=False)
    # silence: well-defined features, no beats
    F = music_features((np.zeros(SR, np.float32), SR), fps=30, cache=False)
    assert F.shape == (30, 35) and not F[:, 33:].any()
    assert np.isfinite(F).all()
