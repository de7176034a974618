r"""TensorFlow twins of the NumPy moments and Gaussian W2 (eqs. 1 and 2), differentiable in the pixels.

:func:`tf_moments` is the twin of :func:`ot_style.moments.feature_moments` (and, with weights, of
:func:`ot_style.moments.masked_moments`); :func:`w2_squared_to_target` is the twin of
:func:`ot_style.gaussian.gaussian_w2` with ``squared=True``, against a style Gaussian whose covariance
square root is computed once per scale. The style losses (:mod:`ot_style.losses`) and the guided loss
(:mod:`ot_style.guidance`) build on them; notebook ``02_wasserstein_between_gaussians.ipynb`` derives
the formula. All arithmetic is dtype-generic. On a CPU the per-step matrix work of W2 (float64 products
and the symmetric eigendecomposition) runs in NumPy/LAPACK inside the graph (``_on_host``); on a GPU it
stays in TF ops. Both routes compute the same numbers and are tested against each other.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import scipy.linalg
import tensorflow as tf

from .moments import Moments

__all__ = ["tf_moments", "w2_squared_to_target"]


def _samples(features) -> tf.Tensor:
    """(..., c) activations -> (n, c) samples (batch and pixels flattened together)."""
    features = tf.convert_to_tensor(features)
    c = features.shape[-1] if features.shape[-1] is not None else tf.shape(features)[-1]
    return tf.reshape(features, [-1, c])


def _numpy_samples(features) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    return x.reshape(-1, x.shape[-1])


def _dtype_of(features) -> tf.DType:
    dtype = tf.as_dtype(features.dtype)
    return dtype if dtype.is_floating else tf.float32


def tf_moments(x, weights=None) -> Moments:
    r"""Mean and unbiased covariance of samples, in TensorFlow (eq. 1; twin of ``feature_moments``).

    .. math::

        \mu = \frac{1}{V_1}\sum_i w_i x_i, \qquad
        \Sigma = \frac{1}{V_1 - V_2/V_1}\sum_i w_i (x_i-\mu)(x_i-\mu)^T

    with :math:`V_1=\sum w_i`, :math:`V_2=\sum w_i^2`; without weights this is eq. 1 (divisor
    :math:`n-1`), with weights it is :func:`ot_style.moments.masked_moments`. Notebook
    ``01_gram_is_not_a_metric.ipynb``.

    Parameters
    ----------
    x : tf.Tensor, shape (n, c)
    weights : tf.Tensor, shape (n,), optional
        Non-negative reliability weights (a soft mask, used by :mod:`ot_style.guidance`).

    Returns
    -------
    Moments
        ``mean`` (c,) and symmetric ``cov`` (c, c), in the dtype of ``x``.
    """
    x = tf.convert_to_tensor(x)
    if weights is None:
        return Moments(*_unweighted_moments(x))
    else:
        w = tf.cast(tf.reshape(weights, [-1]), x.dtype)
        v1 = tf.reduce_sum(w)
        v2 = tf.reduce_sum(w * w)
        mean = tf.reduce_sum(w[:, None] * x, axis=0) / v1
        d = x - mean
        cov = tf.matmul(d * w[:, None], d, transpose_a=True) / (v1 - v2 / v1)
    return Moments(mean, 0.5 * (cov + tf.transpose(cov)))


@tf.custom_gradient
def _unweighted_moments(x):
    """Eq. 1 with a hand-written gradient: one (n, c) x (c, c) product instead of autodiff's two plus the
    centring's broadcasts. With D = x - mean: dL/dx = 1 g_mean^T / n + D (G + G^T) / (n - 1); the path
    through the mean adds -1 1^T D (G + G^T) / (n (n - 1)), which is 0 because the columns of D sum to 0."""
    n = tf.cast(tf.shape(x)[0], x.dtype)
    mean = tf.reduce_mean(x, axis=0)
    d = x - mean
    cov = tf.matmul(d, d, transpose_a=True) / (n - 1.0)

    def grad(g_mean, g_cov):
        dx = tf.zeros_like(x) if g_cov is None else tf.matmul(d, (g_cov + tf.transpose(g_cov)) / (n - 1.0))
        return dx if g_mean is None else dx + g_mean / n

    return (mean, 0.5 * (cov + tf.transpose(cov))), grad


_HOST_LOCK = threading.Lock()
_BLAS = None  # threadpoolctl.ThreadpoolController, made on first use (it scans the loaded libraries)


@contextlib.contextmanager
def _host_blas():
    """One host W2 computation at a time, on one BLAS thread.

    The host work runs on one core, beside the convolutions TensorFlow runs on the others (see
    :func:`_on_host`). With BLAS's default threads, which keep spinning after a call returns, the
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


