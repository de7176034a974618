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
from ..layers import LAYER_INFO, VGG19_LAYERS, deepest_layer, layer_info, min_image_side, receptive_field, spatial_size
from ..pixels.images import fit_size

__all__ = ["ScalePlan", "RunPlan", "plan_run", "memory_needed", "available_memory",
           "plan_tiles", "memory_budget", "grid_step", "halo_for", "tiled_memory_needed", "tiling_refusal", "TILEABLE_LOSSES", "TILEABLE_CONTENT_LOSSES",
           "TILE_SIDES"]

# Peak resident memory of one evaluation is about MEMORY_PER_ACTIVATION_BYTE x the bytes of the float32
# activations from the image to the deepest layer, plus MEMORY_BASE for Python, TensorFlow and the
# network (a least-squares line through peak RSS at 1024 and 1920 px on a 2-core VM: 3.8 and 10.7 GB;
# benchmarks/README.md). Rounded up, so that a refusal errs on the safe side.
MEMORY_PER_ACTIVATION_BYTE = 1.3
MEMORY_BASE = 1.1e9
# A tiled evaluation (ot_style.engine.tiled) also keeps whole-picture arrays: the image, its gradient,
# the optimiser's state and float64 copies (about 64 bytes a pixel with Adam; L-BFGS-B's ten float64
# correction pairs add 2 x 10 x 3 x 8 = 480), and the content target at its layer.
TILED_BYTES_PER_PIXEL = {"adam": 64, "lbfgs": 64 + 480}
#: Interior sides (px) the automatic tiling tries, largest first: the largest whose tiles fit is used.
TILE_SIDES = (1024, 768, 512, 384, 256, 128)
#: Losses that :mod:`ot_style.engine.tiled` computes exactly over tiles (their ``tileable`` attribute).
TILEABLE_LOSSES = ("w2", "moments", "gram")
TILEABLE_CONTENT_LOSSES = (None, "features")


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
    tile : int or None
        Interior side of the tiles of an exact tiled evaluation (:mod:`ot_style.engine.tiled`) when the
        picture would not fit in memory whole; None: the whole picture at once.
    """

    long_side: int
    size: tuple
    style_sizes: tuple
    budget: int
    tile: int | None = None

    @property
    def cost(self) -> float:
        """Relative cost of one evaluation at this scale: its pixels (a tiled evaluation makes two
        passes, with halos, so about twice): what a progress bar's time estimate weighs steps by."""
        return self.size[0] * self.size[1] * (2.0 if self.tile else 1.0)


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
        # Too small: under the deepest layer's minimum side, or a single activation there (a covariance
        # needs two feature vectors).
        small = [(what, hw) for what, hw in named
                 if min(hw) < min_side or math.prod(spatial_size(*hw, deepest)) < 2]
        if small and long_side != config.scales[-1]:
            continue  # a coarse scale the network cannot take: start at the next one
        if small:
            what, (h, w) = small[0]
            raise ValueError(f"At size {long_side} the {what} is {h}x{w} pixels, too small for layer "
                             f"{deepest}: it needs at least {min_side} pixels per side, and two activations "
                             f"there (at least {min_side}x{2 * min_side}); use a larger size or shallower layers.")
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


def memory_budget(cfg) -> float | None:
    """Bytes a run may use: the config's ``memory_limit_gb``, never more than the machine has available."""
    available = available_memory()
    if cfg.memory_limit_gb is None:
        return available
    limit = float(cfg.memory_limit_gb) * 1e9
    return limit if available is None else min(limit, available)


def grid_step(layers) -> int:
    """The pooling grid of the deepest layer: :math:`2^p`, ``p`` its number of poolings."""
    return 2 ** layer_info(deepest_layer(layers)).pools_before


def halo_for(layers) -> int:
    """Pixels of context a tile needs on each side: half the deepest layer's receptive field plus one
    step of its grid (the field is centred on the activation within a step), rounded up to the grid."""
    step = grid_step(layers)
    reach = receptive_field(deepest_layer(layers)) / 2 + step
    return int(math.ceil(reach / step) * step)


def tiled_memory_needed(size, layers, tile: int, optimizer: str = "adam", content_layer: str | None = None) -> float:
    """Bytes one tiled evaluation of a ``size`` picture needs at its peak: one tile's evaluation (its
    interior ``tile`` grown by the halo on both sides) plus the whole-picture arrays."""
    h, w = size
    halo = halo_for(layers)
    outer = (min(h, tile + 2 * halo), min(w, tile + 2 * halo))
    need = MEMORY_PER_ACTIVATION_BYTE * _activation_bytes(outer, layers) + MEMORY_BASE
    need += TILED_BYTES_PER_PIXEL.get(optimizer, TILED_BYTES_PER_PIXEL["lbfgs"]) * h * w
    if content_layer is not None:
        ch, cw = spatial_size(h, w, content_layer)
        need += 2 * 4 * ch * cw * layer_info(content_layer).channels  # the target and a float64 crop
    return need


