"""What a layer's cloud of features looks like beyond its mean and covariance (NumPy reference).

The paper (section 2) reshapes a layer's activations ``(h', w', c)`` into ``n = h'w'`` feature vectors
and summarises them by eq. 1's mean and covariance, *assuming* they are Gaussian. This module measures
what that summary keeps and what it leaves out:

- :func:`covariance_rank` and :func:`rank_bound`: eq. 1's :math:`\\Sigma` has rank at most
  :math:`\\min(n-1, c)`, so deep layers of small pictures give singular covariances;
- :func:`value_statistics`: ReLU features are non-negative, often exactly zero (sparse) and skewed,
  and the Gaussian with their mean and variance puts mass on negative values they never take;
- :func:`w2_to_fitted_gaussian`: how far (in 1-D W2) a channel is from that Gaussian, the kind of
  difference a sliced W2 loss sees and the Gaussian W2 of eq. 2 does not.

Taught in notebook ``00_the_course_and_a_picture_as_features.ipynb``. Everything is float64 NumPy.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import ndtr, ndtri

from .moments import as_samples, feature_moments

__all__ = ["ValueStats", "value_statistics", "covariance_rank", "rank_bound", "dead_channels",
           "w2_to_fitted_gaussian"]


class ValueStats(NamedTuple):
    """Shape statistics of feature values, one entry per channel (floats for a 1-D input).

    Attributes
    ----------
    count : int
        Number of samples ``n``.
    zero_fraction : float or ndarray, shape (c,)
        Fraction of values that are exactly 0 (a Gaussian has probability 0 of any single value).
    minimum, mean : float or ndarray, shape (c,)
    std : float or ndarray, shape (c,)
        Standard deviation with the ``n - 1`` of eq. 1.
    skewness : float or ndarray, shape (c,)
        :math:`m_3 / m_2^{3/2}` with central moments :math:`m_k = \\frac1n\\sum_i (x_i-\\bar x)^k`
        (``scipy.stats.skew``'s default); 0 for a Gaussian, NaN for a constant channel.
    excess_kurtosis : float or ndarray, shape (c,)
        :math:`m_4 / m_2^2 - 3` (``scipy.stats.kurtosis``'s default); 0 for a Gaussian, NaN for a
        constant channel.
    gaussian_negative_mass : float or ndarray, shape (c,)
        :math:`\\Phi(-\\mu/\\sigma)`: the probability the Gaussian :math:`\\mathcal N(\\mu, \\sigma^2)`
        fitted by eq. 1 gives to negative values (1 or 0 for a constant channel, by its sign).
    """

    count: int
    zero_fraction: np.ndarray
    minimum: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    skewness: np.ndarray
    excess_kurtosis: np.ndarray
    gaussian_negative_mass: np.ndarray


def _columns(values) -> tuple[np.ndarray, bool]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        return x[:, None], True
    return as_samples(x, "values"), False


def value_statistics(values) -> ValueStats:
    r"""Zero fraction, minimum, mean, standard deviation, skewness, excess kurtosis and the negative mass
    of the fitted Gaussian, for each channel.

    .. math::

        \gamma_1 = \frac{m_3}{m_2^{3/2}}, \qquad \gamma_2 = \frac{m_4}{m_2^2} - 3, \qquad
        P_{\mathcal N(\mu,\sigma^2)}(x < 0) = \Phi\!\left(-\frac{\mu}{\sigma}\right)

    with :math:`\sigma^2` the unbiased variance of eq. 1. For ReLU features the minimum is 0, many
    values are exactly 0 and :math:`\gamma_1 > 0`; a Gaussian has :math:`\gamma_1 = \gamma_2 = 0` and
    no atom at 0. Notebook ``00_the_course_and_a_picture_as_features.ipynb``.

    Parameters
    ----------
    values : array_like, shape (n,), (n, c) or (h, w, c)
        One channel's values, or feature vectors as rows (an activation map is flattened over pixels).

    Returns
    -------
    ValueStats
        Floats for a 1-D input, arrays of shape (c,) otherwise.
    """
    x, one = _columns(values)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"Shape statistics need at least 2 values, but there are {n}.")
    if not np.all(np.isfinite(x)):
        raise ValueError("values contains NaN or infinite values.")
    mean = x.mean(axis=0)
    d = x - mean
    m2 = np.mean(d ** 2, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, np.mean(d ** 3, axis=0) / m2 ** 1.5, np.nan)
        kurt = np.where(m2 > 0, np.mean(d ** 4, axis=0) / m2 ** 2 - 3.0, np.nan)
        std = np.sqrt(m2 * n / (n - 1))
        negative = np.where(std > 0, ndtr(-mean / np.where(std > 0, std, 1.0)), (mean < 0).astype(float))
    stats = (np.mean(x == 0, axis=0), x.min(axis=0), mean, std, skew, kurt, negative)
    if one:
        return ValueStats(n, *(float(s[0]) for s in stats))
    return ValueStats(n, *stats)


def rank_bound(n: int, c: int) -> int:
    r"""The largest rank eq. 1's covariance of ``n`` vectors in :math:`\mathbb R^c` can have.

    .. math:: \operatorname{rank}\Sigma \le \min(n - 1, c)

    :math:`\Sigma = \frac{1}{n-1} X_c^T X_c` with :math:`X_c` the centred ``n x c`` matrix, whose rows
    sum to zero: they span at most ``n - 1`` dimensions. Notebook ``00_the_course_and_a_picture_as_features``.
    """
    n, c = int(n), int(c)
    if n < 1 or c < 1:
        raise ValueError(f"n and c must be at least 1, got n={n}, c={c}.")
    return min(n - 1, c)


def covariance_rank(features) -> int:
    """Numerical rank of eq. 1's covariance of ``features`` (NumPy's ``matrix_rank``, default tolerance).

    At most :func:`rank_bound` ``(n, c)``; every dead channel (always 0, see :func:`dead_channels`) and every
    channel that is a linear combination of others lowers it further. A rank below ``c`` means the Gaussian
    of eq. 1 is flat (singular): the W2 of eq. 2 handles that (notebook 02). Notebook
    ``00_the_course_and_a_picture_as_features.ipynb``.

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)

    Returns
    -------
    int
    """
    return int(np.linalg.matrix_rank(feature_moments(features).cov, hermitian=True))


def dead_channels(features) -> np.ndarray:
    """Channels that are exactly 0 at every sample (a ReLU that never fired on this picture).

    Parameters
    ----------
    features : array_like, shape (n, c) or (h, w, c)

    Returns
    -------
    ndarray of bool, shape (c,)
    """
    return np.all(as_samples(features) == 0, axis=0)


def w2_to_fitted_gaussian(values) -> np.ndarray | float:
    r"""1-D W2 distance between each channel's values and the Gaussian with their mean and variance (eq. 1).

    In one dimension W2 compares quantile functions. With the sorted values :math:`x_{(i)}` and the
    Gaussian's quantiles at the midpoints :math:`t_i = (i - \tfrac12)/n`:

    .. math::

        W_2^2 \approx \frac1n \sum_{i=1}^n \big(x_{(i)} - \mu - \sigma\,\Phi^{-1}(t_i)\big)^2

    It is 0 (up to the midpoint rule) for a Gaussian channel and grows with the zero atom, the skew and
    the tails. The Gaussian W2 of eq. 2 between a channel and its own Gaussian summary is 0 by
    construction; a sliced W2 loss sees this difference along each direction it projects on.
    Notebook ``00_the_course_and_a_picture_as_features.ipynb``.

    Parameters
    ----------
    values : array_like, shape (n,), (n, c) or (h, w, c)

    Returns
    -------
    float or ndarray, shape (c,)
        In the units of the values (divide by ``std`` for a scale-free number).
    """
    x, one = _columns(values)
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"The W2 to a fitted Gaussian needs at least 2 values, but there are {n}.")
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1)
    quantiles = ndtri((np.arange(1, n + 1) - 0.5) / n)
    gaussian = mean + std * quantiles[:, None]
    w2 = np.sqrt(np.mean((np.sort(x, axis=0) - gaussian) ** 2, axis=0))
    return float(w2[0]) if one else w2
