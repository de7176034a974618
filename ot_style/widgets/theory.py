"""Widgets of the theory notebooks: Gram blindness (01), Gaussian W2 (02) and the cost of exact EMD (03).

Each notebook cell builds its UI with one call: :func:`mean_variance_explorer` (01),
:func:`gaussian_2d_explorer` (02), :func:`cost_table_explorer` and :func:`sinkhorn_explorer` (03). Behind
every control is a plain class or function that returns numbers and matplotlib figures
(:class:`MeanVarianceExplorer`, :class:`Gaussian2DExplorer`, :func:`cost_table_html`,
:func:`time_w2_methods`, :class:`SinkhornExplorer`, :func:`sinkhorn_accuracy`), so tests and the
notebooks' assert cells drive them without a browser.

Structure a browser test can find: sliders ``Mean of X``, ``Variance of X`` and the checkbox
``Keep the Gram matrix fixed`` (01); sliders ``X: mean 1``, ``X: mean 2``, ``X: variance 1``,
``X: variance 2``, ``X: correlation`` and the same five for ``Y:`` (02); slider ``Image size (px)`` and,
in a box with class ``ot-style-sinkhorn``, slider ``Epsilon (ε)`` (03).
The numbers are in an ``ipywidgets.HTML`` with CSS class ``ot-style-numbers`` (its ``<b>`` elements
carry ``data-quantity="gram"`` / ``"w2"``; ``"sinkhorn"``, ``"exact"``, ``"entropy"`` in 03), the picture
in an ``ipywidgets.Image``
(``img.ot-style-plot``), the table of 03 in an HTML widget with class ``ot-style-cost-table``.

The code lives in one module per notebook: :mod:`.gram_blindness` (01), :mod:`.w2_gaussians` (02) and
:mod:`.emd_cost` (03); this module gathers their names, so ``from ot_style.widgets import theory``
gives a notebook everything it needs.
"""

from __future__ import annotations

from .emd_cost import *  # noqa: F401,F403
from .emd_cost import __all__ as _emd_cost_all
from .gram_blindness import *  # noqa: F401,F403
from .gram_blindness import __all__ as _gram_blindness_all
from .w2_gaussians import *  # noqa: F401,F403
from .w2_gaussians import __all__ as _w2_gaussians_all

__all__ = _gram_blindness_all + _w2_gaussians_all + _emd_cost_all