_ROUTE = "auto"  # where the W2 matrix work runs: "auto" (see _on_host), "host" or "graph" (tests, benchmarks)


def _on_host() -> bool:
    """Whether the per-step W2 matrix work runs in NumPy (float64 products and LAPACK) instead of TF ops.

    Yes on a CPU (``_ROUTE`` "auto"). There TensorFlow's float64 matmul is Eigen's, slower than NumPy's
    BLAS even on one thread against two (this project's 2-core CPU, 512 x 512: 8.3 ms against 7.2 ms;
    256 x 256: 3.0 ms against 1.0 ms), and its symmetric eigendecomposition is slower than LAPACK's
    divide and conquer (512: 75 ms against 38.5 ms; 256: 10.8 ms against 6.7 ms). The host work of a
    layer is one graph node on one BLAS thread, so with TensorFlow's default inter-op threads it overlaps
    the convolutions of the deeper layers. On a GPU the TF ops stay (no host round trip). Decided when a
    graph is traced.
    """
    if _ROUTE != "auto":
        return _ROUTE == "host"
    return not tf.config.list_logical_devices("GPU")


def _eigh(mat):
    """LAPACK's ``?syevd`` (divide and conquer) through SciPy: (eigenvalues ascending, eigenvectors), or
    None if it did not converge. SciPy's build took 38.5 ms for 512 x 512 in float64 on one thread here,
    NumPy's ``eigh`` (the same routine) 44.7 ms."""
    (syevd,) = scipy.linalg.get_lapack_funcs(("syevd",), (mat,))
    lam, vec, info = syevd(mat, compute_v=1, lower=1)
    return (lam, vec) if info == 0 else None


def _sqrt_spectrum(mat, value_tol, grad_floor):
    """NumPy: sum_i sqrt(lam_i) of the symmetric part of a PSD matrix, its eigenvectors and the capped
    slopes f'(lam) = 1/(2 sqrt(max(lam, grad_floor))) (see :func:`_trace_sqrt_psd`). All NaN for a
    non-finite matrix (as with tf.linalg.eigh, a diverged image then gives a NaN loss, not an error)."""
    mat = 0.5 * (mat + mat.T)
    decomposition = _eigh(mat) if np.isfinite(mat).all() else None
    if decomposition is None:
        return np.array(np.nan, mat.dtype), np.full_like(mat, np.nan), np.full(mat.shape[0], np.nan, mat.dtype)
    lam, vec = decomposition
    # Same rule as gaussian._clamp_eigenvalues: rounding-level eigenvalues count as 0.
    value = np.sqrt(np.where(lam > value_tol, lam, 0.0)).sum()
    slope = 0.5 / np.sqrt(np.maximum(lam, grad_floor))
    return np.array(value, mat.dtype), vec, slope


def _host_sandwich(cov_x, root_s, value_tol, grad_floor):
    """The host op of :func:`w2_squared_to_target`: tr (R C R)^1/2 and its gradient in C,
    R f'(M) R = (R V) diag(f'(lam)) (R V)^T with M = R C R = V diag(lam) V^T."""
    with _host_blas():
        value, vec, slope = _sqrt_spectrum(root_s @ (cov_x @ root_s), value_tol, grad_floor)
        w = root_s @ vec
        return value, (w * slope) @ w.T


def _host_kernel(d, cov_s, n_minus_1, value_tol, grad_floor):
    """The host op of :func:`_w2_squared_few_samples`: tr K^1/2 with K = D S D^T / (n - 1) and its
    gradient in D, 2 f'(K) D S / (n - 1)."""
    with _host_blas():
        ds = d @ cov_s
        value, vec, slope = _sqrt_spectrum(ds @ d.T / n_minus_1, value_tol, grad_floor)
        return value, ((vec * (2.0 * slope / n_minus_1)) @ vec.T) @ ds


