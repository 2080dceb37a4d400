"""Audio decoding: every format, resampling, mono mixing, bounded memory, and every bad input."""
from __future__ import annotations

import subprocess
import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from choreogen.audio import audio_info, load_audio
from choreogen.audio import decode as dec
from choreogen.audio.decode import ffmpeg_exe
from choreogen.errors import ConfigError, InputError

SR = 44100


def _stereo_sine(seconds=2.0, f=440.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    s = np.sin(2 * np.pi * f * t)
    return np.stack([0.5 * s, 0.3 * s], axis=1).astype(np.float32)


def _peak_hz(y, sr):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    k = int(np.argmax(spec))
    # parabolic interpolation around the peak bin
    a, b, c = np.log(spec[k - 1:k + 2] + 1e-12)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * sr / len(y)


@pytest.fixture(scope="module")
def formats(tmp_path_factory):
    d = tmp_path_factory.mktemp("fmt")
    y = _stereo_sine()
    sf.write(d / "a.wav", y, SR)
    sf.write(d / "a.flac", y, SR)
    sf.write(d / "a.ogg", y, SR, format="OGG", subtype="VORBIS")
    sf.write(d / "a.mp3", y, SR, format="MP3")
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-i", str(d / "a.wav"), "-c:a", "aac", str(d / "a.m4a")],
                   check=True)
    return d


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a"])
def test_decode_each_format(formats, ext):
    y, sr = load_audio(formats / f"a.{ext}", sr=22050)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    # lossy codecs add encoder delay/padding: a few tens of ms
    assert abs(len(y) / sr - 2.0) < 0.08
    assert _peak_hz(y[2205:-2205], sr) == pytest.approx(440.0, abs=1.0)
    # mono = mean of channels: 0.5 and 0.3 amplitude -> 0.4
    mid = y[4410:-4410]
    assert np.abs(mid).max() == pytest.approx(0.4, abs=0.03)


def test_backends(formats):
    assert audio_info(formats / "a.wav").backend == "soundfile"
    info = audio_info(formats / "a.m4a")
    assert info.backend == "ffmpeg" and info.samplerate == SR and info.channels == 2


def test_wav_exact_and_librosa_parity(formats):
    import librosa

    y, sr = load_audio(formats / "a.wav")  # native rate: exact samples
    assert sr == SR
    ref = _stereo_sine().mean(axis=1)
    assert np.abs(y - ref).max() < 1e-4  # 16-bit PCM quantisation
    # resampled decode is bit-identical to librosa.load (soxr HQ, same mono mix)
    y2, _ = load_audio(formats / "a.wav", sr=15360)
    ref2, _ = librosa.load(formats / "a.wav", sr=15360)
    assert np.array_equal(y2, ref2)


def test_stereo_output(formats):
    y, sr = load_audio(formats / "a.flac", sr=22050, mono=False)
    assert y.shape[0] == 2 and abs(y.shape[1] - 44100) <= 1
    assert np.abs(y[0]).max() == pytest.approx(0.5, abs=0.01)
    assert np.abs(y[1]).max() == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize("src_sr,dst_sr", [(48000, 16000), (8000, 44100), (44100, 15360)])
