"""Every default of the package, and the one rulebook that checks a configuration.

The library (:func:`ot_style.stylize`), the command line and the widgets all read their defaults from
:class:`StyleConfig`; nothing else defines a default value. :meth:`StyleConfig.validate` is the only
place each rule about a setting lives (a loss name, a layer-weight count, a schedule that ends at the
output size, ...): the engine, the CLI and the widgets call it instead of checking on their own.
``OT_STYLE_FAST=1`` in the environment selects :data:`FAST`, the small-and-quick variant the test
suite and the notebooks' fast mode use. Named presets are in :data:`PRESETS`.
"""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass, replace

from .layers import check_layers

__all__ = ["StyleConfig", "DEFAULT", "FAST", "PAPER", "PRESETS", "preset", "fast_mode", "default_config",
           "steps_per_scale", "format_steps", "check_weights", "mixing_weights", "rescale_scales",
           "STYLE_LOSSES", "OPTIMIZERS", "CONTENT_LOSSES", "INITS", "POOLINGS", "COLOUR_TRANSFERS",
           "GRAM_NORMALISATIONS", "W2_COMPUTE_DTYPES", "LARGE_SIZE", "LARGE_STEPS", "large_steps"]

STYLE_LOSSES = ("w2", "gram", "moments", "sliced", "strotss")
OPTIMIZERS = ("lbfgs", "adam")
CONTENT_LOSSES = (None, "features", "self_similarity")
INITS = ("content", "noise", "style")
POOLINGS = ("max", "avg")
COLOUR_TRANSFERS = (None, "gaussian", "sliced")
GRAM_NORMALISATIONS = ("mean", "gatys")
W2_COMPUTE_DTYPES = ("float64", "float32")

# The default schedule, and the one with_size gives large pictures (see StyleConfig.with_size).
DEFAULT_SCALES = (64, 128, 256)
DEFAULT_STEPS = (40, 24, 10)
LARGE_SIZE = 1024
# A large picture's budgets from the 256-px scale up, by the scale's long side: (up to this side,
# evaluations). An evaluation costs in proportion to the pixels (about 0.4 s at 256 px, 2 s at 480,
# 8 s at 960 and 30-40 s at 1920 on 2 cores), so the cheap middle scales get many steps, where the
# style's strokes take shape, and the finest few, to add the last detail. Chosen with the quality
# measures at 1920 px (benchmarks/README.md, scale): 24/18 steps at 480/960 px raised the texture gain
# from 0.32 to 0.43 over 8/6 at equal structure, in 6-7 minutes instead of 4.
LARGE_STEPS = ((512, 24), (1024, 18), (None, 4))

