"""The NumPy mathematics the notebooks teach (float64, never TensorFlow).

:mod:`~ot_style.maths.moments` (eq. 1, the Gram matrix, weighted moments),
:mod:`~ot_style.maths.gaussian` (eq. 2 and 4, STROTSS's moment distance, the Monge map, the barycentre),
:mod:`~ot_style.maths.emd` (exact and sliced transport between samples, what exact EMD would cost),
:mod:`~ot_style.maths.counterexamples` (Gaussians with equal Gram matrices),
:mod:`~ot_style.maths.pot` (POT without its heavy backends),
:mod:`~ot_style.maths.feature_stats` (how far features are from Gaussian: notebook 00),
:mod:`~ot_style.maths.flow` (the gradient of W2^2 as a transport arrow: notebook 02b),
:mod:`~ot_style.maths.entropic` (Sinkhorn's entropic transport: notebook 03),
:mod:`~ot_style.maths.relaxed` (relaxed EMD and STROTSS's terms: notebook 08) and
:mod:`~ot_style.maths.histogram_matching` (sliced histogram matching, Optimal Textures: notebook 08).
"""

from .._lazy import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("moments", "gaussian", "emd", "counterexamples", "pot",
                                                        "feature_stats", "flow", "entropic", "relaxed",
                                                        "histogram_matching"))
