"""One entry point for style transfer and texture synthesis: :func:`stylize`, a short pipeline.

Pixels -> VGG19 features (:mod:`ot_style.network.vgg`) -> style and content losses
(:mod:`ot_style.losses`) -> gradient -> pixels, with L-BFGS or Adam (:mod:`ot_style.engine.optimizers`),
coarse to fine over the scales of :func:`ot_style.engine.plan.plan_run`. Notebook 04
(``notebooks/04_style_transfer_playground.ipynb``) runs it live; every default comes from
:class:`ot_style.config.StyleConfig`.

Why the default schedule is what it is (the seed program: start from the subject, no content loss,
L-BFGS): a coarse scale costs a quarter of the next one per evaluation but already moves colours and
large strokes, so most of the loss drop is bought cheaply; the fine scale then starts close to its
optimum and only adds detail. So the default budget (``steps``, one number per scale) spends more
evaluations at the coarse scale than at the fine one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..config import StyleConfig, default_config, mixing_weights
from ..layers import check_layers
from ..pixels.colour import preserve_luminance, transfer_gaussian, transfer_sliced
from ..pixels.images import read_image, resize
from .optimizers import Iterate, LossAndGradient, StopRequested, Tracker, run_adam, run_lbfgs
from .plan import RunPlan, ScalePlan, memory_budget, plan_run, plan_tiles
from .tiled import tileable_reason

__all__ = ["stylize", "StyleResult", "Iterate"]


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


def stylize(content, style, *, loss=None, layers=None, layer_weights=None, content_loss="config",
            content_weight=None, optimizer=None, steps=None, size=None, scales=None, init=None,
            weights=None, seed=None, callback=None, preserve_colour=None, colour_transfer=None,
            style_weights=None, config: StyleConfig | None = None, extractor=None) -> StyleResult:
    """Give ``content`` the style of ``style`` (or synthesise a texture) by minimising a feature loss.

    .. math:: x^\\star = \\arg\\min_{x \\in [0,1]^{h \\times w \\times 3}}
              \\sum_{k \\in K} w_k\\, \\mathcal W_2^2\\big(\\mathcal N(\\mu_{x_k}, \\Sigma_{x_k}),
              \\mathcal N(\\mu_{s_k}, \\Sigma_{s_k})\\big) \\; [+ \\alpha\\, \\mathcal L_{content}]

    (eq. 3 of the paper for the default ``loss="w2"``), coarse to fine over ``scales``: at each scale
    the images are resized (long side = the scale; a style is never enlarged beyond its own size), the
    style targets are computed once, the loss is minimised for ``steps`` evaluations, and the best image
    is upsampled (Lanczos) as the next scale's start. Explained in notebook 04.

    The pipeline: resolve and validate the settings (:meth:`ot_style.config.StyleConfig.validate`),
    read the images, build the losses (:func:`ot_style.losses.registry.build_losses`), plan the scales
    (:func:`ot_style.engine.plan.plan_run`), build the network, then optimise each scale.

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
    content_loss : "config", None, "features", "self_similarity" or a ContentLoss
        ``"config"`` (the default) takes the config's, which is dropped for a texture; None: no
        content term.
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
        VGG weights: ``"auto"``, ``"imagenet"``, ``"random"`` or a file (see :mod:`ot_style.network.weights`).
    seed : int
        Seeds the noise start, random weights and the losses' random projections/samples.
    callback : callable(Iterate) -> bool or None
        Called after every evaluation; returning False stops the run (``interrupted=True``).
    preserve_colour : bool
        Keep the content's colours (:func:`ot_style.pixels.colour.preserve_luminance`).
    colour_transfer : None, "gaussian" or "sliced"
        Recolour each style image with the content's palette first (:mod:`ot_style.pixels.colour`), so the
        result takes the style's textures but keeps the content's colours.
    style_weights : sequence of float
        Mixing weights of the style images, non-negative, normalised to sum to 1.
    config : StyleConfig
        Where every argument left None comes from (default :func:`ot_style.config.default_config`).
    extractor : FeatureExtractor
        Reuse a network (it must compute every needed layer); its weights override ``weights``.
        A loss with an ``at_scale(size, style_sizes)`` hook (spatial guidance,
        :mod:`ot_style.losses.guided`) is told each scale's sizes before its targets are prepared.

    Returns
    -------
    StyleResult

    Raises
    ------
    ValueError
        Unknown loss, optimizer, init or layer; mismatched or negative weights; scales that do not end
        at ``size``; an image too small for the deepest layer at some scale.
    """
    from ..losses.registry import build_losses

    start = time.perf_counter()
    cfg = (default_config() if config is None else config).with_changes(
        size=size, scales=scales, loss=loss if isinstance(loss, str) else None, layers=layers,
        layer_weights=layer_weights, content_weight=content_weight, optimizer=optimizer, steps=steps,
        init=init, weights=weights, seed=seed, preserve_colour=preserve_colour, colour_transfer=colour_transfer)
    content = None if content is None else read_image(content, what="content image")
    styles = _read_styles(style)
    mix = mixing_weights(style_weights, len(styles))
    if content is None and (cfg.preserve_colour or cfg.colour_transfer is not None):
        raise ValueError("preserve_colour and colour_transfer need a content image whose colours to keep.")
    style_loss, content_term = build_losses(cfg, None if isinstance(loss, str) else loss, content_loss,
                                            has_content=content is not None)
    cfg = cfg.replace(loss=getattr(style_loss, "name", type(style_loss).__name__),
                      layers=check_layers(style_loss.layers),
                      content_loss=None if content_term is None else getattr(content_term, "name", "custom"))
    needed = tuple(dict.fromkeys(tuple(style_loss.layers) + tuple(getattr(content_term, "layers", ()))))
    reference = content if content is not None else styles[0]
    plan = plan_run(cfg, reference.shape, [s.shape for s in styles],
                    needed + (tuple(extractor.layers) if extractor is not None else ()))
    plan = plan_tiles(plan, needed, refusal=tileable_reason(style_loss, content_term), optimizer=cfg.optimizer,
                      content_layer=getattr(content_term, "layers", (None,))[0], tile=cfg.tile_size,
                      available=memory_budget(cfg))
    extractor = _network(extractor, needed, cfg)
    if cfg.colour_transfer is not None:
        styles = _recolour_styles(styles, content, plan, cfg)
    run = _Run(cfg, extractor, style_loss, content_term, content, styles, mix, callback, start)
    image = None
    for index, scale in enumerate(plan.scales):
        image = run.start_image(scale) if image is None else resize(image, scale.size)
        image = run.optimise(index, scale, image)
        if run.interrupted:
            break
    return run.result(image, plan)


def _read_styles(style) -> list:
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    if not styles:
        raise ValueError("At least one style image is needed.")
    return [read_image(s, what=f"style image {i + 1}" if len(styles) > 1 else "style image")
            for i, s in enumerate(styles)]


class _Cache:
    """The last few networks and traced objectives, kept across :func:`stylize` calls in a process.

    Building VGG19 and tracing its loss and gradient cost seconds; the playground (and a notebook cell
    run again) asks for the same network and the same graph over and over. A network is reused when
    its layers, weights (the same file, unchanged), pooling and seed are the same; a traced objective
    when the network and the losses' :meth:`~ot_style.losses.base.StyleLoss.graph_key` are (the layer
    and content weights are graph inputs, so a weight slider reuses it). Each traced objective keeps
    one trace per image size, and one Adam step per size.
    """

    size = 3

    def __init__(self):
        self.networks, self.objectives = {}, {}

    @staticmethod
    def _remember(table: dict, key, make):
        if key in table:
            table[key] = table.pop(key)  # most recently used last
            return table[key]
        value = make()
        table[key] = value
        while len(table) > _Cache.size:
            table.pop(next(iter(table)))
        return value

    def network(self, needed, cfg):
        from ..network.vgg import FeatureExtractor
        from ..network.weights import resolve_weights

        choice = resolve_weights(cfg.weights)
        stamp = None
        if choice.path is not None:
            stat = choice.path.stat()
            stamp = (str(choice.path), stat.st_mtime_ns, stat.st_size)
        key = (tuple(needed), choice.kind, stamp, cfg.pooling, cfg.seed)
        return self._remember(self.networks, key, lambda: FeatureExtractor(
            needed, weights=cfg.weights, pooling=cfg.pooling, seed=cfg.seed))

    def objective(self, extractor, style_loss, content_term, make):
        style_key = style_loss.graph_key() if hasattr(style_loss, "graph_key") else None
        content_key = None if content_term is None else (
            content_term.graph_key() if hasattr(content_term, "graph_key") else None)
        if style_key is None or (content_term is not None and content_key is None):
            return make()
        return self._remember(self.objectives, (id(extractor), style_key, content_key), make)


_CACHE = _Cache()


def _network(extractor, needed, cfg):
    """The given network (checked to compute every needed layer), a cached one or a new one."""
    if extractor is None:
        return _CACHE.network(needed, cfg)
    missing = [name for name in needed if name not in extractor.layers]
    if missing:
        raise ValueError(f"The extractor given does not compute layer {missing[0]}; build it with "
                         f"all of {', '.join(needed)}.")
    return extractor


def _recolour_styles(styles, content, plan: RunPlan, cfg) -> list:
    # The STYLE is recoloured with the content's palette (Gatys et al. 2016, colour histogram
    # matching), so the output keeps the content's colours and takes only the style's textures.
    finest = [resize(s, hw) for s, hw in zip(styles, plan.scales[-1].style_sizes)]
    palette = resize(content, plan.output_size)
    if cfg.colour_transfer == "gaussian":
        return [transfer_gaussian(s, palette, clip=True) for s in finest]
    return [transfer_sliced(s, palette, seed=cfg.seed) for s in finest]


def _loss_terms(extractor, style_loss, content_term):
    """Pixels -> features -> named loss terms (what the optimiser differentiates). A closure over the
    network and the losses only, so that a cached objective keeps nothing else of a run alive."""

    def loss_terms(x, targets):
        style_target, content_target = targets
        features = extractor(x)
        terms = dict(style_loss(features, style_target, x))
        if content_term is not None:
            for name, value in content_term(features, content_target, x).items():
                terms[name if name not in terms else f"content/{name}"] = value
        return terms

    return loss_terms


class _Run:
    """What every scale of one :func:`stylize` call shares: the objective, the tracker, the timings."""

    def __init__(self, cfg, extractor, style_loss, content_term, content, styles, mix, callback, start):
        self.cfg, self.extractor, self.content, self.styles, self.mix = cfg, extractor, content, styles, mix
        self.style_loss, self.content_term = style_loss, content_term
        self.tracker = Tracker(callback=callback, render=self.render, start=start)
        # One tf.function, a trace per image size, reused by later runs with the same network and losses.
        self.objective = _CACHE.objective(extractor, style_loss, content_term,
                                          lambda: LossAndGradient(_loss_terms(extractor, style_loss, content_term)))
        self._tiled = {}  # tile side -> TiledObjective, for scales too large to evaluate whole
        self.seconds, self.interrupted = [], False

    def tiled(self, tile: int):
        from .tiled import TiledObjective

        if tile not in self._tiled:
            self._tiled[tile] = TiledObjective(self.extractor, self.style_loss, self.content_term, tile=tile)
        return self._tiled[tile]

    def render(self, pixels):
        """What a user sees of an optimised image: the colour post-processing applied."""
        if self.cfg.preserve_colour:
            return preserve_luminance(pixels, resize(self.content, pixels.shape[:2]))
        return pixels

    def start_image(self, scale: ScalePlan) -> np.ndarray:
        """The first scale's start: the content, the first style, or noise around the style's mean colour."""
        if self.content is not None and self.cfg.init == "content":
            return resize(self.content, scale.size)
        if self.cfg.init == "style":
            return resize(self.styles[0], scale.size)
        # Noise around the style's mean colour: the mean is the first thing every style loss matches, so
        # starting there spends no evaluations on it. Texture synthesis always starts here.
        rng = np.random.default_rng(self.cfg.seed)
        mean = np.mean(self.styles[0].reshape(-1, 3), axis=0)
        return np.clip(mean + rng.normal(0.0, 0.2, size=(*scale.size, 3)), 0.0, 1.0).astype(np.float32)

    def targets(self, index: int, scale: ScalePlan):
        """The style (and content) targets at this scale, computed once, outside the gradient."""
        import tensorflow as tf

        if hasattr(self.style_loss, "at_scale"):
            self.style_loss.at_scale(scale.size, scale.style_sizes)
        style_images = [tf.constant(resize(s, hw)[None]) for s, hw in zip(self.styles, scale.style_sizes)]
        style_target = self.style_loss.prepare([self.extractor(s) for s in style_images], style_images,
                                               self.mix, seed=self.cfg.seed + index)
        if self.content_term is None:
            return style_target, None
        content_image = tf.constant(resize(self.content, scale.size)[None])
        # A picture too large for one pass gets its content features assembled from tiles.
        features = (self.tiled(scale.tile).features(content_image, self.content_term.layers) if scale.tile
                    else self.extractor(content_image))
        return style_target, self.content_term.prepare(features, content_image, seed=self.cfg.seed)

    def optimise(self, index: int, scale: ScalePlan, image: np.ndarray) -> np.ndarray:
        """Minimise at one scale from ``image``; return the scale's best image (or ``image``)."""
        scale_start = time.perf_counter()
        self.tracker.begin_scale(index, scale.size, scale.budget)
        try:
            targets = self.targets(index, scale)
            objective = self.tiled(scale.tile) if scale.tile else self.objective
            if self.cfg.optimizer == "lbfgs":
                run_lbfgs(objective, targets, image, self.tracker, first_step=self.cfg.learning_rate)
            else:
                run_adam(self.objective, targets, image, self.tracker, learning_rate=self.cfg.learning_rate,
                         evaluate=objective.evaluate if scale.tile else None)
        except (StopRequested, KeyboardInterrupt):
            self.interrupted = True
        finally:
            self.seconds.append(time.perf_counter() - scale_start)
        return image if self.tracker.best_image is None else self.tracker.best_image

    def result(self, image: np.ndarray, plan: RunPlan) -> StyleResult:
        if tuple(image.shape[:2]) != plan.output_size:  # stopped at a coarse scale: upsample its best image
            image = resize(image, plan.output_size)
        return StyleResult(image=self.render(np.asarray(image, np.float32)), history=self.tracker.history,
                           evaluations=self.tracker.evaluations, seconds_per_scale=self.seconds,
                           weights_source=self.extractor.weights_source,
                           random_weights=bool(self.extractor.is_random), interrupted=self.interrupted,
                           config=self.cfg)