# The seed program matches moments at the first ReLU of every block.
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass(frozen=True)
class StyleConfig:
    """Defaults for a style transfer; see each field's comment for why it has its value."""

    # The defaults below were chosen with the picture-quality harness (benchmarks/quality.py; figures in
    # benchmarks/README.md), on seeded random weights, which is what runs offline.
    # Eq. 3 of the paper: squared Gaussian W2 summed over layers.
    loss: str = "w2"
    layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    # relu1_1 (3x3 patches: colours and fine grain) counts three times: with equal weights the deep
    # layers' gradients left pixel noise and less of the subject (harness: content structure and
    # roughness). None means equal weights.
    layer_weights: tuple[float, ...] | None = (3.0, 1.0, 1.0, 1.0, 1.0)
    # The paper needs no content loss (the optimiser starts from the subject and moves it minimally).
    # Measured with random weights, the subject's layout was gone after a full run without one, so a
    # normalised Gatys content term at relu3_2 holds it, weighted half of one style layer (departure
    # from the paper; the "paper" preset has none).
    content_loss: str | None = "features"
    content_layer: str = "relu3_2"
    content_weight: float = 0.5
    # Adam kept more of the subject than L-BFGS for the same budget (harness); L-BFGS, as in the seed's
    # scipy_optimizer, is the alternative and the "paper" preset's.
    optimizer: str = "adam"
    # Loss-and-gradient evaluations per scale, coarse to fine (one number: the same at every scale).
    # An evaluation at half the size costs about a quarter, so the coarse scales make the big moves
    # cheaply and the fine one adds detail (benchmarks/README.md has the measured figures).
    steps: int | tuple[int, ...] = DEFAULT_STEPS
    # The largest change of any pixel in an optimiser's first step: Adam's learning rate, and the length
    # of L-BFGS's first trial step (ot_style.engine.optimizers.run_lbfgs).
    learning_rate: float = 0.02
    # Long side of the output image in pixels.
    size: int = 256
    # Coarse-to-fine long sides; the last one must equal ``size``. Large structures form at 64 px.
    scales: tuple[int, ...] = DEFAULT_SCALES
    init: str = "content"
    weights: str = "auto"
    pooling: str = "max"
    seed: int = 0
    preserve_colour: bool = False
    # Recolour the style with the content's palette before the run (None: off).
    colour_transfer: str | None = None
    # How many sampled locations STROTSS compares per step.
    strotss_samples: int = 1024
    sliced_projections: int = 64
    # Gram loss scale: "mean" (G = F^T F / n, eq. 4) or "gatys" (also divided by 4 N^2).
    gram_normalisation: str = "mean"
    # dtype of W2's per-step eigendecomposition; float32 is inexact at rank-deficient layers.
    w2_compute_dtype: str = "float64"
    # Divide each loss term by its value at a blank picture (all features 0), so layers and terms share
    # one scale and weights mean relative importance (ot_style.losses.base.StyleLoss explains it).
    normalise_losses: bool = True
    # The callback receives an iterate every step; live previews ask for the image every this many.
    preview_every: int = 5
    # A picture too large for memory whole is evaluated exactly tile by tile (ot_style.engine.tiled):
    # None chooses by the memory estimate (ot_style.engine.plan.plan_tiles), 0 never tiles, a number
    # (a multiple of 16) always tiles with that interior side.
    tile_size: int | None = None
    # The memory the run may use, in GB (None: what the machine has available).
    memory_limit_gb: float | None = None

    def replace(self, **changes) -> "StyleConfig":
        """A copy with ``changes`` applied (not validated: call :meth:`validate`)."""
        return replace(self, **changes)

    def with_changes(self, *, size=None, scales=None, **changes) -> "StyleConfig":
        """A validated copy with every change that is not None applied (what a caller's keywords mean).

        ``size`` given without ``scales`` keeps the coarse-to-fine schedule in proportion
        (:meth:`with_size`); ``layers`` may be a list or one name, and other ``layers`` without
        ``layer_weights`` get equal weights. The library, the command line and the widgets all
        resolve their settings through this method.
        """
        changes = {key: value for key, value in changes.items() if value is not None}
        if isinstance(changes.get("layers"), (list, str)):
            changes["layers"] = check_layers(changes["layers"])
        if "layers" in changes and "layer_weights" not in changes and changes["layers"] != self.layers:
            changes["layer_weights"] = None  # the config's weights belong to its layers: other layers, equal weights
        if changes.get("layer_weights") is not None:
            changes["layer_weights"] = tuple(changes["layer_weights"])
        cfg = self.replace(**changes)
        if size is not None and scales is None and size != cfg.size:
            cfg = cfg.with_size(size)
        elif size is not None:
            cfg = cfg.replace(size=size)
        if scales is not None:
            cfg = cfg.replace(scales=tuple(scales))
        return cfg.validate()

    def with_size(self, size: int) -> "StyleConfig":
        """A copy whose output long side is ``size``, with the coarse-to-fine schedule kept in proportion.

        A large picture (:data:`LARGE_SIZE` px or more) with the default schedule keeps the default's
        scales and budgets up to 128 px, where the subject's layout forms, and continues by doublings up
        to ``size``, each scale from 256 px up with the budget :func:`large_steps` gives its side: many
        steps at the cheap middle scales, a few at the finest, since an evaluation costs in proportion
        to the pixels (about 30 s at 1920x1080 on 2 cores). The layout forms as in a 256-px run, which
        the picture-quality harness measured (``benchmarks/README.md``, scale).
        """
        size = _whole(size, "size", 1)
        if size >= LARGE_SIZE and self.scales == DEFAULT_SCALES and self.steps == DEFAULT_STEPS:
            finer, side = [], size
            while side > DEFAULT_SCALES[-1]:
                finer.insert(0, side)
                side = max(16, round(side / 2 / 16) * 16)
            scales = DEFAULT_SCALES + tuple(finer)
            steps = DEFAULT_STEPS[:-1] + tuple(large_steps(side) for side in scales[len(DEFAULT_STEPS) - 1:])
            return self.replace(size=size, scales=scales, steps=steps)
        return self.replace(size=size, scales=rescale_scales(self.scales, self.size, size))

    def validate(self) -> "StyleConfig":
        """Check every setting; return ``self`` or raise ``ValueError`` with one sentence naming the problem."""
        _choice(self.loss, STYLE_LOSSES, "loss")
        _choice(self.optimizer, OPTIMIZERS, "optimizer")
        _choice(self.content_loss, CONTENT_LOSSES, "content_loss")
        _choice(self.init, INITS, "init")
        _choice(self.pooling, POOLINGS, "pooling")
        _choice(self.colour_transfer, COLOUR_TRANSFERS, "colour_transfer")
        _choice(self.gram_normalisation, GRAM_NORMALISATIONS, "gram_normalisation")
        _choice(self.w2_compute_dtype, W2_COMPUTE_DTYPES, "w2_compute_dtype")
        layers = check_layers(self.layers)
        check_layers((self.content_layer,))
        if self.layer_weights is not None:
            if len(self.layer_weights) != len(layers):
                raise ValueError(f"There must be one layer weight per style layer: {len(layers)} layers "
                                 f"but {len(self.layer_weights)} weights.")
            check_weights(self.layer_weights, "Layer weights")
        check_weights((self.content_weight,), "The content weight")
        if not (isinstance(self.learning_rate, (int, float)) and math.isfinite(self.learning_rate)
                and self.learning_rate > 0):
            raise ValueError(f"The learning rate must be a positive number, got {self.learning_rate!r}.")
        _whole(self.size, "size", 1)
        if not self.scales or self.scales[-1] != self.size:
            raise ValueError(f"The last of scales {self.scales} must equal the output size {self.size}.")
        if any(_whole(s, "a scale", 1) >= b for s, b in zip(self.scales, self.scales[1:])):
            raise ValueError(f"scales must increase from coarse to fine; got {self.scales}.")
        steps_per_scale(self.steps, len(self.scales))
        _whole(self.seed, "seed", 0)
        _whole(self.strotss_samples, "strotss_samples", 2)
        _whole(self.sliced_projections, "sliced_projections", 1)
        _whole(self.preview_every, "preview_every", 1)
        if self.tile_size is not None and _whole(self.tile_size, "tile_size", 0) % 16:
            raise ValueError(f"tile_size must be a multiple of 16 (the pooling grid), or 0 for no tiling; "
                             f"got {self.tile_size}.")
        if self.memory_limit_gb is not None and not (isinstance(self.memory_limit_gb, (int, float))
                                                    and math.isfinite(self.memory_limit_gb)
                                                    and self.memory_limit_gb > 0):
            raise ValueError(f"The memory limit must be a positive number of GB, got {self.memory_limit_gb!r}.")
        return self


