"""The theory notebook's two pairs: equal Gram matrices, different distributions."""

import numpy as np
import pytest

from ot_style import feature_moments, gatys_style_loss, gaussian_w2, gram_matrix
from ot_style.maths.counterexamples import PAIRS, pair


@pytest.mark.parametrize("name", ["XY", "WZ"])
def test_pairs_share_the_analytic_gram_matrix_but_not_the_moments(name):
    p = PAIRS[name]
    np.testing.assert_allclose(p.gram_x, p.gram_y, atol=1e-15)
    assert not np.allclose(p.mean_x, p.mean_y)
    assert not np.allclose(p.cov_x, p.cov_y)
    assert gatys_style_loss(p.mean_x, p.cov_x, p.mean_y, p.cov_y) < 1e-28
    assert gaussian_w2(p.mean_x, p.cov_x, p.mean_y, p.cov_y) > 1.0


def test_the_pairs_are_the_theory_notebooks():
    xy, wz = PAIRS["XY"], PAIRS["WZ"]
    np.testing.assert_array_equal(xy.mean_x, [0.0, -0.5, 0.5])
    np.testing.assert_array_equal(xy.mean_y, [1.0, -0.5, 0.0])
    np.testing.assert_allclose(xy.cov_y[0], 0.0)  # sigma_Y[0] = 0: a singular covariance
    np.testing.assert_allclose(xy.cov_y[1, 2], -0.25, rtol=1e-15)
    np.testing.assert_array_equal(wz.cov_x, np.zeros((3, 3)))
    np.testing.assert_array_equal(wz.cov_y, np.ones((3, 3)))
    assert gaussian_w2(wz.mean_x, wz.cov_x, wz.mean_y, wz.cov_y) == pytest.approx(np.sqrt(6), rel=1e-14)


@pytest.mark.parametrize("name", ["XY", "WZ"])
def test_samples_have_the_stated_moments_and_converge_to_equal_gram_matrices(name):
    p = PAIRS[name]
    x, y = p.sample(200_000, seed=0)
    assert x.shape == y.shape == (200_000, 3)
    for samples, mean, cov in ((x, p.mean_x, p.cov_x), (y, p.mean_y, p.cov_y)):
        m = feature_moments(samples)
        np.testing.assert_allclose(m.mean, mean, atol=0.015)
        np.testing.assert_allclose(m.cov, cov, atol=0.02)
    np.testing.assert_allclose(gram_matrix(x), gram_matrix(y), atol=0.03)
    # seeded
    np.testing.assert_array_equal(p.sample(5, seed=1)[1], p.sample(5, seed=1)[1])
    assert not np.array_equal(p.sample(5, seed=1)[1], p.sample(5, seed=2)[1])  # (W is a point mass)


def test_unknown_pair_and_bad_sample_count_are_refused():
    with pytest.raises(ValueError, match="XY"):
        pair("AB")
    with pytest.raises(ValueError, match="at least 1"):
        PAIRS["XY"].sample(0)
