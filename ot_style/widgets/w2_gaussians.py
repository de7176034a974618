"""Notebook 02 (``02_wasserstein_between_gaussians``): eq. 2 step by step, the 2-D explorer, the geodesic,
convergence.

Structure a browser test can find: sliders ``X: mean 1``, ``X: mean 2``, ``X: variance 1``,
``X: variance 2``, ``X: correlation`` and the same five for ``Y:``; the numbers in an HTML widget
with class ``ot-style-numbers`` (``data-quantity="w2"``, ``"w2_squared"``, ``"map_cost"``, ``"gram"``), the
picture in ``img.ot-style-plot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.emd import empirical_w2
from ..maths.gaussian import gatys_style_loss, gaussian_barycenter, gaussian_monge_map, gaussian_w2, sqrtm_psd
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["W2Steps", "w2_step_by_step", "gaussian_2d", "Gaussian2DExplorer", "Gaussian2DUI", "gaussian_2d_explorer",
           "geodesic_figure", "Convergence", "empirical_convergence", "convergence_figure"]


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
    r"""Eq. 2 computed term by term (what :func:`ot_style.maths.gaussian.gaussian_w2` does in one call).

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
        tx = gaussian_monge_map(*g)(x)
        fig = plotting.monge_map_figure(x, tx, *g, arrows=self.arrows, title=f"W2 = {gaussian_w2(*g):.3f}")
        fig.axes[0].set(**self.limits(x, tx))
        fig.tight_layout()
        return fig

    def limits(self, x=None, tx=None) -> dict:
        """``xlim``, ``ylim`` of :meth:`figure`: the slider range's frame [-5, 5] x [-4, 4], widened to hold
        both 2-std ellipses, the samples ``x`` and their images ``tx`` (so every arrow lands in view)."""
        mx, cx, my, cy = self.gaussians()
        if x is None:
            x = self.samples_x()
            tx = gaussian_monge_map(mx, cx, my, cy)(x)
        reach = [m + sign * 2.0 * np.sqrt(np.diag(c)) for m, c in ((mx, cx), (my, cy)) for sign in (-1, 1)]
        points = np.vstack([x, tx, *reach])
        lo = np.minimum(points.min(axis=0) - 0.3, [-5.0, -4.0])
        hi = np.maximum(points.max(axis=0) + 0.3, [5.0, 4.0])
        return {"xlim": (float(lo[0]), float(hi[0])), "ylim": (float(lo[1]), float(hi[1]))}


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
        # W2² next to the mean squared arrow length: the two numbers the Monge map makes equal
        self.numbers.value = _numbers_html([("w2", "W2 (eq. 2)", n["w2"]), ("w2_squared", "W2²", n["w2"] ** 2),
                                            ("map_cost", "mean |x − T(x)|² on the samples", n["map_cost"]),
                                            ("gram", "Gram loss (eq. 4)", n["gram"])])


def gaussian_2d_explorer(**kwargs) -> Gaussian2DUI:
    """Notebook 02: two 2-D Gaussians, their ellipses and the Monge map, driven by sliders."""
    return Gaussian2DUI(Gaussian2DExplorer(**kwargs))


def geodesic_figure(mean_x, cov_x, mean_y, cov_y, ts=(0.0, 0.25, 0.5, 0.75, 1.0)):
    """2-standard-deviation ellipses along the W2 geodesic from X (t = 0) to Y (t = 1), next to the
    straight average of the covariances. Each point of the geodesic is the two-Gaussian barycentre
    (:func:`ot_style.maths.gaussian.gaussian_barycenter` with weights ``(1 - t, t)``). Notebook 02."""
    from matplotlib import colormaps

    fig = plotting.new_figure(8.0, 3.2)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(ts)))
    for t, colour in zip(ts, colours):
        mid = gaussian_barycenter([mean_x, mean_y], [cov_x, cov_y], [1.0 - t, t])
        plotting.draw_ellipse(axes[0], mid.mean, mid.cov, edgecolor=colour, label=f"t = {t:g}")
        linear = (1.0 - t) * np.asarray(cov_x, float) + t * np.asarray(cov_y, float)
        plotting.draw_ellipse(axes[1], mid.mean, linear, edgecolor=colour, ls="--", label=f"t = {t:g}")
    axes[0].set_title("W2 geodesic (displacement interpolation)", fontsize=9)
    axes[1].set_title("covariances averaged: (1-t) Σx + t Σy", fontsize=9)
    for ax in axes:
        ax.set_aspect("equal")
        ax.autoscale_view()
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


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
