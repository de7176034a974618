"""The CPU route of the W2 loss: its per-step matrix work in NumPy/LAPACK, one graph node per layer.

Private to :mod:`ot_style.losses.w2`, which a reader meets first: there the whole formula is written in
TensorFlow ops (what a GPU runs). On a CPU the same numbers come faster from NumPy's BLAS and LAPACK's
symmetric eigendecomposition, run inside the graph through ``tf.numpy_function`` on one BLAS thread, so
that they overlap the convolutions TensorFlow runs on the other cores (``benchmarks/w2_routes.py``
measures both routes). Which route runs is decided when a graph is traced: :func:`on_host` reads the
switch that :func:`ot_style.losses.w2.matrix_route` sets. Both routes compute the same numbers and are
tested against each other.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import scipy.linalg
import tensorflow as tf

__all__ = ["on_host", "set_route", "get_route", "ROUTES", "host_sandwich", "host_kernel", "host_op",
           "host_blas", "sqrt_spectrum", "eigh"]

_HOST_LOCK = threading.Lock()
_BLAS = None  # threadpoolctl.ThreadpoolController, made on first use (it scans the loaded libraries)


@contextlib.contextmanager
def host_blas():
    """One host W2 computation at a time, on one BLAS thread.

    The host work runs on one core, beside the convolutions TensorFlow runs on the others (see
    :func:`on_host`). With BLAS's default threads, which keep spinning after a call returns, the
    convolutions that followed slowed down by more than the BLAS calls gained. Two graph nodes may want
    host work at once (TensorFlow's inter-op threads); the lock runs them one after the other, which
    keeps the host work on one core and makes each limit enter and leave in one thread, as threadpoolctl
    requires (its OpenBLAS limit is process-wide, and a thread other than the one holding it cannot
    change it).
    """
    global _BLAS
    with _HOST_LOCK:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        with _BLAS.limit(limits=1, user_api="blas"):
            yield


#: Where the W2 matrix work runs: "auto" (see on_host), "host" (NumPy/LAPACK) or "graph" (TF ops).
ROUTES = ("auto", "host", "graph")
_route = "auto"


def get_route() -> str:
    """The route now in force (one of :data:`ROUTES`)."""
    return _route


def set_route(route: str) -> str:
    """Set the route (one of :data:`ROUTES`) and return the previous one; see
    :func:`ot_style.losses.w2.matrix_route`, the context manager to use."""
    global _route
    if route not in ROUTES:
        raise ValueError(f"Unknown W2 route {route!r}; choose one of {', '.join(ROUTES)}.")
    previous, _route = _route, route
    return previous


def on_host() -> bool:
    """Whether the per-step W2 matrix work runs in NumPy (float64 products and LAPACK) instead of TF ops.

    Yes on a CPU (route "auto"). There TensorFlow's float64 matmul is Eigen's, slower than NumPy's
    BLAS even on one thread against two, and its symmetric eigendecomposition is slower than LAPACK's
    divide and conquer (``benchmarks/README.md`` has the figures). The host work of a layer is one graph
    node on one BLAS thread, so with TensorFlow's default inter-op threads it overlaps the convolutions of
    the deeper layers. On a GPU the TF ops stay (no host round trip). Decided when a graph is traced.
    """
    if _route != "auto":
        return _route == "host"
    return not tf.config.list_logical_devices("GPU")


def eigh(mat):
    """LAPACK's ``?syevd`` (divide and conquer) through SciPy: (eigenvalues ascending, eigenvectors), or
    None if it did not converge (SciPy's build was a little faster than NumPy's ``eigh`` here)."""
    (syevd,) = scipy.linalg.get_lapack_funcs(("syevd",), (mat,))
    lam, vec, info = syevd(mat, compute_v=1, lower=1)
    return (lam, vec) if info == 0 else None


def sqrt_spectrum(mat, value_tol, grad_floor):
    """NumPy: sum_i sqrt(lam_i) of the symmetric part of a PSD matrix, its eigenvectors and the capped
    slopes f'(lam) = 1/(2 sqrt(max(lam, grad_floor))) (see :func:`ot_style.losses.w2.trace_sqrt_psd`). All NaN for a
    non-finite matrix (as with tf.linalg.eigh, a diverged image then gives a NaN loss, not an error)."""
    mat = 0.5 * (mat + mat.T)
    decomposition = eigh(mat) if np.isfinite(mat).all() else None
    if decomposition is None:
        return np.array(np.nan, mat.dtype), np.full_like(mat, np.nan), np.full(mat.shape[0], np.nan, mat.dtype)
    lam, vec = decomposition
    # Same rule as the NumPy reference (ot_style.maths.gaussian): rounding-level eigenvalues count as 0.
    value = np.sqrt(np.where(lam > value_tol, lam, 0.0)).sum()
    slope = 0.5 / np.sqrt(np.maximum(lam, grad_floor))
    return np.array(value, mat.dtype), vec, slope


def host_sandwich(cov_x, root_s, value_tol, grad_floor):
    """The host op of :func:`ot_style.losses.w2.w2_squared_to_target`: tr (R C R)^1/2 and its gradient in C,
    R f'(M) R = (R V) diag(f'(lam)) (R V)^T with M = R C R = V diag(lam) V^T."""
    with host_blas():
        value, vec, slope = sqrt_spectrum(root_s @ (cov_x @ root_s), value_tol, grad_floor)
        w = root_s @ vec
        return value, (w * slope) @ w.T


def host_kernel(d, cov_s, n_minus_1, value_tol, grad_floor):
    """The host op of :func:`ot_style.losses.w2.w2_squared_few_samples`: tr K^1/2 with K = D S D^T / (n - 1) and its
    gradient in D, 2 f'(K) D S / (n - 1)."""
    with host_blas():
        ds = d @ cov_s
        value, vec, slope = sqrt_spectrum(ds @ d.T / n_minus_1, value_tol, grad_floor)
        return value, ((vec * (2.0 * slope / n_minus_1)) @ vec.T) @ ds


def host_op(function, differentiated, constants, name):
    """(value, gradient) of a host function of ``differentiated`` as a TF scalar whose gradient is the
    returned one times the upstream; ``constants`` get no gradient (the style target, thresholds)."""

    @tf.custom_gradient
    def op(x):
        value, grad = tf.numpy_function(function, [x, *constants], [x.dtype, x.dtype], stateful=False, name=name)
        value.set_shape(())
        grad.set_shape(x.shape)
        return value, lambda upstream: upstream * grad

    return op(differentiated)
