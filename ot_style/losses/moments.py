"""Moment matching (STROTSS's :math:`l_m`) per layer: the means and covariances compared entry by entry."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..maths.moments import feature_moments
from .base import StyleLoss, moments_from_sums, tf_moments

__all__ = ["MomentsLoss"]


class MomentsLoss(StyleLoss):
    r"""STROTSS's moment matching :math:`l_m` at each layer (Kolkin et al. 2019, seed 002).

    .. math:: l_m = \frac{1}{C}\lVert\mu_x-\mu_s\rVert_1 + \frac{1}{C^2}\lVert\Sigma_x-\Sigma_s\rVert_1

    with the unbiased covariance of eq. 1: the TensorFlow twin of
    :func:`ot_style.maths.gaussian.moment_distance`. STROTSS applies it to hypercolumns (``"strotss"``
    does); here it is applied per layer and summed. Several styles mix by the weighted mean of their
    moments. Notebook ``05_losses_side_by_side.ipynb``.
    """

    name = "moments"

    def layer_target(self, layer, clouds, weights, seed):
        gaussians = [feature_moments(x) for x in clouds]
        return (sum(w * g.mean for w, g in zip(weights, gaussians)),
                sum(w * g.cov for w, g in zip(weights, gaussians)))

    def blank_value(self, target):
        return float(np.mean(np.abs(target[0])) + np.mean(np.abs(target[1])))

    tileable = True

    def score_from_sums(self, s1, s2, n, target):
        """The same distance from the sums of the samples and of their outer products (tiled evaluation)."""
        return self._distance(*moments_from_sums(s1, s2, n), target)

    def score(self, x, target):
        return self._distance(*tf_moments(x), target)

    def _distance(self, mean_x, cov_x, target):
        return (tf.reduce_mean(tf.abs(mean_x - tf.cast(target[0], mean_x.dtype)))
                + tf.reduce_mean(tf.abs(cov_x - tf.cast(target[1], cov_x.dtype))))
