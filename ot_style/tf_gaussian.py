r"""TensorFlow twins of the NumPy moments and Gaussian W2 (eqs. 1 and 2), differentiable in the pixels.

:func:`tf_moments` is the twin of :func:`ot_style.moments.feature_moments` (and, with weights, of
:func:`ot_style.moments.masked_moments`); :func:`w2_squared_to_target` is the twin of
:func:`ot_style.gaussian.gaussian_w2` with ``squared=True``, against a style Gaussian whose covariance
square root is computed once per scale. The style losses (:mod:`ot_style.losses`) and the guided loss
(:mod:`ot_style.guidance`) build on them; notebook ``02_wasserstein_between_gaussians.ipynb`` derives
the formula. All arithmetic is dtype-generic.
"""

from __future__ import annotations

import numpy as np
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


_LAPACK_FROM = 384  # matrix side from which the CPU eigendecomposition goes through LAPACK (see _eigh)
_BLAS = None  # threadpoolctl.ThreadpoolController, made on first use (it scans the loaded libraries)


def _lapack_eigh(mat: np.ndarray):
    """NumPy's LAPACK ``?syevd`` with its BLAS held to one thread for the call; NaN in, NaN out."""
    global _BLAS
    if not np.isfinite(mat).all():  # as tf.linalg.eigh: a diverged image gives a NaN loss, not an error
        return np.full(mat.shape[:-1], np.nan, mat.dtype), np.full(mat.shape, np.nan, mat.dtype)
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=1, user_api="blas"):
        lam, vec = np.linalg.eigh(mat)
    return lam.astype(mat.dtype, copy=False), vec.astype(mat.dtype, copy=False)


def _eigh(mat):
    """Symmetric eigendecomposition, ``(eigenvalues ascending, eigenvectors)``, inside or outside a graph.

    On a CPU it is LAPACK's divide and conquer through NumPy (``tf.numpy_function``): 512 x 512 in float64
    took 115 ms with ``tf.linalg.eigh`` (Eigen's solver) and 36 ms with NumPy on this project's 2-core
    CPU. NumPy's BLAS is held to one thread during the call (50 ms): with its default threads, which keep
    spinning after the call returns, the convolutions that followed slowed down by more than the
    eigendecomposition gained. Matrices smaller than ``_LAPACK_FROM`` (and of unknown size) stay with
    ``tf.linalg.eigh``: for 256 x 256 and below the round trip through Python cost what LAPACK saved (one
    evaluation at 128 px, whose largest matrix is 256 x 256, took 0.285 s against 0.269 s). Where
    TensorFlow has a GPU, ``tf.linalg.eigh`` stays too (no host round trip).
    """
    size = mat.shape[-1]
    if size is None or size < _LAPACK_FROM or tf.config.list_logical_devices("GPU"):
        return tf.linalg.eigh(mat)
    lam, vec = tf.numpy_function(_lapack_eigh, [mat], [mat.dtype, mat.dtype], stateful=False, name="lapack_eigh")
    lam.set_shape(mat.shape[:-1])
    vec.set_shape(mat.shape)
    return lam, vec


def _trace_sqrt_psd(middle, value_tol, grad_floor):
    """sum_i sqrt(lam_i) of a symmetric PSD matrix, differentiating the eigenvalues only.

    d(sum f(lam))/dM = V diag(f'(lam)) V^T holds for any symmetric M, including repeated eigenvalues,
    so the 1/(lam_i - lam_j) terms of an eigendecomposition's own gradient never appear. f'(lam) =
    1/(2 sqrt(lam)) is infinite at lam = 0 (a rank-deficient image covariance); it is capped at
    1/(2 sqrt(grad_floor)), with grad_floor at the rounding level of M, where lam is not known even in
    sign. Departure from exact calculus, needed for a finite gradient; it still points the right way
    (more spread in directions the style has and the image lacks).
    """

    @tf.custom_gradient
    def trace_sqrt(mat):
        lam, vec = _eigh(mat)
        # Same rule as gaussian._clamp_eigenvalues: rounding-level eigenvalues count as 0.
        kept = tf.where(lam > value_tol, lam, tf.zeros_like(lam))
        value = tf.reduce_sum(tf.sqrt(kept))

        def grad(upstream):
            slope = 0.5 * tf.math.rsqrt(tf.maximum(lam, grad_floor))
            return upstream * tf.matmul(vec * slope, vec, transpose_b=True)

        return value, grad

    return trace_sqrt(middle)


