"""One entry point for style transfer and texture synthesis: :func:`stylize`.

Pixels -> VGG19 features (:mod:`ot_style.vgg`) -> style and content losses (:mod:`ot_style.losses`)
-> gradient -> pixels, with L-BFGS or Adam (:mod:`ot_style.optimizers`), coarse to fine over
``scales``. Notebook 04 (``notebooks/04_style_transfer_playground.ipynb``) runs it live; every default comes from
:class:`ot_style.config.StyleConfig`.

Why the default schedule is what it is (the seed program: start from the subject, no content loss,
L-BFGS): a coarse scale costs a quarter of the next one per evaluation but already moves colours and
large strokes, so most of the loss drop is bought cheaply; the fine scale then starts close to its
optimum and only adds detail. So the default budget (``steps``, one number per scale) spends more
evaluations at the coarse scale than at the fine one: 30 at 128 px cost about as much as 6 at 256 px.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from .config import CONTENT_LOSSES, OPTIMIZERS, STYLE_LOSSES, StyleConfig, default_config, steps_per_scale
from .layer_table import VGG19_LAYERS, check_layers, layer_info
from .optimizers import Iterate, LossAndGradient, _StopRequested, _Tracker, run_adam, run_lbfgs

__all__ = ["stylize", "StyleResult", "Iterate", "INITS", "COLOUR_TRANSFERS", "preserve_luminance"]

INITS = ("content", "noise", "style")
COLOUR_TRANSFERS = (None, "gaussian", "sliced")

# RGB -> YIQ (NTSC 1953), the luminance/chroma split of Gatys et al. 2016, "Preserving colour".
_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB = np.linalg.inv(_YIQ)


@dataclass
class StyleResult:
    """What :func:`stylize` returns.

    Attributes
    ----------
    image : ndarray, shape (h, w, 3), float32 in [0, 1]
        The best image (lowest total loss) of the last scale reached, colour post-processing applied.
    history : dict of str to list of float
        Every loss term per evaluation over all scales; always has ``"total"``.
    evaluations : int
        Loss-and-gradient evaluations over all scales.
    seconds_per_scale : list of float
        Wall time of each scale reached (targets, tracing and optimisation).
    weights_source : str
        Where the VGG weights came from (says RANDOM when they are not ImageNet's).
    random_weights : bool
    interrupted : bool
        True when the callback returned False or a KeyboardInterrupt stopped the run.
    config : StyleConfig
        The settings the run actually used.
    """

    image: np.ndarray
    history: dict
    evaluations: int
    seconds_per_scale: list
    weights_source: str
    random_weights: bool
    interrupted: bool
    config: StyleConfig


def preserve_luminance(result, content) -> np.ndarray:
    """Keep the content's colours: the result's luminance with the content's chroma.

    The luminance-only transfer of Gatys, Bethge, Hertzmann and Shechtman (2016, "Preserving colour in
    neural artistic style transfer"), applied as a post-processing step in YIQ:

    .. math:: (Y, I, Q)_{out} = (Y_{result}, I_{content}, Q_{content})

    Departure from the paper: they also optimise on luminance images only, with the style's luminance
    matched to the content's; here the optimisation stays in RGB and only the chroma is swapped, which
    keeps the content's hues exactly at no cost.

    Parameters
    ----------
    result, content : ndarray, shape (h, w, 3), float in [0, 1]

    Returns
    -------
    ndarray, shape (h, w, 3), float32, clipped to [0, 1]
    """
    out = np.asarray(result, np.float64) @ _YIQ.T
    out[..., 1:] = (np.asarray(content, np.float64) @ _YIQ.T)[..., 1:]
    return np.clip(out @ _RGB.T, 0.0, 1.0).astype(np.float32)


def _as_image(image, what: str) -> np.ndarray:
    if isinstance(image, (str, os.PathLike)):
        from .images import load_image

        return load_image(image)
    array = np.asarray(image)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    if array.ndim != 3 or array.shape[2] != 3 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"The {what} must be an RGB array of shape (height, width, 3); got shape "
                         f"{array.shape}.")
    array = array.astype(np.float32)
    if not np.all(np.isfinite(array)) or array.min() < -1e-6 or array.max() > 1 + 1e-6:
        raise ValueError(f"The {what} must have finite values in [0, 1] (or be uint8).")
    return np.clip(array, 0.0, 1.0)


def _fit(shape, long_side: int) -> tuple[int, int]:
    """(h, w) with the aspect of ``shape`` and the long side ``long_side``."""
    h, w = shape[:2]
    factor = long_side / max(h, w)
    return max(1, round(h * factor)), max(1, round(w * factor))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bicubic resize with antialiasing (when shrinking), clipped to [0, 1]."""
    import tensorflow as tf

    if tuple(image.shape[:2]) == tuple(size):
        return np.asarray(image, np.float32)
    out = tf.image.resize(np.asarray(image, np.float32)[None], size, method="bicubic", antialias=True)
    return np.clip(out.numpy()[0], 0.0, 1.0).astype(np.float32)


def _check_weights(values, what: str) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if any(not np.isfinite(v) or v < 0 for v in values):
        raise ValueError(f"{what} must be finite and non-negative; got {values}.")
    return values


def _resolve_config(base: StyleConfig, size, scales, changes: dict) -> StyleConfig:
    changes = {key: value for key, value in changes.items() if value is not None}
    if size is not None and scales is None and int(size) != base.size:
        # Only the size was given: keep the config's coarse-to-fine schedule in proportion.
        scales = sorted({max(1, round(s * int(size) / base.size)) for s in base.scales[:-1]})
        scales = tuple(s for s in scales if s < int(size)) + (int(size),)
    if size is not None:
        changes["size"] = int(size)
    if scales is not None:
        changes["scales"] = tuple(int(s) for s in scales)
    cfg = base.replace(**changes)
    steps_per_scale(cfg.steps, len(cfg.scales))  # raises on a bad budget
    if not cfg.scales or cfg.scales[-1] != cfg.size:
        raise ValueError(f"The last of scales {cfg.scales} must equal the output size {cfg.size}.")
    if any(b <= a for a, b in zip(cfg.scales, cfg.scales[1:])) or cfg.scales[0] < 1:
        raise ValueError(f"scales must increase from coarse to fine; got {cfg.scales}.")
    if cfg.optimizer not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {cfg.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}.")
    if cfg.init not in INITS:
        raise ValueError(f"Unknown init {cfg.init!r}; choose one of {', '.join(INITS)}.")
    if cfg.content_weight is not None:
        _check_weights((cfg.content_weight,), "content_weight")
    return cfg


def _style_loss(loss, cfg: StyleConfig):
    """A StyleLoss object from a name (via :mod:`ot_style.losses`) or the object itself."""
    if isinstance(loss, str):
        if loss not in STYLE_LOSSES:
            raise ValueError(f"Unknown loss {loss!r}; choose one of {', '.join(STYLE_LOSSES)}.")
        layers = check_layers(cfg.layers)
        if cfg.layer_weights is not None:
            if len(cfg.layer_weights) != len(layers):
                raise ValueError(f"layer_weights has {len(cfg.layer_weights)} values but there are "
                                 f"{len(layers)} layers.")
            _check_weights(cfg.layer_weights, "layer_weights")
        from .losses import make_style_loss

        return make_style_loss(loss, layers, cfg.layer_weights, cfg)
    if not (callable(loss) and hasattr(loss, "prepare") and hasattr(loss, "layers")):
        raise ValueError("loss must be a name from ot_style.config.STYLE_LOSSES or a StyleLoss object.")
    check_layers(loss.layers)
    return loss


def _content_loss(name, cfg: StyleConfig, has_content: bool):
    if name is None:
        return None
    if not has_content:
        raise ValueError("A content loss needs a content image; use content_loss=None for texture synthesis.")
    if isinstance(name, str) or name is None:
        if name not in CONTENT_LOSSES:
            choices = ", ".join(str(c) for c in CONTENT_LOSSES)
            raise ValueError(f"Unknown content loss {name!r}; choose one of {choices}.")
        from .losses import make_content_loss

        return make_content_loss(name, check_layers((cfg.content_layer,))[0], cfg.content_weight, cfg)
    if not (callable(name) and hasattr(name, "prepare") and hasattr(name, "layers")):
        raise ValueError("content_loss must be None, a name from ot_style.config.CONTENT_LOSSES or a "
                         "ContentLoss object.")
    return name


def _recolour_styles(styles, content, method: str, seed: int) -> list[np.ndarray]:
    # The STYLE is recoloured with the content's palette (Gatys et al. 2016, colour histogram
    # matching), so the output keeps the content's colours and takes only the style's textures.
    from . import colour

    if method == "gaussian":
        return [colour.transfer_gaussian(s, content, clip=True) for s in styles]
    return [colour.transfer_sliced(s, content, seed=seed) for s in styles]


def _initial_image(cfg, content, styles, size, seed) -> np.ndarray:
    if content is not None and cfg.init == "content":
        return _resize(content, size)
    if cfg.init == "style":
        return _resize(styles[0], size)
    # Noise around the style's mean colour: the mean is the first thing every style loss matches, so
    # starting there spends no evaluations on it. Texture synthesis always starts here.
    rng = np.random.default_rng(seed)
    mean = np.mean(styles[0].reshape(-1, 3), axis=0)
    return np.clip(mean + rng.normal(0.0, 0.2, size=(*size, 3)), 0.0, 1.0).astype(np.float32)


def stylize(content, style, *, loss=None, layers=None, layer_weights=None, content_loss=None,
            content_weight=None, optimizer=None, steps=None, size=None, scales=None, init=None,
            weights=None, seed=None, callback=None, preserve_colour=None, colour_transfer=None,
            style_weights=None, config: StyleConfig | None = None, extractor=None,
            guidance=None) -> StyleResult:
    """Give ``content`` the style of ``style`` (or synthesise a texture) by minimising a feature loss.

    .. math:: x^\\star = \\arg\\min_{x \\in [0,1]^{h \\times w \\times 3}}
              \\sum_{k \\in K} w_k\\, \\mathcal W_2^2\\big(\\mathcal N(\\mu_{x_k}, \\Sigma_{x_k}),
              \\mathcal N(\\mu_{s_k}, \\Sigma_{s_k})\\big) \\; [+ \\alpha\\, \\mathcal L_{content}]

    (eq. 3 of the paper for the default ``loss="w2"``), coarse to fine over ``scales``: at each scale
    the images are resized (long side = the scale; a style is never enlarged beyond its own size), the
    style targets are computed once, the loss is minimised for ``steps`` evaluations, and the best image
    is upsampled (bicubic) as the next scale's start. Explained in notebook 04.

    Parameters
    ----------
    content : ndarray (h, w, 3) float in [0, 1] or uint8, path, or None
        The subject; None synthesises a texture (noise start, aspect of the first style image,
        ``size`` its long side, which may exceed the style's).
    style : ndarray (h, w, 3), path, or list of them
        Several styles are mixed with ``style_weights`` (for ``"w2"``: their Gaussian W2 barycentre).
    loss : str or StyleLoss
        A name from :data:`ot_style.config.STYLE_LOSSES` or a loss object (e.g. a guided loss).
    layers, layer_weights : sequence of str, sequence of float
        VGG19 layers of the style loss and their non-negative weights (None: equal).
    content_loss : None, "features", "self_similarity" or a ContentLoss
    content_weight : float
        Non-negative weight of the content term.
    optimizer : {"lbfgs", "adam"}
    steps : int or tuple of int
        Loss-and-gradient evaluations per scale (L-BFGS line searches count): one number for every
        scale, or one per scale, coarse to fine (see :func:`ot_style.config.steps_per_scale`).
    size : int
        Long side of the output. Given without ``scales``, the config's schedule is rescaled to it.
    scales : sequence of int
        Increasing long sides; the last must equal ``size``.
    init : {"content", "noise", "style"}
        Start image of the first scale (seeded noise around the style's mean colour for ``"noise"``
        and always for texture synthesis; ``"style"`` is the first style resized to the output).
    weights : str or path
        VGG weights: ``"auto"``, ``"imagenet"``, ``"random"`` or a file (see :mod:`ot_style.weights`).
    seed : int
        Seeds the noise start, random weights and the losses' random projections/samples.
    callback : callable(Iterate) -> bool or None
        Called after every evaluation; returning False stops the run (``interrupted=True``).
    preserve_colour : bool
        Keep the content's colours (:func:`preserve_luminance`).
    colour_transfer : None, "gaussian" or "sliced"
        Recolour each style image with the content's palette first (:mod:`ot_style.colour`), so the
        result takes the style's textures but keeps the content's colours.
    style_weights : sequence of float
        Mixing weights of the style images, non-negative, normalised to sum to 1.
    config : StyleConfig
        Where every argument left None comes from (default :func:`ot_style.config.default_config`).
    extractor : FeatureExtractor
        Reuse a network (it must compute every needed layer); its weights override ``weights``.
    guidance : object
        Passed to the style loss's ``at_scale`` hook when it has one (spatial guidance,
        :mod:`ot_style.guidance`); ignored otherwise.

    Returns
    -------
    StyleResult

    Raises
    ------
    ValueError
        Unknown loss, optimizer, init or layer; mismatched or negative weights; scales that do not end
        at ``size``; an image too small for the deepest layer at some scale.
    """
    import tensorflow as tf

    start = time.perf_counter()
    base = config if config is not None else default_config()
    loss = loss if loss is not None else base.loss
    changes = dict(layers=None if layers is None else check_layers(layers),
                   layer_weights=None if layer_weights is None else tuple(layer_weights),
                   content_weight=content_weight, optimizer=optimizer, steps=steps, init=init,
                   weights=weights, seed=seed, preserve_colour=preserve_colour,
                   loss=loss if isinstance(loss, str) else getattr(loss, "name", type(loss).__name__))
    cfg = _resolve_config(base, size, scales, changes)
    if content_loss is None:
        # From the config; a texture has no content to compare with, so the config's term is dropped.
        content_loss = base.content_loss if content is not None else None
    cfg = cfg.replace(content_loss=content_loss if content_loss is None or isinstance(content_loss, str)
                      else getattr(content_loss, "name", type(content_loss).__name__))
    colour_transfer = cfg.extra.get("colour_transfer") if colour_transfer is None else colour_transfer
    if colour_transfer not in COLOUR_TRANSFERS:
        raise ValueError(f"Unknown colour_transfer {colour_transfer!r}; choose None, 'gaussian' or 'sliced'.")

    content = None if content is None else _as_image(content, "content image")
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("At least one style image is needed.")
    styles = [_as_image(s, f"style image {i + 1}" if len(styles) > 1 else "style image")
              for i, s in enumerate(styles)]
    mix = _check_weights(style_weights if style_weights is not None else [1.0] * len(styles),
                         "style_weights")
    if len(mix) != len(styles):
        raise ValueError(f"style_weights has {len(mix)} values but there are {len(styles)} style images.")
    if sum(mix) <= 0:
        raise ValueError("style_weights must not all be zero.")
    mix = [w / sum(mix) for w in mix]
    if content is None and (cfg.preserve_colour or colour_transfer is not None):
        raise ValueError("preserve_colour and colour_transfer need a content image whose colours to keep.")

    style_loss = _style_loss(loss, cfg)
    content_term = _content_loss(content_loss, cfg, content is not None)
    cfg = cfg.replace(layers=tuple(style_loss.layers))
    needed = tuple(style_loss.layers) + (tuple(content_term.layers) if content_term else ())
    needed = tuple(dict.fromkeys(needed))
    # The network runs up to its deepest layer, so a given extractor may need larger images.
    deepest = max(needed + (tuple(extractor.layers) if extractor is not None else ()),
                  key=VGG19_LAYERS.index)
    min_side = 2 ** layer_info(deepest).pools_before  # = FeatureExtractor.min_image_size

    # Sizes of every scale, checked before any work.
    reference = content if content is not None else styles[0]
    plan = []
    for scale in cfg.scales:
        out_size = _fit(reference.shape, scale)
        style_sizes = [_fit(s.shape, min(scale, max(s.shape[:2]))) for s in styles]
        for what, (h, w) in [("output", out_size)] + [(f"style image {i + 1}", hw)
                                                      for i, hw in enumerate(style_sizes)]:
            if min(h, w) < min_side:
                raise ValueError(f"At scale {scale} the {what} is {h}x{w} pixels, too small for layer "
                                 f"{deepest}: it needs at least {min_side} pixels per "
                                 "side; use a larger size or drop the coarse scales.")
        plan.append((scale, out_size, style_sizes))

    if extractor is None:
        from .vgg import FeatureExtractor

        extractor = FeatureExtractor(needed, weights=cfg.weights, pooling=cfg.pooling, seed=cfg.seed)
    else:
        missing = [name for name in needed if name not in extractor.layers]
        if missing:
            raise ValueError(f"The extractor given does not compute layer {missing[0]}; build it with "
                             f"all of {', '.join(needed)}.")
    if colour_transfer is not None:
        finest = [_resize(s, hw) for s, hw in zip(styles, plan[-1][2])]
        styles = _recolour_styles(finest, _resize(content, plan[-1][1]), colour_transfer, cfg.seed)

    def render(pixels):
        if cfg.preserve_colour:
            return preserve_luminance(pixels, _resize(content, pixels.shape[:2]))
        return pixels

    def loss_terms(x, targets):
        style_target, content_target = targets
        features = extractor(x)
        terms = dict(style_loss(features, style_target, x))
        if content_term is not None:
            for name, value in content_term(features, content_target, x).items():
                terms[name if name not in terms else f"content/{name}"] = value
        return terms

    objective = LossAndGradient(loss_terms)  # one tf.function; a trace per image size
    budgets = steps_per_scale(cfg.steps, len(plan))
    tracker = _Tracker(callback=callback, render=render, start=start)
    seconds, image, interrupted = [], None, False
    for index, (scale, out_size, style_sizes) in enumerate(plan):
        scale_start = time.perf_counter()
        if image is None:
            image = _initial_image(cfg, content, styles, out_size, cfg.seed)
        else:
            image = _resize(image, out_size)
        tracker.begin_scale(index, out_size, budgets[index])
        try:
            if hasattr(style_loss, "at_scale"):
                style_loss.at_scale(out_size, style_sizes, guidance)
            style_images = [tf.constant(_resize(s, hw)[None]) for s, hw in zip(styles, style_sizes)]
            target = style_loss.prepare([extractor(s) for s in style_images], style_images, mix,
                                        seed=cfg.seed + index)
            content_target = None
            if content_term is not None:
                content_image = tf.constant(_resize(content, out_size)[None])
                content_target = content_term.prepare(extractor(content_image), content_image)

            if cfg.optimizer == "lbfgs":
                run_lbfgs(objective, (target, content_target), image, tracker)
            else:
                run_adam(loss_terms, (target, content_target), image, tracker,
                         learning_rate=cfg.learning_rate)
        except (_StopRequested, KeyboardInterrupt):
            interrupted = True
        finally:
            seconds.append(time.perf_counter() - scale_start)
        if tracker.best_image is not None:
            image = tracker.best_image
        if interrupted:
            break
    if tuple(image.shape[:2]) != plan[-1][1]:  # stopped at a coarse scale: upsample its best image
        image = _resize(image, plan[-1][1])
    if colour_transfer is not None:
        cfg = cfg.replace(extra={**cfg.extra, "colour_transfer": colour_transfer})
    return StyleResult(image=render(np.asarray(image, np.float32)), history=tracker.history,
                       evaluations=tracker.evaluations, seconds_per_scale=seconds,
                       weights_source=extractor.weights_source, random_weights=bool(extractor.is_random),
                       interrupted=interrupted, config=cfg)
