"""Widgets of the theory notebooks: Gram blindness (01), Gaussian W2 (02) and the cost of exact EMD (03).

Each notebook cell builds its UI with one call: :func:`mean_variance_explorer` (01),
:func:`gaussian_2d_explorer` (02), :func:`cost_table_explorer` (03). Behind every control is a plain
class or function that returns numbers and matplotlib figures (:class:`MeanVarianceExplorer`,
:class:`Gaussian2DExplorer`, :func:`cost_table_html`, :func:`time_w2_methods`), so tests and the
notebooks' assert cells drive them without a browser.

Structure a browser test can find: sliders ``Mean of X``, ``Variance of X`` and the checkbox
``Keep the Gram matrix fixed`` (01); sliders ``X: mean 1``, ``X: mean 2``, ``X: variance 1``,
``X: variance 2``, ``X: correlation`` and the same five for ``Y:`` (02); slider ``Image size (px)`` (03).
The numbers are in an ``ipywidgets.HTML`` with CSS class ``ot-style-numbers`` (its ``<b>`` elements
carry ``data-quantity="gram"`` / ``"w2"``), the picture in an ``ipywidgets.Image``
(``img.ot-style-plot``), the table of 03 in an HTML widget with class ``ot-style-cost-table``.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..counterexamples import PAIRS
from ..emd import emd_cost_table, empirical_w2, sliced_w2
from ..gaussian import gatys_style_loss, gaussian_monge_map, gaussian_w2, sqrtm_psd
from ..moments import feature_moments, gram_matrix

__all__ = ["PairLosses", "counterexample_losses", "counterexample_patches", "gram_distance", "AxiomCheck", "random_gaussian",
           "metric_axioms", "MeanVarianceExplorer", "mean_variance_explorer", "W2Steps", "w2_step_by_step",
           "gaussian_2d", "Gaussian2DExplorer", "gaussian_2d_explorer", "Convergence", "empirical_convergence",
           "convergence_figure", "cost_table_html", "cost_table_explorer", "Timing", "time_w2_methods",
           "timing_figure"]


def _numbers_html(items) -> str:
    # <b data-quantity=...> lets a browser test read one number without parsing the sentence.
    return " &nbsp;|&nbsp; ".join(
        f'{html.escape(label)}: <b data-quantity="{key}">{value:.4f}</b>' for key, label, value in items)


class _UI:
    """Common part of the UIs: ``.widget`` is the box to display, the controls are attributes."""

    widget = None

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


# --------------------------------------------------------------------------- notebook 01

@dataclass(frozen=True)
class PairLosses:
    """Eq. 4 and eq. 2 for one counterexample pair, exact (from the moments) and from samples.

    Attributes
    ----------
    name : str
    gram_loss, w2 : float
        ``gatys_style_loss`` and ``gaussian_w2`` of the analytic means and covariances.
    sampled_gram_loss : float
        Squared Frobenius distance of the samples' Gram matrices (as the theory notebook prints).
    sampled_w2 : float
        ``gaussian_w2`` of the samples' moments (eq. 1).
    """

    name: str
    gram_loss: float
    w2: float
    sampled_gram_loss: float
    sampled_w2: float


def counterexample_losses(n: int = 10_000, seed: int = 0) -> list[PairLosses]:
    """Gram loss and W2 for the pairs of :data:`ot_style.counterexamples.PAIRS`. Notebook 01."""
    rows = []
    for name, p in PAIRS.items():
        x, y = p.sample(n, seed)
        mx, my = feature_moments(x), feature_moments(y)
        rows.append(PairLosses(
            name=name,
            gram_loss=gatys_style_loss(p.mean_x, p.cov_x, p.mean_y, p.cov_y),
            w2=gaussian_w2(p.mean_x, p.cov_x, p.mean_y, p.cov_y),
            sampled_gram_loss=float(np.sum((gram_matrix(x) - gram_matrix(y)) ** 2)),
            sampled_w2=gaussian_w2(mx.mean, mx.cov, my.mean, my.cov)))
    return rows


def counterexample_patches(n: int = 400, seed: int = 0):
    """Samples of X, Y, W, Z drawn as RGB colour patches (one sample per pixel), as in the theory
    notebook: equal Gram matrices, visibly different colours. Notebook 01. Returns a Figure."""
    panels = []
    for name, p in PAIRS.items():
        x, y = p.sample(n, seed)
        panels += [(f"{name[0]}  (pair {name})", x), (f"{name[1]}  (pair {name})", y)]
    return plotting.patches_figure(panels)


def gram_distance(mean_x, cov_x, mean_y, cov_y) -> float:
    r"""The square root of eq. 4, :math:`\lVert G_x - G_y\rVert_F`: a metric between Gram matrices,
    but only a pseudometric between distributions (distinct Gaussians can be at distance 0). Notebook 01."""
    return float(np.sqrt(gatys_style_loss(mean_x, cov_x, mean_y, cov_y)))


@dataclass(frozen=True)
class AxiomCheck:
    """Worst violations of the metric axioms found over random Gaussians (all 0 for a metric,
    up to rounding).

    Attributes
    ----------
    symmetry : float
        max :math:`|d(a,b) - d(b,a)|`.
    identity : float
        max :math:`d(a,a)`.
    triangle : float
        max :math:`d(a,c) - d(a,b) - d(b,c)`, or 0.
    smallest_distinct : float
        min :math:`d(a,b)` over the random *distinct* pairs (positive for a metric on them).
    """

    symmetry: float
    identity: float
    triangle: float
    smallest_distinct: float


def random_gaussian(rng, dim: int):
    """A random ``(mean (dim,), cov (dim, dim))`` whose covariance has a random rank from 1 to ``dim``."""
    rank = int(rng.integers(1, dim + 1))  # rank-deficient covariances on purpose: features often are
    a = rng.standard_normal((dim, rank))
    return rng.standard_normal(dim), a @ a.T


def metric_axioms(distance=gaussian_w2, *, trials: int = 200, dim: int = 3, seed: int = 0) -> AxiomCheck:
    """Check symmetry, identity and the triangle inequality of ``distance(mx, Cx, my, Cy)`` on
    ``trials`` random triples of Gaussians (some with singular covariances). Notebook 01."""
    rng = np.random.default_rng(seed)
    sym = ident = tri = 0.0
    smallest = np.inf
    for _ in range(int(trials)):
        a, b, c = (random_gaussian(rng, dim) for _ in range(3))
        ab, ba, bc, ac = distance(*a, *b), distance(*b, *a), distance(*b, *c), distance(*a, *c)
        sym = max(sym, abs(ab - ba))
        ident = max(ident, distance(*a, *a))
        tri = max(tri, ac - ab - bc)
        smallest = min(smallest, ab)
    return AxiomCheck(symmetry=sym, identity=ident, triangle=max(tri, 0.0), smallest_distinct=float(smallest))


class MeanVarianceExplorer:
    r"""One grey level X ~ N(mean, variance) against a target grey Y ~ N(0.5, 0.2^2). Notebook 01.

    In one dimension the Gram "matrix" is :math:`E[x^2] = \sigma^2 + \mu^2`, so eq. 4 is blind along
    the circle :math:`\mu^2 + \sigma^2 = E[y^2]` in the (mean, standard deviation) plane, while
    :math:`W_2 = \sqrt{(\mu_x-\mu_y)^2 + (\sigma_x-\sigma_y)^2}` is the Euclidean distance in that
    plane. With ``keep_gram`` on, changing the mean moves the variance along that circle (and back).
    """

    def __init__(self, target_mean: float = 0.5, target_variance: float = 0.04, *, n: int = 1024,
                 seed: int = 0):
        if target_variance < 0:
            raise ValueError(f"The target variance must be non-negative, got {target_variance}.")
        self.target_mean, self.target_variance = float(target_mean), float(target_variance)
        self.mean, self.variance = 0.2, 0.02
        self.keep_gram = False
        # Fixed standard normal draws: the patches change only because the parameters change.
        self._z = np.random.default_rng(seed).standard_normal((2, int(n)))

    @property
    def gram_level(self) -> float:
        """:math:`E[y^2]` of the target (its 1x1 Gram matrix)."""
        return self.target_variance + self.target_mean**2

    def set_mean(self, mean: float) -> None:
        """Move the mean; with ``keep_gram`` the variance follows so that mean^2 + variance is fixed."""
        if self.keep_gram:
            limit = np.sqrt(self.gram_level)
            self.mean = float(np.clip(mean, -limit, limit))
            self.variance = max(self.gram_level - self.mean**2, 0.0)
        else:
            self.mean = float(mean)

    def set_variance(self, variance: float) -> None:
        """Move the variance; with ``keep_gram`` the mean follows (keeping its sign)."""
        if variance < 0:
            raise ValueError(f"A variance must be non-negative, got {variance}.")
        if self.keep_gram:
            self.variance = float(min(variance, self.gram_level))
            sign = -1.0 if self.mean < 0 else 1.0
            self.mean = sign * float(np.sqrt(self.gram_level - self.variance))
        else:
            self.variance = float(variance)

    def set_keep_gram(self, keep: bool) -> None:
        """Switch the constraint on; the current point is moved onto the circle by changing its mean."""
        self.keep_gram = bool(keep)
        if self.keep_gram:
            self.set_variance(min(self.variance, self.gram_level))

    def losses(self) -> dict[str, float]:
        """``{"gram": eq. 4, "w2": eq. 2}`` between X and the target."""
        args = ([self.mean], [[self.variance]], [self.target_mean], [[self.target_variance]])
        return {"gram": gatys_style_loss(*args), "w2": gaussian_w2(*args)}

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        """Grey levels of X and of the target from the same fixed normal draws."""
        return (self.mean + np.sqrt(self.variance) * self._z[0],
                self.target_mean + np.sqrt(self.target_variance) * self._z[1])

    def figure(self):
        """The (mean, std) plane with the Gram-blind circle and the W2 circle, and the two grey patches."""
        x, y = self.samples()
        return plotting.mean_std_plane_figure(self.mean, np.sqrt(self.variance), self.target_mean,
                                              np.sqrt(self.target_variance), x, y)


class MeanVarianceUI(_UI):
    """Sliders ``Mean of X``, ``Variance of X``, checkbox ``Keep the Gram matrix fixed``; ``.model``."""

    def __init__(self, model: MeanVarianceExplorer):
        import ipywidgets as w

        self.model = model
        self.mean = w.FloatSlider(description="Mean of X", value=model.mean, min=-1.0, max=1.0, step=0.01)
        self.variance = w.FloatSlider(description="Variance of X", value=model.variance, min=0.0, max=0.5,
                                      step=0.005, readout_format=".3f")
        self.keep_gram = w.Checkbox(description="Keep the Gram matrix fixed", value=model.keep_gram)
        self.numbers = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="640px"))
        self.numbers.add_class("ot-style-numbers")
        self.plot.add_class("ot-style-plot")
        self._syncing = False
        self.mean.observe(lambda change: self._moved(self.model.set_mean, change["new"]), names="value")
        self.variance.observe(lambda change: self._moved(self.model.set_variance, change["new"]), names="value")
        self.keep_gram.observe(lambda change: self._moved(self.model.set_keep_gram, change["new"]), names="value")
        self.widget = w.VBox([w.HBox([self.mean, self.variance, self.keep_gram]), self.numbers, self.plot])
        self.widget.add_class("ot-style-mean-variance")
        self.update()

    def _moved(self, setter, value) -> None:
        if self._syncing:  # our own write-back of the coupled slider
            return
        setter(value)
        self._syncing = True
        try:  # with keep_gram one slider moves the other
            self.mean.value, self.variance.value = self.model.mean, self.model.variance
        finally:
            self._syncing = False
        self.update()

    def update(self) -> None:
        """Recompute the numbers and the picture from the model."""
        # The picture first, the numbers last: once a browser sees the new numbers, the picture was sent.
        self.plot.value = plotting.figure_png(self.model.figure())
        losses = self.model.losses()
        self.numbers.value = _numbers_html([("gram", "Gram loss (eq. 4)", losses["gram"]),
                                            ("w2", "W2 (eq. 2)", losses["w2"])])


def mean_variance_explorer(**kwargs) -> MeanVarianceUI:
    """Notebook 01: move the mean and variance of X and watch eq. 4 stay blind where eq. 2 is not."""
    return MeanVarianceUI(MeanVarianceExplorer(**kwargs))


# --------------------------------------------------------------------------- notebook 02

@dataclass(frozen=True)
class W2Steps:
    """The pieces of eq. 2, in the order notebook 02 computes them.

    Attributes
    ----------
    mean_term : float
        :math:`\\lVert\\mu_x-\\mu_y\\rVert^2`.
    trace_x, trace_y : float
    root_y : ndarray, shape (c, c)
        :math:`\\Sigma_y^{1/2}`.
    middle : ndarray, shape (c, c)
        :math:`\\Sigma_y^{1/2}\\Sigma_x\\Sigma_y^{1/2}` (symmetric).
    eigenvalues : ndarray, shape (c,)
        Of ``middle``, clamped at 0.
    cross_term : float
        :math:`\\operatorname{tr}(\\text{middle}^{1/2}) = \\sum\\sqrt{\\lambda}`.
    w2_squared, w2 : float
    """

    mean_term: float
    trace_x: float
    trace_y: float
    root_y: np.ndarray
    middle: np.ndarray
    eigenvalues: np.ndarray
    cross_term: float
    w2_squared: float
    w2: float


def w2_step_by_step(mean_x, cov_x, mean_y, cov_y) -> W2Steps:
    r"""Eq. 2 computed term by term (what :func:`ot_style.gaussian.gaussian_w2` does in one call).

    .. math::

        W_2^2 = \lVert\mu_x-\mu_y\rVert^2 + \operatorname{tr}\Sigma_x + \operatorname{tr}\Sigma_y
                - 2\sum_i\sqrt{\lambda_i(\Sigma_y^{1/2}\Sigma_x\Sigma_y^{1/2})}

    Notebook ``02_wasserstein_between_gaussians.ipynb``.
    """
    mx, my = np.asarray(mean_x, float).ravel(), np.asarray(mean_y, float).ravel()
    cx, cy = np.asarray(cov_x, float), np.asarray(cov_y, float)
    root_y = sqrtm_psd(cy)
    middle = root_y @ cx @ root_y
    middle = 0.5 * (middle + middle.T)
    lam = np.clip(np.linalg.eigvalsh(middle), 0.0, None)
    cross = float(np.sum(np.sqrt(lam)))
    mean_term = float(np.sum((mx - my) ** 2))
    d2 = max(mean_term + float(np.trace(cx)) + float(np.trace(cy)) - 2 * cross, 0.0)
    return W2Steps(mean_term, float(np.trace(cx)), float(np.trace(cy)), root_y, middle, lam, cross, d2,
                   float(np.sqrt(d2)))


def gaussian_2d(mean1: float, mean2: float, variance1: float, variance2: float, correlation: float):
    """``(mean (2,), cov (2, 2))`` from two means, two variances and a correlation in [-1, 1]. Notebook 02."""
    if variance1 < 0 or variance2 < 0:
        raise ValueError(f"Variances must be non-negative, got {variance1} and {variance2}.")
    if not -1.0 <= correlation <= 1.0:
        raise ValueError(f"A correlation must lie in [-1, 1], got {correlation}.")
    off = correlation * np.sqrt(variance1 * variance2)
    return np.array([mean1, mean2], float), np.array([[variance1, off], [off, variance2]], float)


_PARAMS = ("mean1", "mean2", "variance1", "variance2", "correlation")


class Gaussian2DExplorer:
    """Two 2-D Gaussians X and Y, their ellipses, and the Monge map from X to Y as arrows. Notebook 02.

    ``params["x"]`` and ``params["y"]`` hold ``mean1, mean2, variance1, variance2, correlation``.
    """

    def __init__(self, *, n: int = 200, arrows: int = 40, seed: int = 0):
        self.params = {"x": dict(mean1=-1.0, mean2=0.0, variance1=1.0, variance2=0.3, correlation=0.5),
                       "y": dict(mean1=1.5, mean2=0.5, variance1=0.4, variance2=1.2, correlation=-0.3)}
        self.arrows = int(arrows)
        self._z = np.random.default_rng(seed).standard_normal((int(n), 2))

    def set(self, which: str, **values) -> None:
        """Change parameters of ``"x"`` or ``"y"`` (names as in :func:`gaussian_2d`)."""
        if which not in self.params:
            raise ValueError(f"Choose the Gaussian 'x' or 'y', not {which!r}.")
        unknown = set(values) - set(_PARAMS)
        if unknown:
            raise ValueError(f"Unknown parameter {sorted(unknown)[0]!r}; use {', '.join(_PARAMS)}.")
        new = {**self.params[which], **values}
        gaussian_2d(**new)  # validate before storing
        self.params[which] = new

    def gaussians(self):
        """``(mean_x, cov_x, mean_y, cov_y)``."""
        return (*gaussian_2d(**self.params["x"]), *gaussian_2d(**self.params["y"]))

    def samples_x(self) -> np.ndarray:
        """Samples of X from fixed normal draws, shape (n, 2)."""
        mx, cx, _, _ = self.gaussians()
        return mx + self._z @ sqrtm_psd(cx)

    def numbers(self) -> dict[str, float]:
        """``w2`` (eq. 2), ``gram`` (eq. 4) and ``map_cost``: the mean squared arrow length on the samples,
        the Monte Carlo estimate of W2^2 the Monge map achieves."""
        g = self.gaussians()
        x = self.samples_x()
        moved = gaussian_monge_map(*g)(x)
        return {"w2": gaussian_w2(*g), "gram": gatys_style_loss(*g),
                "map_cost": float(np.mean(np.sum((moved - x) ** 2, axis=1)))}

    def figure(self):
        """Samples of X, the arrows x -> T(x), and the 2-standard-deviation ellipses of X and Y."""
        g = self.gaussians()
        x = self.samples_x()
        return plotting.monge_map_figure(x, gaussian_monge_map(*g)(x), *g, arrows=self.arrows,
                                         title=f"W2 = {gaussian_w2(*g):.3f}")


class Gaussian2DUI(_UI):
    """Ten sliders (``X: mean 1`` ... ``Y: correlation``) in ``.sliders[(which, param)]``; ``.model``."""

    _LABELS = {"mean1": "mean 1", "mean2": "mean 2", "variance1": "variance 1", "variance2": "variance 2",
               "correlation": "correlation"}
    _RANGES = {"mean1": (-3, 3, 0.05), "mean2": (-3, 3, 0.05), "variance1": (0, 3, 0.05),
               "variance2": (0, 3, 0.05), "correlation": (-1, 1, 0.05)}

    def __init__(self, model: Gaussian2DExplorer):
        import ipywidgets as w

        self.model = model
        self.sliders = {}
        columns = []
        for which in ("x", "y"):
            column = []
            for param in _PARAMS:
                lo, hi, step = self._RANGES[param]
                slider = w.FloatSlider(description=f"{which.upper()}: {self._LABELS[param]}",
                                       value=model.params[which][param], min=lo, max=hi, step=step,
                                       style={"description_width": "100px"})
                slider.observe(self._callback(which, param), names="value")
                self.sliders[(which, param)] = slider
                column.append(slider)
            columns.append(w.VBox(column))
        self.numbers = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="520px"))
        self.numbers.add_class("ot-style-numbers")
        self.plot.add_class("ot-style-plot")
        self.widget = w.VBox([w.HBox(columns), self.numbers, self.plot])
        self.widget.add_class("ot-style-gaussian-2d")
        self.update()

    def _callback(self, which, param):
        def moved(change):
            self.model.set(which, **{param: change["new"]})
            self.update()
        return moved

    def update(self) -> None:
        """Recompute the numbers and the picture from the model."""
        self.plot.value = plotting.figure_png(self.model.figure())  # picture first, numbers last
        n = self.model.numbers()
        self.numbers.value = _numbers_html([("w2", "W2 (eq. 2)", n["w2"]), ("gram", "Gram loss (eq. 4)", n["gram"]),
                                            ("map_cost", "mean |x - T(x)|^2 on the samples", n["map_cost"])])


def gaussian_2d_explorer(**kwargs) -> Gaussian2DUI:
    """Notebook 02: two 2-D Gaussians, their ellipses and the Monge map, driven by sliders."""
    return Gaussian2DUI(Gaussian2DExplorer(**kwargs))


@dataclass(frozen=True)
class Convergence:
    """``empirical_w2`` of ``n`` samples per side (mean over trials) against the closed form.

    Attributes
    ----------
    ns : ndarray, shape (k,)
    empirical : ndarray, shape (k,)
        Mean over trials of the exact EMD distance between the samples.
    spread : ndarray, shape (k,)
        Standard deviation over trials.
    closed_form : float
        ``gaussian_w2`` of the two Gaussians.
    """

    ns: np.ndarray
    empirical: np.ndarray
    spread: np.ndarray
    closed_form: float

    @property
    def relative_error(self) -> np.ndarray:
        """``|empirical - closed_form| / closed_form`` for each ``n``."""
        return np.abs(self.empirical - self.closed_form) / self.closed_form


def empirical_convergence(mean_x, cov_x, mean_y, cov_y, ns, *, trials: int = 3, seed: int = 0) -> Convergence:
    """Exact EMD between ``n`` samples of each Gaussian for each ``n`` in ``ns``. Notebook 02."""
    rng = np.random.default_rng(seed)
    rx, ry = sqrtm_psd(cov_x), sqrtm_psd(cov_y)
    mx, my = np.ravel(mean_x), np.ravel(mean_y)
    means, spreads = [], []
    for n in ns:
        values = [empirical_w2(mx + rng.standard_normal((int(n), mx.size)) @ rx,
                               my + rng.standard_normal((int(n), my.size)) @ ry) for _ in range(int(trials))]
        means.append(np.mean(values))
        spreads.append(np.std(values))
    return Convergence(np.asarray(ns), np.asarray(means), np.asarray(spreads),
                       gaussian_w2(mean_x, cov_x, mean_y, cov_y))


def convergence_figure(result: Convergence):
    """Empirical W2 (with its spread over trials) against the sample count, and the closed form."""
    return plotting.convergence_figure(result.ns, result.empirical, result.spread, result.closed_form)


# --------------------------------------------------------------------------- notebook 03

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
