"""Tempo, beats and downbeats: click tracks of known tempo/meter, silence, the bundled song, real songs."""
from __future__ import annotations

import numpy as np
import pytest

from choreogen.audio import analyze_beats, beat_times, downbeat_times, example_song, example_song_beats, tempo
from choreogen.errors import ConfigError

from test_audio_features import SR, click_track


def _f(ref, est):
    import mir_eval

    return mir_eval.beat.f_measure(np.asarray(ref), np.asarray(est), f_measure_threshold=0.07)


@pytest.mark.parametrize("bpm", [96.0, 128.0, 150.0])
def test_click_tempo_and_beats(bpm):
    y, times = click_track(bpm=bpm, seconds=12.0)
    src = (y, SR)
    assert tempo(src, cache=False) == pytest.approx(bpm, abs=2.0)
    b = beat_times(src, cache=False)
    assert _f(times, b) >= 0.95
    assert np.median(np.abs(b[:, None] - times[None]).min(axis=1)) < 0.03


@pytest.mark.parametrize("meter", [3, 4])
def test_meter_and_downbeats(meter):
    y, times = click_track(bpm=120.0, seconds=16.0, meter=meter)
    r = analyze_beats((y, SR), cache=False)
    assert r.meter == meter
    assert _f(times[::meter], r.downbeats) >= 0.9
    fixed = downbeat_times((y, SR), meter=meter, cache=False)
    assert _f(times[::meter], fixed) >= 0.9


def test_silence_has_no_beats():
    r = analyze_beats((np.zeros(3 * SR, np.float32), SR), cache=False)
    assert r.tempo == 0.0 and len(r.beats) == 0 and len(r.downbeats) == 0


def test_bad_options():
    y, _ = click_track(seconds=2.0)
    with pytest.raises(ConfigError):
        analyze_beats((y, SR), method="magic", cache=False)
    with pytest.raises(ConfigError):
        analyze_beats((y, SR), meter=5, cache=False)


def test_example_song_against_its_chart(tmp_path):
    """The bundled excerpt with the chart beats shipped beside it (no shared data needed)."""
    meta = example_song_beats()
    ref = np.asarray(meta["chart_beats_s"]) + meta["audio_offset_s"]
    r = analyze_beats(example_song(), cache=tmp_path)
    assert r.tempo == pytest.approx(150.0, abs=1.0)
    assert _f(ref, r.beats) >= 0.95
    again = analyze_beats(example_song(), cache=tmp_path)  # from the cache
    assert np.allclose(again.beats, r.beats)


REAL = {  # measured chart-vs-audio offsets (s) and beat F-measure floors, see docs/BENCHMARKS.md
    "sectoid/Metal_madness": (-0.135, 0.95),
    "sectoid/War_of_freedom": (0.070, 0.95),
    "muldjord/chaos_god": (0.035, 0.95),
}


@pytest.mark.slow
@pytest.mark.parametrize("song", sorted(REAL))
def test_real_song_beat_f_measure(music_dir, song, tmp_path):
    import mir_eval
    import pretty_midi

    from choreogen.audio import annotation_offset

    offset, floor = REAL[song]
    ref = pretty_midi.PrettyMIDI(str(music_dir / song / "notes.mid")).get_beats()
    path = music_dir / song / "song.ogg"
    off = annotation_offset(path, ref)
    assert off == pytest.approx(offset, abs=0.012)
    est = beat_times(path, cache=tmp_path)
    ref_al = mir_eval.beat.trim_beats(ref + off)
    assert mir_eval.beat.f_measure(ref_al, mir_eval.beat.trim_beats(est)) >= floor
