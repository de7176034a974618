"""Style and content losses in TensorFlow: the differentiable twins of the NumPy mathematics.

Every loss is an object in the pystiche manner: :meth:`StyleLoss.prepare` computes the style's target
representation once per scale, outside the gradient (float64 NumPy, then cast to the features' dtype),
and :meth:`StyleLoss.__call__` scores the current image's features against it inside the optimiser's
``tf.function``. Subclasses only say what the representation is (:meth:`StyleLoss.layer_target`) and how
to score one layer (:meth:`StyleLoss.score`). The engine (:mod:`ot_style.synthesis`) sums the returned
terms. Notebook ``05_losses_side_by_side.ipynb`` runs them side by side;
``02_wasserstein_between_gaussians.ipynb`` derives the Gaussian W2 (:func:`w2_squared_to_target` is the twin of :func:`ot_style.gaussian.gaussian_w2`).

All arithmetic here is dtype-generic: float32 features give float32 losses, float64 features (the
tests' finite-difference checks) give float64 losses.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from . import gaussian
from .config import CONTENT_LOSSES, STYLE_LOSSES
from .layer_table import check_layers
from .moments import Moments, feature_moments, gram_matrix
from .tf_gaussian import (_dtype_of, _numpy_samples, _samples, _w2_squared_few_samples, tf_moments,
                          w2_squared_to_target)

__all__ = ["StyleLoss", "W2Loss", "GramLoss", "MomentsLoss", "SlicedLoss", "StrotssLoss",
           "ContentLoss", "FeatureContentLoss", "SelfSimilarityLoss", "make_style_loss",
           "make_content_loss", "tf_moments", "w2_squared_to_target", "resample_sorted"]




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


def _check_mixing(style_features, weights) -> np.ndarray:
    if not style_features:
        raise ValueError("At least one style image is needed.")
    w = np.ones(len(style_features)) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if w.shape[0] != len(style_features):
        raise ValueError(f"There must be one mixing weight per style image: {len(style_features)} "
                         f"styles but {w.shape[0]} weights.")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("Style mixing weights must be finite, non-negative and not all zero.")
    return w / w.sum()


class StyleLoss:
    r"""Base class: a distance between feature distributions, summed over layers.

    .. math:: \mathcal{L} = \sum_{k} w_k \, d\big(\text{image features}_k, \text{style target}_k\big)

    Subclasses define :meth:`layer_target` (NumPy, once per scale) and :meth:`score` (TensorFlow, each
    step). With ``per_layer=True`` the call returns one term per layer (``"style/relu1_1"``, ...)
    instead of a single ``"style"`` term, for plots.

    Parameters
    ----------
    layers : sequence of str
        VGG19 layer names.
    layer_weights : sequence of float, optional
        One non-negative weight per layer; all 1 by default (eq. 3 is a plain sum).
    per_layer : bool
    """

    name = "style"

    def __init__(self, layers, layer_weights=None, *, per_layer: bool = False):
        self.layers = check_layers(layers)
        if layer_weights is None:
            layer_weights = (1.0,) * len(self.layers)
        weights = tuple(float(w) for w in layer_weights)
        if len(weights) != len(self.layers):
            raise ValueError(f"There must be one layer weight per layer: {len(self.layers)} layers but "
                             f"{len(weights)} weights.")
        if not all(np.isfinite(w) and w >= 0 for w in weights):
            raise ValueError("Layer weights must be finite and non-negative.")
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
        w = _check_mixing(style_features, weights)
        target = {}
        for index, layer in enumerate(self.layers):
            dtype = self.target_dtype(_dtype_of(style_features[0][layer]))
            clouds = [_numpy_samples(f[layer]) for f in style_features]
            arrays = self.layer_target(layer, clouds, w, int(seed) * 1000 + index)
            target[layer] = tuple(tf.constant(a, dtype=dtype) for a in arrays)
        return target

    def __call__(self, features, target, image=None) -> dict:
        terms = {}
        for layer, weight in zip(self.layers, self.layer_weights):
            terms[f"style/{layer}"] = weight * self.score(_samples(features[layer]), target[layer])
        if self.per_layer:
            return terms
        return {"style": tf.add_n(list(terms.values()))}


def _mix_gaussians(clouds, weights) -> Moments:
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
    styles are mixed by their Wasserstein barycentre (:func:`ot_style.gaussian.gaussian_barycenter`).
    Notebooks ``02_wasserstein_between_gaussians.ipynb`` and ``05_losses_side_by_side.ipynb``.

    ``compute_dtype`` (default ``"float64"``) is the dtype of the targets and of the per-step
    eigendecomposition (see :func:`w2_squared_to_target`); the image moments are computed in the
    features' dtype and cast up. ``None`` keeps everything in the features' dtype.
    """

    name = "w2"

    def __init__(self, layers, layer_weights=None, *, compute_dtype="float64", per_layer=False):
        super().__init__(layers, layer_weights, per_layer=per_layer)
        self.compute_dtype = None if compute_dtype is None else tf.as_dtype(compute_dtype)

    def target_dtype(self, features_dtype):
        return features_dtype if self.compute_dtype is None else self.compute_dtype

    def layer_target(self, layer, clouds, weights, seed):
        mean, cov = _mix_gaussians(clouds, weights)
        return mean, cov, gaussian.sqrtm_psd(cov)

    def score(self, x, target):
        def full():
            mean_x, cov_x = tf_moments(x)
            return w2_squared_to_target(mean_x, cov_x, *target)

        def few():
            return _w2_squared_few_samples(x, target[0], target[1])

        n, c = x.shape[0], x.shape[1]
        if c is None:
            return full()
        if n is not None:  # static shape, as in the engine (LossAndGradient traces each image size)
            return few() if n < c else full()
        # Unknown sample count (a caller's graph traced for any image size): both branches are traced and
        # the cheaper one runs. The engine avoids this: the cond's gradient is slow to trace (~2 s).
        return tf.cond(tf.shape(x)[0] < c, few, full)


