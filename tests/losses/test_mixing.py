"""Style mixing by the Wasserstein barycentre of Gaussians (ot_style.maths.gaussian.gaussian_barycenter).

The barycentre is checked against POT's fixed point, against closed forms (commuting covariances, 1-D),
and against the geometry it must have: for two Gaussians it lies on the W2 geodesic, so with weights
(1 - t, t) it is at distance t * W2(A, B) from A and (1 - t) * W2(A, B) from B.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ot_style.maths.gaussian import gaussian_barycenter, gaussian_w2, sqrtm_psd


def random_spd(rng, dim, floor=0.1):
    """A well-conditioned random covariance: L L^T / dim plus a floor on the spectrum."""
    lower = rng.standard_normal((dim, dim))
    return lower @ lower.T / dim + floor * np.eye(dim)


def random_gaussians(seed, k, dim):
    rng = np.random.default_rng(seed)
    means = rng.standard_normal((k, dim))
    covs = np.stack([random_spd(rng, dim) for _ in range(k)])
    weights = rng.uniform(0.1, 1.0, k)
    return means, covs, weights / weights.sum()


def objective(mean, cov, means, covs, weights):
    """The barycentre's defining functional: sum_i w_i W2^2(N(mean, cov), N_i)."""
    return sum(w * gaussian_w2(mean, cov, m, c, squared=True) for m, c, w in zip(means, covs, weights))


@pytest.mark.parametrize("seed,k,dim", [(0, 2, 2), (1, 3, 3), (2, 4, 5), (3, 5, 8), (4, 2, 16)])
def test_barycentre_agrees_with_pot(seed, k, dim):
    import ot

    means, covs, weights = random_gaussians(seed, k, dim)
    mean, cov = gaussian_barycenter(means, covs, weights)
    pot_mean, pot_cov = ot.gaussian.bures_wasserstein_barycenter(
        means, covs, weights, method="fixed_point", num_iter=5000, eps=1e-13)
    np.testing.assert_allclose(mean, pot_mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov, pot_cov, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_barycentre_satisfies_the_fixed_point_equation(seed):
    # Agueh & Carlier (2011): Sigma = sum_i w_i (Sigma^1/2 Sigma_i Sigma^1/2)^1/2, a different
    # fixed-point map from the one iterated in gaussian.py, with the same unique solution.
    means, covs, weights = random_gaussians(seed + 10, 3, 4)
    _, cov = gaussian_barycenter(means, covs, weights)
    root = sqrtm_psd(cov)
    rhs = sum(w * sqrtm_psd(root @ c @ root) for c, w in zip(covs, weights))
    np.testing.assert_allclose(cov, rhs, rtol=1e-8, atol=1e-10)


def test_barycentre_of_commuting_covariances_is_the_square_of_the_mean_root():
    # Diagonal (commuting) covariances: the Bures geometry is flat there and
    # Sigma = (sum_i w_i Sigma_i^1/2)^2 in closed form.
    rng = np.random.default_rng(7)
    variances = rng.uniform(0.05, 4.0, (3, 6))
    covs = np.stack([np.diag(v) for v in variances])
    means = rng.standard_normal((3, 6))
    weights = np.array([0.2, 0.5, 0.3])
    mean, cov = gaussian_barycenter(means, covs, weights)
    np.testing.assert_allclose(mean, weights @ means, rtol=1e-13)
    np.testing.assert_allclose(cov, np.diag((weights @ np.sqrt(variances)) ** 2), rtol=1e-10, atol=1e-13)


def test_barycentre_minimises_the_weighted_w2_sum():
    means, covs, weights = random_gaussians(21, 3, 4)
    mean, cov = gaussian_barycenter(means, covs, weights)
    best = objective(mean, cov, means, covs, weights)
    rng = np.random.default_rng(0)
    for _ in range(20):
        direction = rng.standard_normal((4, 4))
        direction = 0.05 * (direction + direction.T)
        assert objective(mean, cov + direction, means, covs, weights) > best
        assert objective(mean + 0.05 * rng.standard_normal(4), cov, means, covs, weights) > best
    # The averaged covariance (what averaging raw moments gives) is a worse compromise.
    averaged = np.einsum("i,ijk->jk", weights, covs)
    assert objective(mean, averaged, means, covs, weights) > best + 1e-6


@pytest.mark.parametrize("seed,dim", [(0, 2), (1, 3), (2, 6), (3, 12)])
def test_two_styles_with_weight_half_give_the_w2_midpoint(seed, dim):
    means, covs, _ = random_gaussians(seed + 30, 2, dim)
    mean, cov = gaussian_barycenter(means, covs, [0.5, 0.5])
    total = gaussian_w2(means[0], covs[0], means[1], covs[1])
    to_first = gaussian_w2(mean, cov, means[0], covs[0])
    to_second = gaussian_w2(mean, cov, means[1], covs[1])
    assert to_first == pytest.approx(to_second, rel=1e-7)
    assert to_first == pytest.approx(total / 2, rel=1e-7)


def test_averaging_covariances_does_not_give_the_midpoint():
    # 1-D makes it plain: variances 1 and 9 (standard deviations 1 and 3). The barycentre has standard
    # deviation 2, exactly between; the averaged variance 5 has standard deviation 2.236.
    means, covs = np.zeros((2, 1)), np.array([[[1.0]], [[9.0]]])
    mean, cov = gaussian_barycenter(means, covs, [0.5, 0.5])
    np.testing.assert_allclose(cov, [[4.0]], rtol=1e-12)
    averaged = covs.mean(axis=0)
    assert gaussian_w2(mean, averaged, means[0], covs[0]) == pytest.approx(np.sqrt(5) - 1)
    assert gaussian_w2(mean, averaged, means[1], covs[1]) == pytest.approx(3 - np.sqrt(5))


def test_weight_one_gives_the_first_style_and_order_does_not_matter():
    means, covs, weights = random_gaussians(40, 3, 4)
    mean, cov = gaussian_barycenter(means, covs, [1.0, 0.0, 0.0])
    np.testing.assert_allclose(mean, means[0], rtol=1e-13)
    np.testing.assert_allclose(cov, covs[0], rtol=1e-9, atol=1e-12)
    order = [2, 0, 1]
    a = gaussian_barycenter(means, covs, weights)
    b = gaussian_barycenter(means[order], covs[order], weights[order])
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-9, atol=1e-12)
    # weights are normalised, so only their ratios count
    c = gaussian_barycenter(means, covs, 7.0 * weights)
    np.testing.assert_allclose(a.cov, c.cov, rtol=1e-12, atol=1e-14)


