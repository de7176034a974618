r"""STROTSS (Kolkin, Salavon and Shakhnarovich 2019) in TensorFlow: relaxed EMD, moments, colour, self-similarity.

The formulas are those of the seed ``002`` (a faithful summary of the paper):

.. math::

    \mathcal{L} = \frac{\alpha\, l_c + l_m + l_r + \alpha^{-1} l_p}{2 + \alpha + \alpha^{-1}}

with :math:`l_r` the relaxed EMD with cosine cost between hypercolumns, :math:`l_m` moment matching on
the same hypercolumns, :math:`l_p` the relaxed EMD with Euclidean cost between pixel colours and
:math:`l_c` the self-similarity content loss. :class:`StrotssLoss` returns the three style terms (each
already divided by the normaliser); the content term :math:`\alpha l_c / (2+\alpha+\alpha^{-1})` is
:class:`ot_style.losses.content.SelfSimilarityLoss`, built by ``make_content_loss("self_similarity", ...)``
(:mod:`ot_style.losses.registry`); the helpers here (hypercolumns, cost matrices, relaxed EMD,
self-similarity) are its building blocks too. For texture
synthesis there is no content term. Notebook ``05_losses_side_by_side.ipynb``.

Departures from the original code, for a deterministic objective that L-BFGS can use: sample locations
are drawn once per :meth:`prepare` (seeded) instead of every step, hypercolumns are bilinear samples of
each layer at those locations (not full upsampled maps), the colour term uses RGB rather than YUV, and
there is no RGB channel in the hypercolumn.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import DEFAULT
from ..maths.moments import feature_moments
from .base import StyleLoss, dtype_of, mixing_weights_of, tf_moments

__all__ = ["StrotssLoss", "sample_bilinear", "hypercolumns", "cosine_cost", "euclidean_cost", "relaxed_emd",
           "self_similarity", "uniform_coords"]


def sample_bilinear(feature_map, coords) -> tf.Tensor:
    """Bilinear samples of a feature map at normalised locations.

    Parameters
    ----------
    feature_map : tf.Tensor, shape (1, h, w, c) or (h, w, c)
    coords : tf.Tensor, shape (N, 2)
        (row, column) in [0, 1]; 0 is the first pixel centre and 1 the last (align-corners), so the
        same coordinates address the same place at every layer and image size.

    Returns
    -------
    tf.Tensor, shape (N, c)
    """
    f = tf.convert_to_tensor(feature_map)
    if f.shape.rank == 4:
        f = f[0]
    h, w = tf.shape(f)[0], tf.shape(f)[1]
    c = f.shape[-1] if f.shape[-1] is not None else tf.shape(f)[-1]
    coords = tf.cast(coords, f.dtype)
    y = coords[:, 0] * tf.cast(h - 1, f.dtype)
    x = coords[:, 1] * tf.cast(w - 1, f.dtype)
    y0, x0 = tf.floor(y), tf.floor(x)
    wy, wx = (y - y0)[:, None], (x - x0)[:, None]
    y0 = tf.clip_by_value(tf.cast(y0, tf.int32), 0, h - 1)
    x0 = tf.clip_by_value(tf.cast(x0, tf.int32), 0, w - 1)
    y1, x1 = tf.minimum(y0 + 1, h - 1), tf.minimum(x0 + 1, w - 1)
    flat = tf.reshape(f, [-1, c])

    def at(r, q):
        return tf.gather(flat, r * w + q)

    return ((1.0 - wy) * ((1.0 - wx) * at(y0, x0) + wx * at(y0, x1))
            + wy * ((1.0 - wx) * at(y1, x0) + wx * at(y1, x1)))


def hypercolumns(features, layers, coords) -> tf.Tensor:
    """Concatenate the bilinear samples of every layer at ``coords``: (N, sum of channels)."""
    return tf.concat([sample_bilinear(features[layer], coords) for layer in layers], axis=1)


def _normalise_rows(x):
    # l2_normalize divides by sqrt(max(|x|^2, 1e-12)): a dead (all-zero) hypercolumn gives 0, not NaN.
    return tf.math.l2_normalize(x, axis=1, epsilon=1e-12)


def cosine_cost(a, b) -> tf.Tensor:
    r"""Cosine distance matrix :math:`D_{ij} = 1 - a_i\cdot b_j / (\lVert a_i\rVert \lVert b_j\rVert)`, (N, M)."""
    return 1.0 - tf.matmul(_normalise_rows(a), _normalise_rows(b), transpose_b=True)


def euclidean_cost(a, b) -> tf.Tensor:
    r"""Euclidean distance matrix :math:`D_{ij} = \lVert a_i - b_j\rVert_2`, (N, M).

    The square root is taken of ``max(d^2, tiny)`` so the gradient stays finite when two points coincide.
    """
    d2 = tf.reduce_sum(tf.square(a[:, None, :] - b[None, :, :]), axis=-1)
    return tf.sqrt(tf.maximum(d2, np.finfo(d2.dtype.as_numpy_dtype).tiny))


def relaxed_emd(cost) -> tf.Tensor:
    r"""Relaxed EMD of Kolkin et al. from a cost matrix (N, M).

    .. math:: \max\Big(\frac1N\sum_i\min_j D_{ij},\ \frac1M\sum_j\min_i D_{ij}\Big)
    """
    return tf.maximum(tf.reduce_mean(tf.reduce_min(cost, axis=1)),
                      tf.reduce_mean(tf.reduce_min(cost, axis=0)))


def self_similarity(x) -> tf.Tensor:
    r"""Column-normalised cosine self-distance :math:`D_{ij} / \sum_i D_{ij}` of samples (N, c) -> (N, N)."""
    d = cosine_cost(x, x)
    total = tf.reduce_sum(d, axis=0, keepdims=True)
    return d / tf.maximum(total, np.finfo(d.dtype.as_numpy_dtype).tiny)


def uniform_coords(rng, n):
    """``n`` seeded (row, column) locations, uniform in [0, 1]^2."""
    return rng.uniform(0.0, 1.0, size=(int(n), 2))


class StrotssLoss(StyleLoss):
    r"""The style terms of STROTSS: :math:`(l_r + l_m + \alpha^{-1} l_p) / (2+\alpha+\alpha^{-1})`.

    .. math::

        l_r = \operatorname{REMD}_{\cos}(\bar\varphi_s, \bar\varphi_x), \quad
        l_m = \tfrac{1}{C}\lVert\mu_s-\mu_x\rVert_1 + \tfrac{1}{C^2}\lVert\Sigma_s-\Sigma_x\rVert_1, \quad
        l_p = \operatorname{REMD}_{\ell_2}(\bar x_s, \bar x)

    on hypercolumns :math:`\bar\varphi` (all ``layers`` concatenated, ``C`` channels) and pixels at
    ``samples`` locations. Returns ``{"style/remd", "style/moments", "style/colour"}``. Several styles
    contribute samples in proportion to their weights; their moments mix linearly. ``layer_weights``
    are accepted for a uniform interface and ignored (STROTSS concatenates layers unweighted).

    Parameters
    ----------
    layers : sequence of str
    layer_weights : ignored
    alpha : float
        STROTSS's content weight :math:`\alpha > 0` (it also weights the colour term by :math:`1/\alpha`).
    samples : int
        Locations sampled in the image and in each style image.
    """

    name = "strotss"

    def __init__(self, layers, layer_weights=None, *, alpha: float | None = None, samples: int | None = None):
        super().__init__(layers, None)
        alpha = DEFAULT.content_weight if alpha is None else alpha
        samples = DEFAULT.strotss_samples if samples is None else samples
        if not np.isfinite(alpha) or alpha <= 0:
            raise ValueError(f"STROTSS needs a positive content weight alpha, got {alpha}.")
        if int(samples) < 2:
            raise ValueError(f"STROTSS needs at least 2 sample locations, got {samples}.")
        self.alpha = float(alpha)
        self.samples = int(samples)

    def prepare(self, style_features, style_images=None, weights=None, *, seed: int = 0) -> dict:
        w = mixing_weights_of(style_features, weights)
        if style_images is None or len(style_images) != len(style_features):
            raise ValueError("STROTSS needs the style images themselves (for its colour term).")
        rng = np.random.default_rng(seed)
        dtype = dtype_of(style_features[0][self.layers[0]])
        columns, pixels, means, covs = [], [], [], []
        for feats, img, wk in zip(style_features, style_images, w):
            if wk <= 0:
                continue
            coords = uniform_coords(rng, max(2, round(wk * self.samples)))
            hyper = hypercolumns(feats, self.layers, coords).numpy()
            columns.append(hyper)
            pixels.append(sample_bilinear(tf.cast(img, dtype), coords).numpy())
            mom = feature_moments(hyper)
            means.append(wk * mom.mean)
            covs.append(wk * mom.cov)
        image_coords = uniform_coords(rng, self.samples)
        as_tf = lambda a: tf.constant(np.asarray(a), dtype=dtype)  # noqa: E731
        return {"coords": as_tf(image_coords), "columns": as_tf(np.concatenate(columns)),
                "pixels": as_tf(np.concatenate(pixels)), "mean": as_tf(sum(means)), "cov": as_tf(sum(covs))}

    def __call__(self, features, target, image=None) -> dict:
        if image is None:
            raise ValueError("STROTSS needs the current image (for its colour term).")
        coords = target["coords"]
        hyper = hypercolumns(features, self.layers, coords)
        remd = relaxed_emd(cosine_cost(hyper, target["columns"]))
        mean_x, cov_x = tf_moments(hyper)
        moments = (tf.reduce_mean(tf.abs(mean_x - target["mean"]))
                   + tf.reduce_mean(tf.abs(cov_x - target["cov"])))
        pixels = sample_bilinear(tf.cast(image, hyper.dtype), coords)
        colour = relaxed_emd(euclidean_cost(pixels, target["pixels"]))
        z = 2.0 + self.alpha + 1.0 / self.alpha
        return {"style/remd": remd / z, "style/moments": moments / z,
                "style/colour": colour / (self.alpha * z)}