def _on_host_op(function, differentiated, constants, name):
    """(value, gradient) of a host function of ``differentiated`` as a TF scalar whose gradient is the
    returned one times the upstream; ``constants`` get no gradient (the style target, thresholds)."""

    @tf.custom_gradient
    def op(x):
        value, grad = tf.numpy_function(function, [x, *constants], [x.dtype, x.dtype], stateful=False, name=name)
        value.set_shape(())
        grad.set_shape(x.shape)
        return value, lambda upstream: upstream * grad

    return op(differentiated)


def _trace_sqrt_psd(middle, value_tol, grad_floor):
    """sum_i sqrt(lam_i) of the symmetric part of a PSD matrix, differentiating the eigenvalues only (TF ops).

    d(sum f(lam))/dM = V diag(f'(lam)) V^T holds for any symmetric M, including repeated eigenvalues,
    so the 1/(lam_i - lam_j) terms of an eigendecomposition's own gradient never appear. f'(lam) =
    1/(2 sqrt(lam)) is infinite at lam = 0 (a rank-deficient image covariance); it is capped at
    1/(2 sqrt(grad_floor)), with grad_floor at the rounding level of M, where lam is not known even in
    sign. Departure from exact calculus, needed for a finite gradient; it still points the right way
    (more spread in directions the style has and the image lacks). The CPU route computes the same in
    NumPy (:func:`_sqrt_spectrum`).
    """

    @tf.custom_gradient
    def trace_sqrt(mat):
        lam, vec = tf.linalg.eigh(mat)
        kept = tf.where(lam > value_tol, lam, tf.zeros_like(lam))
        value = tf.reduce_sum(tf.sqrt(kept))

        def grad(upstream):
            slope = 0.5 * tf.math.rsqrt(tf.maximum(lam, grad_floor))
            return upstream * tf.matmul(vec * slope, vec, transpose_b=True)

        return value, grad

    return trace_sqrt(0.5 * (middle + tf.transpose(middle)))


def w2_squared_to_target(mean_x, cov_x, mean_s, cov_s, sqrt_cov_s) -> tf.Tensor:
    r"""Squared Gaussian W2 from the image's moments to a fixed style Gaussian (eq. 2, squared).

    .. math::

        W_2^2 = \lVert\mu_x-\mu_s\rVert^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_s
                - 2\sum_i \sqrt{\lambda_i\big(\Sigma_s^{1/2}\Sigma_x\Sigma_s^{1/2}\big)}

    ``sqrt_cov_s`` is computed once per scale (:func:`ot_style.gaussian.sqrtm_psd`); each call costs one
    symmetric eigendecomposition. It runs in the dtype of the style target (float64 from
    :class:`W2Loss`), whatever the image's dtype: in float32 the symmetric form squares the condition
    number, and at relu3_1 of a 32-pixel image (64 samples, 256 channels) a float32 eigendecomposition
    put W2^2 of the style to itself at 5% of its trace instead of 0; at 256 px, with float32 features
    either way, float32 matrix work put the pixel gradient at a stylised image 35% off a float64
    reference, float64 work 4.9% (``benchmarks/w2_precision.py``). The result has the dtype of
    ``cov_x``. The gradient goes through the eigenvalues only (capped near 0, see
    ``_trace_sqrt_psd``), so it is finite when :math:`\Sigma_x` is rank-deficient (fewer pixels than
    channels, dead ReLUs). Unlike the NumPy reference the result is not clamped at 0 (it can be about
    ``-1e-7 * tr`` in float32), so that the gradient is never cut off. It is differentiable in the image
    moments only: the style side is a fixed target (``sqrt_cov_s`` is not tied to ``cov_s``, and on a CPU
    the cross term's gradient is computed for ``cov_x`` alone, see ``_on_host``). Twin of
    :func:`ot_style.gaussian.gaussian_w2` (``squared=True``); notebook
    ``02_wasserstein_between_gaussians.ipynb``.

    Parameters
    ----------
    mean_x : tf.Tensor, shape (c,)
    cov_x : tf.Tensor, shape (c, c)
        Image moments (differentiable), e.g. from :func:`tf_moments`.
    mean_s, cov_s, sqrt_cov_s : tf.Tensor, shapes (c,), (c, c), (c, c)
        Style target and the symmetric square root of its covariance.

    Returns
    -------
    tf.Tensor, scalar
    """
    out_dtype = cov_x.dtype
    dtype = tf.as_dtype(sqrt_cov_s.dtype)
    mean_x, cov_x = tf.cast(mean_x, dtype), tf.cast(cov_x, dtype)
    mean_s, cov_s = tf.cast(mean_s, dtype), tf.cast(cov_s, dtype)
    value_tol, grad_floor = _rounding_levels(tf.shape(cov_x)[0], tf.norm(cov_x), tf.norm(cov_s), out_dtype)
    if _on_host():
        cross = _on_host_op(_host_sandwich, cov_x, [sqrt_cov_s, value_tol, grad_floor], "w2_cross_term")
    else:
        middle = tf.matmul(sqrt_cov_s, tf.matmul(cov_x, sqrt_cov_s))
        cross = _trace_sqrt_psd(middle, value_tol, grad_floor)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + tf.linalg.trace(cov_x)
             + tf.linalg.trace(cov_s) - 2.0 * cross)
    return tf.cast(value, out_dtype)


