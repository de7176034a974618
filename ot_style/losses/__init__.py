"""Style and content losses in TensorFlow: the differentiable twins of the NumPy mathematics.

One module per idea: :mod:`~ot_style.losses.base` (what every loss is made of: samples, eq. 1's
``tf_moments``, the base classes), :mod:`~ot_style.losses.w2` (eq. 2 and 3, the paper's loss),
:mod:`~ot_style.losses.gram` (eq. 4), :mod:`~ot_style.losses.moments`, :mod:`~ot_style.losses.sliced`,
:mod:`~ot_style.losses.strotss`, :mod:`~ot_style.losses.content`, :mod:`~ot_style.losses.guided` (masks)
and :mod:`~ot_style.losses.registry` (losses by name). TensorFlow is imported when a name is first used.
"""

import importlib

# public name -> submodule that defines it (PEP 562: imported on first use).
_EXPORTS = {
    "StyleLoss": "base", "ContentLoss": "base", "tf_moments": "base",
    "W2Loss": "w2", "w2_squared_to_target": "w2", "matrix_route": "w2",
    "GramLoss": "gram", "MomentsLoss": "moments", "SlicedLoss": "sliced", "resample_sorted": "sliced",
    "StrotssLoss": "strotss", "FeatureContentLoss": "content", "SelfSimilarityLoss": "content",
    "GuidedW2Loss": "guided", "Region": "guided",
    "make_style_loss": "registry", "make_content_loss": "registry", "build_losses": "registry",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