def w2_squared_to_target(mean_x, cov_x, mean_s, cov_s, sqrt_cov_s) -> tf.Tensor:
    r"""Squared Gaussian W2 from the image's moments to a fixed style Gaussian (eq. 2, squared).

    .. math::

        W_2^2 = \lVert\mu_x-\mu_s\rVert^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_s
                - 2\sum_i \sqrt{\lambda_i\big(\Sigma_s^{1/2}\Sigma_x\Sigma_s^{1/2}\big)}

    ``sqrt_cov_s`` is computed once per scale (:func:`ot_style.gaussian.sqrtm_psd`); each call costs one
    symmetric eigendecomposition. It runs in the dtype of the style target (float64 from
    :class:`W2Loss`), whatever the image's dtype: in float32 the symmetric form squares the condition
    number, and at relu3_1 of a 32-pixel image (64 samples, 256 channels) a float32 eigendecomposition
    put W2^2 of the style to itself at 5% of its trace instead of 0. The result has the dtype of
    ``cov_x``. The gradient goes through the eigenvalues only (capped near 0, see
    ``_trace_sqrt_psd``), so it is finite when :math:`\Sigma_x` is rank-deficient (fewer pixels than
    channels, dead ReLUs). Unlike the NumPy reference the result is not clamped at 0 (it can be about
    ``-1e-7 * tr`` in float32), so that the gradient is never cut off. Twin of
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
    middle = tf.matmul(sqrt_cov_s, tf.matmul(cov_x, sqrt_cov_s))
    cross = _cross_term(middle, tf.shape(cov_x)[0], tf.norm(cov_x), tf.norm(cov_s), out_dtype)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + tf.linalg.trace(cov_x)
             + tf.linalg.trace(cov_s) - 2.0 * cross)
    return tf.cast(value, out_dtype)


def _cross_term(middle, channels, norm_x, norm_s, out_dtype):
    """sum sqrt(eig(middle)) with the clamping and slope-cap levels of the W2 loss."""
    dtype = middle.dtype
    middle = 0.5 * (middle + tf.transpose(middle))
    info = np.finfo(dtype.as_numpy_dtype)
    c = tf.cast(channels, dtype)
    norm_x = tf.stop_gradient(norm_x)
    # Rounding level of `middle`, from the norms of its factors (as in gaussian.gaussian_w2).
    value_tol = c * info.eps * norm_s * norm_x
    # The slope is capped near the precision the image covariance was computed in (float32 in the
    # engine): eigenvalues far below eps_in * |S| |C| are rounding noise of cov_x with arbitrary
    # eigenvectors. Measured against float64 features (random n < c clouds and VGG relu3_1 at 32 px):
    # no cap (float64 floor) put float32 gradients 10% off; a cap at 1 * eps_in, 4% off on VGG (it
    # flattens real small eigenvalues); 0.01 * eps_in agrees to 3e-4 on both. The floor never falls
    # below the style's own scale, so a collapsed image (cov_x ~ 0) still gets a finite push.
    eps_in = 0.01 * np.finfo(out_dtype.as_numpy_dtype).eps
    grad_floor = eps_in * norm_s * tf.maximum(norm_x, norm_s) + info.tiny
    return _trace_sqrt_psd(middle, value_tol, grad_floor)


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
    kernel = tf.matmul(d, tf.matmul(d, cov_s), transpose_b=True) / (n - 1.0)
    trace_x = tf.reduce_sum(tf.square(d)) / (n - 1.0)
    # tr(Sigma_x) >= |Sigma_x|_F stands in for the norm (it only sets rounding thresholds).
    cross = _cross_term(kernel, tf.shape(x)[1], trace_x, tf.norm(cov_s), out_dtype)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + trace_x + tf.linalg.trace(cov_s)
             - 2.0 * cross)
    return tf.cast(value, out_dtype)
