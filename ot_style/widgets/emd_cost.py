"""Notebook 03 (``03_the_cost_of_exact_emd``): the per-layer cost of exact EMD, measured timings, and
entropic transport (Sinkhorn) with an epsilon slider.

Structure a browser test can find: the slider ``Image size (px)`` and the table in an HTML widget with
class ``ot-style-cost-table`` (``<td data-layer="relu1_1">``); the Sinkhorn explorer (box class
``ot-style-sinkhorn``): the slider ``Epsilon (ε)``, the numbers in ``ot-style-numbers``
(``data-quantity="sinkhorn"``, ``"exact"``, ``"entropy"``) and the picture in ``img.ot-style-plot``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.emd import emd_cost_table, empirical_w2, sliced_w2
from ..maths.entropic import EntropicPlan, sinkhorn_plan
from ..maths.gaussian import gaussian_w2
from ..maths.moments import feature_moments
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["cost_table_html", "CostTableUI", "cost_table_explorer", "Timing", "time_w2_methods", "timing_figure",
           "two_clouds", "SinkhornExplorer", "SinkhornUI", "sinkhorn_explorer", "SinkhornSweep",
           "sinkhorn_accuracy", "sinkhorn_sweep_figure"]


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


# ------------------------------------------------------------------ entropic transport (Sinkhorn)

def two_clouds(n: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two seeded 2-D Gaussian clouds of ``n`` points each, with squared distances of order 1 (so that
    ``epsilon`` in 0.02-3 spans nearly exact to nearly independent). Notebook 03."""
    if int(n) < 2:
        raise ValueError(f"Each cloud needs at least 2 points, got {n}.")
    z = np.random.default_rng(seed).standard_normal((2, int(n), 2))
    x = 0.4 * (z[0] @ np.array([[1.0, 0.4], [0.0, 0.5]]) - [1.0, 0.0])
    y = 0.4 * (z[1] @ np.array([[0.6, 0.0], [0.3, 1.0]]) + [1.5, 0.5])
    return x, y


def _sq_distances(x, y) -> np.ndarray:
    x, y = np.asarray(x, float), np.asarray(y, float)
    return np.maximum((x**2).sum(1)[:, None] + (y**2).sum(1)[None, :] - 2 * x @ y.T, 0.0)


class SinkhornExplorer:
    """Sinkhorn's entropic plan between two small 2-D clouds for one ``epsilon``. Notebook 03.

    The exact EMD cost (:func:`ot_style.maths.emd.empirical_w2`, squared) is computed once; each
    :meth:`set_epsilon` recomputes the plan (:func:`ot_style.maths.entropic.sinkhorn_plan`).
    """

    def __init__(self, n: int = 100, epsilon: float = 0.1, *, seed: int = 0, max_iter: int = 5000):
        self.x, self.y = two_clouds(n, seed)
        self.cost = _sq_distances(self.x, self.y)
        self.exact_cost = empirical_w2(self.x, self.y) ** 2
        self.max_iter = int(max_iter)
        self.set_epsilon(epsilon)

    def set_epsilon(self, epsilon: float) -> None:
        """Recompute the entropic plan for this ``epsilon`` (in the units of the squared distances)."""
        self.result: EntropicPlan = sinkhorn_plan(self.cost, epsilon, max_iter=self.max_iter)

    @property
    def epsilon(self) -> float:
        return self.result.epsilon

    def numbers(self) -> dict[str, float]:
        """``sinkhorn`` (<P, C>), ``exact`` (exact EMD cost), ``entropy`` (H(P)) and ``iterations``."""
        r = self.result
        return {"sinkhorn": r.cost, "exact": self.exact_cost, "entropy": r.entropy,
                "iterations": float(r.iterations)}

    def figure(self):
        """The two clouds with a line per pair weighted by the plan, and the plan as a matrix (rows and
        columns sorted along the first axis, so an exact plan is close to a diagonal)."""
        from matplotlib.collections import LineCollection

        p = self.result.plan
        fig = plotting.new_figure(8.0, 3.4)
        ax, ax_plan = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.4, 1]})
        i, j = np.nonzero(p > 0.02 * p.max())
        share = np.clip(p[i, j] / p.max(), 0.0, 1.0)  # mass relative to the largest entry of the plan
        colours = np.zeros((i.size, 4))  # black; opacity and width grow with the mass a line carries
        colours[:, 3] = 0.9 * share
        ax.add_collection(LineCollection(np.stack([self.x[i], self.y[j]], axis=1), colors=colours,
                                         linewidths=0.3 + 1.4 * share))
        ax.scatter(*self.x.T, s=8, color="tab:blue", label="x", zorder=3)
        ax.scatter(*self.y.T, s=8, color="tab:orange", label="y", zorder=3)
        ax.set_aspect("equal")
        ax.legend(fontsize=7, loc="upper left")
        ax.set_title(f"ε = {self.epsilon:.3g}: <P, C> = {self.result.cost:.4f} (exact {self.exact_cost:.4f})",
                     fontsize=9)
        rows, cols = np.argsort(self.x[:, 0]), np.argsort(self.y[:, 0])
        where = p[np.ix_(rows, cols)] / p.sum(axis=1, keepdims=True)[rows]  # row i: where x_i's mass goes
        ax_plan.imshow(where, cmap="magma", interpolation="nearest", vmin=0.0,
                       vmax=max(float(np.quantile(where, 0.995)), 1e-12))
        ax_plan.set_xlabel("points of y (sorted by first coordinate)", fontsize=8)
        ax_plan.set_ylabel("points of x (sorted)", fontsize=8)
        ax_plan.set_title(f"where each x goes (rows of P), H(P) = {self.result.entropy:.2f}", fontsize=9)
        ax_plan.set_xticks([])
        ax_plan.set_yticks([])
        fig.tight_layout()
        return fig


