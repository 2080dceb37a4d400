"""Joint long-form sampling (MultiDiffusion over windows of a fixed-window denoiser)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from choreogen.diffusion.joint import JointSampler, joint_starts, taper
from choreogen.diffusion.schedule import NoiseSchedule


def test_windows_cover_the_sequence_and_weights_taper():
    assert joint_starts(10, 4, 3) == [0, 3, 6]
    assert joint_starts(11, 4, 3) == [0, 3, 6, 7]  # the last window flush with the end
    assert joint_starts(3, 4, 2) == [0]  # shorter than a window: one (padded) window
    w = taper(8)
    assert w.shape == (8,) and float(w.min()) == pytest.approx(0.05) and float(w.max()) <= 1.0
    assert torch.equal(w, w.flip(0)) and float(w[3]) > float(w[1]) > float(w[0]) > 0
    with pytest.raises(ValueError):
        joint_starts(10, 0, 1)


def _factory(calls):
    def factory(cond_windows):  # this denoiser's x0 is the first conditioning column of its window
        calls.append(cond_windows.shape[0])

        def denoise(x_t, t):
            assert x_t.shape[:2] == cond_windows.shape[:2] and t.shape == (x_t.shape[0],)
            return cond_windows[..., :1].expand(-1, -1, x_t.shape[-1]).clone()
        return denoise
    return factory


@pytest.mark.parametrize("total,hop,batch", [(23, 3, None), (23, 5, 2), (7, 2, 1), (4, 1, 3)])
def test_every_token_gets_the_prediction_of_the_windows_that_hold_it(total, hop, batch):
    cond = torch.arange(max(total, 8), dtype=torch.float32)[:, None].repeat(1, 2)
    calls = []
    s = JointSampler(_factory(calls), NoiseSchedule(50, "cosine"), total, 8, hop, dims=3, batch=batch)
    out = s.sample(cond, steps=5, generator=torch.Generator().manual_seed(0))
    assert out.shape == (total, 3)
    assert torch.allclose(out, cond[:total, :1].expand(-1, 3), atol=1e-5)  # placed at the right tokens
    assert sum(calls) == len(s.starts)  # conditioning prepared once per window, not per step


def test_windows_disagreeing_are_averaged_with_the_taper():
    def factory(cond_windows):
        K = cond_windows.shape[0]

        def denoise(x_t, t):  # window k predicts the constant k
            return torch.arange(K, dtype=x_t.dtype)[:, None, None].expand_as(x_t).clone()
        return denoise

    s = JointSampler(factory, NoiseSchedule(50, "cosine"), 12, 8, 4, dims=1)
    out = s.sample(torch.zeros(12, 1), steps=3, generator=torch.Generator().manual_seed(0))
    w = taper(8)
    assert float(out[0, 0]) == pytest.approx(0.0, abs=1e-6) and float(out[-1, 0]) == pytest.approx(1.0, abs=1e-6)
    mid = (w[4:8] * 0 + w[:4] * 1) / (w[4:8] + w[:4])  # tokens 4..7: end of window 0, start of window 1
    assert torch.allclose(out[4:8, 0], mid, atol=1e-5)


def test_pipeline_hop_and_tempo_options_are_checked(tmp_path):
    from choreogen.errors import ConfigError
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline
    from test_generator_train import _song

    _song(tmp_path / "s.wav", 6.0)
    pipe = Dance3DPipeline.from_pretrained("dance3d-latent")
    a = pipe(tmp_path / "s.wav", seed=0, hop=5, tempo_norm=False).motion
    b = pipe(tmp_path / "s.wav", seed=0, hop=5, tempo_norm=False).motion
    assert a.positions().shape == (180, 24, 3) and a.meta["hop"] == 5
    assert np.array_equal(a.positions(), b.positions())
    with pytest.raises(ConfigError, match="--hop must be between 1 and 25"):
        pipe(tmp_path / "s.wav", hop=26)
    with pytest.raises(ConfigError, match="not both"):
        pipe(tmp_path / "s.wav", hop=3, beat_stride=2)
    with pytest.raises(ConfigError, match="cannot be combined"):
        pipe(tmp_path / "s.wav", beat_stride=2, tempo_norm=True)
    with pytest.raises(ConfigError, match="needs a latent generator"):
        Dance3DPipeline.from_pretrained("dance3d")(tmp_path / "s.wav", hop=3)
    with pytest.raises(ConfigError, match="reference tempi"):
        Dance3DPipeline.from_pretrained("dance3d")(tmp_path / "s.wav", tempo_norm=True)


def test_smooth_height_is_the_bundled_default_and_checked(tmp_path):
    """The bundled latent model smooths the root's height with its own sigma (0.5 frames, MODEL_CARD.md); a bad value
    is one clear error; an explicit value changes only the height's filtering, so the result differs."""
    from choreogen.errors import ConfigError
    from choreogen.tasks.dance3d.pipeline import Dance3DPipeline
    from test_generator_train import _song

    _song(tmp_path / "s.wav", 6.0)
    pipe = Dance3DPipeline.from_pretrained("dance3d-latent")
    opt = pipe.options()
    assert (opt.smooth, opt.smooth_root, opt.smooth_height) == (3.0, 3.0, 0.5)
    assert Dance3DPipeline.from_pretrained("dance3d").options().smooth_height == \
        Dance3DPipeline.from_pretrained("dance3d").options().smooth_root  # older files: as the root
    a = pipe(tmp_path / "s.wav", seed=0, tempo_norm=False, foot_lock=False)
    b = pipe(tmp_path / "s.wav", seed=0, tempo_norm=False, foot_lock=False, smooth_height=3.0)
    assert a.motion.meta["smooth_height"] == 0.5 and b.motion.meta["smooth_height"] == 3.0
    ya, yb = a.motion.positions()[:, 0, 1], b.motion.positions()[:, 0, 1]
    assert np.abs(np.diff(yb, 2)).mean() < np.abs(np.diff(ya, 2)).mean()  # the wider filter smooths the height
    with pytest.raises(ConfigError, match="--smooth-height must be between 0 and 30"):
        pipe(tmp_path / "s.wav", smooth_height=-1)
