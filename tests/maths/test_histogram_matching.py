"""Sort-and-match, sliced distances along fixed directions and iterated histogram matching, against POT."""

import numpy as np
import pytest

from ot_style.maths.histogram_matching import (blind_direction, match_sorted, pca_basis, random_directions,
                                               random_rotation, sliced_histogram_matching, sliced_w2_along)
from ot_style.maths.pot import import_pot


def _emd2(x, y):
    ot = import_pot()
    x, y = np.asarray(x, float).reshape(len(x), -1), np.asarray(y, float).reshape(len(y), -1)
    return float(ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), ot.dist(x, y)))


def test_sort_and_match_is_exact_1d_optimal_transport():
    ot = import_pot()
    rng = np.random.default_rng(0)
    v, r = rng.normal(size=200), rng.gamma(2.0, size=200)
    matched = match_sorted(v, r)
    np.testing.assert_array_equal(np.sort(matched), np.sort(r))           # a rearrangement of the target
    assert np.all(np.diff(matched[np.argsort(v)]) >= 0)                    # monotone: order is kept
    cost = float(np.mean((matched - v) ** 2))
    assert cost == pytest.approx(_emd2(v, r), rel=1e-9)                    # the network simplex agrees
    assert cost == pytest.approx(float(ot.wasserstein_1d(v, r, p=2)), rel=1e-9)
    both = match_sorted(np.stack([v, -v], 1), np.stack([r, r], 1))         # columns matched one by one
    np.testing.assert_allclose(both[:, 0], matched)


def test_sliced_w2_along_fixed_directions_is_pots():
    ot = import_pot()
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((150, 5)), rng.standard_normal((150, 5)) @ np.diag([2, 1, 1, 0.5, 1]) + 1
    theta = random_directions(5, 12, rng)
    np.testing.assert_allclose(np.linalg.norm(theta, axis=0), 1.0)
    pot = float(ot.sliced_wasserstein_distance(x, y, projections=theta, p=2)) ** 2
    assert sliced_w2_along(x, y, theta) == pytest.approx(pot, rel=1e-9)


def test_a_direction_orthogonal_to_every_slice_is_invisible():
    rng = np.random.default_rng(2)
    d, k, s = 64, 8, 5.0
    theta = random_directions(d, k, rng)
    u = blind_direction(theta, rng)
    assert np.linalg.norm(u) == pytest.approx(1.0) and np.max(np.abs(theta.T @ u)) < 1e-12
    x = rng.standard_normal((100, d))
    shifted = x + s * u
    assert sliced_w2_along(x, shifted, theta) == pytest.approx(0.0, abs=1e-20)
    assert _emd2(x, shifted) == pytest.approx(s * s, rel=1e-9)  # a translation: W2^2 = |shift|^2
    # along a shift, each 1-D distance is s^2 cos^2: the sliced value is s^2 times the mean cos^2
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    assert sliced_w2_along(x, x + s * w, theta) == pytest.approx(s * s * np.mean((theta.T @ w) ** 2), rel=1e-9)
    with pytest.raises(ValueError, match="L < d"):
        blind_direction(random_directions(3, 3, rng), rng)


def test_random_directions_are_nearly_orthogonal_to_a_fixed_one_in_high_dimension():
    rng = np.random.default_rng(3)
    for d in (16, 512):
        cos = random_directions(d, 4000, rng)[0]  # against the first axis
        assert np.mean(np.abs(cos)) == pytest.approx(np.sqrt(2 / (np.pi * d)), rel=0.08)
        assert np.mean(cos**2) == pytest.approx(1 / d, rel=0.08)


def test_random_rotation_is_a_rotation():
    q = random_rotation(7, np.random.default_rng(4))
    np.testing.assert_allclose(q.T @ q, np.eye(7), atol=1e-12)
    assert np.linalg.det(q) == pytest.approx(1.0)


