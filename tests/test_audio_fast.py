"""fast35: the 35-D baseline layout without librosa (fast cold start for generation)."""
from __future__ import annotations

import subprocess
import sys

import mir_eval
import numpy as np
import pretty_midi
import pytest

from choreogen.audio import load_audio, music_features
from choreogen.audio.fast import estimate_tempo, peak_pick, track_beats


def _clicks(bpm=100.0, seconds=12.0, sr=15360):
    y = np.zeros(int(seconds * sr), np.float32)
    for b in np.arange(0.5, seconds, 60 / bpm):
        i = int(b * sr)
        y[i:i + 300] += np.random.default_rng(int(b * 1000)).normal(0, 0.5, 300).astype(np.float32) * np.hanning(600)[300:]
    return y, sr


def test_fast35_onset_and_mfcc_match_librosa_baseline(music_dir):
    y, sr = load_audio(music_dir / "sectoid" / "War_of_freedom" / "song.ogg", sr=15360)
    y = y[: sr * 40]
    f = music_features((y, sr), kind="fast35", fps=30, cache=False)
    b = music_features((y, sr), kind="baseline35", fps=30, cache=False)
    assert f.shape == b.shape == (1200, 35)
    assert np.allclose(f[:, 0], b[:, 0], atol=1e-4)  # onset envelope
    assert np.allclose(f[:, 1:21], b[:, 1:21], atol=1e-3)  # MFCC
    assert np.array_equal(f[:, 33], b[:, 33])  # onset peaks (onset_detect rule)
    fb, bb = np.flatnonzero(f[:, 34]) / 30, np.flatnonzero(b[:, 34]) / 30
    assert mir_eval.beat.f_measure(bb, fb) > 0.9  # same beats as librosa's tracker, within 70 ms
    c = f[:, 21:33]
    assert np.allclose(np.linalg.norm(c, axis=1), 1.0, atol=1e-4)  # CENS-style unit chroma


def test_fast35_beats_against_true_chart(music_dir):
    from choreogen.audio import annotation_offset

    song = music_dir / "muldjord" / "chaos_god" / "song.ogg"
    truth = pretty_midi.PrettyMIDI(str(song.with_name("notes.mid"))).get_beats()
    f = music_features(song, kind="fast35", fps=30, cache=False)
    est = np.flatnonzero(f[:, 34]) / 30.0
    truth = truth[truth < len(f) / 30.0] + annotation_offset(song, truth)
    assert mir_eval.beat.f_measure(mir_eval.beat.trim_beats(truth), mir_eval.beat.trim_beats(est)) > 0.85


def test_tempo_and_beats_on_click_track():
    y, sr = _clicks(100.0)
    f = music_features((y, sr), kind="fast35", fps=30, cache=False)
    assert estimate_tempo(f[:, 0].astype(np.float64), 30.0) == pytest.approx(100.0, abs=3.0)
    beats = np.flatnonzero(f[:, 34]) / 30.0
    clicks = np.arange(0.5, 12.0, 0.6)
    assert mir_eval.beat.f_measure(clicks, beats) > 0.9
    assert len(track_beats(np.zeros(300), 30.0, 120.0)) == 0  # silence: no beats


def test_peak_pick_rule():
    x = np.zeros(50)
    x[[5, 6, 20, 40]] = [1.0, 0.5, 0.8, 0.05]
    # onset_detect's rule at 30 fps has a 1-frame max window: 6 qualifies (0.5 >= mean + 0.07)
    assert list(peak_pick(x)) == [5, 6, 20]  # 40 is below its local mean + delta
    assert list(peak_pick(x, pre_max=3, post_max=3, pre_avg=3, post_avg=5, delta=0.1, wait=10)) == [5, 20]


def test_fast35_never_imports_librosa(tmp_path):
    code = ("import sys, numpy as np; from choreogen.audio import music_features; "
            "y = np.random.default_rng(0).normal(size=15360 * 3).astype('float32'); "
            "music_features((y, 15360), kind='fast35', cache=False); print('librosa' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_fast35_on_excerpts_shorter_than_the_chroma_kernel():
    """Under ~1.4 s the chroma smoothing kernel (41 frames) is longer than the excerpt: still T frames."""
    import numpy as np

    from choreogen.audio import music_features

    y = np.random.default_rng(0).normal(size=int(22050 * 1.2)).astype(np.float32) * 0.1
    f = music_features((y, 22050), kind="fast35", fps=30, n_frames=36, cache=False)
    assert f.shape == (36, 35) and np.isfinite(f).all()
    assert np.allclose(np.linalg.norm(f[:, 21:33], axis=1)[f[:, 21:33].any(1)], 1.0, atol=1e-4)
