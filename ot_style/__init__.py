"""ot-style: style transfer as optimal transport, for learning and teaching.

``import ot_style`` is light: it loads only the NumPy mathematics on first use of a name. TensorFlow
(the network, the losses, the optimiser), ipywidgets and matplotlib are imported by the modules that
need them, when they are first used.
"""

from __future__ import annotations

import importlib

from ._version import __version__

# public name -> module that defines it; resolved on first attribute access (PEP 562).
_EXPORTS = {
    # math (NumPy reference)
    "Moments": "maths.moments",
    "feature_moments": "maths.moments",
    "gram_matrix": "maths.moments",
    "masked_moments": "maths.moments",
    "gaussian_w2": "maths.gaussian",
    "gatys_style_loss": "maths.gaussian",
    "gaussian_monge_map": "maths.gaussian",
    "MongeMap": "maths.gaussian",
    "gaussian_barycenter": "maths.gaussian",
    "emd_cost": "maths.emd",
    "EMDCost": "maths.emd",
    "empirical_w2": "maths.emd",
    "sliced_w2": "maths.emd",
    "VGG19_LAYERS": "layers",
    "StyleConfig": "config",
    "default_config": "config",
    # engine (TensorFlow, loaded only when these names are used)
    "stylize": "engine.synthesis",
    "StyleResult": "engine.synthesis",
    "Iterate": "engine.optimizers",
    # images
    "load_image": "pixels.images",
    "save_image": "pixels.images",
}
# The layers, from the mathematics up to people (each imports only those before it).
_SUBMODULES = {"config", "layers", "maths", "pixels", "network", "losses", "engine", "plotting", "widgets",
               "cli"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ot_style' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
