"""The optimisation: the plan of scales, sizes and budgets (:mod:`~ot_style.engine.plan`, no
TensorFlow), the optimisers and their callback record (:mod:`~ot_style.engine.optimizers`), and
:func:`~ot_style.engine.synthesis.stylize`, the short pipeline that ties them together."""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("plan", "optimizers", "synthesis"))
