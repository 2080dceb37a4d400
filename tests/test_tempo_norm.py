"""Tempo-normalised generation (issue #12): equivariant tempo estimate, octave folding, playback,
and the property itself -- the bundled latent generator dances a song played faster faster."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from choreogen.audio.tempo_norm import canonical_rate, estimate_bpm, fold_bpm, reference_bpm, stretch


def test_fold_bpm_puts_the_tempo_in_the_reference_octave():
    assert fold_bpm(172.0, 86.0) == pytest.approx(86.0)
    assert fold_bpm(43.0, 86.0) == pytest.approx(86.0)
    assert fold_bpm(70.0, 86.0) == pytest.approx(70.0)  # already within sqrt 2
    assert fold_bpm(260.0, 86.0) == pytest.approx(65.0)
    for bpm in np.geomspace(20, 400, 37):
        f = fold_bpm(float(bpm), 100.0)
        assert 100 / math.sqrt(2) - 1e-9 <= f < 100 * math.sqrt(2) + 1e-9
        assert math.log2(f / bpm) == pytest.approx(round(math.log2(f / bpm)), abs=1e-9)
    with pytest.raises(ValueError):
        fold_bpm(0.0, 100.0)
    assert canonical_rate(float("nan"), 90.0) == 1.0
    assert canonical_rate(172.0, 86.0) == pytest.approx(1.0)
    # a song at 0.8x and 1.25x of a tempo near the reference: rates in the ratio 1.5625
    assert canonical_rate(0.8 * 90, 86.0) / canonical_rate(1.25 * 90, 86.0) == pytest.approx(1.5625)


def test_reference_is_the_mean_on_the_octave_circle():
    assert reference_bpm([86.0, 172.0, 43.0]) == pytest.approx(86.0, rel=1e-9)
    r = reference_bpm([80.0, 92.0 * 2])  # 80 and 92 (read an octave up): their geometric mean
    assert r == pytest.approx(math.sqrt(80 * 92), rel=1e-3)
    assert 60.0 <= reference_bpm([300.0]) < 120.0
    with pytest.raises(ValueError):
        reference_bpm([float("nan")])


def test_tempo_estimate_scales_with_a_stretched_real_song():
    """The bundled example song time-stretched to 0.8x and 1.25x (phase vocoder): the flat-prior estimate
    keeps its metrical level, so the two estimates are in the playback ratio 1.5625."""
    from choreogen.audio import example_song, load_audio

    y, sr = load_audio(example_song(), sr=22050)
    y = y[: 25 * sr]
    slow, fast = estimate_bpm(stretch(y, sr, 0.8), sr), estimate_bpm(stretch(y, sr, 1.25), sr)
    assert fast / slow == pytest.approx(1.5625, rel=0.05)
    assert len(stretch(y, sr, 1.25)) == pytest.approx(len(y) / 1.25, rel=0.01)


def test_play_back_resamples_features_to_the_song_length():
    from choreogen.tasks.dance3d.tempo_play import play_back, reference_for

    Tc, D = 40, 10
    f = torch.zeros(Tc, D)
    f[:, 4] = torch.arange(Tc, dtype=torch.float32) * 0.1  # root x moves 0.1 m per frame
    f[:, :4] = (torch.arange(Tc) % 8 < 4).float()[:, None]  # 0/1 contacts
    out = play_back(f, 50)
    assert out.shape == (50, D)
    assert out[0, 4] == pytest.approx(0.0) and out[-1, 4] == pytest.approx(3.9, abs=1e-6)  # same path, more frames
    assert torch.allclose(out[1:, 4] - out[:-1, 4], torch.full((49,), 3.9 / 49), atol=1e-5)  # slower by 40/50
    assert set(out[:, :4].unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(play_back(f, Tc), f)
    assert reference_for({"waltz": 86.0, "*": 100.0}, "waltz") == 86.0
    assert reference_for({"waltz": 86.0, "*": 100.0}, "tango") == 100.0
    assert reference_for({}, "waltz") is None


def _excerpt(path, src, start, seconds, rate, sr=22050):
    import soundfile as sf

    from choreogen.audio import load_audio

    y, _ = load_audio(src, sr=sr)
    sf.write(path, stretch(y[int(start * sr): int((start + seconds) * sr)], sr, rate), sr)


def _speed(p: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(p, axis=0), axis=-1).mean() * 30.0)


@pytest.mark.parametrize("name,genre", [("DANCE_W_16", "waltz"), ("DANCE_C_7", "chacha")])
def test_bundled_latent_generator_dances_faster_music_faster(tang_dir, tmp_path, name, genre):
    """A held-out val song at 0.8x and 1.25x: the faster version is danced faster -- mean joint speed in
    about the playback ratio 1.5625 (measured 1.58 / 1.54; the same model without tempo normalisation:
    0.97 / 0.82, it ignores the tempo) -- and each dance lasts as long as its song."""
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline

    pipe = Dance3DPipeline.from_pretrained("dance3d-latent")
    assert pipe.config.tempo_ref
    song = tang_dir / f"{name}.mp3"
    _excerpt(tmp_path / "slow.wav", song, 5.0, 24.0, 0.8)
    _excerpt(tmp_path / "fast.wav", song, 5.0, 24.0, 1.25)
    slow = pipe(tmp_path / "slow.wav", genre=genre, seed=0).motion
    fast = pipe(tmp_path / "fast.wav", genre=genre, seed=0).motion
    assert slow.positions().shape[0] == round(24.0 / 0.8 * 30)  # the song's own length
    assert fast.positions().shape[0] == round(24.0 / 1.25 * 30)
    assert slow.meta["tempo_rate"] / fast.meta["tempo_rate"] == pytest.approx(1.5625, rel=0.05)
    assert 1.3 < _speed(fast.positions()) / _speed(slow.positions()) < 1.85
    off = pipe(tmp_path / "fast.wav", genre=genre, seed=0, tempo_norm=False).motion
    assert "tempo_rate" not in off.meta


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_stretch_keeps_pitch_and_loudness_and_changes_duration(rate):
    sr = 22050
    t = np.arange(6 * sr) / sr
    y = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    z = stretch(y, sr, rate)
    assert len(z) == round(len(y) / rate)
    spec = np.abs(np.fft.rfft(z))
    assert np.argmax(spec) * sr / len(z) == pytest.approx(440.0, abs=2.0)  # pitch kept
    mid = z[len(z) // 4: 3 * len(z) // 4]
    assert 0.85 < mid.std() / y.std() < 1.1  # no phase cancellation (librosa's vocoder: 0.91 / 1.00)


def test_stretch_in_blocks_equals_one_pass():
    """The phase vocoder runs over blocks of analysis frames (bounded memory for long songs); any block
    size gives the one-pass result (per-frame FFTs, one phase track; bit-identical here, within float
    rounding of a vectorised FFT elsewhere)."""
    import numpy as np

    from choreogen.audio.tempo_norm import stretch

    y = np.random.default_rng(0).standard_normal(60000).astype(np.float32)
    for rate in (0.8, 1.13, 1.25):
        one = stretch(y, 22050, rate, block=10 ** 9)
        assert one.shape == (int(round(len(y) / rate)),)
        for block in (1, 5, 64):
            np.testing.assert_allclose(stretch(y, 22050, rate, block=block), one, rtol=0, atol=1e-5)