def _choice(value, choices, what: str) -> None:
    if value not in choices:
        names = ", ".join("None" if c is None else repr(c) for c in choices)
        raise ValueError(f"Unknown {what} {value!r}; choose one of {names}.")


def _whole(value, what: str, minimum: int) -> int:
    try:  # ints and NumPy integers; not floats, strings or bools
        number = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        number = None
    if number is None or number < minimum:
        raise ValueError(f"{what} must be a whole number of at least {minimum}; got {value!r}.")
    return int(number)


def check_weights(values, what: str) -> tuple[float, ...]:
    """``values`` as floats, or ``ValueError`` if one is negative, infinite or NaN."""
    try:
        numbers = tuple(float(v) for v in values)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be numbers; got {values!r}.") from None
    if not all(math.isfinite(v) and v >= 0 for v in numbers):
        raise ValueError(f"{what} must be finite and non-negative; got {numbers}.")
    return numbers


def mixing_weights(weights, count: int) -> tuple[float, ...]:
    """Style-mixing weights, one per style image, normalised to sum to 1 (equal when ``weights`` is None)."""
    if count < 1:
        raise ValueError("At least one style image is needed.")
    values = (1.0,) * count if weights is None else check_weights(weights, "Style mixing weights")
    if len(values) != count:
        raise ValueError(f"There must be one mixing weight per style image: {count} styles but "
                         f"{len(values)} weights.")
    total = sum(values)
    if total <= 0:
        raise ValueError("Style mixing weights must not all be zero.")
    return tuple(v / total for v in values)


