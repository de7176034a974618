r"""The paper's loss in TensorFlow: eq. 2 between the image's feature Gaussian and the style's, eq. 3 over layers.

This is the readable twin of :func:`ot_style.maths.gaussian.gaussian_w2` that the optimiser
differentiates (a test binds the two to 1e-6). Read it top to bottom: :func:`w2_squared_to_target` is
eq. 2 against a style whose covariance square root is computed once per scale, with the cross term
:math:`\operatorname{tr}(\Sigma_s^{1/2}\Sigma_x\Sigma_s^{1/2})^{1/2}` as the sum of square roots of
eigenvalues (:func:`trace_sqrt_psd`, differentiating the eigenvalues only);
:func:`w2_squared_few_samples` is the same number through an n x n matrix when an image has fewer
feature vectors than channels; :class:`W2Loss` sums it over layers (eq. 3). Notebook
``02_wasserstein_between_gaussians.ipynb`` derives the formula.

On a CPU the per-step matrix work (float64 products and the eigendecomposition) runs in NumPy/LAPACK
instead of TF ops, computing the same numbers (the private :mod:`ot_style.losses._w2_host`);
:func:`matrix_route` chooses the route explicitly (tests and benchmarks compare the two).
"""

from __future__ import annotations

import contextlib

import numpy as np
import tensorflow as tf

from ..maths import gaussian
from ..maths.moments import Moments, feature_moments
from . import _w2_host
from .base import StyleLoss, moments_from_sums, tf_moments

__all__ = ["W2Loss", "w2_squared_to_target", "w2_squared_few_samples", "trace_sqrt_psd", "rounding_levels",
           "matrix_route", "mix_gaussians"]


@contextlib.contextmanager
def matrix_route(route: str):
    """Where the W2 loss's per-step matrix work runs in graphs traced inside this block.

    ``"host"``: NumPy/LAPACK through ``tf.numpy_function`` (the CPU default); ``"graph"``: TensorFlow
    ops (the GPU default, and what this module reads as); ``"auto"``: the device decides. The route is
    fixed when a ``tf.function`` is traced, so trace inside the block::

        with matrix_route("graph"):
            value = tf.function(loss_terms)(image)
    """
    previous = _w2_host.set_route(route)
    try:
        yield
    finally:
        _w2_host.set_route(previous)


