"""The shape of a feature cloud (ot_style.maths.feature_stats) against SciPy and closed forms.

The rectified standard normal ``max(0, z)``, ``z ~ N(0, 1)``, is what a ReLU does to a symmetric input:
its moments are ``E X^k = int_0^inf z^k phi(z) dz`` (1/sqrt(2 pi), 1/2, 2/sqrt(2 pi), 3/2 for k = 1..4),
and its 1-D W2 to the Gaussian with the same mean and variance is an integral over quantiles (scipy quad).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from ot_style.maths.feature_stats import (ValueStats, covariance_rank, dead_channels, rank_bound,
                                          value_statistics, w2_to_fitted_gaussian)

SQRT_2PI = np.sqrt(2.0 * np.pi)
RELU_MEAN = 1.0 / SQRT_2PI
RELU_VAR = 0.5 - 1.0 / (2.0 * np.pi)


def relu_moments():
    """Mean, variance, skewness and excess kurtosis of max(0, z), from the raw moments."""
    m1, m2, m3, m4 = 1 / SQRT_2PI, 0.5, 2 / SQRT_2PI, 1.5
    var = m2 - m1 ** 2
    mu3 = m3 - 3 * m1 * m2 + 2 * m1 ** 3
    mu4 = m4 - 4 * m1 * m3 + 6 * m1 ** 2 * m2 - 3 * m1 ** 4
    return m1, var, mu3 / var ** 1.5, mu4 / var ** 2 - 3


def test_statistics_agree_with_scipy_per_channel():
    rng = np.random.default_rng(0)
    x = np.maximum(rng.normal(size=(500, 6)) * [1, 2, 3, 1, 1, 5] + [0, 1, -1, 2, -0.5, 0], 0.0)
    s = value_statistics(x)
    assert isinstance(s, ValueStats) and s.count == 500
    np.testing.assert_allclose(s.skewness, stats.skew(x, axis=0), rtol=1e-10)
    np.testing.assert_allclose(s.excess_kurtosis, stats.kurtosis(x, axis=0), rtol=1e-10)
    np.testing.assert_allclose(s.std, x.std(axis=0, ddof=1), rtol=1e-12)
    np.testing.assert_allclose(s.gaussian_negative_mass, stats.norm.cdf(0, x.mean(0), x.std(0, ddof=1)),
                               rtol=1e-10)
    np.testing.assert_array_equal(s.zero_fraction, np.mean(x == 0, axis=0))
    np.testing.assert_array_equal(s.minimum, x.min(axis=0))


def test_one_channel_gives_floats_and_an_activation_map_is_flattened():
    rng = np.random.default_rng(1)
    a = np.maximum(rng.normal(size=(6, 5, 3)), 0.0)
    one = value_statistics(a[:, :, 1].ravel())
    assert isinstance(one.skewness, float) and one.count == 30
    per = value_statistics(a)
    assert per.skewness[1] == pytest.approx(one.skewness, rel=1e-12)
    assert per.zero_fraction[1] == one.zero_fraction


def test_rectified_normal_matches_its_closed_forms():
    rng = np.random.default_rng(2)
    x = np.maximum(rng.standard_normal(400_000), 0.0)
    mean, var, skew, kurt = relu_moments()
    s = value_statistics(x)
    assert s.zero_fraction == pytest.approx(0.5, abs=3e-3)
    assert s.minimum == 0.0
    assert s.mean == pytest.approx(mean, rel=5e-3)
    assert s.std ** 2 == pytest.approx(var, rel=1e-2)
    assert s.skewness == pytest.approx(skew, rel=3e-2)          # about 1.64
    assert s.excess_kurtosis == pytest.approx(kurt, rel=0.1)    # about 2.41
    assert s.gaussian_negative_mass == pytest.approx(stats.norm.cdf(-mean / np.sqrt(var)), abs=3e-3)  # 0.247


def test_a_gaussian_looks_gaussian():
    rng = np.random.default_rng(3)
    x = rng.normal(2.0, 1.5, 200_000)
    s = value_statistics(x)
    assert s.zero_fraction == 0.0
    assert abs(s.skewness) < 0.02 and abs(s.excess_kurtosis) < 0.05
    assert s.gaussian_negative_mass == pytest.approx(stats.norm.cdf(-2.0 / 1.5), abs=3e-3)


def test_a_constant_channel_has_no_shape():
    s = value_statistics(np.column_stack([np.zeros(10), np.full(10, -2.0), np.arange(10.0)]))
    assert np.isnan(s.skewness[0]) and np.isnan(s.excess_kurtosis[1]) and np.isfinite(s.skewness[2])
    assert s.std[0] == 0 and s.gaussian_negative_mass[0] == 0.0 and s.gaussian_negative_mass[1] == 1.0
    assert s.zero_fraction[0] == 1.0


def test_bad_inputs_raise_value_errors():
    with pytest.raises(ValueError, match="at least 2"):
        value_statistics(np.ones(1))
    with pytest.raises(ValueError, match="NaN"):
        value_statistics(np.array([1.0, np.nan, 2.0]))
    with pytest.raises(ValueError, match="at least 2"):
        w2_to_fitted_gaussian(np.ones(1))
    with pytest.raises(ValueError):
        rank_bound(0, 3)


def test_rank_bound_is_min_of_n_minus_one_and_c():
    assert rank_bound(256, 512) == 255
    assert rank_bound(208, 512) == 207
    assert rank_bound(13952, 64) == 64
    assert rank_bound(1, 5) == 0


def _centred_svd_rank(x):
    """Independent rank of eq. 1's covariance: singular values of the centred matrix, relative tolerance."""
    d = x - x.mean(axis=0)
    sv = np.linalg.svd(d, compute_uv=False)
    return int(np.sum(sv > sv.max() * 1e-9))


