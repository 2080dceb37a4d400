"""Music encoders: built-ins, user TorchScript / safetensors weights on tiny models, named adapters."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from choreogen.audio import available_encoders, get_encoder, music_features, register_encoder
from choreogen.audio.encoders import MusicEncoder
from choreogen.audio.nets import MelConvEncoder
from choreogen.errors import ConfigError, InputError

SR = 22050


def ramp(seconds=4.0, sr=SR):
    """A 500 Hz tone whose amplitude rises linearly from 0 to 0.8."""
    t = np.arange(int(seconds * sr)) / sr
    return (0.8 * t / seconds * np.sin(2 * np.pi * 500 * t)).astype(np.float32)


class FrameAmp(torch.nn.Module):
    """(1, N) audio -> (1, N // 160, 2): [mean |x| per 10 ms frame at 16 kHz, N]."""

    def __init__(self):
        super().__init__()
        self.sample_rate = 16000
        self.frame_rate = 100.0

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        n = audio.shape[1] // 160
        frames = audio[:, : n * 160].reshape(1, n, 160).abs().mean(dim=2)
        return torch.stack([frames, torch.full_like(frames, float(audio.shape[1]))], dim=2)


class ClipPeak(torch.nn.Module):
    """(1, N) audio -> (1, 3): [max |x|, N, 1] for the whole clip (no attributes: json sidecar)."""

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return torch.stack([audio.abs().max(), torch.tensor(float(audio.shape[1])), torch.tensor(1.0)])[None]


def test_builtins_wrap_music_features():
    y = ramp()
    for kind in ("baseline35", "mel", "baseline35+mel"):
        enc = get_encoder(kind)
        out = enc.encode(y, SR, 30.0, 120)
        assert out.shape == (120, enc.dim)
        assert np.allclose(out, music_features((y, SR), kind=kind, fps=30.0, n_frames=120, cache=False))
    with pytest.raises(ConfigError, match="takes no weights"):
        get_encoder("baseline35", weights="x.pt")
    with pytest.raises(ConfigError, match="unknown music encoder"):
        get_encoder("nope")


def test_torchscript_frame_encoder(tmp_path):
    p = tmp_path / "amp.pt"
    torch.jit.save(torch.jit.script(FrameAmp()), str(p))
    enc = get_encoder("torchscript", p)
    assert enc.dim == 2 and enc.sample_rate == 16000 and enc.frame_rate == 100.0
    out = enc.encode(ramp(), SR, 25.0, 100)
    assert out.shape == (100, 2)
    # the model saw the whole song at 16 kHz; mean |sin| = 2/pi times the amplitude at time t
    assert np.all(out[:, 1] == 64000)
    t = np.arange(100) / 25.0
    expect = 0.8 * (t + 0.005) / 4.0 * 2 / np.pi
    assert np.abs(out[5:-5, 0] - expect[5:-5]).max() < 0.01


def test_torchscript_clip_encoder_windows_and_sidecar(tmp_path):
    p = tmp_path / "clip.pt"
    torch.jit.save(torch.jit.script(ClipPeak()), str(p))
    (tmp_path / "clip.json").write_text(json.dumps({"sample_rate": 8000, "window_s": 1.0, "hop_s": 1.0}))
    enc = get_encoder("torchscript", p)
    assert enc.dim == 3 and enc.sample_rate == 8000 and enc.window_s == 1.0
    out = enc.encode(ramp(), SR, 10.0, 40)
    assert np.all(out[:, 1] == 8000)  # every window is 1 s at 8 kHz
    # window peaks (at window ends: 0.2, 0.4, 0.6, 0.8) placed at the window centres 0.5 .. 3.5 s
    t = np.arange(40) / 10.0
    expect = np.interp(t, [0.5, 1.5, 2.5, 3.5], [0.2, 0.4, 0.6, 0.8])
    assert np.abs(out[:, 0] - expect).max() < 0.01


def test_safetensors_encoder(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = MelConvEncoder(n_mels=16, hidden=8, dim=5, layers=2, kernel=3).eval()
    save_file(net.state_dict(), str(tmp_path / "model.safetensors"))
    cfg = {"arch": "mel_conv", "sample_rate": 16000, "n_fft": 1024, "hop": 320, "n_mels": 16, "hidden": 8,
           "dim": 5, "layers": 2, "kernel": 3}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    enc = get_encoder("safetensors", tmp_path)  # folder form
    assert enc.dim == 5
    y = ramp()
    out = enc.encode(y, SR, 50.0, 200)  # 50 fps = the model's own frame rate (16000 / 320)
    import librosa
    import soxr

    y16 = soxr.resample(y, SR, 16000, quality="HQ").astype(np.float32)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y16, sr=16000, n_fft=1024, hop_length=320,
                                                             n_mels=16), ref=1.0, amin=1e-10, top_db=None)
    with torch.no_grad():
        ref = net(torch.from_numpy(mel.astype(np.float32))[None])[0].numpy()
    assert np.allclose(out, ref[:200], atol=1e-5)
    # file form with <stem>.json
    (tmp_path / "w.safetensors").write_bytes((tmp_path / "model.safetensors").read_bytes())
    (tmp_path / "w.json").write_text(json.dumps(cfg))
    assert get_encoder("safetensors", tmp_path / "w.safetensors").dim == 5
    # a config that does not match the weights
    (tmp_path / "w.json").write_text(json.dumps({**cfg, "hidden": 9}))
    with pytest.raises(ConfigError, match="do not match"):
        get_encoder("safetensors", tmp_path / "w.safetensors")


@pytest.mark.parametrize("name,sr", [("wav2clip", 16000), ("clap", 48000), ("jukebox", 44100), ("mert", 24000)])
def test_named_adapters(tmp_path, name, sr):
    with pytest.raises(ConfigError, match="user-supplied weights"):
        get_encoder(name)
    with pytest.raises(ConfigError, match="not found"):
        get_encoder(name, tmp_path / "missing.pt")
    p = tmp_path / f"{name}.pt"
    torch.jit.save(torch.jit.script(ClipPeak()), str(p))
    enc = get_encoder(name, p)
    assert enc.name == name and enc.sample_rate == sr and enc.dim == 3
    out = enc.encode(ramp(seconds=3.0), SR, 30.0, 90)
    assert out.shape == (90, 3)
    # windows have the adapter's length at its sample rate
    assert np.all(out[:, 1] == round(enc.window_s * sr))


def test_bad_weight_files(tmp_path):
    p = tmp_path / "junk.pt"
    p.write_bytes(b"not a model at all")
    with pytest.raises(InputError, match="TorchScript"):
        get_encoder("torchscript", p)
    with pytest.raises(ConfigError):
        get_encoder("torchscript")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 20)
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(InputError, match="safetensors"):
        get_encoder("safetensors", tmp_path / "junk.safetensors")


def test_register_custom_encoder():
    class Loudness(MusicEncoder):
        name, dim = "loudness", 1

        def encode(self, y, sr, fps, n_frames):
            hop = sr / fps
            return np.array([[np.abs(y[int(k * hop): int((k + 1) * hop)]).mean() if int(k * hop) < len(y) else 0.0]
                             for k in range(n_frames)], dtype=np.float32)

    register_encoder("loudness", lambda weights=None: Loudness())
    assert "loudness" in available_encoders()
    out = get_encoder("loudness").encode(ramp(), SR, 10.0, 40)
    assert out[-1, 0] > out[0, 0]
