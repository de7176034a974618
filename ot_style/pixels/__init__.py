"""Pictures as arrays: loading and saving (:mod:`~ot_style.pixels.images`), the bundled pictures
(:mod:`~ot_style.pixels.assets`), optimal-transport colour transfer and luminance
(:mod:`~ot_style.pixels.colour`), and masks (:mod:`~ot_style.pixels.masks`). NumPy and Pillow only."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("images", "assets", "colour", "masks"))
