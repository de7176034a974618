r"""Exact loss and gradient for pictures too large for memory, computed tile by tile in two passes.

The Gaussian W2 of a layer depends on the picture only through its feature moments, and these are sums
over feature positions: with :math:`S_1 = \sum_i f_i`, :math:`S_2 = \sum_i f_i f_i^T` and :math:`n`
positions,

.. math::

    \mu = S_1 / n, \qquad \Sigma = \frac{S_2 - n\,\mu\mu^T}{n - 1}, \qquad
    \frac{\partial L}{\partial f_i} = g_1 + (g_2 + g_2^T)\, f_i
    \quad\text{with}\quad g_1 = \frac{\partial L}{\partial S_1},\; g_2 = \frac{\partial L}{\partial S_2}.

So the gradient with respect to each feature vector is exact and *local* once the global sums are
known. One evaluation therefore runs in two passes over tiles of the picture:

1. each tile (with a halo) goes forward through VGG19; the features of its *interior* are added to
   each layer's :math:`S_1`, :math:`S_2` (float64) and to the content term's sum of squares; then the
   loss and :math:`g_1, g_2` come from the sums (:meth:`~ot_style.losses.base.StyleLoss.score_from_sums`);
2. each tile goes forward again under a gradient tape, with the surrogate
   :math:`\sum_{i \in \text{interior}} \langle f_i, \operatorname{sg}(g_1 + (g_2+g_2^T) f_i)\rangle` plus its share
   of the content term, whose pixel gradient is the tile's exact share of the whole picture's gradient;
   the shares are added up.

The halo (:func:`ot_style.engine.plan.halo_for`) is as wide as the deepest layer's receptive field reaches (rounded up to the pooling grid), and
tiles start on the pooling grid (multiples of :math:`2^p` for :math:`p` poolings), so an interior
feature computed from its tile equals the one computed from the whole picture: the result is the
untiled loss and gradient up to float32 rounding (tests bind them to 1e-5), not an approximation.
Losses that are functions of the moments or the Gram matrix tile exactly (``"w2"``, ``"moments"``,
``"gram"``; content ``"features"``). Losses that compare individual samples across the picture
(``"sliced"`` sorts projections, ``"strotss"`` and the self-similarity content term compare sampled
locations) do not, and are refused with a sentence. No anchor program does this: crowsonkb's
style-transfer-pytorch tiles the *gradient* with overlapping blends, an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..layers import layer_info
from .plan import TILEABLE_ADVICE, grid_step, halo_for, tiling_refusal

__all__ = ["Tile", "TiledObjective", "NotTileable", "tile_grid", "tileable_reason"]


class NotTileable(ValueError):
    """The loss cannot be computed exactly tile by tile (the sentence says which term and why)."""


@dataclass(frozen=True)
class Tile:
    """One tile: the ``interior`` it is responsible for and the ``outer`` box it is computed on.

    Both are ``(top, bottom, left, right)`` in pixels, ends exclusive; ``outer`` is ``interior`` grown by
    the halo and clipped to the picture.
    """

    interior: tuple
    outer: tuple


def tile_grid(height: int, width: int, tile: int, *, step: int, halo: int) -> list[Tile]:
    """Tiles of ``tile`` x ``tile`` interior pixels (the last row and column smaller) covering the picture.

    ``tile`` and ``halo`` must be multiples of ``step`` (so that every tile starts on the pooling grid).
    """
    if tile <= 0 or tile % step or halo % step:
        raise ValueError(f"The tile side ({tile}) and halo ({halo}) must be positive multiples of the "
                         f"pooling grid ({step} px).")
    tiles = []
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            bottom, right = min(top + tile, height), min(left + tile, width)
            outer = (max(top - halo, 0), min(bottom + halo, height), max(left - halo, 0), min(right + halo, width))
            tiles.append(Tile((top, bottom, left, right), outer))
    return tiles


def tileable_reason(style_loss, content_term) -> str | None:
    """Why these loss objects cannot be tiled exactly (a clause, :func:`ot_style.engine.plan.tiling_refusal`),
    or None when they can."""
    loss_ok = bool(getattr(style_loss, "tileable", False)) and hasattr(style_loss, "score_from_sums")
    content_ok = content_term is None or bool(getattr(content_term, "tileable", False))
    return tiling_refusal(getattr(style_loss, "name", type(style_loss).__name__),
                          getattr(content_term, "name", type(content_term).__name__), loss_tileable=loss_ok,
                          content_tileable=content_ok)


def _feature_box(tile: Tile, stride: int, height: int, width: int):
    """Rows and columns of a layer's activations (stride ``stride``) that a tile's interior owns: in the
    tile's own activations (local) and in the whole picture's (global)."""
    (top, bottom, left, right), (otop, _, oleft, _) = tile.interior, tile.outer
    g_top, g_left = top // stride, left // stride
    # A tile that reaches the picture's last row owns every remaining activation row (VALID pooling
    # floors the size, so the last one can be shorter than bottom // stride - top // stride).
    g_bottom = height // stride if bottom == height else bottom // stride
    g_right = width // stride if right == width else right // stride
    l_top, l_left = g_top - otop // stride, g_left - oleft // stride
    local = (l_top, l_top + g_bottom - g_top, l_left, l_left + g_right - g_left)
    return local, (g_top, g_bottom, g_left, g_right)


class TiledObjective:
    """Loss and pixel gradient of a style (and content) loss, computed exactly over tiles.

    Parameters
    ----------
    extractor : FeatureExtractor
    style_loss : StyleLoss
        A tileable loss (``tileable = True`` and :meth:`score_from_sums`): W2, moments or Gram.
    content_term : ContentLoss, optional
        None or a tileable content term (``"features"``).
    tile : int
        Interior side of a tile in pixels (a multiple of the pooling grid, :func:`grid_step`).
    halo : int, optional
        Context on each side (default :func:`halo_for` the layers); smaller is not exact.

    The interface matches :class:`ot_style.engine.optimizers.LossAndGradient`: :meth:`evaluate` gives the
    total, the gradient and the named terms of one picture, :meth:`float64` the L-BFGS form.
    """

    def __init__(self, extractor, style_loss, content_term=None, *, tile: int = 512, halo: int | None = None):
        import tensorflow as tf

        reason = tileable_reason(style_loss, content_term)
        if reason:
            raise NotTileable(f"{reason[0].upper()}{reason[1:]}: {TILEABLE_ADVICE}.")
        self.extractor, self.style_loss, self.content_term = extractor, style_loss, content_term
        layers = tuple(style_loss.layers) + tuple(getattr(content_term, "layers", ()))
        self.step = grid_step(layers)
        self.halo = halo_for(layers) if halo is None else int(halo)
        self.tile = int(tile)
        tile_grid(self.step, self.step, self.tile, step=self.step, halo=self.halo)  # checks the multiples
        self._strides = {name: 2 ** layer_info(name).pools_before for name in layers}
        # Tiles come in a few shapes (inner, edge, corner); reduce_retracing lets one trace serve them.
        self._forward = tf.function(lambda x: extractor(x), autograph=False, reduce_retracing=True)
        self._backward = tf.function(self._tile_gradient, autograph=False, reduce_retracing=True)

    # -- pass 1 ---------------------------------------------------------------------------------
    def _sums(self, image: np.ndarray, content_target):
        h, w = image.shape[:2]
        layers = self.style_loss.layers
        sums = {name: [0.0, 0.0, 0] for name in layers}
        content_sq = 0.0
        for tile in tile_grid(h, w, self.tile, step=self.step, halo=self.halo):
            top, bottom, left, right = tile.outer
            features = self._forward(image[None, top:bottom, left:right])
            for name in layers:
                (a, b, c, d), _ = _feature_box(tile, self._strides[name], h, w)
                f = features[name][0, a:b, c:d].numpy().astype(np.float64).reshape(-1, features[name].shape[-1])
                entry = sums[name]
                entry[0] = entry[0] + f.sum(axis=0)
                entry[1] = entry[1] + f.T @ f
                entry[2] += f.shape[0]
            if self.content_term is not None:
                name = self.content_term.layers[0]
                local, (ga, gb, gc, gd) = _feature_box(tile, self._strides[name], h, w)
                a, b, c, d = local
                mine = features[name][0, a:b, c:d].numpy().astype(np.float64)
                theirs = np.asarray(content_target["features"][0, ga:gb, gc:gd], np.float64)
                content_sq += float(np.sum((mine - theirs) ** 2))
        return sums, content_sq

    def _value_and_slopes(self, sums, content_sq, style_target, content_target):
        """The named terms and, per layer, g1 and G = g2 + g2^T (float64), from the global sums."""
        import tensorflow as tf

        terms, slopes = {}, {}
        for name, weight in zip(self.style_loss.layers, self.style_loss.layer_weights):
            s1 = tf.constant(sums[name][0], tf.float64)
            s2 = tf.constant(sums[name][1], tf.float64)
            n = sums[name][2]
            with tf.GradientTape() as tape:
                tape.watch([s1, s2])
                value = self.style_loss.score_from_sums(s1, s2, n, style_target[name])
                value = weight * value * tf.cast(style_target["scale"][name], tf.float64)
            g1, g2 = tape.gradient(value, [s1, s2], unconnected_gradients=tf.UnconnectedGradients.ZERO)
            terms[f"style/{name}"] = float(value)
            slopes[name] = (g1.numpy(), (g2 + tf.transpose(g2)).numpy())
        if not self.style_loss.per_layer:
            terms = {"style": sum(terms.values())}
        content_coef = 0.0
        if self.content_term is not None:
            name = self.content_term.layers[0]
            entries = float(np.prod(content_target["features"].shape))
            content_coef = self.content_term.weight * float(content_target["scale"]) / entries
            terms["content"] = content_coef * content_sq
        return terms, slopes, content_coef

    # -- pass 2 ---------------------------------------------------------------------------------
    def _tile_gradient(self, x, boxes, offsets, gs, content_crop, content_box, content_coef):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            tape.watch(x)
            features = self.extractor(x)
            surrogate = tf.constant(0.0, tf.float32)
            for name, box in zip(self.style_loss.layers, boxes):
                f = features[name][0, box[0]:box[1], box[2]:box[3]]
                f = tf.reshape(f, [-1, features[name].shape[-1]])
                # g1 + G f, written as (g1 + G mu) + G (f - mu): centred, as tf_moments' own gradient is,
                # so float32 loses no digits to the cancellation between the two terms.
                centre, offset = offsets[name]
                direction = tf.stop_gradient(offset[None, :] + tf.matmul(f - centre[None, :], gs[name]))
                surrogate += tf.reduce_sum(f * direction)
            if self.content_term is not None:
                box = content_box
                f = features[self.content_term.layers[0]][0, box[0]:box[1], box[2]:box[3]]
                surrogate += content_coef * tf.reduce_sum(tf.square(f - content_crop))
        return tape.gradient(surrogate, x)

    def evaluate(self, image, targets):
        """``image`` (h, w, 3) float32 -> (total float, gradient (h, w, 3) float32, terms dict of floats)."""
        import tensorflow as tf

        image = np.asarray(image, np.float32)
        style_target, content_target = targets
        h, w = image.shape[:2]
        sums, content_sq = self._sums(image, content_target)
        terms, slopes, content_coef = self._value_and_slopes(sums, content_sq, style_target, content_target)
        offsets, gs = {}, {}
        for name, (g1, g) in slopes.items():
            mean = sums[name][0] / sums[name][2]
            offsets[name] = (tf.constant(mean, tf.float32), tf.constant(g1 + g @ mean, tf.float32))
            gs[name] = tf.constant(g, tf.float32)
        gradient = np.zeros_like(image)
        for tile in tile_grid(h, w, self.tile, step=self.step, halo=self.halo):
            top, bottom, left, right = tile.outer
            # Boxes as tensors: one trace per tile shape, not one per tile position.
            boxes = tuple(tf.constant(_feature_box(tile, self._strides[name], h, w)[0], tf.int32)
                          for name in self.style_loss.layers)
            content_crop, content_box = None, None
            if self.content_term is not None:
                name = self.content_term.layers[0]
                local, (ga, gb, gc, gd) = _feature_box(tile, self._strides[name], h, w)
                content_box = tf.constant(local, tf.int32)
                content_crop = content_target["features"][0, ga:gb, gc:gd]
            share = self._backward(tf.constant(image[None, top:bottom, left:right]), boxes, offsets, gs,
                                   content_crop, content_box, tf.constant(content_coef, tf.float32))
            gradient[top:bottom, left:right] += share.numpy()[0]
        total = float(sum(terms.values()))
        return total, gradient, terms

    def float64(self, shape: tuple, targets=None):
        """``x (h*w*3,) float64 -> (total, gradient (h*w*3,) float64, terms)``, as L-BFGS-B wants."""

        def evaluate(x):
            total, gradient, terms = self.evaluate(np.asarray(x, np.float32).reshape(shape), targets)
            return total, gradient.astype(np.float64).ravel(), terms

        return evaluate

    def features(self, image, layers) -> dict:
        """Whole-picture activations of ``layers`` (each (1, h', w', c) float32), assembled from tiles:
        the content target of a picture too large for one forward pass."""
        import tensorflow as tf

        image = np.asarray(image, np.float32)
        if image.ndim == 4:
            image = image[0]
        h, w = image.shape[:2]
        missing = [name for name in layers if name not in self._strides]
        if missing:
            raise ValueError(f"This tiled objective does not compute layer {missing[0]}.")
        out = {}
        for tile in tile_grid(h, w, self.tile, step=self.step, halo=self.halo):
            top, bottom, left, right = tile.outer
            features = self._forward(image[None, top:bottom, left:right])
            for name in layers:
                local, (ga, gb, gc, gd) = _feature_box(tile, self._strides[name], h, w)
                a, b, c, d = local
                if name not in out:
                    fh, fw = h // self._strides[name], w // self._strides[name]
                    out[name] = np.zeros((1, fh, fw, features[name].shape[-1]), np.float32)
                out[name][0, ga:gb, gc:gd] = features[name][0, a:b, c:d].numpy()
        return {name: tf.constant(value) for name, value in out.items()}
