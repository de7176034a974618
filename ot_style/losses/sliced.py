"""The sliced Wasserstein loss on features (Heitz et al. 2021): exact 1-D transport along random directions."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import DEFAULT
from .base import StyleLoss

__all__ = ["SlicedLoss", "resample_sorted"]


def resample_sorted(sorted_values, n):
    """Linear interpolation of a sorted sample's quantile function at ``n`` mid-point quantiles.

    Output ``i`` is the value at fractional index ``(i + 1/2) m / n - 1/2`` of the ``m`` input rows
    (clipped to the ends); with ``n == m`` it returns the input. Works on NumPy arrays and tf.Tensors
    (shape (m, L) -> (n, L)); used by the sliced loss when the image and style sample counts differ.
    """
    if isinstance(sorted_values, np.ndarray):
        m = sorted_values.shape[0]
        q = np.clip((np.arange(n) + 0.5) * m / n - 0.5, 0.0, m - 1.0)
        lo = np.floor(q).astype(int)
        hi = np.minimum(lo + 1, m - 1)
        frac = (q - lo)[:, None]
        return sorted_values[lo] * (1.0 - frac) + sorted_values[hi] * frac
    dtype = sorted_values.dtype
    m = tf.shape(sorted_values)[0]
    mf = tf.cast(m, dtype)
    q = (tf.cast(tf.range(n), dtype) + 0.5) * mf / tf.cast(n, dtype) - 0.5
    q = tf.clip_by_value(q, 0.0, mf - 1.0)
    lo = tf.floor(q)
    frac = (q - lo)[:, None]
    lo = tf.cast(lo, tf.int32)
    hi = tf.minimum(lo + 1, m - 1)
    return tf.gather(sorted_values, lo) * (1.0 - frac) + tf.gather(sorted_values, hi) * frac


class SlicedLoss(StyleLoss):
    r"""Sliced Wasserstein on features (Heitz et al. 2021; the optimisation form of Optimal Textures).

    .. math::

        SW_2^2 = \frac{1}{L}\sum_{l=1}^{L}\frac{1}{n}\sum_{i=1}^{n}
                 \big(\operatorname{sort}(X\theta_l)_i - \operatorname{sort}(S\theta_l)_i\big)^2

    The ``L`` unit directions are drawn per layer in :meth:`prepare` (seeded) and stay fixed until the
    next prepare, so L-BFGS sees one deterministic objective; the style projections are sorted once.
    When the style has ``m != n`` samples, its sorted projections are resampled at the image's ``n``
    quantiles by linear interpolation (:func:`resample_sorted`). Several styles mix by the weighted
    mean of their quantile functions, which is the 1-D Wasserstein barycentre per direction. Twin of
    :func:`ot_style.maths.emd.sliced_w2` (squared); notebooks ``03_the_cost_of_exact_emd.ipynb`` (sliced
    W2), ``05_losses_side_by_side.ipynb`` and ``08_strotss_and_optimal_textures.ipynb`` (against Optimal
    Textures' histogram matching, and its blind directions).
    """

    name = "sliced"

    def __init__(self, layers, layer_weights=None, *, n_projections: int | None = None, per_layer=False,
                 normalise=None):
        super().__init__(layers, layer_weights, per_layer=per_layer, normalise=normalise)
        n_projections = DEFAULT.sliced_projections if n_projections is None else n_projections
        if int(n_projections) < 1:
            raise ValueError(f"The sliced loss needs at least 1 projection, got {n_projections}.")
        self.n_projections = int(n_projections)

    def layer_target(self, layer, clouds, weights, seed):
        rng = np.random.default_rng(seed)
        directions = rng.standard_normal((clouds[0].shape[1], self.n_projections))
        directions /= np.linalg.norm(directions, axis=0, keepdims=True)
        sorted_proj = [np.sort(x @ directions, axis=0) for x, w in zip(clouds, weights) if w > 0]
        kept = weights[weights > 0]
        if len(sorted_proj) == 1:
            return directions, sorted_proj[0]
        m = max(p.shape[0] for p in sorted_proj)
        return directions, sum(w * resample_sorted(p, m) for w, p in zip(kept, sorted_proj))

    def blank_value(self, target):
        return float(np.mean(np.square(target[1])))  # every projection of a blank picture is 0

    def score(self, x, target):
        directions, style_sorted = target
        projected = tf.sort(tf.matmul(x, directions), axis=0)
        matched = resample_sorted(style_sorted, tf.shape(x)[0])
        return tf.reduce_mean(tf.square(projected - matched))
