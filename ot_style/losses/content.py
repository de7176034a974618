"""Content terms: keep the subject's activations (Gatys et al.) or its self-similarity (STROTSS)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import DEFAULT
from ..layers import check_layers
from .base import ContentLoss, graph_key_of, dtype_of
from .strotss import hypercolumns, self_similarity, uniform_coords

__all__ = ["FeatureContentLoss", "SelfSimilarityLoss"]


class FeatureContentLoss(ContentLoss):
    r"""Gatys et al.'s content loss: mean squared difference of the activations at one layer.

    .. math:: \mathcal{L}_c = \alpha \, \frac{1}{n c}\sum_{i,j} (F_{ij} - P_{ij})^2

    (a mean rather than Gatys' :math:`\frac12\sum`, so the weight does not depend on the image size).
    With ``normalise=True`` (the default, ``StyleConfig.normalise_losses``) it is divided by its value
    at a blank picture, :math:`\frac{1}{nc}\sum P_{ij}^2`, like every style layer
    (:class:`ot_style.losses.base.StyleLoss`): 1 for a picture with no content features left, and the
    same whatever the scale of the layer's activations, so ``content_weight`` is its importance
    relative to one style layer. Notebook ``05_losses_side_by_side.ipynb``.
    """

    name = "features"
    #: A mean over positions: :mod:`ot_style.engine.tiled` sums it exactly over tiles.
    tileable = True

    def __init__(self, layer: str | None = None, weight: float | None = None, *, normalise: bool | None = None):
        self.layers = check_layers((DEFAULT.content_layer if layer is None else layer,))
        self.weight = float(DEFAULT.content_weight if weight is None else weight)
        self.normalise = DEFAULT.normalise_losses if normalise is None else bool(normalise)

    def prepare(self, content_features, content_image=None, *, seed: int = 0) -> dict:
        """The content's activations at the layer, and the scale the term is divided by."""
        features = content_features[self.layers[0]]
        values = np.asarray(features, dtype=np.float64)
        scale = float(np.mean(values**2)) if self.normalise else 1.0
        dtype = dtype_of(features)
        return {"features": tf.constant(values, dtype=dtype),
                "scale": tf.constant(1.0 / scale if scale > 0 else 1.0, dtype=dtype),
                "weight": tf.constant(self.weight, dtype=dtype)}  # a graph input, as the layer weights

    def graph_key(self):
        return graph_key_of(self, exclude=("weight",))

    def __call__(self, features, target, image=None) -> dict:
        difference = features[self.layers[0]] - target["features"]
        weight = target["weight"] if "weight" in target else self.weight
        return {"content": weight * target["scale"] * tf.reduce_mean(tf.square(difference))}


class SelfSimilarityLoss(ContentLoss):
    r"""Kolkin et al.'s self-similarity content loss at sampled locations.

    .. math::

        l_c = \frac{1}{N^2}\sum_{i,j}\Big|\frac{D^c_{ij}}{\sum_i D^c_{ij}} - \frac{D^x_{ij}}{\sum_i D^x_{ij}}\Big|

    with :math:`D` the cosine distance matrix between the (hypercolumn) features of ``N`` locations,
    drawn in :meth:`prepare` from its ``seed`` (the run's seed: :func:`ot_style.stylize` passes it). Returns ``{"content": weight * l_c}``. It keeps the
    content's *structure* (which places look alike) rather than its activations. Notebook
    ``05_losses_side_by_side.ipynb``.

    Parameters
    ----------
    layers : sequence of str
        One layer (the content layer) or several (STROTSS's hypercolumns).
    weight : float
    samples : int
    seed : int
    """

    name = "self_similarity"

    def __init__(self, layers, weight: float | None = None, *, samples: int | None = None, seed: int = 0):
        self.layers = check_layers(layers)
        self.weight = float(DEFAULT.content_weight if weight is None else weight)
        samples = DEFAULT.strotss_samples if samples is None else samples
        if int(samples) < 2:
            raise ValueError(f"The self-similarity loss needs at least 2 sample locations, got {samples}.")
        self.samples = int(samples)
        self.seed = int(seed)

    def prepare(self, content_features, content_image=None, *, seed: int | None = None) -> dict:
        """Sample locations (from ``seed``, else the loss's own) and the content's self-similarity there."""
        dtype = dtype_of(content_features[self.layers[0]])
        rng = np.random.default_rng(self.seed if seed is None else seed)
        coords = tf.constant(uniform_coords(rng, self.samples), dtype=dtype)
        hyper = hypercolumns(content_features, self.layers, coords)
        return {"coords": coords, "similarity": tf.constant(self_similarity(hyper).numpy(), dtype=dtype)}

    def __call__(self, features, target, image=None) -> dict:
        hyper = hypercolumns(features, self.layers, target["coords"])
        diff = tf.abs(self_similarity(hyper) - target["similarity"])
        return {"content": self.weight * tf.reduce_mean(diff)}
