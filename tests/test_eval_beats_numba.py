"""librosa's numba kernels on the path `choreogen eval` uses (numba 0.68.1 segfaulted here; pyproject caps it)."""
from __future__ import annotations

import numpy as np


def test_localmax_on_2d_input_and_beat_tracking_of_a_click_track(tmp_path):
    import librosa
    import soundfile as sf

    from choreogen.eval.beats import music_beats

    x = np.zeros((3, 50))
    x[:, [5, 20, 35]] = 1.0
    assert np.array_equal(np.flatnonzero(librosa.util.localmax(x, axis=-1)[1]), [5, 20, 35])
    sr, bpm = 22050, 120.0
    y = np.zeros(int(8 * sr), np.float32)
    t = np.arange(600)
    for b in range(16):
        s = int(b * 60 / bpm * sr)
        y[s:s + 600] += np.sin(2 * np.pi * 1000 * t / sr) * np.exp(-t / 150)
    sf.write(tmp_path / "click.wav", y, sr)
    beats = np.asarray(music_beats(tmp_path / "click.wav", fps=30.0)["beats"])
    assert len(beats) >= 8
    assert abs(float(np.median(np.diff(beats))) - 15.0) <= 1.0  # 120 BPM at 30 fps: a beat every 15 frames
