"""The plan of a run, before any work: each scale's long side, image sizes and evaluation budget.

One function, :func:`plan_run`, used by the library (:func:`ot_style.stylize`), the command line (its
progress bar's length) and the playground (its progress bar), so the three never disagree. No
TensorFlow: planning is instant and checks every size before a network is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import math
import os

from ..config import StyleConfig, steps_per_scale
from ..layers import LAYER_INFO, VGG19_LAYERS, deepest_layer, min_image_side, spatial_size
from ..pixels.images import fit_size

__all__ = ["ScalePlan", "RunPlan", "plan_run", "memory_needed", "available_memory", "check_memory"]

# Peak resident memory of one evaluation is about MEMORY_PER_ACTIVATION_BYTE x the bytes of the float32
# activations from the image to the deepest layer, plus MEMORY_BASE for Python, TensorFlow and the
# network (a least-squares line through peak RSS at 1024 and 1920 px on a 2-core VM: 3.8 and 10.7 GB;
# benchmarks/README.md). Rounded up, so that a refusal errs on the safe side.
MEMORY_PER_ACTIVATION_BYTE = 1.3
MEMORY_BASE = 1.1e9


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


def _activation_bytes(size, layers) -> int:
    h, w = size
    deepest = VGG19_LAYERS.index(deepest_layer(layers))
    return sum(4 * math.prod(spatial_size(h, w, row.name)) * row.channels for row in LAYER_INFO[: deepest + 1])


def memory_needed(plan: RunPlan, layers) -> float:
    """Bytes of memory the largest scale of ``plan`` needs at its peak (see :data:`MEMORY_BASE`)."""
    largest = max(plan.scales, key=lambda scale: scale.size[0] * scale.size[1])
    return MEMORY_PER_ACTIVATION_BYTE * _activation_bytes(largest.size, layers) + MEMORY_BASE


def available_memory() -> float | None:
    """Bytes of memory this machine can still give (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(plan: RunPlan, layers, available: float | None = None) -> None:
    """Refuse, before anything is allocated, a run whose largest scale cannot fit in memory.

    Raises
    ------
    ValueError
        Naming what the size needs, what is available and the largest long side that fits.
    """
    available = available_memory() if available is None else available
    need = memory_needed(plan, layers)
    if available is None or need <= available:
        return
    side = plan.scales[-1].long_side
    # The activations grow like the square of the long side; the base does not.
    fits = side * math.sqrt(max(available - MEMORY_BASE, 0.0) / max(need - MEMORY_BASE, 1.0))
    fits = max(16, int(fits) // 16 * 16)
    raise ValueError(f"A {side}-px picture needs about {need / 1e9:.1f} GB of memory, but this machine has "
                     f"{available / 1e9:.1f} GB available; the largest size that fits is about {fits} px.")