def test_pca_basis_keeps_the_fewest_axes_for_the_variance():
    rng = np.random.default_rng(5)
    y = rng.standard_normal((2000, 4)) * np.array([3.0, 2.0, 0.5, 0.1])
    basis = pca_basis(y, 0.9)
    lam = np.linalg.svd(y - y.mean(0), compute_uv=False) ** 2 / len(y)
    np.testing.assert_allclose(basis.variances, lam, rtol=1e-9)
    assert basis.components.shape == (4, 2)  # 9 + 4 of 13.26: 98%; 9 alone is 68%
    assert basis.kept == pytest.approx(lam[:2].sum() / lam.sum())
    assert abs(abs(basis.components[0, 0]) - 1) < 0.01
    v = basis.components
    np.testing.assert_allclose(v.T @ v, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(basis.reconstruct(basis.project(y)), y.mean(0) + (y - y.mean(0)) @ v @ v.T,
                               atol=1e-10)  # the orthogonal projection onto the kept axes
    assert pca_basis(y, 1.0).components.shape == (4, 4)
    with pytest.raises(ValueError, match="fraction"):
        pca_basis(y, 0.0)


def test_iterated_histogram_matching_moves_a_cloud_onto_the_target():
    ot = import_pot()
    rng = np.random.default_rng(6)
    n = 300
    angle = rng.uniform(0, 2 * np.pi, n)
    y = np.stack([2 * np.cos(angle), np.sin(angle)], 1) + 0.05 * rng.standard_normal((n, 2))  # an ellipse ring
    x = 0.5 * rng.standard_normal((n, 2)) + [3.0, 0.0]
    run = sliced_histogram_matching(x, y, 30, seed=0)
    assert len(run.iterates) == 31 and run.pca is None
    np.testing.assert_array_equal(run.iterates[0], x)
    sliced = [float(ot.sliced_wasserstein_distance(z, y, n_projections=200, seed=0)) for z in run.iterates]
    exact = [_emd2(z, y) for z in run.iterates]
    assert sliced[-1] < 0.05 * sliced[0] and exact[-1] < 0.02 * exact[0]
    # one rotation makes both rotated marginals exact (each axis is a 1-D OT)
    rot = random_rotation(2, np.random.default_rng(0))
    one = run.iterates[1] @ rot
    np.testing.assert_allclose(np.sort(one, axis=0), np.sort(y @ rot, axis=0), atol=1e-12)


def test_in_one_dimension_one_step_is_the_optimal_transport():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(80, 1)), rng.exponential(size=(80, 1))
    run = sliced_histogram_matching(x, y, 1)
    assert _emd2(run.iterates[1], y) == pytest.approx(0.0, abs=1e-24)
    np.testing.assert_allclose(run.iterates[1], match_sorted(x, y))


def test_matching_in_pca_axes_drops_what_lies_outside():
    rng = np.random.default_rng(8)
    n = 300
    y = rng.standard_normal((n, 3)) * np.array([2.0, 1.0, 0.3])
    x = rng.standard_normal((n, 3)) + 1.0
    run = sliced_histogram_matching(x, y, 40, seed=1, variance=0.9)
    assert run.pca.components.shape == (3, 2)
    last = run.iterates[-1]
    normal = np.cross(*run.pca.components.T)
    assert np.max(np.abs((last - run.pca.mean) @ normal)) < 1e-10  # the result lies in the style's plane
    dropped = float(run.pca.variances[2])
    assert dropped == pytest.approx(0.09, rel=0.2)
    # Pythagoras: for x in the plane, |x - y|^2 = |x - shadow(y)|^2 + dist(y, plane)^2, and the mean of the
    # last term is the dropped (biased) variance: what remains is exactly that plus the in-plane distance
    shadow = run.pca.reconstruct(run.pca.project(y))
    in_plane = _emd2(last, shadow)
    assert _emd2(last, y) == pytest.approx(dropped + in_plane, rel=1e-9)
    assert in_plane < 0.5 * dropped and _emd2(run.iterates[1], shadow) > in_plane  # the iterations shrink it


def test_matching_refuses_unequal_sizes():
    with pytest.raises(ValueError, match="same shape"):
        match_sorted(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="whole number"):
        sliced_histogram_matching(np.zeros((3, 2)), np.ones((3, 2)), -1)
