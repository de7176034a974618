"""Every default of the package, in one place.

The library (:func:`ot_style.stylize`), the command line and the widgets all read their defaults from
:class:`StyleConfig`; nothing else defines a default value. ``OT_STYLE_FAST=1`` in the environment
selects :data:`FAST`, the small-and-quick variant the test suite and the notebooks' fast mode use.
"""

from __future__ import annotations

import operator
import os
from dataclasses import dataclass, field, replace

__all__ = ["StyleConfig", "DEFAULT", "FAST", "fast_mode", "default_config", "steps_per_scale",
           "format_steps", "STYLE_LOSSES", "OPTIMIZERS", "CONTENT_LOSSES"]

STYLE_LOSSES = ("w2", "gram", "moments", "sliced", "strotss")
OPTIMIZERS = ("lbfgs", "adam")
CONTENT_LOSSES = (None, "features", "self_similarity")

# The seed program matches moments at the first ReLU of every block.
DEFAULT_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


@dataclass(frozen=True)
class StyleConfig:
    """Defaults for a style transfer; see each field's comment for why it has its value."""

    # Eq. 3 of the paper: squared Gaussian W2 summed over layers.
    loss: str = "w2"
    layers: tuple[str, ...] = DEFAULT_STYLE_LAYERS
    # None means equal weights.
    layer_weights: tuple[float, ...] | None = None
    # The paper needs no content loss: starting from the subject, the optimiser moves it minimally.
    content_loss: str | None = None
    content_layer: str = "relu4_2"
    content_weight: float = 1.0
    # L-BFGS as in the seed's scipy_optimizer; Adam is the alternative.
    optimizer: str = "lbfgs"
    # Loss-and-gradient evaluations per scale, coarse to fine (one number: the same at every scale).
    # The 128 px scale makes the big moves cheaply (about 0.2 s an evaluation on a 2-core CPU); the
    # 256 px one (about 1 s: VGG19 to relu5_1, forward and input gradient, is 0.8 s of it) adds
    # detail. Measured on the demo (benchmarks/transfer.py): 95% of the loss drop comes after about
    # 15 s, during the first few 256 px evaluations; 30 + 30 evaluations took 50 s, 20 + 20 took
    # 33-37 s, and 30 + 12 keeps the cheap scale's work and the 30 s budget.
    steps: int | tuple[int, ...] = (30, 12)
    learning_rate: float = 0.02
    # Long side of the output image in pixels.
    size: int = 256
    # Coarse-to-fine long sides; the last one must equal ``size``.
    scales: tuple[int, ...] = (128, 256)
    init: str = "content"
    weights: str = "auto"
    pooling: str = "max"
    seed: int = 0
    preserve_colour: bool = False
    # How many sampled locations STROTSS compares per step.
    strotss_samples: int = 1024
    sliced_projections: int = 64
    # The callback receives an iterate every step; live previews ask for the image every this many.
    preview_every: int = 5
    extra: dict = field(default_factory=dict, compare=False)

    def replace(self, **changes) -> "StyleConfig":
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


DEFAULT = StyleConfig()
# Fast mode: small images and few steps so notebooks and tests run in seconds on a laptop CPU.
FAST = DEFAULT.replace(size=64, scales=(64,), steps=10, strotss_samples=256, sliced_projections=16)


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


def fast_mode() -> bool:
    """True when ``OT_STYLE_FAST`` is set to a true value (``1``, ``true``, ``yes``)."""
    return os.environ.get("OT_STYLE_FAST", "").strip().lower() in {"1", "true", "yes", "on"}


def default_config() -> StyleConfig:
    """:data:`FAST` in fast mode, :data:`DEFAULT` otherwise."""
    return FAST if fast_mode() else DEFAULT
