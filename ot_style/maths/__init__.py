"""The NumPy mathematics the notebooks teach (float64, never TensorFlow).

:mod:`~ot_style.maths.moments` (eq. 1, the Gram matrix, weighted moments),
:mod:`~ot_style.maths.gaussian` (eq. 2 and 4, STROTSS's moment distance, the Monge map, the barycentre),
:mod:`~ot_style.maths.emd` (exact and sliced transport between samples, what exact EMD would cost),
:mod:`~ot_style.maths.counterexamples` (Gaussians with equal Gram matrices) and
:mod:`~ot_style.maths.pot` (POT without its heavy backends).
"""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("moments", "gaussian", "emd", "counterexamples", "pot"))
