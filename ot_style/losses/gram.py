"""Gatys et al.'s Gram loss (eq. 4 of the paper), the one the paper replaces; notebook 01 shows why."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import DEFAULT, GRAM_NORMALISATIONS
from ..maths.moments import gram_matrix
from .base import StyleLoss

__all__ = ["GramLoss"]


class GramLoss(StyleLoss):
    r"""Gatys et al.'s Gram loss (eq. 4 of the paper), summed over layers.

    .. math:: E_k = \kappa_k \lVert G_x - G_s \rVert_F^2, \qquad G = \tfrac{1}{n} F^T F

    ``normalisation="mean"``: :math:`\kappa=1` with :func:`ot_style.maths.moments.gram_matrix` (equal to
    :func:`ot_style.maths.gaussian.gatys_style_loss` with divide-by-n covariances). ``"gatys"``:
    :math:`\kappa = 1/(4N^2)` with ``N`` channels, which is Gatys' :math:`\frac{1}{4N^2M^2}\lVert F^TF -
    S^TS\rVert^2` when both images have ``M`` pixels (each Gram is divided by its own pixel count, so
    sizes may differ). Several styles mix by the weighted mean of their Grams. Notebook
    ``01_gram_is_not_a_metric.ipynb``.
    """

    name = "gram"

    def __init__(self, layers, layer_weights=None, *, normalisation: str | None = None, per_layer=False,
                 normalise=None):
        super().__init__(layers, layer_weights, per_layer=per_layer, normalise=normalise)
        normalisation = DEFAULT.gram_normalisation if normalisation is None else normalisation
        if normalisation not in GRAM_NORMALISATIONS:
            raise ValueError(f"Unknown Gram normalisation {normalisation!r}; choose one of "
                             f"{', '.join(GRAM_NORMALISATIONS)}.")
        self.normalisation = normalisation

    def layer_target(self, layer, clouds, weights, seed):
        return (sum(w * gram_matrix(x) for w, x in zip(weights, clouds)),)

    def blank_value(self, target):
        gram = np.asarray(target[0])
        kappa = 1.0 / (4.0 * gram.shape[0] ** 2) if self.normalisation == "gatys" else 1.0
        return kappa * float(np.sum(gram**2))

    tileable = True

    def score_from_sums(self, s1, s2, n, target):
        """The same loss from the sum of the samples' outer products (tiled evaluation): G = S_2 / n."""
        return self._distance(s2 / tf.cast(n, s2.dtype), target)

    def score(self, x, target):
        n = tf.cast(tf.shape(x)[0], x.dtype)
        return self._distance(tf.matmul(x, x, transpose_a=True) / n, target)

    def _distance(self, gram, target):
        diff = gram - tf.cast(target[0], gram.dtype)
        value = tf.reduce_sum(tf.square(diff))
        if self.normalisation == "gatys":
            c = tf.cast(tf.shape(gram)[0], gram.dtype)
            value = value / (4.0 * c * c)
        return value
