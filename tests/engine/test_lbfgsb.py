"""The engine's L-BFGS-B driver (ot_style.engine._lbfgsb) against scipy.optimize.minimize itself."""

import numpy as np
import pytest

from ot_style.engine import _lbfgsb
from ot_style.engine._lbfgsb import minimize_box


def problem(n, seed):
    """A bounded, non-convex objective whose minimiser has coordinates on both bounds and inside."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-0.5, 1.5, n)
    calls = []

    def fun(x):
        calls.append(np.array(x, copy=True))
        d = x - centre
        return float(np.sum(d ** 2 + 0.1 * np.sin(5 * x))), 2 * d + 0.5 * np.cos(5 * x)

    return fun, calls, rng.uniform(-0.2, 1.2, n)  # a start partly outside the box: both clip it


@pytest.mark.parametrize("budget, tolerances", [(5, {"ftol": 0.0, "gtol": 0.0}), (40, {"ftol": 0.0, "gtol": 0.0}),
                                                (500, {})])
def test_same_iterates_as_scipy_minimize(budget, tolerances):
    fun, calls, x0 = problem(300, seed=budget)
    fast = minimize_box(fun, x0, 0.0, 1.0, maxiter=budget, maxfun=budget, **tolerances)
    fast_calls = list(calls)
    calls.clear()
    slow = minimize_box(fun, x0, 0.0, 1.0, maxiter=budget, maxfun=budget, fast=False, **tolerances)
    assert _lbfgsb.fast_path_available()  # the installed SciPy takes the fast path
    assert fast["nfev"] == slow["nfev"] == len(fast_calls) == len(calls)
    assert fast["nit"] == slow["nit"] and fast["message"] == slow["message"]
    for a, b in zip(fast_calls, calls):  # every point evaluated, bit for bit
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast["x"], slow["x"])
    assert fast["fun"] == slow["fun"]
    assert fast["x"].min() >= 0.0 and fast["x"].max() <= 1.0
    if not tolerances:  # converged: the projected gradient vanishes at the bounded minimiser
        assert fast["message"].startswith("CONVERGENCE")
        _, g = fun(fast["x"])
        projected = np.where((fast["x"] <= 0) & (g > 0) | (fast["x"] >= 1) & (g < 0), 0.0, g)
        assert np.abs(projected).max() < 1e-4


def test_scaled_box_and_errors_propagate():
    fun, calls, x0 = problem(50, seed=3)
    result = minimize_box(lambda u: tuple(v * s for v, s in zip(fun(2 * u), (1, 2))), x0 / 2, 0.0, 0.5,
                          maxiter=30, maxfun=30, ftol=0.0, gtol=0.0)
    assert result["x"].max() <= 0.5 and result["x"].min() >= 0.0

    class Stop(Exception):
        pass

    def stopping(x):
        raise Stop

    with pytest.raises(Stop):
        minimize_box(stopping, x0, 0.0, 1.0, maxiter=5, maxfun=5)


def test_falls_back_when_the_routine_is_not_the_expected_one(monkeypatch):
    fun, calls, x0 = problem(40, seed=4)
    expected = minimize_box(fun, x0, 0.0, 1.0, maxiter=10, maxfun=10, fast=False)

    def other_interface(*args):
        raise TypeError("setulb() takes 18 positional arguments")

    monkeypatch.setattr(_lbfgsb, "_setulb", lambda: other_interface)
    result = minimize_box(fun, x0, 0.0, 1.0, maxiter=10, maxfun=10)
    np.testing.assert_array_equal(result["x"], expected["x"])
    assert result["nfev"] == expected["nfev"]


def test_an_open_side_takes_scipys_wrapper():
    fun, calls, x0 = problem(60, seed=5)
    result = minimize_box(fun, x0, 0.0, np.inf, maxiter=20, maxfun=20, ftol=0.0, gtol=0.0)
    expected = minimize_box(fun, x0, 0.0, np.inf, maxiter=20, maxfun=20, ftol=0.0, gtol=0.0, fast=False)
    np.testing.assert_array_equal(result["x"], expected["x"])
    assert result["x"].min() >= 0.0 and result["x"].max() > 1.0  # the centre lies above 1 in places
