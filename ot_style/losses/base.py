"""What every loss is made of: feature samples, eq. 1 in TensorFlow, and the two base classes.

Every loss is an object in the pystiche manner: :meth:`StyleLoss.prepare` computes the style's target
representation once per scale, outside the gradient (float64 NumPy, then cast to the features' dtype),
and :meth:`StyleLoss.__call__` scores the current image's features against it inside the optimiser's
``tf.function``. Subclasses only say what the representation is (:meth:`StyleLoss.layer_target`) and how
to score one layer (:meth:`StyleLoss.score`). The engine (:mod:`ot_style.engine.synthesis`) sums the
returned terms; :mod:`ot_style.losses.registry` builds a loss by name. :func:`tf_moments` is the
TensorFlow twin of :func:`ot_style.maths.moments.feature_moments` (eq. 1), used by the W2, moments,
STROTSS and guided losses. Notebook ``05_losses_side_by_side.ipynb`` runs them side by side.

All arithmetic here is dtype-generic: float32 features give float32 losses, float64 features (the
tests' finite-difference checks) give float64 losses.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..config import DEFAULT, check_weights, mixing_weights
from ..layers import check_layers
from ..maths.moments import Moments

__all__ = ["StyleLoss", "ContentLoss", "tf_moments", "moments_from_sums", "graph_key_of", "samples", "numpy_samples", "dtype_of",
           "mixing_weights_of"]


def samples(features) -> tf.Tensor:
    """(..., c) activations -> (n, c) samples (batch and pixels flattened together)."""
    features = tf.convert_to_tensor(features)
    c = features.shape[-1] if features.shape[-1] is not None else tf.shape(features)[-1]
    return tf.reshape(features, [-1, c])


def numpy_samples(features) -> np.ndarray:
    """(..., c) activations (tensor or array) -> float64 NumPy samples (n, c)."""
    x = np.asarray(features, dtype=np.float64)
    return x.reshape(-1, x.shape[-1])


def dtype_of(features) -> tf.DType:
    """The floating dtype losses compute in for these features (float32 for integer inputs)."""
    dtype = tf.as_dtype(features.dtype)
    return dtype if dtype.is_floating else tf.float32


def tf_moments(x, weights=None) -> Moments:
    r"""Mean and unbiased covariance of samples, in TensorFlow (eq. 1; twin of ``feature_moments``).

    .. math::

        \mu = \frac{1}{V_1}\sum_i w_i x_i, \qquad
        \Sigma = \frac{1}{V_1 - V_2/V_1}\sum_i w_i (x_i-\mu)(x_i-\mu)^T

    with :math:`V_1=\sum w_i`, :math:`V_2=\sum w_i^2`; without weights this is eq. 1 (divisor
    :math:`n-1`), with weights it is :func:`ot_style.maths.moments.masked_moments`. Notebooks
    ``00_the_course_and_a_picture_as_features.ipynb`` (eq. 1) and ``06_colour_texture_and_mixing.ipynb``
    (the weighted moments of masks).

    Parameters
    ----------
    x : tf.Tensor, shape (n, c)
    weights : tf.Tensor, shape (n,), optional
        Non-negative reliability weights (a soft mask, used by :mod:`ot_style.losses.guided`).

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


def moments_from_sums(s1, s2, n) -> Moments:
    r"""Eq. 1 from sums: :math:`\mu = S_1/n`, :math:`\Sigma = (S_2 - n\mu\mu^T)/(n-1)`, symmetrised.

    ``s1`` is :math:`\sum_i x_i` (c,), ``s2`` is :math:`\sum_i x_i x_i^T` (c, c), accumulated in float64
    (the subtraction loses the digits the centring would keep, so float32 sums are not enough). What the
    exact tiled evaluation (:mod:`ot_style.engine.tiled`) computes from the sums it collects over tiles;
    differentiable in ``s1`` and ``s2``.
    """
    n = tf.cast(n, s1.dtype)
    mean = s1 / n
    cov = (s2 - n * mean[:, None] * mean[None, :]) / (n - 1.0)
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


def mixing_weights_of(style_features, weights) -> np.ndarray:
    """The normalised mixing weights of the styles whose features are given (see
    :func:`ot_style.config.mixing_weights`), as a float64 array."""
    return np.asarray(mixing_weights(weights, len(style_features)), dtype=np.float64)


