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
    "Moments": "moments",
    "feature_moments": "moments",
    "gram_matrix": "moments",
    "masked_moments": "moments",
    "gaussian_w2": "gaussian",
    "gatys_style_loss": "gaussian",
    "gaussian_monge_map": "gaussian",
    "MongeMap": "gaussian",
    "gaussian_barycenter": "gaussian",
    "emd_cost": "emd",
    "EMDCost": "emd",
    "empirical_w2": "emd",
    "sliced_w2": "emd",
    "VGG19_LAYERS": "layer_table",
    "StyleConfig": "config",
    "default_config": "config",
    # engine (TensorFlow, loaded only when these names are used)
    "stylize": "synthesis",
    "StyleResult": "synthesis",
    "Iterate": "synthesis",
    # images
    "load_image": "images",
    "save_image": "images",
}
_SUBMODULES = {"counterexamples", "colour", "config", "emd", "gaussian", "images", "layer_table",
               "moments", "widgets", "plotting", "vgg", "losses", "synthesis", "cli", "guidance",
               "demo", "classroom", "weights", "optimizers", "losses_strotss", "tf_gaussian", "cli_parser"}

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
