"""Sinkhorn's entropic plan against a textbook NumPy Sinkhorn, brute-force exact transport and its limits."""

import itertools

import numpy as np
import pytest

from ot_style.maths.entropic import plan_entropy, sinkhorn_plan


def _cost(n, m, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m, 2)) + [1.0, 0.0]
    return ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)


def _textbook_sinkhorn(cost, eps, iterations=5000):
    # Cuturi (2013), Algorithm 1, with a = 1/n, b = 1/m: alternate row and column scalings of exp(-C/eps).
    n, m = cost.shape
    k = np.exp(-cost / eps)
    u, v = np.ones(n), np.ones(m)
    for _ in range(iterations):
        u = (1.0 / n) / (k @ v)
        v = (1.0 / m) / (k.T @ u)
    return u[:, None] * k * v[None, :]


def _brute_force_emd(cost):
    # n == m and uniform weights: an optimal plan is a permutation (Birkhoff), so try them all.
    n = cost.shape[0]
    return min(cost[np.arange(n), list(p)].sum() for p in itertools.permutations(range(n))) / n


def test_the_plan_is_the_textbook_sinkhorn_fixed_point():
    cost = _cost(5, 7, seed=0)
    result = sinkhorn_plan(cost, 0.5, tol=1e-12)
    np.testing.assert_allclose(result.plan, _textbook_sinkhorn(cost, 0.5), atol=1e-11)
    assert result.converged and result.marginal_error < 1e-10
    assert result.cost == pytest.approx(np.sum(result.plan * cost), rel=1e-12)
    assert result.entropy == pytest.approx(-np.sum(result.plan * np.log(result.plan)), rel=1e-12)


def test_small_epsilon_approaches_the_exact_cost_within_the_entropy_bound():
    cost = _cost(6, 6, seed=1)
    exact = _brute_force_emd(cost)
    gaps = []
    for eps in (1.0, 0.3, 0.1):
        r = sinkhorn_plan(cost, eps, tol=1e-10)
        gap = r.cost - exact
        # <P_eps, C> - eps H(P_eps) <= <P*, C> - eps H(P*) and H(P*) >= log n give the bound below
        assert -1e-9 <= gap <= eps * (r.entropy - np.log(6)) + 1e-9
        gaps.append(gap)
    assert np.all(np.diff(gaps) < 0) and gaps[-1] < 0.05 * exact


def test_entropy_grows_with_epsilon_up_to_the_independent_coupling():
    cost = _cost(8, 8, seed=2)
    entropies = [sinkhorn_plan(cost, eps, tol=1e-10).entropy for eps in (0.1, 0.3, 1.0, 5.0)]
    assert np.all(np.diff(entropies) > 0)
    assert np.log(8) - 1e-9 <= entropies[0] and entropies[-1] <= 2 * np.log(8) + 1e-9
    huge = sinkhorn_plan(cost, 1e6)
    np.testing.assert_allclose(huge.plan, np.full((8, 8), 1 / 64), rtol=1e-4)
    assert huge.entropy == pytest.approx(np.log(64), rel=1e-8)


def test_a_kernel_column_that_underflows_goes_to_the_log_domain():
    # y_2 is 1000 away from both points: exp(-1000 / 1) is 0 in float64, so plain Sinkhorn would divide
    # by 0. Every coupling costs 1000 / 2 here, and the entropic one is the independent coupling.
    cost = np.array([[0.0, 1000.0], [0.0, 1000.0]])
    r = sinkhorn_plan(cost, 1.0)
    np.testing.assert_allclose(r.plan, np.full((2, 2), 0.25), atol=1e-12)
    assert r.cost == pytest.approx(500.0, rel=1e-12) and r.converged


def test_plan_entropy_and_bad_input():
    assert plan_entropy(np.eye(4) / 4) == pytest.approx(np.log(4))
    assert plan_entropy(np.full((3, 5), 1 / 15)) == pytest.approx(np.log(15))
    with pytest.raises(ValueError, match="non-negative"):
        plan_entropy([[-0.1, 1.1]])
    with pytest.raises(ValueError, match="epsilon must be a positive"):
        sinkhorn_plan(np.ones((2, 2)), 0.0)
    with pytest.raises(ValueError, match=r"\(n, m\) matrix"):
        sinkhorn_plan(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        sinkhorn_plan(np.array([[0.0, np.nan]]), 1.0)
