"""Notebook 03 (``03_the_cost_of_exact_emd``): the per-layer cost of exact EMD and measured timings.

Structure a browser test can find: the slider ``Image size (px)`` and the table in an HTML widget with
class ``ot-style-cost-table`` (``<td data-layer="relu1_1">``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.emd import emd_cost_table, empirical_w2, sliced_w2
from ..maths.gaussian import gaussian_w2
from ..maths.moments import feature_moments
from ._ui import UI as _UI

__all__ = ["cost_table_html", "CostTableUI", "cost_table_explorer", "Timing", "time_w2_methods", "timing_figure"]


def cost_table_html(size: int, layers=None) -> str:
    """The per-layer cost of exact EMD for two ``size`` x ``size`` images, as an HTML table. Notebook 03."""
    rows = emd_cost_table(size, size, layers)
    head = ("<tr><th>layer</th><th>n = h'w'</th><th>c</th><th>pairwise c n² (float32)</th>"
            "<th>distance matrix n²</th><th>assignment n³</th><th>Gaussian closed form</th></tr>")
    body = "".join(
        f"<tr><td>{r.layer}</td><td>{r.samples:,}</td><td>{r.channels}</td>"
        f'<td data-layer="{r.layer}">{plotting.format_bytes(r.pairwise_bytes)}</td>'
        f"<td>{plotting.format_bytes(r.distance_matrix_bytes)}</td><td>{plotting.format_count(r.assignment_ops)}"
        f"</td><td>{plotting.format_count(r.gaussian_ops)}</td></tr>" for r in rows)
    style = "<style>.ot-style-cost td, .ot-style-cost th {padding: 2px 10px; text-align: right}</style>"
    return f'{style}<table class="ot-style-cost">{head}{body}</table>'


class CostTableUI(_UI):
    """Slider ``Image size (px)`` and the table (HTML with class ``ot-style-cost-table``)."""

    def __init__(self, size: int = 224):
        import ipywidgets as w

        self.size = w.IntSlider(description="Image size (px)", value=size, min=16, max=1024, step=16,
                                style={"description_width": "110px"})
        self.table = w.HTML()
        self.table.add_class("ot-style-cost-table")
        self.size.observe(lambda change: self.update(), names="value")
        self.widget = w.VBox([self.size, self.table])
        self.update()

    def update(self) -> None:
        """Rebuild the table for the slider's size."""
        self.table.value = cost_table_html(self.size.value)


def cost_table_explorer(size: int = 224) -> CostTableUI:
    """Notebook 03: the cost of exact EMD per VGG19 layer for an image size chosen with a slider."""
    return CostTableUI(size)


@dataclass(frozen=True)
class Timing:
    """Measured seconds per call (best of ``repeats``) for each method and sample count.

    Attributes
    ----------
    ns : ndarray, shape (k,)
    dim : int
    seconds : dict[str, ndarray of shape (k,)]
        Keys ``"exact EMD"``, ``"sliced W2"``, ``"Gaussian closed form"``.
    values : dict[str, ndarray of shape (k,)]
        The distances each method returned (they should be close to each other).
    """

    ns: np.ndarray
    dim: int
    seconds: dict
    values: dict

    def slopes(self) -> dict[str, float]:
        """Log-log slope of time against ``n`` per method (``p`` in ``time ~ n^p``)."""
        return {k: plotting.loglog_slope(self.ns, v) for k, v in self.seconds.items()}


def _gaussian_from_samples(x, y) -> float:
    mx, my = feature_moments(x), feature_moments(y)
    return gaussian_w2(mx.mean, mx.cov, my.mean, my.cov)


def time_w2_methods(ns, dim: int = 64, *, repeats: int = 1, n_projections: int = 64, seed: int = 0) -> Timing:
    """Time exact EMD, sliced W2 and the Gaussian closed form (moments included) between two samples
    of ``n`` standard-normal ``dim``-vectors (shifted by 1 in one of them). Notebook 03.

    Wall-clock times on a shared machine are noisy; this is a measurement for a figure, not a test.
    """
    rng = np.random.default_rng(seed)
    methods = {"exact EMD": empirical_w2,
               "sliced W2": lambda x, y: sliced_w2(x, y, n_projections=n_projections, seed=seed),
               "Gaussian closed form": _gaussian_from_samples}
    seconds = {k: [] for k in methods}
    values = {k: [] for k in methods}
    warm = np.linspace(0.0, 1.0, 8 * dim).reshape(8, dim)  # no draw from rng: same samples as without it
    for method in methods.values():  # the first call pays for imports (POT) and caches, not for n
        method(warm, warm + 1.0)
    for n in ns:
        x = rng.standard_normal((int(n), dim))
        y = rng.standard_normal((int(n), dim)) + 1.0
        for name, method in methods.items():
            best = np.inf
            for _ in range(max(int(repeats), 1)):
                start = time.perf_counter()
                value = method(x, y)
                best = min(best, time.perf_counter() - start)
            seconds[name].append(best)
            values[name].append(value)
    return Timing(np.asarray(ns), int(dim), {k: np.asarray(v) for k, v in seconds.items()},
                  {k: np.asarray(v) for k, v in values.items()})


def timing_figure(result: Timing):
    """Log-log plot of seconds against sample count, with the fitted exponent of each method."""
    return plotting.loglog_timing_figure(result.ns, result.seconds, title=f"{result.dim} channels")
