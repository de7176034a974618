"""VGG19: where its weights come from (:mod:`~ot_style.network.weights`, files read by
:mod:`~ot_style.network.readers`) and the TensorFlow feature extractor (:mod:`~ot_style.network.vgg`)."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("weights", "readers", "vgg"))