class StyleLoss:
    r"""Base class: a distance between feature distributions, summed over layers.

    .. math:: \mathcal{L} = \sum_{k} w_k \, d\big(\text{image features}_k, \text{style target}_k\big)

    Subclasses define :meth:`layer_target` (NumPy, once per scale), :meth:`score` (TensorFlow, each
    step) and :meth:`blank_value`. With ``per_layer=True`` the call returns one term per layer
    (``"style/relu1_1"``, ...) instead of a single ``"style"`` term, for plots.

    **Normalisation** (``normalise=True``, the default: ``StyleConfig.normalise_losses``). Each layer's
    distance :math:`d_k` is divided by :math:`d_k(0, s_k)`, its value for a blank picture whose features
    are all zero (:meth:`blank_value`). For the Gaussian W2 that is
    :math:`W_2^2(\delta_0, N(\mu_s, \Sigma_s)) = \lVert\mu_s\rVert^2 + \operatorname{tr}\Sigma_s`, the style's
    second moment; for the Gram loss :math:`\lVert G_s\rVert_F^2`; for the sliced loss the mean square of
    the style's projections. Every layer then starts from 1 at a blank picture, and since these
    distances are homogeneous in the features (W2^2 and the sliced distance grow like their square, the
    Gram loss like their fourth power), the normalised ones do not change when a layer's features are
    scaled by any factor: VGG19's layers differ by orders of magnitude (with random weights
    too), so without it the loudest layer decides the picture and a layer weight means nothing. Departure
    from eq. 3, which sums the raw W2^2.

    Parameters
    ----------
    layers : sequence of str
        VGG19 layer names.
    layer_weights : sequence of float, optional
        One non-negative weight per layer; all 1 by default (eq. 3 is a plain sum).
    per_layer : bool
    """

    name = "style"
    #: True when the loss is a function of each layer's feature sums (:meth:`score_from_sums`), so that
    #: :mod:`ot_style.engine.tiled` can compute it exactly over tiles.
    tileable = False

    def __init__(self, layers, layer_weights=None, *, per_layer: bool = False, normalise: bool | None = None):
        self.layers = check_layers(layers)
        self.normalise = DEFAULT.normalise_losses if normalise is None else bool(normalise)
        weights = (1.0,) * len(self.layers) if layer_weights is None else check_weights(layer_weights,
                                                                                        "Layer weights")
        if len(weights) != len(self.layers):
            raise ValueError(f"There must be one layer weight per style layer: {len(self.layers)} layers "
                             f"but {len(weights)} weights.")
        self.layer_weights = weights
        self.per_layer = bool(per_layer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(layers={self.layers}, layer_weights={self.layer_weights})"

    def layer_target(self, layer: str, clouds: list, weights: np.ndarray, seed: int) -> tuple:
        """NumPy target of one layer from the style clouds (each (n_k, c) float64) and mixing weights."""
        raise NotImplementedError

    def target_dtype(self, features_dtype: tf.DType) -> tf.DType:
        """The dtype of the prepared target (the features' dtype unless a loss needs more precision)."""
        return features_dtype

    def score(self, x: tf.Tensor, target: tuple) -> tf.Tensor:
        """Scalar distance between the image samples ``x`` (n, c) and one layer's target."""
        raise NotImplementedError

    def blank_value(self, target: tuple) -> float:
        """The layer's distance from a blank picture (all features 0) to the target, in NumPy: the scale
        :attr:`normalise` divides by. Subclasses say what it is for their distance."""
        raise NotImplementedError

    def prepare(self, style_features, style_images=None, weights=None, *, seed: int = 0) -> dict:
        """Targets for every layer (eagerly, no gradient): dict layer -> tuple of tf.Tensors.

        Parameters
        ----------
        style_features : list of dict of str to tf.Tensor, shape (1, h, w, c)
        style_images : list of tf.Tensor, shape (1, h, w, 3)
            Unused except by losses that look at pixels (``"strotss"``).
        weights : sequence of float
            Mixing weights, one per style (normalised to sum to 1).
        seed : int
            Seeds any randomness (projections, sample locations), fixed until the next prepare.
        """
        w = mixing_weights_of(style_features, weights)
        target, scales = {}, {}
        for index, layer in enumerate(self.layers):
            dtype = self.target_dtype(dtype_of(style_features[0][layer]))
            clouds = [numpy_samples(f[layer]) for f in style_features]
            arrays = self.layer_target(layer, clouds, w, int(seed) * 1000 + index)
            target[layer] = tuple(tf.constant(a, dtype=dtype) for a in arrays)
            scale = float(self.blank_value(arrays)) if self.normalise else 1.0
            scales[layer] = tf.constant(1.0 / scale if scale > 0 else 1.0, dtype=dtype)
        target["scale"] = scales
        # The layer weights travel with the targets, as graph inputs: a traced objective serves any
        # weights (the playground's sliders) without tracing again (graph_key).
        target["weights"] = {layer: tf.constant(weight, dtype=scales[layer].dtype)
                             for layer, weight in zip(self.layers, self.layer_weights)}
        return target

    def graph_key(self):
        """What a traced graph of this loss depends on besides its targets (a hashable value), or None
        when a graph must not be reused. Two losses with equal keys compute the same function of
        (features, targets); the layer weights are not part of it (they are in the targets). A subclass
        with its own ``__call__`` may read its settings elsewhere, so its graphs are not reused."""
        if type(self).__call__ is not StyleLoss.__call__:
            return None
        return graph_key_of(self, exclude=("layer_weights",))

    def __call__(self, features, target, image=None) -> dict:
        terms = {}
        for layer, weight in zip(self.layers, self.layer_weights):
            value = self.score(samples(features[layer]), target[layer])
            weight = target["weights"][layer] if "weights" in target else weight
            terms[f"style/{layer}"] = (tf.cast(weight, value.dtype) * value
                                       * tf.cast(target["scale"][layer], value.dtype))
        if self.per_layer:
            return terms
        return {"style": tf.add_n(list(terms.values()))}


def graph_key_of(loss, exclude=()):
    """``(class, its plain settings)`` when every setting (an attribute not in ``exclude``) is a plain
    hashable value, else None: what :meth:`StyleLoss.graph_key` is made of."""
    state = []
    for name, value in sorted(vars(loss).items()):
        if name in exclude:
            continue
        if isinstance(value, list):
            value = tuple(value)
        if not isinstance(value, (str, int, float, bool, type(None), tuple, tf.DType)):
            return None
        try:
            hash(value)
        except TypeError:
            return None
        state.append((name, value))
    return (type(loss), tuple(state))


class ContentLoss:
    """Base class of content terms: ``prepare`` once per scale, then ``__call__`` -> {"content": ...}."""

    layers: tuple = ()

    def graph_key(self):
        """As :meth:`StyleLoss.graph_key`; None (never reuse) unless a subclass says otherwise."""
        return None

    def prepare(self, content_features, content_image=None, *, seed: int = 0):
        """The content's target representation (eagerly, no gradient); ``seed`` seeds any sampling."""
        raise NotImplementedError

    def __call__(self, features, target, image=None) -> dict:
        raise NotImplementedError