def tiling_refusal(loss: str, content_loss: str | None, *, loss_tileable: bool | None = None,
                   content_tileable: bool | None = None) -> str | None:
    """Why a loss cannot be computed exactly tile by tile (a clause), or None when it can.

    By name (:data:`TILEABLE_LOSSES`), or by the loss objects' ``tileable`` attribute when given.
    """
    loss_ok = loss in TILEABLE_LOSSES if loss_tileable is None else loss_tileable
    content_ok = content_loss in TILEABLE_CONTENT_LOSSES if content_tileable is None else content_tileable
    if not loss_ok:
        return (f"the {loss!r} style loss cannot be computed tile by tile (it compares individual feature "
                "vectors across the whole picture, not their moments)")
    if not content_ok:
        return (f"the {content_loss!r} content term cannot be computed tile by tile (it compares sampled "
                "locations across the whole picture)")
    return None


#: What to do instead of a loss that cannot be tiled.
TILEABLE_ADVICE = 'use loss "w2", "moments" or "gram" with content loss "features" or none'


def plan_tiles(plan: RunPlan, layers, *, refusal: str | None = None, optimizer: str = "adam",
               content_layer: str | None = None, tile: int | None = None,
               available: float | None = None) -> RunPlan:
    """Decide, per scale, whether the picture is evaluated whole or tile by tile; refuse what cannot fit.

    A scale whose whole-picture evaluation (:func:`memory_needed`) fits in ``available`` memory runs
    whole; a larger one is tiled with the largest side of :data:`TILE_SIDES` whose tiles fit
    (:func:`tiled_memory_needed`), when the loss can be tiled exactly (:data:`TILEABLE_LOSSES`). ``tile``
    forces tiling with that interior side at every scale larger than one tile (0: never tile).
    ``refusal`` is :func:`tiling_refusal` of the run's losses (None: they can be tiled); ``content_layer``
    is the content term's layer when it has one (its target is kept whole).

    Raises
    ------
    ValueError
        One sentence: what the size needs, what is available, the largest size that fits; or why this
        loss cannot be tiled.
    """
    available = available_memory() if available is None else available
    tileable = refusal is None
    content = content_layer
    scales = []
    for scale in reversed(plan.scales):  # the output's scale first: a refusal names the size asked for
        whole = memory_needed(RunPlan((scale,)), layers)
        chosen = None
        if tile:
            if tileable and max(scale.size) > tile:
                chosen = int(tile)
        elif tile is None and available is not None and whole > available:
            if not tileable:
                raise ValueError(
                    f"A {scale.long_side}-px picture needs about {whole / 1e9:.1f} GB of memory whole, more "
                    f"than the {available / 1e9:.1f} GB available, and {refusal}: {TILEABLE_ADVICE}, or a size "
                    f"of about {_largest_whole(scale, layers, available)} px.")
            step = grid_step(layers)
            for side in TILE_SIDES:
                if side % step == 0 and tiled_memory_needed(scale.size, layers, side, optimizer, content) <= available:
                    chosen = side
                    break
            if chosen is None:
                need = tiled_memory_needed(scale.size, layers, TILE_SIDES[-1], optimizer, content)
                raise ValueError(
                    f"A {scale.long_side}-px picture needs about {need / 1e9:.1f} GB of memory even tile by "
                    f"tile, but this machine has {available / 1e9:.1f} GB available; the largest size that "
                    f"fits is about {_largest_tiled(scale, layers, available, optimizer, content)} px.")
        scales.append(ScalePlan(scale.long_side, scale.size, scale.style_sizes, scale.budget, chosen))
    return RunPlan(tuple(reversed(scales)))


def _largest_whole(scale: ScalePlan, layers, available: float) -> int:
    need = memory_needed(RunPlan((scale,)), layers)
    fits = scale.long_side * math.sqrt(max(available - MEMORY_BASE, 0.0) / max(need - MEMORY_BASE, 1.0))
    return max(16, int(fits) // 16 * 16)


def _largest_tiled(scale: ScalePlan, layers, available: float, optimizer: str, content) -> int:
    h, w = scale.size
    low, high = 16, scale.long_side
    while high - low > 16:  # the need grows with the side: bisect
        mid = (low + high) // 2
        size = (max(1, round(h * mid / scale.long_side)), max(1, round(w * mid / scale.long_side)))
        if tiled_memory_needed(size, layers, TILE_SIDES[-1], optimizer, content) <= available:
            low = mid
        else:
            high = mid
    return low // 16 * 16