def test_covariance_rank_is_at_most_n_minus_one():
    rng = np.random.default_rng(4)
    for n, c in [(12, 512), (48, 100), (300, 64), (65, 64), (64, 64)]:
        x = np.maximum(rng.normal(size=(n, c)), 0.0)
        r = covariance_rank(x)
        assert r == min(n - 1, c) == _centred_svd_rank(x)


def test_covariance_rank_sees_structure_and_dead_channels():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(1000, 3))
    x = z @ rng.normal(size=(3, 10)) + rng.normal(size=10)   # 10 channels that are 3 in disguise
    assert covariance_rank(x) == 3 == _centred_svd_rank(x)
    y = np.maximum(rng.normal(size=(1000, 8)), 0.0)
    y[:, [2, 5]] = 0.0
    assert covariance_rank(y) == 6
    np.testing.assert_array_equal(dead_channels(y), [False, False, True, False, False, True, False, False])
    assert dead_channels(y.reshape(10, 100, 8)).sum() == 2


def _relu_w2_closed_form():
    """W2 between max(0, z) and N(m, s^2) (same mean and variance): integral over quantile levels."""
    m, s = RELU_MEAN, np.sqrt(RELU_VAR)

    def gap(t):
        q = stats.norm.ppf(t)
        relu_q = max(q, 0.0)
        return (relu_q - m - s * q) ** 2

    low, _ = integrate.quad(gap, 0.0, 0.5, limit=200)
    high, _ = integrate.quad(gap, 0.5, 1.0, limit=200)
    return np.sqrt(low + high)


def test_w2_to_fitted_gaussian_of_a_rectified_normal():
    rng = np.random.default_rng(6)
    x = np.maximum(rng.standard_normal(200_000), 0.0)
    expected = _relu_w2_closed_form()
    assert 0.5 < expected / np.sqrt(RELU_VAR) < 0.6    # about half a standard deviation (0.313 / 0.584)
    assert w2_to_fitted_gaussian(x) == pytest.approx(expected, rel=2e-2)


def test_w2_to_fitted_gaussian_is_near_zero_for_a_gaussian_and_scales():
    rng = np.random.default_rng(7)
    g = rng.normal(size=100_000)
    assert w2_to_fitted_gaussian(g) < 0.01
    x = np.maximum(rng.normal(size=(5000, 3)), 0.0)
    per = w2_to_fitted_gaussian(x)
    assert per.shape == (3,)
    assert per[1] == pytest.approx(w2_to_fitted_gaussian(x[:, 1]), rel=1e-12)
    assert w2_to_fitted_gaussian(3.0 * x[:, 0] + 7.0) == pytest.approx(3.0 * per[0], rel=1e-9)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 40), st.integers(1, 12), st.integers(0, 2 ** 16))
def test_rank_never_exceeds_the_bound(n, c, seed):
    x = np.maximum(np.random.default_rng(seed).normal(size=(n, c)), 0.0)
    assert covariance_rank(x) <= rank_bound(n, c)
