"""Eq. 1 (mean and unbiased covariance), the Gram matrix and the weighted moments, against NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ot_style import Moments, feature_moments, gram_matrix, masked_moments


def test_feature_moments_match_numpy_cov_for_samples_and_activation_maps():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 5, 4)) * [1.0, 2.0, 0.5, 3.0] + [1.0, -2.0, 0.0, 5.0]
    m = feature_moments(x)
    flat = x.reshape(-1, 4)
    assert isinstance(m, Moments)
    np.testing.assert_allclose(m.mean, flat.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(m.cov, np.cov(flat.T), rtol=1e-13, atol=1e-15)
    # eq. 1 divides by n - 1, not n
    np.testing.assert_allclose(m.cov, (flat - flat.mean(0)).T @ (flat - flat.mean(0)) / (35 - 1), rtol=1e-13)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(1, 6)),
              elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_feature_moments_agree_with_numpy_on_arbitrary_samples(x):
    m = feature_moments(x)
    np.testing.assert_allclose(m.mean, x.mean(axis=0), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(m.cov, np.atleast_2d(np.cov(x.T)), rtol=1e-9, atol=1e-6)
    np.testing.assert_array_equal(m.cov, m.cov.T)


def test_gram_matrix_is_the_raw_second_moment_the_theory_notebook_uses():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3)) + 2.0
    g = gram_matrix(x)
    np.testing.assert_allclose(g, x.T @ x / 200, rtol=1e-14)
    m = feature_moments(x)
    # G = biased covariance + mean mean^T
    np.testing.assert_allclose(g, m.cov * 199 / 200 + np.outer(m.mean, m.mean), rtol=1e-12)


@pytest.mark.parametrize("bad, words", [(np.zeros((1, 3)), "at least 2"), (np.zeros(5), "shape"),
                                        (np.zeros((2, 2, 2, 2)), "shape"),
                                        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN")])
def test_feature_moments_refuse_bad_input_with_a_sentence(bad, words):
    with pytest.raises(ValueError, match=words):
        feature_moments(bad)


def test_masked_moments_ignore_pixels_outside_the_mask_and_equal_eq1_on_the_selection():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 6, 3))
    mask = np.zeros((6, 6))
    mask[:3] = 1.0
    ref = feature_moments(x[:3])
    got = masked_moments(x, mask)
    np.testing.assert_allclose(got.mean, ref.mean, rtol=1e-14)
    np.testing.assert_allclose(got.cov, ref.cov, rtol=1e-13)
    y = x.copy()
    y[3:] = 1e6  # outside the mask: no effect whatever the values
    np.testing.assert_array_equal(masked_moments(y, mask).cov, got.cov)


def test_masked_moments_with_soft_weights_match_numpy_aweights():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 4))
    w = rng.uniform(0.1, 2.0, size=50)
    got = masked_moments(x, w)
    np.testing.assert_allclose(got.mean, np.average(x, axis=0, weights=w), rtol=1e-13)
    np.testing.assert_allclose(got.cov, np.cov(x.T, aweights=w), rtol=1e-12)
    # scale-free in the weights
    np.testing.assert_allclose(masked_moments(x, 7.5 * w).cov, got.cov, rtol=1e-12)


@pytest.mark.parametrize("w, words", [(np.ones(3), "one weight per"), (-np.ones(10), "non-negative"),
                                      (np.r_[1.0, np.zeros(9)], "at least 2")])
def test_masked_moments_refuse_bad_weights(w, words):
    with pytest.raises(ValueError, match=words):
        masked_moments(np.zeros((10, 2)), w)
