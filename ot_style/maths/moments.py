"""First and second moments of a cloud of feature vectors (NumPy reference).

The paper (eq. 1) summarises the ``n = h'w'`` feature vectors an image produces at one layer by their
mean and unbiased covariance; Gatys et al. use the raw second moment (the Gram matrix) instead.
Notebook ``01_gram_is_not_a_metric.ipynb`` explains why the difference matters.

Everything here is float64 NumPy; the TensorFlow twins live in :mod:`ot_style.losses` (``tf_moments`` in
:mod:`ot_style.losses.base`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Moments", "feature_moments", "gram_matrix", "masked_moments", "as_samples"]


class Moments(NamedTuple):
    """Mean and covariance of a feature cloud (a Gaussian summary, eq. 1 of the paper).

    Attributes
    ----------
    mean : ndarray, shape (c,)
    cov : ndarray, shape (c, c)
    """

    mean: np.ndarray
    cov: np.ndarray


def as_samples(features, name: str = "features") -> np.ndarray:
    """Return ``features`` as a float64 array of shape (n, c).

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)
        Feature vectors as rows, or an activation map whose pixels are the samples.
    name : str
        How the error message calls the argument.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim == 3:
        x = x.reshape(-1, x.shape[-1])
    elif x.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, c) or (h, w, c), but it has shape {x.shape}."
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> Moments:
    # One kernel for the plain and the weighted case, so that 0/1 weights give bit-for-bit the
    # moments of the selected rows (the multiplications by 1.0 are exact).
    v1 = w.sum()
    v2 = np.dot(w, w)
    mean = (w[:, None] * x).sum(axis=0) / v1
    d = x - mean
    cov = (d.T * w) @ d / (v1 - v2 / v1)
    return Moments(mean, 0.5 * (cov + cov.T))


def feature_moments(features) -> Moments:
    r"""Sample mean and unbiased covariance of feature vectors (eq. 1 of the paper).

    .. math::

        \mu = \frac{1}{n}\sum_{i=1}^n x_i, \qquad
        \Sigma = \frac{1}{n-1}\sum_{i=1}^n (x_i-\mu)(x_i-\mu)^T

    Explained in notebook ``01_gram_is_not_a_metric.ipynb``.

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)
        ``n`` feature vectors of ``c`` channels (an activation map is flattened over its pixels).

    Returns
    -------
    Moments
        ``mean`` (c,) and ``cov`` (c, c), float64, the same as ``x.mean(0)`` and ``np.cov(x.T)``.
    """
    x = as_samples(features)
    if x.shape[0] < 2:
        raise ValueError(
            f"The covariance needs at least 2 feature vectors, but there are {x.shape[0]}."
        )
    return _weighted_moments(x, np.ones(x.shape[0]))


def gram_matrix(features) -> np.ndarray:
    r"""The Gram matrix of Gatys et al.: the non-central second moment of the features.

    .. math::

        G = \frac{1}{n} F^T F = \Sigma_{\text{biased}} + \mu\mu^T

    (with the biased, divide-by-``n`` covariance), as in the theory notebook; with eq. 1's unbiased
    :math:`\Sigma` it is :math:`\tfrac{n-1}{n}\Sigma + \mu\mu^T`. Explained in notebook
    ``01_gram_is_not_a_metric.ipynb``.

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)

    Returns
    -------
    ndarray, shape (c, c)
    """
    x = as_samples(features)
    if x.shape[0] < 1:
        raise ValueError("The Gram matrix needs at least 1 feature vector, but there are none.")
    return x.T @ x / x.shape[0]


def masked_moments(features, weights) -> Moments:
    r"""Weighted mean and covariance of feature vectors (the NumPy reference for spatial guidance).

    With weights :math:`w_i \ge 0`, :math:`V_1 = \sum_i w_i` and :math:`V_2 = \sum_i w_i^2`:

    .. math::

        \mu = \frac{1}{V_1}\sum_i w_i x_i, \qquad
        \Sigma = \frac{1}{V_1 - V_2/V_1}\sum_i w_i (x_i-\mu)(x_i-\mu)^T

    This is the covariance that is unbiased for *reliability* weights (``np.cov(..., aweights=w)``).
    It does not depend on the scale of ``w``, and with 0/1 weights it is exactly eq. 1 applied to
    the selected rows (:math:`V_1 = V_2 = k`, so the divisor is ``k - 1``). Pixels with weight 0 are
    ignored, whatever their values. Used by the spatial guidance of :mod:`ot_style.losses.guided`;
    the masks and these moments are taught in notebook ``06_colour_texture_and_mixing.ipynb``
    (unweighted eq. 1 in ``01_gram_is_not_a_metric.ipynb``).

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)
    weights : array_like, shape (n,) or (h, w)
        Non-negative weights, one per feature vector (a soft or hard mask).

    Returns
    -------
    Moments
        ``mean`` (c,) and ``cov`` (c, c), float64.
    """
    x = as_samples(features)
    w = np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape[0] != x.shape[0]:
        raise ValueError(
            f"There must be one weight per feature vector: {x.shape[0]} vectors but "
            f"{w.shape[0]} weights (shape {np.shape(weights)})."
        )
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("Weights must be finite and non-negative.")
    keep = w > 0
    if np.count_nonzero(keep) < 2:
        raise ValueError(
            "The weighted covariance needs at least 2 feature vectors with positive weight, "
            f"but there are {np.count_nonzero(keep)}."
        )
    # Drop the zero-weight rows first: they then cannot contribute even through 0 * inf or rounding.
    return _weighted_moments(x[keep], w[keep])
