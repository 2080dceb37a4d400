"""choreogen.eval.rhythm on synthetic signals with known answers (issue #12 measurement)."""
import numpy as np
import pytest

from choreogen.eval.rhythm import (beat_locking, dominant_period, movement_signal, spectral_match, spectral_scale,
                                   tempo_follow)

FPS = 30.0


def pulsing(freq_hz: float, seconds: float = 40.0, extra_hz: float | None = None, extra_amp: float = 0.0, J: int = 24,
            phase: float = 0.0):
    """(T, J, 3) joints walking along x with speed 1 + 0.6 sin(2 pi f t + phase) m/s: the summed joint
    speed oscillates at exactly freq_hz (optionally plus a second speed component at extra_hz)."""
    t = np.arange(int(seconds * FPS)) / FPS
    v = 1.0 + 0.6 * np.sin(2 * np.pi * freq_hz * t + phase)
    if extra_hz:
        v = v + extra_amp * np.sin(2 * np.pi * extra_hz * t)
    x = np.cumsum(v) / FPS
    j = np.zeros((len(t), J, 3))
    j[:, :, 0] = x[:, None]
    j[:, :, 1] = np.linspace(0, 1.6, J)[None]
    return j


def test_movement_signal_is_summed_joint_speed():
    j = np.zeros((10, 3, 3))
    j[:, 0, 0] = np.arange(10) * 0.1  # 0.1 m / frame = 3 m/s
    j[:, 2, 1] = np.arange(10) * 0.05  # 1.5 m/s
    np.testing.assert_allclose(movement_signal(j, FPS), np.full(9, 4.5), rtol=1e-9)


@pytest.mark.parametrize("f", [0.5, 1.0, 2.2])
def test_dominant_period_of_known_frequency(f):
    r = dominant_period(pulsing(f), FPS)
    assert r["period_s"] == pytest.approx(1.0 / f, rel=0.02)
    assert r["peak_share"] > 0.5


def test_band_excludes_out_of_band_components():
    j = pulsing(0.5, extra_hz=6.0, extra_amp=0.9)  # stronger 6 Hz component outside 0.25-4 Hz
    assert dominant_period(j, FPS)["period_s"] == pytest.approx(2.0, rel=0.02)
    assert dominant_period(j, FPS, band=(0.25, 8.0))["period_s"] == pytest.approx(1 / 6.0, rel=0.02)


def test_tempo_follow_ratio_and_spectral_scale():
    slow, fast = pulsing(0.8 * 0.6), pulsing(1.25 * 0.6)
    p = {0.8: dominant_period(slow, FPS)["period_s"], 1.25: dominant_period(fast, FPS)["period_s"]}
    r = tempo_follow(p)
    assert r["expected"] == pytest.approx(1.5625)
    assert r["ratio"] == pytest.approx(1.5625, rel=0.03)
    assert r["follow"] == pytest.approx(1.0, abs=0.06)
    assert spectral_scale(slow, fast, FPS) == pytest.approx(1.5625, rel=0.03)
    # a dance that ignores the tempo: ratio 1, follow 0
    same = pulsing(0.4)
    assert spectral_scale(same, same, FPS) == pytest.approx(1.0, abs=1e-9)
    assert tempo_follow({0.8: 2.5, 1.25: 2.5})["follow"] == pytest.approx(0.0, abs=1e-12)


def test_beat_locking_locked_vs_other_tempo():
    beat = 0.5
    beats = np.arange(0, 40, beat)
    j = pulsing(1.0 / (2 * beat), phase=0.3)  # one speed cycle every 2 beats, fixed phase
    locked = beat_locking(j, beats, FPS)
    drift = beat_locking(j, np.arange(0, 40, 0.57), FPS)  # another song's tempo
    assert locked > 0.9
    assert drift < 0.3


def test_spectral_match_prefers_the_music_with_the_dance_periodicity():
    T = int(40 * FPS)
    t = np.arange(T) / FPS

    def onsets(period):
        env = np.zeros(T)
        env[np.round(np.arange(0, 40, period) * FPS).astype(int).clip(0, T - 1)] = 1.0
        return env + 0.05 * np.abs(np.sin(7.3 * t))

    j = pulsing(1.0 / 1.2)  # dance period 1.2 s
    own = spectral_match(j, onsets(1.2), FPS)
    other = spectral_match(j, onsets(0.77), FPS)
    assert own > other + 0.2