def test_barycentre_of_identical_gaussians_is_that_gaussian():
    means, covs, weights = random_gaussians(50, 1, 5)
    mean, cov = gaussian_barycenter(np.repeat(means, 3, 0), np.repeat(covs, 3, 0), [0.2, 0.3, 0.5])
    np.testing.assert_allclose(mean, means[0], rtol=1e-13)
    np.testing.assert_allclose(cov, covs[0], rtol=1e-10)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dim=st.integers(1, 6), t=st.floats(0.0, 1.0))
def test_two_point_barycentres_lie_on_the_w2_geodesic(seed, dim, t):
    means, covs, _ = random_gaussians(seed, 2, dim)
    mean, cov = gaussian_barycenter(means, covs, [1.0 - t, t])
    total = gaussian_w2(means[0], covs[0], means[1], covs[1])
    # Distances near 0 are computed through a square root, which amplifies rounding: absolute slack.
    assert gaussian_w2(mean, cov, means[0], covs[0]) == pytest.approx(t * total, rel=1e-6, abs=1e-6)
    assert gaussian_w2(mean, cov, means[1], covs[1]) == pytest.approx((1 - t) * total, rel=1e-6, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 4), dim=st.integers(1, 5))
def test_barycentre_covariance_is_symmetric_positive_definite(seed, k, dim):
    means, covs, weights = random_gaussians(seed, k, dim)
    _, cov = gaussian_barycenter(means, covs, weights)
    assert np.array_equal(cov, cov.T)
    assert np.linalg.eigvalsh(cov).min() > 0


@pytest.mark.parametrize("weights,message", [
    ([0.5], "one weight per Gaussian"),
    ([-1.0, 2.0], "non-negative"),
    ([0.0, 0.0], "not all zero"),
    ([np.nan, 1.0], "finite"),
])
def test_bad_weights_are_refused_in_one_sentence(weights, message):
    means, covs, _ = random_gaussians(0, 2, 3)
    with pytest.raises(ValueError, match=message):
        gaussian_barycenter(means, covs, weights)


def test_mismatched_shapes_are_refused():
    means, covs, _ = random_gaussians(0, 2, 3)
    with pytest.raises(ValueError, match="as many means as covariances"):
        gaussian_barycenter(means, covs[:1])
    with pytest.raises(ValueError, match=r"shape \(k, c\)"):
        gaussian_barycenter(means, covs[:, :2, :2])


@pytest.mark.parametrize("samples,dim", [(4, 24), (10, 48), (3, 5)])
def test_two_point_barycentre_of_rank_deficient_covariances_is_exact_and_fast(samples, dim):
    # Fewer feature vectors than channels (small images, deep layers) gives singular covariances;
    # the fixed-point iteration crawls there, the two-point closed form does not.
    rng = np.random.default_rng(samples * dim)
    clouds = [np.maximum(rng.standard_normal((samples, dim)) @ rng.standard_normal((dim, dim)), 0) for _ in range(2)]
    means = np.stack([c.mean(0) for c in clouds])
    covs = np.stack([np.cov(c.T) for c in clouds])
    assert np.linalg.matrix_rank(covs[0]) < dim
    total = gaussian_w2(means[0], covs[0], means[1], covs[1])
    for t in (0.25, 0.5):
        mean, cov = gaussian_barycenter(means, covs, [1 - t, t])
        assert gaussian_w2(mean, cov, means[0], covs[0]) == pytest.approx(t * total, rel=1e-7)
        assert gaussian_w2(mean, cov, means[1], covs[1]) == pytest.approx((1 - t) * total, rel=1e-7)
        assert np.linalg.eigvalsh(cov).min() > -1e-9 * np.linalg.eigvalsh(cov).max()


