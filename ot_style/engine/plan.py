"""The plan of a run, before any work: each scale's long side, image sizes and evaluation budget.

One function, :func:`plan_run`, used by the library (:func:`ot_style.stylize`), the command line (its
progress bar's length) and the playground (its progress bar), so the three never disagree. No
TensorFlow: planning is instant and checks every size before a network is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import StyleConfig, steps_per_scale
from ..layers import deepest_layer, min_image_side
from ..pixels.images import fit_size

__all__ = ["ScalePlan", "RunPlan", "plan_run"]


@dataclass(frozen=True)
class ScalePlan:
    """One scale of a coarse-to-fine run.

    Attributes
    ----------
    long_side : int
        The scale (long side of the output at this scale, pixels).
    size : (int, int)
        ``(height, width)`` of the image optimised at this scale.
    style_sizes : tuple of (int, int)
        ``(height, width)`` of each style image at this scale (never enlarged beyond its own size).
    budget : int
        Loss-and-gradient evaluations at this scale.
    """

    long_side: int
    size: tuple
    style_sizes: tuple
    budget: int


@dataclass(frozen=True)
class RunPlan:
    """Every scale of a run, coarse to fine (``scales[-1].size`` is the output size)."""

    scales: tuple

    @property
    def total_steps(self) -> int:
        """Evaluations over all scales (a progress bar's length)."""
        return sum(scale.budget for scale in self.scales)

    @property
    def output_size(self) -> tuple:
        """``(height, width)`` of the result."""
        return self.scales[-1].size


def plan_run(config: StyleConfig, reference_shape, style_shapes, layers) -> RunPlan:
    """Sizes and budgets of each of ``config.scales`` for these images, checked before any work.

    A coarse scale at which an image would be smaller than the network's deepest layer can take is
    dropped (so a small ``size`` still runs, with fewer scales); the budgets follow the scales that are
    left (:func:`ot_style.config.steps_per_scale`: a per-scale tuple is aligned with the finest ones).

    Parameters
    ----------
    config : StyleConfig
        A validated configuration (its ``scales``, ``size`` and ``steps``).
    reference_shape : tuple
        Shape of the content image (or of the first style image for a texture): the output's aspect.
    style_shapes : sequence of tuple
        Shapes of the style images.
    layers : sequence of str
        Every layer the network must compute; its deepest sets the smallest side an image may have
        (:func:`ot_style.layers.min_image_side`).

    Raises
    ------
    ValueError
        When an image at the final scale (the output size) would be too small for the layers.
    """
    min_side, deepest = min_image_side(layers), deepest_layer(layers)
    planned = []
    for long_side in config.scales:
        size = fit_size(reference_shape, long_side)
        style_sizes = tuple(fit_size(shape, min(long_side, max(shape[:2]))) for shape in style_shapes)
        named = [("output", size)] + [(f"style image {i + 1}", hw) for i, hw in enumerate(style_sizes)]
        small = [(what, hw) for what, hw in named if min(hw) < min_side]
        if small and long_side != config.scales[-1]:
            continue  # a coarse scale the network cannot take: start at the next one
        if small:
            what, (h, w) = small[0]
            raise ValueError(f"At size {long_side} the {what} is {h}x{w} pixels, too small for layer "
                             f"{deepest}: it needs at least {min_side} pixels per side; use a larger size "
                             "or shallower layers.")
        planned.append((int(long_side), size, style_sizes))
    budgets = steps_per_scale(config.steps, len(planned))
    return RunPlan(tuple(ScalePlan(side, size, styles, int(budget))
                         for (side, size, styles), budget in zip(planned, budgets)))