class GramLoss(StyleLoss):
    r"""Gatys et al.'s Gram loss (eq. 4 of the paper), summed over layers.

    .. math:: E_k = \kappa_k \lVert G_x - G_s \rVert_F^2, \qquad G = \tfrac{1}{n} F^T F

    ``normalisation="mean"``: :math:`\kappa=1` with :func:`ot_style.moments.gram_matrix` (equal to
    :func:`ot_style.gaussian.gatys_style_loss` with divide-by-n covariances). ``"gatys"``:
    :math:`\kappa = 1/(4N^2)` with ``N`` channels, which is Gatys' :math:`\frac{1}{4N^2M^2}\lVert F^TF -
    S^TS\rVert^2` when both images have ``M`` pixels (each Gram is divided by its own pixel count, so
    sizes may differ). Several styles mix by the weighted mean of their Grams. Notebook
    ``01_gram_is_not_a_metric.ipynb``.
    """

    name = "gram"

    def __init__(self, layers, layer_weights=None, *, normalisation: str = "mean", per_layer=False):
        super().__init__(layers, layer_weights, per_layer=per_layer)
        if normalisation not in ("mean", "gatys"):
            raise ValueError(f"Unknown Gram normalisation {normalisation!r}; choose 'mean' or 'gatys'.")
        self.normalisation = normalisation

    def layer_target(self, layer, clouds, weights, seed):
        return (sum(w * gram_matrix(x) for w, x in zip(weights, clouds)),)

    def score(self, x, target):
        n = tf.cast(tf.shape(x)[0], x.dtype)
        diff = tf.matmul(x, x, transpose_a=True) / n - target[0]
        value = tf.reduce_sum(tf.square(diff))
        if self.normalisation == "gatys":
            c = tf.cast(tf.shape(x)[1], x.dtype)
            value = value / (4.0 * c * c)
        return value


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
    :func:`ot_style.emd.sliced_w2` (squared); notebook ``03_the_cost_of_exact_emd.ipynb``.
    """

    name = "sliced"

    def __init__(self, layers, layer_weights=None, *, n_projections: int = 64, per_layer=False):
        super().__init__(layers, layer_weights, per_layer=per_layer)
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

    def score(self, x, target):
        directions, style_sorted = target
        projected = tf.sort(tf.matmul(x, directions), axis=0)
        matched = resample_sorted(style_sorted, tf.shape(x)[0])
        return tf.reduce_mean(tf.square(projected - matched))


class ContentLoss:
    """Base class of content terms: ``prepare`` once per scale, then ``__call__`` -> {"content": ...}."""

    layers: tuple = ()

    def prepare(self, content_features, content_image=None):
        raise NotImplementedError

    def __call__(self, features, target, image=None) -> dict:
        raise NotImplementedError


class FeatureContentLoss(ContentLoss):
    r"""Gatys et al.'s content loss: mean squared difference of the activations at one layer.

    .. math:: \mathcal{L}_c = \alpha \, \frac{1}{n c}\sum_{i,j} (F_{ij} - P_{ij})^2

    (a mean rather than Gatys' :math:`\frac12\sum`, so the weight does not depend on the image size).
    Notebook ``05_losses_side_by_side.ipynb``.
    """

    name = "features"

    def __init__(self, layer: str = "relu4_2", weight: float = 1.0):
        self.layers = check_layers((layer,))
        self.weight = float(weight)

    def prepare(self, content_features, content_image=None):
        features = content_features[self.layers[0]]
        return tf.constant(np.asarray(features), dtype=_dtype_of(features))

    def __call__(self, features, target, image=None) -> dict:
        return {"content": self.weight * tf.reduce_mean(tf.square(features[self.layers[0]] - target))}


def make_style_loss(name_or_obj, layers=None, layer_weights=None, config=None) -> StyleLoss:
    """Build a style loss by name (``config.STYLE_LOSSES``); a :class:`StyleLoss` object is returned as is.

    ``layers`` / ``layer_weights`` None are taken from ``config`` (default
    :func:`ot_style.config.default_config`). ``config.sliced_projections`` sets the sliced loss's
    directions, ``config.strotss_samples`` and ``config.content_weight`` (alpha) the STROTSS loss,
    ``config.extra["gram_normalisation"]`` the Gram loss (``"mean"`` or ``"gatys"``),
    ``config.extra["w2_compute_dtype"]`` the W2 eigendecomposition (``"float64"`` by default;
    ``"float32"`` is faster but inexact at rank-deficient layers, see :func:`w2_squared_to_target`).
    """
    if isinstance(name_or_obj, StyleLoss):
        return name_or_obj
    if config is None:
        from .config import default_config

        config = default_config()
    if name_or_obj not in STYLE_LOSSES:
        raise ValueError(f"Unknown style loss {name_or_obj!r}; choose one of: {', '.join(STYLE_LOSSES)}.")
    layers = config.layers if layers is None else layers
    layer_weights = config.layer_weights if layer_weights is None else layer_weights
    if name_or_obj == "strotss":
        return StrotssLoss(layers, layer_weights, alpha=config.content_weight,
                           samples=config.strotss_samples)
    if name_or_obj == "sliced":
        return SlicedLoss(layers, layer_weights, n_projections=config.sliced_projections)
    if name_or_obj == "gram":
        return GramLoss(layers, layer_weights,
                        normalisation=config.extra.get("gram_normalisation", "mean"))
    if name_or_obj == "moments":
        return MomentsLoss(layers, layer_weights)
    return W2Loss(layers, layer_weights, compute_dtype=config.extra.get("w2_compute_dtype", "float64"))


def make_content_loss(name, layer=None, weight=None, config=None) -> ContentLoss | None:
    """Build a content loss by name (``config.CONTENT_LOSSES``); None means no content term.

    ``layer`` / ``weight`` None are taken from ``config``. With ``config.loss == "strotss"``,
    ``"self_similarity"`` is STROTSS's own content term: hypercolumns of ``config.layers`` and the
    weight :math:`\\alpha / (2 + \\alpha + 1/\\alpha)` with :math:`\\alpha` = ``weight``.
    """
    if config is None:
        from .config import default_config

        config = default_config()
    if name not in CONTENT_LOSSES:
        choices = ", ".join(repr(c) for c in CONTENT_LOSSES)
        raise ValueError(f"Unknown content loss {name!r}; choose one of: {choices}.")
    if name is None:
        return None
    layer = config.content_layer if layer is None else layer
    weight = config.content_weight if weight is None else float(weight)
    if not np.isfinite(weight) or weight < 0:
        raise ValueError(f"The content weight must be finite and non-negative, got {weight}.")
    if name == "features":
        return FeatureContentLoss(layer, weight)
    if config.loss == "strotss":
        alpha = weight
        if alpha <= 0:
            raise ValueError("STROTSS needs a positive content weight alpha.")
        return SelfSimilarityLoss(config.layers, alpha / (2.0 + alpha + 1.0 / alpha),
                                  samples=config.strotss_samples)
    return SelfSimilarityLoss((layer,), weight, samples=config.strotss_samples)


# STROTSS pieces (l_m, REMD, self-similarity) live in their own module; it imports the base classes above.
from .losses_strotss import MomentsLoss, SelfSimilarityLoss, StrotssLoss  # noqa: E402
