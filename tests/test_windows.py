"""The diffusion room's window machinery, shared by the dance and skeleton tasks."""
import numpy as np
import torch

from choreogen.diffusion.schedule import NoiseSchedule
from choreogen.diffusion.windows import LongformSampler, WindowPlan, crossfade_weights, overlap_add


def test_plan_covers_total_and_weights_hand_over():
    p = WindowPlan(total=95, window=20, overlap=8)
    assert p.starts == [0, 12, 24, 36, 48, 60, 72, 84] and p.padded == 104 >= 95
    w = crossfade_weights(p)
    assert w.shape == (8, 20) and w[0, 0] == 1.0 and w[-1, -1] == 1.0
    assert np.allclose(w[1, :8], np.arange(1, 9) / 9) and np.allclose(w[0, -8:], np.arange(8, 0, -1) / 9)


def test_overlap_add_keeps_a_shared_signal_exactly():
    p = WindowPlan(total=70, window=20, overlap=10)
    sig = np.sin(np.arange(p.padded) / 5.0)[:, None]
    win = np.stack([sig[s:s + 20] for s in p.starts])
    assert np.allclose(overlap_add(win, p), sig[:70], atol=1e-12)
    # disagreeing windows: the result is continuous (no jump larger than the windows' own steps)
    win2 = win + np.arange(len(p.starts))[:, None, None] * 0.5
    out = overlap_add(win2, p)
    assert np.abs(np.diff(out[:, 0])).max() < 0.5 / 10 + 0.25


def _walker(x, t):
    """x0 prediction: a walk of +1 per frame in column 0 from the window's own origin, column 1 = 2."""
    W = x.shape[1]
    out = torch.zeros_like(x)
    out[..., 0] = torch.arange(W, dtype=x.dtype)
    out[..., 1] = 2.0
    return out


def test_translate_columns_are_chained_between_windows():
    p = WindowPlan(total=50, window=20, overlap=10)
    s = LongformSampler(lambda c: _walker, NoiseSchedule(50), p, dims=2, translate=(0,))
    y = s.sample(torch.zeros(p.padded, 0), steps=4, generator=torch.Generator().manual_seed(0)).numpy()
    assert y.shape == (50, 2)
    assert np.allclose(y[:, 0], np.arange(50), atol=1e-4)  # a continuous walk across windows
    assert np.allclose(y[:, 1], 2.0)
    # without positional columns each window restarts at 0: the walk is not continuous
    s2 = LongformSampler(lambda c: _walker, NoiseSchedule(50), p, dims=2)
    y2 = s2.sample(torch.zeros(p.padded, 0), steps=4, generator=torch.Generator().manual_seed(0)).numpy()
    assert y2[:, 0].max() < 20


def test_user_constraint_is_kept_and_no_noise_is_drawn_without_constraints():
    p = WindowPlan(total=30, window=20, overlap=10)
    known = torch.zeros(p.padded, 2)
    mask = torch.zeros(p.padded, 2)
    known[15:18, 1] = 7.0
    mask[15:18, 1] = 1.0
    s = LongformSampler(lambda c: _walker, NoiseSchedule(50), p, dims=2, known=known, mask=mask)
    y = s.sample(torch.zeros(p.padded, 0), steps=3, generator=torch.Generator().manual_seed(1)).numpy()
    assert np.allclose(y[15:18, 1], 7.0, atol=1e-5) and np.allclose(y[:10, 1], 2.0)
    # one window, nothing to constrain: the generator is used for the initial noise only
    g = torch.Generator().manual_seed(3)
    one = WindowPlan(total=10, window=20, overlap=10)
    LongformSampler(lambda c: _walker, NoiseSchedule(50), one, dims=2).sample_windows(torch.zeros(20, 0), 3, g)
    ref = torch.Generator().manual_seed(3)
    torch.randn((1, 20, 2), generator=ref)
    assert torch.equal(torch.randn(4, generator=g), torch.randn(4, generator=ref))


def test_beat_starts_follow_the_tempo_and_stay_in_bounds():
    from choreogen.diffusion.windows import beat_starts

    W = 150
    for period, n in ((15, 4), (12, 4), (19, 4)):  # beat every 0.5 s / 0.4 s / 0.63 s at 30 fps
        beats = np.arange(7, 3000, period)
        st = beat_starts(900, W, beats, n)
        strides = np.diff(st)
        assert st[0] == 0 and st[-1] + W >= 900 and st[-2] + W < 900
        assert set(st[1:]) <= set(beats.tolist())  # on the beat grid
        assert np.all(strides[1:] == n * period)  # n beats apart
    # too fast to fit: clamped to the allowed overlap (window/4 .. 3 window/4)
    st = beat_starts(900, W, np.arange(0, 3000, 5), 4)
    assert np.all(np.diff(st) >= W - 3 * W // 4) and np.all(np.diff(st) <= W - W // 4)
    assert beat_starts(900, W, np.array([], int), 4)[1] == W // 2  # no beats: half-window stride


def test_uneven_windows_sample_and_blend_continuously():
    from choreogen.diffusion.windows import beat_starts

    starts = beat_starts(100, 20, np.array([9, 14, 22, 26, 33, 41, 47, 52, 60, 66, 71, 79, 88, 95]), 2)
    p = WindowPlan(total=100, window=20, overlap=5, custom_starts=starts)
    assert p.starts == list(starts) and p.padded == starts[-1] + 20
    w = crossfade_weights(p)
    assert w.shape == (len(starts), 20) and np.all(w > 0)
    s = LongformSampler(lambda c: _walker, NoiseSchedule(50), p, dims=2, translate=(0,))
    y = s.sample(torch.zeros(p.padded, 0), steps=3, generator=torch.Generator().manual_seed(0)).numpy()
    assert np.allclose(y[:, 0], np.arange(100), atol=1e-4)  # chained across uneven strides
    for b in (1, 2):  # chunked sampling gives the same sequence
        yb = s.sample(torch.zeros(p.padded, 0), steps=3, generator=torch.Generator().manual_seed(0), batch=b).numpy()
        assert np.allclose(yb, y, atol=1e-4)
