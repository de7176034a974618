"""SciPy's L-BFGS-B for millions of box-bounded pixels, without the per-variable Python of its wrapper.

Private to :mod:`ot_style.engine.optimizers`. ``scipy.optimize.minimize(method="L-BFGS-B")`` spends
O(n) *Python* on its bounds every call: ``Bounds`` become a list of n ``(lb, ub)`` tuples, back again,
and a Python loop over the variables fills the kind-of-bound codes. Measured here (SciPy 1.17.1, 2
cores): 1.6 s per call for a 256-px picture (196,608 variables), about as long as two loss evaluations,
and it grows with the pixels (about 8 us each, plus some 100 bytes of tuples each: gigabytes at 4K).

:func:`minimize_box` drives the same compiled routine (``scipy.optimize._lbfgsb.setulb``, the
algorithm of Byrd, Lu, Nocedal and Zhu) with the same loop as SciPy's ``_minimize_lbfgsb``, building
its bound arrays with NumPy. It gives the same iterates, evaluation for evaluation (a test compares
it with ``minimize`` on a bounded problem). The routine is private SciPy, so the fast path is taken
only for the interface it was written against (SciPy 1.15 and later, where it was translated to C);
otherwise, or if the call's arguments are not accepted, :func:`minimize_box` calls ``minimize``.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["minimize_box", "fast_path_available"]


def _setulb():
    """SciPy's compiled L-BFGS-B step, or None where its interface is not the one used here."""
    try:
        import scipy
        from scipy.optimize import _lbfgsb
    except ImportError:  # pragma: no cover - SciPy is a dependency
        return None
    major, minor = (int(part) for part in scipy.__version__.split(".")[:2])
    if (major, minor) < (1, 15):
        return None
    return getattr(_lbfgsb, "setulb", None)


def fast_path_available() -> bool:
    """Whether :func:`minimize_box` drives SciPy's routine directly (else it calls ``minimize``)."""
    return _setulb() is not None


def minimize_box(fun: Callable, x0, lower: float, upper: float, *, maxiter: int, maxfun: int,
                 maxcor: int = 10, ftol: float = 2.2204460492503131e-09, gtol: float = 1e-5,
                 maxls: int = 20, fast: bool | None = None) -> dict:
    """Minimise ``fun(x) -> (value, gradient)`` over ``lower <= x <= upper`` (the same two numbers for
    every variable; an infinite one takes SciPy's wrapper) with L-BFGS-B, as
    ``scipy.optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=..., options=...)`` does with
    the same options.

    Returns a dict with ``x``, ``fun``, ``nfev``, ``nit`` and ``message``. ``fast=False`` forces
    ``minimize`` (tests compare the two); None takes the fast path where it is available. Exceptions
    raised by ``fun`` propagate (the engine stops a scale's budget that way).
    """
    # The fast path codes every variable as bounded on both sides (SciPy's code 2), so it needs two finite
    # bounds; anything else goes through SciPy's wrapper, which codes each side itself.
    finite = np.isfinite(lower) and np.isfinite(upper)
    setulb = _setulb() if fast is not False and finite else None
    x0 = np.asarray(x0, np.float64).ravel()
    if setulb is None:
        return _with_scipy(fun, x0, lower, upper, maxiter, maxfun, maxcor, ftol, gtol, maxls)
    n = x0.size
    low = np.full(n, float(lower))
    high = np.full(n, float(upper))
    nbd = np.full(n, 2, np.int32)  # 2: bounded below and above (SciPy's map of (lb, ub) pairs)
    x = np.clip(x0, low, high)
    f = np.array(0.0, np.float64)
    g = np.zeros(n, np.float64)
    wa = np.zeros(2 * maxcor * n + 5 * n + 11 * maxcor * maxcor + 8 * maxcor, np.float64)
    iwa = np.zeros(3 * n, np.int32)
    task = np.zeros(2, np.int32)
    ln_task = np.zeros(2, np.int32)
    lsave = np.zeros(4, np.int32)
    isave = np.zeros(44, np.int32)
    dsave = np.zeros(29, np.float64)
    factr = ftol / np.finfo(float).eps
    nfev = nit = 0
    last_x = None  # SciPy's ScalarFunction answers a repeated point from its cache, uncounted

    first = True
    while True:
        g = g.astype(np.float64)
        try:
            setulb(maxcor, x, low, high, nbd, f, g, factr, gtol, wa, iwa, task, lsave, isave, dsave, maxls,
                   ln_task)
        except TypeError:
            if not first:
                raise
            # An interface other than the one this loop was written for: SciPy's own wrapper instead
            # (nothing has been evaluated yet).
            return _with_scipy(fun, x0, lower, upper, maxiter, maxfun, maxcor, ftol, gtol, maxls)
        first = False
        if task[0] == 3:  # FG: the routine wants the value and gradient at x
            if last_x is None or not np.array_equal(x, last_x):
                last_x = x.copy()
                value, grad = fun(last_x.copy())
                nfev += 1
                cached = (float(value), np.asarray(grad, np.float64).ravel())
            f, g = cached[0], cached[1].copy()
        elif task[0] == 1:  # NEW_X: an iteration is done
            nit += 1
            if nit >= maxiter:
                task[0], task[1] = 5, 504
            elif nfev > maxfun:
                task[0], task[1] = 5, 502
        else:
            break
    try:  # SciPy's own wording of the stop, as minimize reports it
        from scipy.optimize._lbfgsb_py import status_messages, task_messages
    except ImportError:  # pragma: no cover - a SciPy that moved them
        status_messages, task_messages = {}, {}
    message = (status_messages.get(int(task[0]), f"task {int(task[0])}") + ": "
               + task_messages.get(int(task[1]), str(int(task[1]))))
    return {"x": x, "fun": float(f), "nfev": nfev, "nit": nit, "message": message}


def _with_scipy(fun, x0, lower, upper, maxiter, maxfun, maxcor, ftol, gtol, maxls) -> dict:
    from scipy.optimize import Bounds, minimize

    bounds = Bounds(np.full(x0.size, float(lower)), np.full(x0.size, float(upper)))
    result = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds,
                      options={"maxiter": maxiter, "maxfun": maxfun, "maxcor": maxcor, "ftol": ftol,
                               "gtol": gtol, "maxls": maxls})
    return {"x": result.x, "fun": float(result.fun), "nfev": int(result.nfev), "nit": int(result.nit),
            "message": str(result.message)}