def large_steps(side: int) -> int:
    """The evaluation budget of a large picture's scale of long side ``side`` (:data:`LARGE_STEPS`)."""
    return next(steps for limit, steps in LARGE_STEPS if limit is None or side <= limit)


def rescale_scales(scales, old_size: int, size: int) -> tuple[int, ...]:
    """A coarse-to-fine schedule for ``old_size`` rescaled in proportion to end at ``size``."""
    coarse = sorted({max(1, round(s * size / old_size)) for s in scales[:-1]})
    return tuple(s for s in coarse if s < size) + (int(size),)


def steps_per_scale(steps, n_scales: int) -> tuple[int, ...]:
    """The evaluation budget of each of ``n_scales`` scales, coarse to fine.

    One number is used at every scale. A tuple is aligned with the finest scales: when a run has
    fewer scales than entries (a small size drops a coarse scale) the last ``n_scales`` are used; when
    it has more, the first entry is repeated for the extra coarse scales.

    Raises
    ------
    ValueError
        When a budget is not a whole number of at least 1.
    """
    given = tuple(steps) if isinstance(steps, (tuple, list)) else (steps,)
    try:  # ints and NumPy integers; not floats, strings or bools
        values = tuple(operator.index(v) for v in given if not isinstance(v, bool))
    except TypeError:
        values = ()
    if not values or len(values) < len(given) or min(values) < 1:
        raise ValueError(f"steps must be a whole number of at least 1 (or one per scale); got {steps!r}.")
    if len(values) == 1:
        return values * n_scales
    if len(values) >= n_scales:
        return values[len(values) - n_scales:]
    return (values[0],) * (n_scales - len(values)) + values


def format_steps(steps) -> str:
    """``20`` -> ``"20"``, ``(30, 12)`` -> ``"30 12"`` (as ``--steps`` takes them)."""
    return " ".join(str(v) for v in steps) if isinstance(steps, (tuple, list)) else str(steps)


DEFAULT = StyleConfig()
# Fast mode: small images and few steps so notebooks and tests run in seconds on a laptop CPU.
FAST = DEFAULT.replace(size=64, scales=(64,), steps=10, strotss_samples=256, sliced_projections=16)
# The paper's method as written: eq. 3's raw sum of W2^2, no content loss, L-BFGS from the subject.
PAPER = DEFAULT.replace(layer_weights=None, content_loss=None, optimizer="lbfgs", normalise_losses=False,
                        steps=(30, 12), scales=(128, 256), learning_rate=1.0)
#: Named configurations: ``preset("paper")``.
PRESETS = {"default": DEFAULT, "fast": FAST, "paper": PAPER}


def preset(name: str) -> StyleConfig:
    """The configuration called ``name`` in :data:`PRESETS`."""
    if name not in PRESETS:
        raise ValueError(f"There is no preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return PRESETS[name]


def fast_mode() -> bool:
    """True when ``OT_STYLE_FAST`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("OT_STYLE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def default_config() -> StyleConfig:
    """:data:`FAST` in fast mode, :data:`DEFAULT` otherwise."""
    return FAST if fast_mode() else DEFAULT