def trace_sqrt_psd(middle, value_tol, grad_floor):
    """sum_i sqrt(lam_i) of the symmetric part of a PSD matrix, differentiating the eigenvalues only (TF ops).

    d(sum f(lam))/dM = V diag(f'(lam)) V^T holds for any symmetric M, including repeated eigenvalues,
    so the 1/(lam_i - lam_j) terms of an eigendecomposition's own gradient never appear. f'(lam) =
    1/(2 sqrt(lam)) is infinite at lam = 0 (a rank-deficient image covariance); it is capped at
    1/(2 sqrt(grad_floor)), with grad_floor at the rounding level of M, where lam is not known even in
    sign. Departure from exact calculus, needed for a finite gradient; it still points the right way
    (more spread in directions the style has and the image lacks). The CPU route computes the same in
    NumPy (``ot_style.losses._w2_host.sqrt_spectrum``).
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


def w2_squared_to_target(mean_x, cov_x, mean_s, cov_s, sqrt_cov_s, *, features_dtype=None) -> tf.Tensor:
    r"""Squared Gaussian W2 from the image's moments to a fixed style Gaussian (eq. 2, squared).

    .. math::

        W_2^2 = \lVert\mu_x-\mu_s\rVert^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_s
                - 2\sum_i \sqrt{\lambda_i\big(\Sigma_s^{1/2}\Sigma_x\Sigma_s^{1/2}\big)}

    ``sqrt_cov_s`` is computed once per scale (:func:`ot_style.maths.gaussian.sqrtm_psd`); each call
    costs one symmetric eigendecomposition. It runs in the dtype of the style target (float64 from
    :class:`W2Loss`), whatever the image's dtype: in float32 the symmetric form squares the condition
    number, and at relu3_1 of a 32-pixel image (64 samples, 256 channels) a float32 eigendecomposition
    put W2^2 of the style to itself at 5% of its trace instead of 0; at a stylised image float32 matrix
    work puts the pixel gradient far off a float64 reference (``benchmarks/w2_precision.py``). The
    result has the dtype of ``cov_x``. The gradient goes through the eigenvalues only (capped near 0,
    see :func:`trace_sqrt_psd`), so it is finite when :math:`\Sigma_x` is rank-deficient (fewer pixels
    than channels, dead ReLUs). Unlike the NumPy reference the result is not clamped at 0 (it can be about
    ``-1e-7 * tr`` in float32), so that the gradient is never cut off. It is differentiable in the image
    moments only: the style side is a fixed target (``sqrt_cov_s`` is not tied to ``cov_s``, and on a CPU
    the cross term's gradient is computed for ``cov_x`` alone, see :func:`matrix_route`). Twin of
    :func:`ot_style.maths.gaussian.gaussian_w2` (``squared=True``); notebook
    ``02_wasserstein_between_gaussians.ipynb``.

    Parameters
    ----------
    mean_x : tf.Tensor, shape (c,)
    cov_x : tf.Tensor, shape (c, c)
        Image moments (differentiable), e.g. from :func:`tf_moments`.
    mean_s, cov_s, sqrt_cov_s : tf.Tensor, shapes (c,), (c, c), (c, c)
        Style target and the symmetric square root of its covariance.
    features_dtype : tf.DType, optional
        The precision of the features the image moments came from (default: ``cov_x``'s dtype); it
        sets the slope cap of :func:`rounding_levels`.

    Returns
    -------
    tf.Tensor, scalar
    """
    out_dtype = cov_x.dtype
    dtype = tf.as_dtype(sqrt_cov_s.dtype)
    mean_x, cov_x = tf.cast(mean_x, dtype), tf.cast(cov_x, dtype)
    mean_s, cov_s = tf.cast(mean_s, dtype), tf.cast(cov_s, dtype)
    # The slope cap follows the precision of the features the moments came from (float32 in the engine,
    # even when the tiled evaluation has summed them in float64).
    precision = out_dtype if features_dtype is None else tf.as_dtype(features_dtype)
    value_tol, grad_floor = rounding_levels(tf.shape(cov_x)[0], tf.norm(cov_x), tf.norm(cov_s), precision)
    if _w2_host.on_host():
        cross = _w2_host.host_op(_w2_host.host_sandwich, cov_x, [sqrt_cov_s, value_tol, grad_floor],
                                 "w2_cross_term")
    else:
        middle = tf.matmul(sqrt_cov_s, tf.matmul(cov_x, sqrt_cov_s))
        cross = trace_sqrt_psd(middle, value_tol, grad_floor)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + tf.linalg.trace(cov_x)
             + tf.linalg.trace(cov_s) - 2.0 * cross)
    return tf.cast(value, out_dtype)


def rounding_levels(channels, norm_x, norm_s, out_dtype):
    """(value_tol, grad_floor) of the W2 cross term: eigenvalues below value_tol count as 0, slopes are
    capped at 1 / (2 sqrt(grad_floor)) (see :func:`trace_sqrt_psd`). In the dtype of ``norm_s``."""
    dtype = norm_s.dtype
    info = np.finfo(dtype.as_numpy_dtype)
    c = tf.cast(channels, dtype)
    norm_x = tf.stop_gradient(norm_x)
    # Rounding level of the middle matrix, from the norms of its factors (as in maths.gaussian.gaussian_w2).
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


def w2_squared_few_samples(x, mean_s, cov_s):
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
    value_tol, grad_floor = rounding_levels(tf.shape(x)[1], trace_x, tf.norm(cov_s), out_dtype)
    if _w2_host.on_host():
        cross = _w2_host.host_op(_w2_host.host_kernel, d, [cov_s, n - 1.0, value_tol, grad_floor],
                                 "w2_cross_term_samples")
    else:
        kernel = tf.matmul(d, tf.matmul(d, cov_s), transpose_b=True) / (n - 1.0)
        cross = trace_sqrt_psd(kernel, value_tol, grad_floor)
    value = (tf.reduce_sum(tf.square(mean_x - mean_s)) + trace_x + tf.linalg.trace(cov_s)
             - 2.0 * cross)
    return tf.cast(value, out_dtype)


def mix_gaussians(clouds, weights) -> Moments:
    """The Gaussian of one style's feature clouds, or the W2 barycentre of several (style mixing)."""
    gaussians = [feature_moments(x) for x in clouds]
    if np.count_nonzero(weights) == 1:  # one style: its own moments, exactly
        return gaussians[int(np.argmax(weights))]
    # objective_tol: three or more rank-deficient styles (deep layers) would crawl for minutes otherwise.
    return gaussian.gaussian_barycenter([g.mean for g in gaussians], [g.cov for g in gaussians], weights,
                                        objective_tol=1e-7)


class W2Loss(StyleLoss):
    r"""Eq. 3 of the paper: the squared Gaussian W2 between image and style features, summed over layers.

    .. math:: \mathcal{L} = \sum_k w_k\, W_2^2\big(N(\mu_{x_k},\Sigma_{x_k}), N(\mu_{s_k},\Sigma_{s_k})\big)

    The style moments (eq. 1) and :math:`\Sigma_s^{1/2}` are computed once per scale in float64; several
    styles are mixed by their Wasserstein barycentre (:func:`ot_style.maths.gaussian.gaussian_barycenter`).
    Notebooks ``02_wasserstein_between_gaussians.ipynb`` and ``05_losses_side_by_side.ipynb``.

    ``compute_dtype`` (default: the config's ``w2_compute_dtype``, ``"float64"``) is the dtype of the
    targets and of the per-step eigendecomposition (see :func:`w2_squared_to_target`); the image
    moments are computed in the features' dtype and cast up. ``"features"`` keeps everything in the
    features' dtype.
    """

    name = "w2"

    def __init__(self, layers, layer_weights=None, *, compute_dtype=None, per_layer=False, normalise=None):
        super().__init__(layers, layer_weights, per_layer=per_layer, normalise=normalise)
        if compute_dtype is None:
            from ..config import DEFAULT

            compute_dtype = DEFAULT.w2_compute_dtype
        self.compute_dtype = None if compute_dtype == "features" else tf.as_dtype(compute_dtype)

    def target_dtype(self, features_dtype):
        return features_dtype if self.compute_dtype is None else self.compute_dtype

    def layer_target(self, layer, clouds, weights, seed):
        mean, cov = mix_gaussians(clouds, weights)
        return mean, cov, gaussian.sqrtm_psd(cov)

    def blank_value(self, target):
        # W2^2 from the point mass at 0 to N(mu, S): |mu|^2 + tr S, the style's second moment.
        mean, cov = np.asarray(target[0]), np.asarray(target[1])
        return float(mean @ mean + np.trace(cov))

    tileable = True

    def score_from_sums(self, s1, s2, n, target):
        """The same W2^2 from the sums of the samples and of their outer products (float64), for the
        exact tiled evaluation (:mod:`ot_style.engine.tiled`): eq. 1 from sums, then eq. 2."""
        mean, cov = moments_from_sums(s1, s2, n)
        return w2_squared_to_target(mean, cov, *target, features_dtype=tf.float32)

    def score(self, x, target):
        def full():
            mean_x, cov_x = tf_moments(x)
            return w2_squared_to_target(mean_x, cov_x, *target)

        def few():
            return w2_squared_few_samples(x, target[0], target[1])

        n, c = x.shape[0], x.shape[1]
        if c is None:
            return full()
        if n is not None:  # static shape, as in the engine (LossAndGradient traces each image size)
            return few() if n < c else full()
        # Unknown sample count (a caller's graph traced for any image size): both branches are traced and
        # the cheaper one runs. The engine avoids this: the cond's gradient is slow to trace (~2 s).
        return tf.cond(tf.shape(x)[0] < c, few, full)