def _rounding_levels(channels, norm_x, norm_s, out_dtype):
    """(value_tol, grad_floor) of the W2 cross term: eigenvalues below value_tol count as 0, slopes are
    capped at 1 / (2 sqrt(grad_floor)) (see :func:`_trace_sqrt_psd`). In the dtype of ``norm_s``."""
    dtype = norm_s.dtype
    info = np.finfo(dtype.as_numpy_dtype)
    c = tf.cast(channels, dtype)
    norm_x = tf.stop_gradient(norm_x)
    # Rounding level of the middle matrix, from the norms of its factors (as in gaussian.gaussian_w2).
    value_tol = c * info.eps * norm_s * norm_x
    # The slope is capped near the precision the image covariance was computed in (float32 in the
    # engine): eigenvalues far below eps_in * |S| |C| are rounding noise of cov_x with arbitrary
    # eigenvectors. Measured against float64 features (random n < c clouds and VGG relu3_1 at 32 px):
    # no cap (float64 floor) put float32 gradients 10% off; a cap at 1 * eps_in, 4% off on VGG (it
    # flattens real small eigenvalues); 0.01 * eps_in agrees to 3e-4 on both. The floor never falls
    # below the style's own scale, so a collapsed image (cov_x ~ 0) still gets a finite push.
    eps_in = 0.01 * np.finfo(out_dtype.as_numpy_dtype).eps
    grad_floor = eps_in * norm_s * tf.maximum(norm_x, norm_s) + info.tiny
    return value_tol, grad_floor


def _w2_squared_few_samples(x, mean_s, cov_s):
    """The same W2^2 from n < c samples, through an n x n eigendecomposition instead of c x c.

    With D the centred samples, Sigma_s^1/2 Sigma_x Sigma_s^1/2 = A^T A and K = A A^T = D S D^T / (n-1)
    (A = D Sigma_s^1/2 / sqrt(n-1)) have the same non-zero eigenvalues. relu5_1 at 256 px has 256 samples
    for 512 channels: a 256 x 256 instead of a 512 x 512 eigendecomposition per step.
    """
    out_dtype = x.dtype
    dtype = cov_s.dtype
    x = tf.cast(x, dtype)
    n = tf.cast(tf.shape(x)[0], dtype)
    mean_x = tf.reduce_mean(x, axis=0)
    d = x - mean_x
    trace_x = tf.reduce_sum(tf.square(d)) / (n - 1.0)
    # tr(Sigma_x) >= |Sigma_x|_F stands in for the norm (it only sets rounding thresholds).
    value_tol, grad_floor = _rounding_levels(tf.shape(x)[1], trace_x, tf.norm(cov_s), out_dtype)
    if _on_host():
        cross = _on_host_op(_host_kernel, d, [cov_s, n - 1.0, value_tol, grad_floor], "w2_cross_term_samples")
    else:
        kernel = tf.matmul(d, tf.matmul(d, cov_s), transpose_b=True) / (n - 1.0)
        cross = _trace_sqrt_psd(kernel, value_tol, grad_floor)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + trace_x + tf.linalg.trace(cov_s)
             - 2.0 * cross)
    return tf.cast(value, out_dtype)
