"""The NumPy 1-D filters equal scipy.ndimage's (mode="nearest")."""
import numpy as np
import pytest
from scipy import ndimage

from choreogen import filters


@pytest.mark.parametrize("size", [1, 2, 5, 8, 120])
def test_uniform_and_minimum_match_scipy(size):
    rng = np.random.default_rng(size)
    x = rng.normal(size=(300, 2)).cumsum(0)
    for axis in (0, 1):
        if axis == 1 and size > 2:
            continue
        np.testing.assert_allclose(filters.uniform_filter1d(x, size, axis=axis),
                                   ndimage.uniform_filter1d(x, size, axis=axis, mode="nearest"), atol=1e-10)
        np.testing.assert_array_equal(filters.minimum_filter1d(x, size, axis=axis),
                                      ndimage.minimum_filter1d(x, size, axis=axis, mode="nearest"))


@pytest.mark.parametrize("sigma", [0.1, 1.0, 2.5, 7.0])
def test_gaussian_matches_scipy(sigma):
    x = np.random.default_rng(1).normal(size=(200, 3))
    np.testing.assert_allclose(filters.gaussian_filter1d(x, sigma, axis=0),
                               ndimage.gaussian_filter1d(x, sigma, axis=0, mode="nearest"), atol=1e-12)
    assert filters.gaussian_filter1d(x, 2.0).std() < 0.5 * x.std()  # it really smooths


def test_smooth_features_removes_patch_steps_keeps_slow_motion_and_contacts():
    from choreogen.tasks.dance3d.postprocess import smooth_features

    T = 300
    t = np.arange(T)
    slow = np.sin(2 * np.pi * 1.0 * t / 30.0)  # 1 Hz at 30 fps
    steps = np.repeat(0.05 * np.random.default_rng(0).standard_normal(T // 5), 5)  # random steps at patch borders
    f = np.zeros((T, 10), np.float32)
    f[:, :4] = (t % 7 == 0)[:, None]
    f[:, 4] = slow + steps
    out = smooth_features(f, 1.5)
    np.testing.assert_array_equal(out[:, :4], f[:, :4])
    jit = smooth_features(np.column_stack([np.zeros((T, 4)), steps]).astype(np.float32), 1.5)[:, 4]
    assert np.abs(np.diff(jit, 2)).mean() < 0.3 * np.abs(np.diff(steps, 2)).mean()  # measured 0.23
    np.testing.assert_allclose(out[:, 4], smooth_features(np.column_stack([np.zeros((T, 4)), slow]), 1.5)[:, 4] + jit,
                               atol=1e-5)  # linear
    # the 1 Hz motion keeps its amplitude (gain exp(-2 (pi 1 1.5 / 30)^2) = 0.95)
    slow_out = smooth_features(np.column_stack([np.zeros((T, 4)), slow]).astype(np.float32), 1.5)[:, 4]
    assert 0.93 < np.abs(slow_out[50:-50]).max() / np.abs(slow[50:-50]).max() <= 1.0
    np.testing.assert_array_equal(smooth_features(f, 0), f)


def test_smooth_height_filters_the_root_height_alone():
    """``height_sigma``: the root's height (column n_contact + 1) gets its own sigma; x / z keep root_sigma;
    the default is root_sigma (the behaviour before the option)."""
    from choreogen.tasks.dance3d.postprocess import smooth_features

    T = 300
    bounce = np.sin(2 * np.pi * 2.0 * np.arange(T) / 30.0)  # 2 Hz rise and fall
    f = np.zeros((T, 10), np.float32)
    f[:, 4] = f[:, 5] = f[:, 6] = bounce
    same = smooth_features(f, 1.0, root_sigma=3.0)
    np.testing.assert_array_equal(smooth_features(f, 1.0, root_sigma=3.0, height_sigma=-1), same)
    np.testing.assert_allclose(same[:, 5], same[:, 4], atol=1e-6)
    gain3 = np.exp(-2 * (np.pi * 2.0 * 3.0 / 30.0) ** 2)  # 0.45
    assert abs(np.abs(same[50:-50, 5]).max() - gain3) < 0.02
    split = smooth_features(f, 1.0, root_sigma=3.0, height_sigma=1.0)
    np.testing.assert_array_equal(split[:, [4, 6]], same[:, [4, 6]])
    gain1 = np.exp(-2 * (np.pi * 2.0 * 1.0 / 30.0) ** 2)  # 0.92
    assert abs(np.abs(split[50:-50, 5]).max() - gain1) < 0.02
    np.testing.assert_array_equal(smooth_features(f, 1.0, root_sigma=3.0, height_sigma=0)[:, 5], f[:, 5])