def _barycentric_cost(cov, covs, weights):
    zero = np.zeros(cov.shape[0])
    return sum(w * gaussian_w2(zero, cov, zero, c, squared=True) for w, c in zip(weights, covs))


def test_three_rank_deficient_styles_stop_on_the_cost_where_the_matrix_crawls():
    # Three covariances of rank 16 in 64 channels (deep layers of small style images): the matrix
    # iteration does not meet tol=1e-10 in 300 steps (nor in 3000), but the cost settles within 100;
    # objective_tol stops there.
    rng = np.random.default_rng(5)
    covs = np.stack([np.cov(rng.standard_normal((17, 64)).T) for _ in range(3)])
    weights, means = [0.5, 0.3, 0.2], np.zeros((3, 64))
    with pytest.raises(ValueError, match="did not converge within max_iter=300"):
        gaussian_barycenter(means, covs, weights, max_iter=300)
    quick = gaussian_barycenter(means, covs, weights, objective_tol=1e-7, max_iter=100)
    fine = gaussian_barycenter(means, covs, weights, objective_tol=1e-10, max_iter=5000)
    best = _barycentric_cost(fine.cov, covs, weights)
    assert _barycentric_cost(quick.cov, covs, weights) == pytest.approx(best, rel=1e-5)
    # and it is a real minimisation: far better than averaging the covariances
    assert _barycentric_cost(np.einsum("i,ijk->jk", weights, covs), covs, weights) > 1.05 * best


def test_two_point_closed_form_agrees_with_the_fixed_point_iteration():
    # Three Gaussians with a weight 0 for the third use the closed form; a tiny positive weight for
    # the third forces the fixed point, which must land (nearly) on the same matrix.
    means, covs, _ = random_gaussians(60, 3, 6)
    closed = gaussian_barycenter(means, covs, [0.3, 0.7, 0.0])
    iterated = gaussian_barycenter(means, covs, [0.3, 0.7, 1e-12])
    np.testing.assert_allclose(closed.cov, iterated.cov, rtol=1e-8, atol=1e-10)


def test_mixing_comparison_only_the_barycentre_is_balanced():
    from ot_style.widgets.colour import mix_gaussians
    from ot_style.maths.moments import Moments

    means, covs, _ = random_gaussians(70, 2, 6)
    covs[1] = 4.0 * covs[1]  # different scales make the averages visibly off
    first, second = Moments(means[0], covs[0]), Moments(means[1], covs[1])
    for t in (0.3, 0.5):
        comparison = mix_gaussians(first, second, t)
        w = comparison.distance_between
        to_a, to_b = comparison.distances["barycentre"]
        assert to_a == pytest.approx(t * w, rel=1e-7) and to_b == pytest.approx((1 - t) * w, rel=1e-7)
        for name in ("averaged moments", "averaged Gram"):
            a, b = comparison.distances[name]
            # a worse compromise: larger weighted sum of squared distances than the barycentre's
            assert (1 - t) * a**2 + t * b**2 > (1 - t) * to_a**2 + t * to_b**2
        np.testing.assert_allclose(comparison.averaged_moments.cov, (1 - t) * covs[0] + t * covs[1])
    with pytest.raises(ValueError, match="between 0 and 1"):
        mix_gaussians(first, second, 1.2)


def test_colour_mixing_recolours_to_the_barycentre_of_the_palettes():
    from ot_style.pixels.colour import colour_moments
    from ot_style.widgets.colour import colour_mixing

    rng = np.random.default_rng(0)
    content, red, blue = (np.clip(rng.normal(m, s, (20, 24, 3)), 0, 1).astype(np.float32)
                          for m, s in (([0.5] * 3, 0.2), ([0.8, 0.2, 0.2], 0.1), ([0.2, 0.3, 0.8], 0.15)))
    recoloured, comparison = colour_mixing(content, red, blue, 0.5)
    got = colour_moments(recoloured)
    np.testing.assert_allclose(got.mean, comparison.barycentre.mean, atol=1e-5)
    np.testing.assert_allclose(got.cov, comparison.barycentre.cov, atol=1e-5)
    a, b = comparison.distances["barycentre"]
    assert a == pytest.approx(b, rel=1e-7)