class SinkhornUI(_UI):
    """Slider ``Epsilon (ε)`` (log scale), the numbers and the picture; ``.model``."""

    def __init__(self, model: SinkhornExplorer):
        import ipywidgets as w

        self.model = model
        self.epsilon = w.FloatLogSlider(description="Epsilon (ε)", value=model.epsilon, base=10, min=-1.7,
                                        max=0.5, step=0.05, readout_format=".3f",
                                        style={"description_width": "90px"})
        self.numbers = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="720px"))
        self.numbers.add_class("ot-style-numbers")
        self.plot.add_class("ot-style-plot")
        self.epsilon.observe(lambda change: self._moved(change["new"]), names="value")
        self.widget = w.VBox([self.epsilon, self.numbers, self.plot])
        self.widget.add_class("ot-style-sinkhorn")
        self.update()

    def _moved(self, value) -> None:
        self.model.set_epsilon(value)
        self.update()

    def update(self) -> None:
        """Recompute the numbers and the picture from the model (picture first, numbers last)."""
        self.plot.value = plotting.figure_png(self.model.figure())
        n = self.model.numbers()
        self.numbers.value = (_numbers_html([("sinkhorn", "Sinkhorn <P, C>", n["sinkhorn"]),
                                             ("exact", "exact EMD", n["exact"]),
                                             ("entropy", "entropy H(P)", n["entropy"])])
                              + f" &nbsp;|&nbsp; {int(n['iterations'])} iterations")


def sinkhorn_explorer(**kwargs) -> SinkhornUI:
    """Notebook 03: move epsilon and watch Sinkhorn's plan blur and its cost leave the exact EMD cost."""
    return SinkhornUI(SinkhornExplorer(**kwargs))


@dataclass(frozen=True)
class SinkhornSweep:
    r"""Accuracy and measured time of Sinkhorn for several epsilons, next to exact EMD and the closed form.

    Attributes
    ----------
    epsilons : ndarray, shape (k,)
    costs, entropies, seconds : ndarray, shape (k,)
        :math:`\langle P_\varepsilon, C\rangle`, :math:`H(P_\varepsilon)` and seconds per plan.
    iterations : ndarray of int, shape (k,)
    converged : ndarray of bool, shape (k,)
    exact_cost, exact_seconds : float
        Exact EMD (network simplex) between the same clouds: :math:`W_2^2` of the samples.
    gaussian_cost, gaussian_seconds : float
        :math:`W_2^2` between the Gaussians fitted to the clouds (eq. 1 and 2).
    n : int
        Points per cloud.
    """

    epsilons: np.ndarray
    costs: np.ndarray
    entropies: np.ndarray
    seconds: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray
    exact_cost: float
    exact_seconds: float
    gaussian_cost: float
    gaussian_seconds: float
    n: int


def _timed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


def sinkhorn_accuracy(x, y, epsilons, *, max_iter: int = 10_000) -> SinkhornSweep:
    """Sinkhorn (:func:`ot_style.maths.entropic.sinkhorn_plan`) for each epsilon, exact EMD and the
    Gaussian closed form between the clouds ``x`` (n, d) and ``y`` (m, d), each timed once (cost matrix
    included). Wall-clock times on a shared machine are noisy: a measurement for a figure. Notebook 03."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    warm = x[: min(8, len(x))]
    sinkhorn_plan(_sq_distances(warm, warm + 1.0), 1.0)  # the first call pays for imports, not for n
    empirical_w2(warm, warm + 1.0)
    exact, exact_s = _timed(lambda: empirical_w2(x, y) ** 2)
    gaussian, gaussian_s = _timed(lambda: _gaussian_from_samples(x, y) ** 2)
    plans, seconds = [], []
    for eps in epsilons:
        plan, s = _timed(lambda e=eps: sinkhorn_plan(_sq_distances(x, y), e, max_iter=max_iter))
        plans.append(plan)
        seconds.append(s)
    return SinkhornSweep(np.asarray(epsilons, float), np.array([p.cost for p in plans]),
                         np.array([p.entropy for p in plans]), np.asarray(seconds),
                         np.array([p.iterations for p in plans]), np.array([p.converged for p in plans]),
                         float(exact), exact_s, float(gaussian), gaussian_s, int(x.shape[0]))


def sinkhorn_sweep_figure(sweep: SinkhornSweep):
    """Accuracy against time: the cost each method finds (y) against its measured seconds (x, log)."""
    fig = plotting.new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    ax.plot(sweep.seconds, sweep.costs, "o-", color="tab:purple", label="Sinkhorn <P_ε, C>")
    for eps, s, c in zip(sweep.epsilons, sweep.seconds, sweep.costs):
        ax.annotate(f"ε={eps:g}", (s, c), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.axhline(sweep.exact_cost, color="black", ls="--", lw=1)
    ax.plot([sweep.exact_seconds], [sweep.exact_cost], "*", ms=12, color="black", label="exact EMD")
    ax.plot([sweep.gaussian_seconds], [sweep.gaussian_cost], "s", color="tab:green",
            label="Gaussian closed form (eq. 2)")
    ax.set_xscale("log")
    ax.margins(x=0.12, y=0.12)  # room for the epsilon labels
    ax.set_xlabel("seconds (measured here, now)")
    ax.set_ylabel("W2² estimate")
    ax.set_title(f"two 2-D clouds of {sweep.n} points", fontsize=9)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig
