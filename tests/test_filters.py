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