def test_resampling_keeps_frequency(tmp_path, src_sr, dst_sr):
    t = np.arange(src_sr) / src_sr
    sf.write(tmp_path / "s.wav", (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), src_sr, subtype="FLOAT")
    y, sr = load_audio(tmp_path / "s.wav", sr=dst_sr)
    assert sr == dst_sr and abs(len(y) - dst_sr) <= 1
    assert _peak_hz(y[dst_sr // 10:-dst_sr // 10], sr) == pytest.approx(440.0, abs=0.5)


def test_chunked_decode_equals_whole_and_bounded_memory(tmp_path, monkeypatch):
    """A 60 s stereo file decoded in many small blocks: same samples, peak memory ~ the output."""
    path = tmp_path / "long.wav"
    sr, secs = 44100, 60
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        for _ in range(secs):
            f.write((rng.standard_normal((sr, 2)) * 0.1).astype(np.float32))
    whole = sf.read(path, dtype="float32")[0].mean(axis=1)
    monkeypatch.setattr(dec, "BLOCK_FRAMES", 4096)
    blocks = []
    orig = dec._collect

    def spy(gen, *a, **k):
        def counting():
            for b in gen:
                blocks.append(len(b))
                yield b
        return orig(counting(), *a, **k)

    monkeypatch.setattr(dec, "_collect", spy)
    out_bytes = whole.nbytes
    tracemalloc.start()
    y, _ = load_audio(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(blocks) > 600 and max(blocks) == 4096
    assert np.array_equal(y, whole)
    # the output itself (10.6 MB) plus small blocks; a whole-file read would need >= 3x that
    assert peak < 1.3 * out_bytes, peak / out_bytes
    # with resampling, still one output array plus blocks
    tracemalloc.start()
    y2, _ = load_audio(path, sr=22050)
    _, peak2 = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak2 < 1.3 * y2.nbytes + 2e6


def test_ffmpeg_streaming_long(tmp_path, monkeypatch):
    path = tmp_path / "long.m4a"
    subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=20",
                    "-ac", "2", "-c:a", "aac", str(path)], check=True)
    monkeypatch.setattr(dec, "BLOCK_FRAMES", 8192)
    y, sr = load_audio(path, sr=16000)
    assert abs(len(y) / sr - 20.0) < 0.1
    assert _peak_hz(y[sr:-sr], sr) == pytest.approx(440.0, abs=0.5)


# ---------------------------------------------------------------------------------------------
# bad input: one InputError naming the file and the problem
def _err(path, **kw) -> str:
    with pytest.raises(InputError) as ei:
        load_audio(path, **kw)
    msg = str(ei.value)
    assert str(path) in msg and "\n" not in msg
    return msg


def test_missing_empty_folder(tmp_path):
    assert "not found" in _err(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    assert "empty" in _err(tmp_path / "empty.wav")
    assert "folder" in _err(tmp_path)


def test_non_audio(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("this is not audio\n" * 50)
    assert "not an audio file" in _err(p) or "not a readable audio file" in _err(p)
    p = tmp_path / "random.mp3"
    p.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    _err(p)


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3"])
def test_truncated(formats, tmp_path, ext):
    data = (formats / f"a.{ext}").read_bytes()
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 2])
    msg = _err(p)
    assert "truncated" in msg


@pytest.mark.parametrize("ext", ["ogg", "m4a"])
def test_truncated_containers(formats, tmp_path, ext):
    data = (formats / f"a.{ext}").read_bytes()
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 3])
    _err(p)


def test_corrupt_flac(formats, tmp_path):
    d = bytearray((formats / "a.flac").read_bytes())
    for i in range(200, len(d), 997):
        d[i] = (d[i] * 7 + 13) % 256
    p = tmp_path / "bad.flac"
    p.write_bytes(bytes(d))
    assert "corrupt" in _err(p)


def test_too_short_and_silent(tmp_path):
    sr = 22050
    sf.write(tmp_path / "short.wav", (0.3 * np.sin(np.arange(sr // 10) / 5)).astype(np.float32), sr)
    msg = _err(tmp_path / "short.wav", min_duration=0.5)
    assert "too short" in msg and "0.10 s" in msg
    y, _ = load_audio(tmp_path / "short.wav")  # no minimum by default
    assert len(y) == sr // 10
    sf.write(tmp_path / "silent.wav", np.zeros(sr, dtype=np.float32), sr)
    y, _ = load_audio(tmp_path / "silent.wav")  # silence is fine unless sound is required
    assert not y.any()
    assert "silent" in _err(tmp_path / "silent.wav", require_sound=True)


def test_bad_sample_rate(formats):
    with pytest.raises(ConfigError):
        load_audio(formats / "a.wav", sr=0)
