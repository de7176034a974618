"""What each loss cares about (notebook 05) and what each layer sees (notebook 07): plain functions
behind the widgets of :mod:`ot_style.widgets.playground`, tested without a browser.

:func:`compare_losses` runs the same content and style through every style loss with the same budget
and measures every result under every loss's NumPy reference (so one reads, e.g., the Gaussian W2
left in the Gram-optimised image). :func:`gram_twin` builds the Gram-blindness case of notebook 01 at
the feature level, :func:`layer_textures` synthesises a texture from one layer at a time, and
:func:`shuffle_sensitivity` measures which layers notice a picture's tiles being shuffled (notebook 07).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..config import STYLE_LOSSES, StyleConfig, default_config
from ..layers import receptive_field
from ..maths.emd import sliced_w2
from ..maths.gaussian import gaussian_w2, moment_distance
from ..maths.moments import feature_moments, gram_matrix
from ..pixels.images import fit_size, read_image, resize
from ..pixels.texture_scale import tile_shuffle

__all__ = ["LossComparison", "compare_losses", "feature_measures", "gram_twin", "layer_textures",
           "measured_receptive_field", "shuffle_sensitivity", "LayerTexture", "MEASURES", "MEASURE_LABELS"]

#: The measures every result is scored under, all on VGG features against the style's features,
#: summed over the style layers (NumPy references from :mod:`ot_style.maths`).
MEASURES = ("gaussian W2^2", "Gram (Gatys)", "moments", "sliced W2")
#: How the tables and notebook 05's sentences write each measure.
MEASURE_LABELS = {"gaussian W2^2": "Gaussian W2²", "Gram (Gatys)": "Gram (Gatys)", "moments": "moments l_m",
                  "sliced W2": "sliced W2"}


def _samples(tensor) -> np.ndarray:
    array = np.asarray(tensor, dtype=np.float64)
    return array.reshape(-1, array.shape[-1])


def feature_measures(x: np.ndarray, y: np.ndarray, *, n_projections: int = 64, seed: int = 0) -> dict:
    r"""Every measure between two feature clouds ``x`` (n, c) and ``y`` (m, c) at one layer.

    The squared Gaussian W2 of eq. 2 (:func:`ot_style.maths.gaussian.gaussian_w2`), the Gram loss of
    eq. 4 on the Gram matrices (:func:`ot_style.maths.moments.gram_matrix`), STROTSS's moment distance
    (:func:`ot_style.maths.gaussian.moment_distance`, what the ``"moments"`` loss minimises) and the
    sliced W2 of the samples (:func:`ot_style.maths.emd.sliced_w2`), in float64 (notebook 05).
    """
    x, y = _samples(x), _samples(y)
    mx, my = feature_moments(x), feature_moments(y)
    return {
        "gaussian W2^2": gaussian_w2(mx.mean, mx.cov, my.mean, my.cov, squared=True),
        "Gram (Gatys)": float(np.sum((gram_matrix(x) - gram_matrix(y)) ** 2)),
        "moments": moment_distance(mx.mean, mx.cov, my.mean, my.cov),
        "sliced W2": float(sliced_w2(x, y, n_projections=n_projections, seed=seed)),
    }


def gram_twin(features, *, seed: int = 0) -> np.ndarray:
    """A feature cloud with exactly the Gram matrix of ``features`` (n, c) but another distribution.

    Half of the feature vectors, chosen at random, change sign. Each vector enters the Gram matrix
    only through :math:`x x^\\top = (-x)(-x)^\\top`, so :math:`G` is unchanged, while the mean moves
    towards 0 and the covariance grows by about :math:`\\mu\\mu^\\top`: the Gaussian W2 sees it, the
    Gram loss cannot (notebook 01's counterexample, now on real VGG features; notebook 05).
    """
    x = _samples(features)
    flip = np.random.default_rng(seed).permutation(x.shape[0]) < x.shape[0] // 2
    return np.where(flip[:, None], -x, x)


@dataclass
class LossComparison:
    """Every loss's result on the same content and style with the same budget (notebook 05).

    Attributes
    ----------
    images : dict of str to ndarray (h, w, 3)
        The best image of each loss (and ``"start"``: the content, resized, before any step).
    seconds : dict of str to float
        Wall time of each run (tracing its TensorFlow graph included; the shared warm-up is not).
    measures : dict of str to dict of str to float
        ``measures[image][measure]``: the image's features against the style's, under each of
        :data:`MEASURES`, summed over the layers.
    config : StyleConfig
        The shared settings.
    weights_source : str
    """

    images: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    measures: dict = field(default_factory=dict)
    config: StyleConfig | None = None
    weights_source: str = ""

    def table_html(self) -> str:
        """The measures as an HTML table (rows: images, columns: measures; the best in bold).

        Headers are :data:`MEASURE_LABELS`; cells are padded, right-aligned and ruled, so the columns read
        apart in a notebook.
        """
        names = list(self.measures)
        best = self.best_by_measure()
        cell = "padding: 3px 12px; text-align: right; border: 1px solid #ccc"
        left = "padding: 3px 12px; text-align: left; border: 1px solid #ccc"
        head = "".join(f"<th style='{cell}'>{MEASURE_LABELS[m]}</th>" for m in MEASURES)
        rows = []
        for name in names:
            cells = "".join(
                f"<td style='{cell}'>{'<b>' if best[m] == name else ''}{self.measures[name][m]:.4g}"
                f"{'</b>' if best[m] == name else ''}</td>" for m in MEASURES)
            secs = f"{self.seconds[name]:.1f} s" if name in self.seconds else "-"
            rows.append(f"<tr><th style='{left}'>{name}</th><td style='{cell}'>{secs}</td>{cells}</tr>")
        return (f"<table class='ot-style-measures' style='border-collapse: collapse'><tr>"
                f"<th style='{left}'>image</th><th style='{cell}'>time</th>{head}</tr>"
                + "".join(rows) + "</table>")

    def best_by_measure(self) -> dict:
        """``{measure: name of the image with the lowest value under it}`` (the bold entries of the table)."""
        names = list(self.measures)
        return {m: min(names, key=lambda n: self.measures[n][m]) for m in MEASURES}


def compare_losses(content, style, *, losses=STYLE_LOSSES, config: StyleConfig | None = None,
                   weights: str | None = None, steps: int | None = None, size: int | None = None,
                   n_projections: int = 64) -> LossComparison:
    """Stylise ``content`` with ``style`` under every loss in ``losses``, with the same budget.

    Each result (and the unchanged content, ``"start"``) is then measured under every one of
    :data:`MEASURES` on the style layers' features, with the NumPy references, so the table shows
    what each loss cares about (notebook 05).
    """
    from ..engine.synthesis import stylize
    from ..network.vgg import FeatureExtractor

    base = config if config is not None else default_config()
    changes = {k: v for k, v in (("weights", weights), ("steps", steps)) if v is not None}
    if size is not None:
        changes.update(size=int(size), scales=(int(size),))
    base = base.replace(**changes)
    unknown = [name for name in losses if name not in STYLE_LOSSES]
    if unknown:
        raise ValueError(f"Unknown loss {unknown[0]!r}; choose from {', '.join(STYLE_LOSSES)}.")
    content, style = read_image(content, max_size=1024), read_image(style, max_size=1024)
    out = LossComparison(config=base)
    # One network for every run and for the measures; it runs once before the clock starts, so the
    # first loss does not pay for TensorFlow's start-up and the timings compare the losses only.
    needed = base.layers + ((base.content_layer,) if base.content_loss else ())
    extractor = FeatureExtractor(tuple(dict.fromkeys(needed)), weights=base.weights, pooling=base.pooling,
                                 seed=base.seed)
    # The style at the size the engine uses: the run's size, never enlarged beyond its own.
    style_feats = _features(extractor, resize(style, fit_size(style.shape, min(base.size, max(style.shape[:2])))))
    # A one-step run warms up what every run shares (SciPy, TensorFlow's function machinery); without
    # it the first loss in the list looked about 7 s slower than it is.
    warm = max(32, 2 * extractor.min_image_size)
    stylize(content, style, loss=losses[0], config=base, extractor=extractor, steps=1, size=warm, scales=(warm,))
    for name in losses:
        start = time.perf_counter()
        result = stylize(content, style, loss=name, config=base, extractor=extractor)
        out.seconds[name] = time.perf_counter() - start
        out.images[name] = result.image
        out.weights_source = result.weights_source
    h, w = next(iter(out.images.values())).shape[:2]
    out.images = {"start": resize(content, (h, w)), **out.images}
    for name, image in out.images.items():
        feats = _features(extractor, image)
        totals = dict.fromkeys(MEASURES, 0.0)
        for layer in base.layers:
            per_layer = feature_measures(feats[layer], style_feats[layer], n_projections=n_projections,
                                         seed=base.seed)
            for measure, value in per_layer.items():
                totals[measure] += value
        out.measures[name] = totals
    return out


class LayerTexture(NamedTuple):
    """A texture synthesised from one layer: the image, the seconds it took, its total loss per step."""

    image: np.ndarray
    seconds: float
    losses: list


def layer_textures(style, layers, *, config: StyleConfig | None = None, weights: str | None = None,
                   steps: int | None = None, size: int | None = None) -> dict:
    """Texture synthesis (no content) from one layer at a time: ``{layer: LayerTexture}``.

    A deeper layer sees a larger patch of the picture (its receptive field grows with every
    convolution and pooling), so its texture *can* keep larger structures. Notebook 07 measures whether
    it does (:func:`ot_style.pixels.texture_scale.correlation_length`): with the seeded random weights the
    ``relu1_1`` and ``relu2_1`` textures reach the exemplar's structure size while the deeper ones stay
    close to their start noise.
    """
    from ..engine.synthesis import stylize

    base = config if config is not None else default_config()
    changes = {k: v for k, v in (("weights", weights), ("steps", steps)) if v is not None}
    if size is not None:
        changes.update(size=int(size), scales=(int(size),))
    base = base.replace(**changes)
    style = read_image(style, max_size=1024)
    out = {}
    for layer in layers:
        start = time.perf_counter()
        result = stylize(None, style, layers=(layer,), layer_weights=(1.0,), config=base)
        out[layer] = LayerTexture(result.image, time.perf_counter() - start,
                                  list(result.history["total"]))
    return out


def measured_receptive_field(layer: str, *, weights: str = "random", seed: int = 0) -> int:
    """Side in pixels of the patch that actually moves the central activation of ``layer``.

    The gradient of the central activation (summed over channels, before its ReLU) with respect to
    a noise image is non-zero exactly on the pixels it depends on; we return the width of that
    support. Average pooling is used so every pixel of a pooling window passes gradient (max pooling
    passes it to one pixel in four); dead ReLUs on the way can only shrink the support, so the value
    is at most :func:`ot_style.layers.receptive_field` and equals it when nothing is gated off
    (notebook 07).
    """
    import tensorflow as tf

    from ..layers import layer_info
    from ..network.vgg import FeatureExtractor

    conv = "conv" + layer_info(layer).name[4:] if layer.startswith("relu") else layer
    side, stride = receptive_field(layer), 2 ** layer_info(conv).pools_before
    size = stride * (-(-(side + 2 * stride) // stride) + 1)  # the whole field fits, away from padding
    extractor = FeatureExtractor((conv,), weights=weights, pooling="avg", seed=seed)
    image = tf.Variable(np.random.default_rng(seed).uniform(0.25, 0.75, (1, size, size, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        activation = extractor(image)[conv]
        centre = activation.shape[1] // 2
        value = tf.reduce_sum(activation[0, centre, centre, :])
    moved = np.abs(tape.gradient(value, image).numpy()[0]).sum(axis=-1) > 0
    rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
    return int(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)


def shuffle_sensitivity(image, layers, blocks=(2, 4, 8, 16, 32), *, weights: str = "auto", seed: int = 0,
                        extractor=None) -> dict:
    r"""How far each layer's Gaussian moves when the picture's ``b`` x ``b`` tiles are shuffled, per block size.

    .. math::

        s_\ell(b) = \frac{W_2^2\big(\mathcal N_\ell(\text{tiles of side } b \text{ shuffled}),\
                                   \mathcal N_\ell(\text{picture})\big)}
                          {W_2^2\big(\mathcal N_\ell(\text{pixels shuffled}),\ \mathcal N_\ell(\text{picture})\big)}

    with :math:`\mathcal N_\ell` the Gaussian of eq. 1 fitted to layer :math:`\ell`'s features and
    :math:`W_2^2` eq. 2 (:func:`ot_style.maths.gaussian.gaussian_w2`). Shuffling tiles
    (:func:`ot_style.pixels.texture_scale.tile_shuffle`, the same ``seed`` for every layer) keeps every
    structure smaller than a tile: a layer whose receptive field is much smaller than ``b`` sees the same
    patches, apart from those across the seams, so :math:`s_\ell(b)` is near 0; a layer that sees across
    several tiles notices. Pixel shuffling (``b = 1``, :math:`s = 1`) is the yardstick, so layers on very
    different scales compare (notebook 07).

    Parameters
    ----------
    image : array_like, shape (h, w, 3), or a bundled picture's name
    layers : sequence of str
    blocks : sequence of int
        Tile sides in pixels, each at most the picture's shorter side.
    weights, seed
        The VGG weights (``seed`` also seeds random weights and the shuffles).
    extractor : FeatureExtractor, optional
        A ready network for ``layers`` (built here otherwise).

    Returns
    -------
    dict of str to ndarray, shape (len(blocks),)
        :math:`s_\ell(b)` for each layer, in the order of ``blocks``.
    """
    from ..network.vgg import FeatureExtractor

    picture = read_image(image, max_size=1024)
    layers = tuple(layers)
    if extractor is None:
        extractor = FeatureExtractor(layers, weights=weights, seed=seed)

    def gaussians(array):
        feats = _features(extractor, array)
        return {layer: feature_moments(feats[layer]) for layer in layers}

    def distances(block):
        shuffled = gaussians(tile_shuffle(picture, block, seed=seed))
        # the shuffled picture may be cropped to a multiple of the block: compare with the same crop
        h, w = (block * (n // block) for n in picture.shape[:2])
        if (h, w) not in own:
            own[(h, w)] = gaussians(picture[:h, :w])
        reference = own[(h, w)]
        return {layer: gaussian_w2(*shuffled[layer], *reference[layer], squared=True) for layer in layers}

    own = {tuple(picture.shape[:2]): gaussians(picture)}
    scale = distances(1)
    rows = [distances(int(b)) for b in blocks]
    return {layer: np.array([row[layer] / scale[layer] for row in rows]) for layer in layers}


def _features(extractor, image) -> dict:
    import tensorflow as tf

    feats = extractor(tf.convert_to_tensor(np.asarray(image, dtype=np.float32)[None]))
    return {name: _samples(value.numpy()[0]) for name, value in feats.items()}
