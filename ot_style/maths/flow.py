r"""The gradient of eq. 2 with respect to the samples, and gradient descent on it (NumPy reference).

The paper says that "the gradient of this loss function ... provides an optimal transport plan". In
feature space that is exactly true, and this module is the computation behind it: the gradient of
:math:`W_2^2(N(\mu_y,\Sigma_y), N(\mu_s,\Sigma_s))` with respect to one sample :math:`y_i` of the cloud
whose moments are :math:`(\mu_y, \Sigma_y)` (eq. 1, divisor :math:`n-1`) is, up to the factor
:math:`2/(n-1)` and a mean term of relative size :math:`1/n`, the arrow :math:`y_i - T(y_i)` of the
Monge map :math:`T` from the cloud's Gaussian to the style's (:func:`ot_style.maths.gaussian.gaussian_monge_map`).
:func:`w2_gradient_flow` follows that gradient; every sample then slides along its arrow.
Notebook ``02b_the_gradient_is_a_transport_plan.ipynb`` derives the formula and animates the flow.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .gaussian import gaussian_monge_map, gaussian_w2
from .moments import as_samples, feature_moments

__all__ = ["sample_w2_squared", "w2_sample_gradient", "monge_step", "GradientFlow", "w2_gradient_flow"]


def _checked(samples, mean_s, cov_s):
    y = as_samples(samples, "samples")
    n, c = y.shape
    if n <= c:
        raise ValueError(
            f"The gradient of W2 needs more samples than dimensions (a full-rank covariance); "
            f"got {n} samples in {c} dimensions."
        )
    m = np.asarray(mean_s, dtype=np.float64).ravel()
    s = np.asarray(cov_s, dtype=np.float64)
    if m.shape != (c,) or s.shape != (c, c):
        raise ValueError(f"The samples have {c} components, so the target needs a mean of shape ({c},) and "
                         f"a ({c}, {c}) covariance; got {m.shape} and {s.shape}.")
    return y, m, s  # the rest (finite, symmetric) is checked by gaussian_monge_map


def sample_w2_squared(samples, mean_s, cov_s) -> float:
    r"""Squared W2 from the Gaussian fitted to ``samples`` (eq. 1) to :math:`N(\mu_s, \Sigma_s)` (eq. 2).

    .. math:: f(y_1, \dots, y_n) = W_2^2\big(N(\mu_y, \Sigma_y), N(\mu_s, \Sigma_s)\big)

    with :math:`\mu_y` the sample mean and :math:`\Sigma_y` the unbiased (divisor :math:`n-1`) covariance
    of :func:`ot_style.maths.moments.feature_moments`: the function whose gradient
    :func:`w2_sample_gradient` is. Notebook ``02b_the_gradient_is_a_transport_plan.ipynb``.

    Parameters
    ----------
    samples : array_like, shape (n, c)
    mean_s : array_like, shape (c,)
    cov_s : array_like, shape (c, c)

    Returns
    -------
    float
    """
    mean, cov = feature_moments(samples)
    return gaussian_w2(mean, cov, mean_s, cov_s, squared=True)


def w2_sample_gradient(samples, mean_s, cov_s) -> np.ndarray:
    r"""Gradient of :func:`sample_w2_squared` with respect to every sample.

    .. math::

        \frac{\partial W_2^2}{\partial y_i} = \frac{2}{n}(\mu_y-\mu_s) + \frac{2}{n-1}(I-A)(y_i-\mu_y)
        = \frac{2}{n-1}\Big(y_i - T(y_i) - \frac{1}{n}(\mu_y - \mu_s)\Big)

    with :math:`T(y) = \mu_s + A(y-\mu_y)` the Monge map from :math:`N(\mu_y,\Sigma_y)` to
    :math:`N(\mu_s,\Sigma_s)`, :math:`A = \Sigma_y^{-1/2}(\Sigma_y^{1/2}\Sigma_s\Sigma_y^{1/2})^{1/2}
    \Sigma_y^{-1/2}`. The first term comes from :math:`\partial W_2^2/\partial\mu_y = 2(\mu_y-\mu_s)`
    through :math:`\mu_y = \frac1n\sum_i y_i`; the second from
    :math:`\partial W_2^2/\partial\Sigma_y = I - A` through eq. 1 (the path through :math:`\mu_y` inside
    :math:`\Sigma_y` adds nothing, because the centred samples sum to zero). Derived in notebook
    ``02b_the_gradient_is_a_transport_plan.ipynb``.

    :math:`W_2^2` is differentiable where :math:`\Sigma_y` is positive definite; this needs
    :math:`n > c` samples in general position (``ValueError`` for :math:`n \le c`).

    Parameters
    ----------
    samples : array_like, shape (n, c)
    mean_s : array_like, shape (c,)
    cov_s : array_like, shape (c, c)

    Returns
    -------
    ndarray, shape (n, c)
    """
    y, m, s = _checked(samples, mean_s, cov_s)
    n = y.shape[0]
    mean, cov = feature_moments(y)
    a = gaussian_monge_map(mean, cov, m, s).matrix
    centred = y - mean
    return 2.0 / n * (mean - m) + 2.0 / (n - 1) * (centred - centred @ a)  # A symmetric: (I - A) d_i


def monge_step(n: int) -> float:
    r"""The gradient step :math:`\eta = (n-1)/2` that sends every centred sample onto its Monge image.

    .. math::

        y_i - \eta\,\frac{\partial W_2^2}{\partial y_i} = T(y_i) + \frac{1}{n}(\mu_y - \mu_s)
        \quad\text{for } \eta = \frac{n-1}{2}

    Exact, not only to first order: after this one step the cloud's covariance is
    :math:`A\Sigma_yA = \Sigma_s`, and its mean is off by :math:`(\mu_y-\mu_s)/n`. Notebook
    ``02b_the_gradient_is_a_transport_plan.ipynb``.
    """
    if int(n) < 2:
        raise ValueError(f"A sample covariance needs at least 2 samples, got {n}.")
    return (int(n) - 1) / 2.0


class GradientFlow(NamedTuple):
    """What :func:`w2_gradient_flow` returns.

    Attributes
    ----------
    path : ndarray, shape (steps + 1, n, c)
        The samples before the first step (``path[0]``) and after each step.
    w2_squared : ndarray, shape (steps + 1,)
        :func:`sample_w2_squared` of each ``path[k]``.
    step : float
        The step size :math:`\\eta` used.
    """

    path: np.ndarray
    w2_squared: np.ndarray
    step: float


def w2_gradient_flow(samples, mean_s, cov_s, *, step: float, steps: int) -> GradientFlow:
    r"""Plain gradient descent on :func:`sample_w2_squared`, moving every sample.

    .. math:: y_i^{(k+1)} = y_i^{(k)} - \eta\,\frac{\partial W_2^2}{\partial y_i}\big(y^{(k)}\big)

    With :math:`\eta = t\,(n-1)/2`, :math:`0 < t \le 1`, each step moves every centred sample the
    fraction :math:`t` of the way along its arrow to :math:`T(y_i)` (the cloud moves along the W2
    geodesic), and the mean by the fraction :math:`t(n-1)/n`; :func:`monge_step` is :math:`t = 1`.
    Notebook ``02b_the_gradient_is_a_transport_plan.ipynb`` animates it.

    Parameters
    ----------
    samples : array_like, shape (n, c)
        Start cloud, :math:`n > c`.
    mean_s : array_like, shape (c,)
    cov_s : array_like, shape (c, c)
        The target Gaussian.
    step : float
        :math:`\eta > 0`.
    steps : int
        Number of steps, at least 0.

    Returns
    -------
    GradientFlow
    """
    y, m, s = _checked(samples, mean_s, cov_s)
    eta = float(step)
    if not (np.isfinite(eta) and eta > 0):
        raise ValueError(f"The step size must be a positive number, got {step!r}.")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a whole number of at least 0, got {steps!r}.")
    path = [y]
    for _ in range(int(steps)):
        path.append(path[-1] - eta * w2_sample_gradient(path[-1], m, s))
    path = np.stack(path)
    return GradientFlow(path, np.array([sample_w2_squared(p, m, s) for p in path]), eta)
