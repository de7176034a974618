"""Spatial guidance: a W2 style loss per region, from masked (weighted) feature moments.

A mask on the subject says which pixels belong to a region ("sky", "ground"); each region takes its
style from a whole style image or from a masked part of one. At every VGG layer the masks are brought
to the feature map's size the way the network brings the image there (box-resize to the image, then
one 2x2 average pool per max pool of the network), and each region's feature cloud is summarised by
its *weighted* mean and covariance (:func:`ot_style.maths.moments.masked_moments`, TF twin
:func:`ot_style.losses.base.tf_moments`); the masks are resized by :mod:`ot_style.pixels.masks`. The
loss is

.. math::

    \\mathcal{L} = \\sum_r a_r \\sum_k w_k\\,
        W_2^2\\big(N(\\mu^{(r)}_{x,k}, \\Sigma^{(r)}_{x,k}),\\; N(\\mu^{(r)}_{s,k}, \\Sigma^{(r)}_{s,k})\\big)

with :math:`a_r` the fraction of the subject that region :math:`r` covers (the mean of its mask), so
regions that split the picture have weights summing to 1 and a single all-ones region is exactly the
plain :class:`ot_style.losses.w2.W2Loss`. Weighting by area is our choice (the seed papers do not
prescribe one): it is the average over pixels of the W2 of the region each pixel belongs to.

Pixels with mask weight 0 do not enter a region's moments at all, but pixels near a region's edge
still influence features inside it through the network's receptive field. Optimal Textures
(Risser et al. 2020) guides synthesis with masks in the same spirit (histograms per mask label).

Use it through :func:`ot_style.stylize`::

    sky, ground = ot_style.pixels.masks.sky_ground_masks(content.shape[:2])
    loss = GuidedW2Loss([Region("sky", sky, style=0), Region("ground", ground, style=1)])
    result = ot_style.stylize(content, [sky_style, ground_style], loss=loss)

Notebook ``06_colour_texture_and_mixing.ipynb`` runs this example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..maths.gaussian import sqrtm_psd
from ..maths.moments import masked_moments
from ..pixels.masks import box_resize, mask_for_layer
from .base import StyleLoss, tf_moments
from .w2 import w2_squared_to_target

__all__ = ["Region", "GuidedW2Loss"]


def _as_mask(mask, what: str) -> np.ndarray:
    m = np.asarray(mask, dtype=np.float64)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != 2:
        raise ValueError(f"The {what} must be a 2-D (h, w) array of weights; got shape {m.shape}.")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise ValueError(f"The {what} must hold finite, non-negative weights.")
    if not np.any(m > 0):
        raise ValueError(f"The {what} is empty (all zero).")
    return m


@dataclass(frozen=True, eq=False)
class Region:
    """One region of the subject and where its style comes from.

    Attributes
    ----------
    name : str
        Names the loss term (``"style/<name>"``).
    content_mask : ndarray, shape (h, w)
        Non-negative weights on the subject (any resolution: it is resized to each scale); soft
        masks are allowed.
    style : int
        Index of the style image in the list given to :func:`ot_style.stylize`.
    style_mask : ndarray, shape (h_s, w_s), optional
        Weights on that style image; None uses the whole image.
    """

    name: str
    content_mask: np.ndarray
    style: int = 0
    style_mask: np.ndarray | None = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("Every region needs a non-empty name.")
        object.__setattr__(self, "content_mask", _as_mask(self.content_mask, f"content mask of region {self.name!r}"))
        if isinstance(self.style, bool) or not isinstance(self.style, (int, np.integer)) or self.style < 0:
            raise ValueError(f"The style of region {self.name!r} must be the index (0, 1, ...) of a style image.")
        if self.style_mask is not None:
            object.__setattr__(self, "style_mask", _as_mask(self.style_mask, f"style mask of region {self.name!r}"))


class GuidedW2Loss(StyleLoss):
    """Gaussian W2 style loss per region of the subject (see the module docstring for the formula).

    Parameters
    ----------
    regions : sequence of Region
        Names must differ. Their masks need not sum to 1 (overlaps and gaps are allowed).
    layers : sequence of str, optional
        VGG19 layers; the config's default layers when None.
    layer_weights : sequence of float, optional
    per_layer : bool
        Return one term per region and layer (``"style/sky/relu1_1"``) instead of one per region.
    """

    name = "guided_w2"

    def __init__(self, regions, layers=None, layer_weights=None, *, per_layer: bool = False,
                 normalise: bool | None = None):
        if layers is None:
            from ..config import default_config

            layers = default_config().layers
        super().__init__(layers, layer_weights, per_layer=per_layer, normalise=normalise)
        self.regions = tuple(regions)
        if not self.regions or not all(isinstance(r, Region) for r in self.regions):
            raise ValueError("GuidedW2Loss needs a non-empty list of Region objects.")
        names = [r.name for r in self.regions]
        if len(set(names)) != len(names):
            raise ValueError(f"Region names must differ; got {names}.")
        self._masks = {}
        self._out_size = None

    def __repr__(self) -> str:
        return f"GuidedW2Loss(regions={[r.name for r in self.regions]}, layers={self.layers})"

    def at_scale(self, out_size, style_sizes=None) -> None:
        """Hook :func:`ot_style.stylize` calls before each scale's :meth:`prepare`: the output size.

        The content masks for that size are then computed in :meth:`prepare` and passed in the target
        (an argument of the optimiser's ``tf.function``, whose shapes may be left unknown when it is
        traced once for several scales), not baked into the graph.
        """
        self._out_size = (int(out_size[0]), int(out_size[1]))

    def prepare(self, style_features, style_images=None, weights=None, *, seed: int = 0) -> dict:
        """Per region and layer: the style's masked mean, covariance, covariance square root and the
        inverse of the W2^2 to a blank picture (1 unless :attr:`normalise`).

        ``weights`` (style mixing) is ignored: each region has its own style. Computed in float64 with
        :func:`ot_style.maths.moments.masked_moments` and :func:`ot_style.maths.gaussian.sqrtm_psd`, then cast.
        After :meth:`at_scale`, the target also holds each region's content weights per layer.
        """
        style_target, content_target = {}, {}
        for region in self.regions:
            if region.style >= len(style_features):
                raise ValueError(f"Region {region.name!r} asks for style image {region.style} but only "
                                 f"{len(style_features)} style image(s) were given (counting from 0).")
            features = style_features[region.style]
            per_layer, weights_per_layer = {}, {}
            for layer in self.layers:
                f = features[layer]
                dtype = f.dtype if f.dtype.is_floating else tf.float32
                cloud = np.asarray(f, dtype=np.float64)[0]
                if region.style_mask is None:
                    w = np.ones(cloud.shape[:2])
                else:
                    image_size = (style_images[region.style].shape[1], style_images[region.style].shape[2])
                    w = mask_for_layer(region.style_mask, image_size, layer, cloud.shape[:2])
                try:
                    mean, cov = masked_moments(cloud, w)
                except ValueError:
                    raise ValueError(f"The style mask of region {region.name!r} covers fewer than 2 feature "
                                     f"vectors at {layer}; enlarge the region or drop deeper layers.") from None
                # As W2Loss: divided by the region's W2^2 to a blank picture, |mu|^2 + tr S (normalise).
                inv_scale = 1.0 / max(float(mean @ mean + np.trace(cov)), 1e-300) if self.normalise else 1.0
                per_layer[layer] = tuple(tf.constant(a, dtype=dtype) for a in (mean, cov, sqrtm_psd(cov), inv_scale))
                if self._out_size is not None:
                    content_w, area = self._content_weights(region, self._out_size, layer, None)
                    weights_per_layer[layer] = tf.constant(content_w, dtype=dtype)
                    weights_per_layer["area"] = tf.constant(area, dtype=dtype)
            style_target[region.name] = per_layer
            if weights_per_layer:
                content_target[region.name] = weights_per_layer
        target = {"style": style_target}
        if content_target:
            target["content"] = content_target
        return target

    def _content_weights(self, region: Region, image_size, layer: str, feature_size):
        key = (region.name, tuple(image_size), layer, None if feature_size is None else tuple(feature_size))
        if key not in self._masks:
            w = mask_for_layer(region.content_mask, image_size, layer, feature_size)
            if np.count_nonzero(w > 0) < 2:
                raise ValueError(f"The mask of region {region.name!r} covers fewer than 2 feature vectors at "
                                 f"{layer}; enlarge the region or drop deeper layers.")
            self._masks[key] = (w.reshape(-1), float(box_resize(region.content_mask, image_size).mean()))
        return self._masks[key]

    def __call__(self, features, target, image=None) -> dict:
        """Named terms ``"style/<region>"``: area fraction times the layer-weighted W2 squared.

        The content weights come from the target (after :meth:`at_scale`); without them they are
        computed here from the static shapes of ``image`` (or of the first layer's features).
        """
        terms, totals = {}, {}
        for region in self.regions:
            parts = []
            for layer, weight in zip(self.layers, self.layer_weights):
                f = features[layer]
                x = tf.reshape(f, [-1, tf.shape(f)[-1]])
                if "content" in target:
                    w = tf.cast(target["content"][region.name][layer], x.dtype)
                    area = tf.cast(target["content"][region.name]["area"], x.dtype)
                else:
                    shaped = image if image is not None else features[self.layers[0]]
                    image_size = tuple(int(s) for s in shaped.shape[1:3])
                    w_np, area = self._content_weights(region, image_size, layer,
                                                       tuple(int(s) for s in f.shape[1:3]))
                    w = tf.constant(w_np, dtype=x.dtype)
                mean_x, cov_x = tf_moments(x, w)
                mean_s, cov_s, root_s, inv_scale = target["style"][region.name][layer]
                value = area * weight * tf.cast(inv_scale, x.dtype) * w2_squared_to_target(mean_x, cov_x, mean_s,
                                                                                           cov_s, root_s)
                terms[f"style/{region.name}/{layer}"] = value
                parts.append(value)
            totals[f"style/{region.name}"] = tf.add_n(parts)
        return terms if self.per_layer else totals
