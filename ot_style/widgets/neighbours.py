"""Notebook 08 (``08_strotss_and_optimal_textures``): relaxed EMD against exact EMD on 2-D toy clouds.

:func:`toy_cloud` draws the clouds (a Gaussian, a ring, two clusters), :func:`compare_clouds` measures a
pair three ways (relaxed EMD, exact EMD, the Gaussian closed form, all with the squared Euclidean cost),
:func:`matching_figure` draws the nearest-neighbour arrows of each side of the relaxed EMD next to the
exact plan, and :func:`sliced_matching_figure` the iterates of Optimal Textures' histogram matching.
:class:`RelaxedEMDExplorer` is the model behind the slider, so tests and the notebook's check cells
drive it without a browser.

Structure a browser test can find: the box ``.ot-style-relaxed-emd`` with one slider, ``Ring radius``
(``kind="ring"``) or ``Share on the left`` (``kind="clusters"``); the numbers in an HTML widget with
class ``ot-style-numbers`` (``data-quantity="relaxed"``, ``"x_to_y"``, ``"y_to_x"``, ``"exact"``,
``"gaussian"``, ``"hub"``), the picture in ``img.ot-style-plot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.gaussian import gaussian_w2
from ..maths.moments import feature_moments
from ..maths.relaxed import ExactEMD, RelaxedEMD, exact_emd, relaxed_emd, sqeuclidean_cost
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["toy_cloud", "CloudComparison", "compare_clouds", "matching_figure", "sliced_matching_figure",
           "RelaxedEMDExplorer", "RelaxedEMDUI", "relaxed_emd_explorer"]

KINDS = ("gaussian", "ring", "clusters")


def toy_cloud(kind: str, n: int, *, seed: int = 0, radius: float = np.sqrt(2.0), share: float = 0.5,
              separation: float = 4.0, spread: float = 0.3, noise: float = 0.05) -> np.ndarray:
    """A 2-D toy cloud of ``n`` points. Notebook 08.

    ``"gaussian"``: standard normal. ``"ring"``: uniform angles at distance ``radius`` (plus radial
    ``noise``); its covariance is about ``radius**2 / 2`` times the identity, so radius sqrt(2) has the
    moments of the standard normal. ``"clusters"``: ``round(share * n)`` points around
    ``(-separation/2, 0)``, the others around ``(separation/2, 0)``, each with standard deviation
    ``spread``.

    Returns
    -------
    ndarray, shape (n, 2)
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown toy cloud {kind!r}; choose one of {', '.join(KINDS)}.")
    n = int(n)
    if n < 2:
        raise ValueError(f"A toy cloud needs at least 2 points, got {n}.")
    if radius < 0 or spread < 0 or noise < 0 or not 0.0 <= share <= 1.0:
        raise ValueError("radius, spread and noise must be non-negative and share a fraction in [0, 1].")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    if kind == "gaussian":
        return z
    if kind == "ring":
        angle = rng.uniform(0.0, 2.0 * np.pi, n)
        r = radius + noise * z[:, 0]
        return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    centres = np.zeros((n, 2))
    left = int(round(share * n))
    centres[:left, 0], centres[left:, 0] = -separation / 2.0, separation / 2.0
    return centres + spread * z


@dataclass(frozen=True)
class CloudComparison:
    """Two clouds measured three ways with the squared Euclidean cost (all in units of W2^2).

    Attributes
    ----------
    relaxed : RelaxedEMD
        Kolkin et al.'s relaxed EMD, with its two nearest-neighbour matchings.
    exact : ExactEMD
        Exact EMD (the empirical :math:`W_2^2`) and its plan.
    gaussian : float
        :math:`W_2^2` between the Gaussians fitted to the clouds (eq. 2, squared).
    """

    relaxed: RelaxedEMD
    exact: ExactEMD
    gaussian: float


def compare_clouds(x, y) -> CloudComparison:
    """Relaxed EMD, exact EMD and the Gaussian closed form between two clouds. Notebook 08."""
    cost = sqeuclidean_cost(x, y)
    mx, my = feature_moments(x), feature_moments(y)
    return CloudComparison(relaxed_emd(cost), exact_emd(cost),
                           gaussian_w2(mx.mean, mx.cov, my.mean, my.cov, squared=True))


def _arrows(ax, start, end, colour) -> None:
    d = end - start
    ax.quiver(start[:, 0], start[:, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1.0,
              color=colour, width=0.003, headwidth=4, headlength=5, alpha=0.6, zorder=4)


def _square_limits(axes, *clouds) -> None:
    # The same square window on every panel, so distances read the same in x and y.
    points = np.concatenate([np.asarray(c, float)[:, :2] for c in clouds])
    lo, hi = points.min(axis=0), points.max(axis=0)
    centre, half = (lo + hi) / 2.0, 0.55 * max(float(np.max(hi - lo)), 1e-6)
    for ax in np.atleast_1d(axes):
        ax.set_xlim(centre[0] - half, centre[0] + half)
        ax.set_ylim(centre[1] - half, centre[1] + half)
        ax.set_aspect("equal", adjustable="box")


def matching_figure(x, y, comparison: CloudComparison | None = None, *, title: str = ""):
    """Three panels: x to its nearest y, y to its nearest x (the two sides of the relaxed EMD), the exact plan.

    Returns
    -------
    matplotlib.figure.Figure
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    c = compare_clouds(x, y) if comparison is None else comparison
    r, e = c.relaxed, c.exact
    i, j = e.arrows()
    hub_x, hub_y = r.largest_share()
    panels = [(f"x to nearest y: {r.x_to_y:.3f}\n(up to {hub_x} x on one y)", x, y[r.match_x]),
              (f"y to nearest x: {r.y_to_x:.3f}\n(up to {hub_y} y on one x)", y, x[r.match_y]),
              (f"exact plan: {e.value:.3f}", x[i], y[j])]
    fig = plotting.new_figure(10.5, 3.9)
    axes = fig.subplots(1, 3)
    for ax, (label, start, end) in zip(axes, panels):
        ax.scatter(x[:, 0], x[:, 1], s=8, color="tab:blue", alpha=0.7, label="x", zorder=3)
        ax.scatter(y[:, 0], y[:, 1], s=8, color="tab:orange", alpha=0.7, label="y", zorder=3)
        _arrows(ax, start, end, "k")
        ax.set_title(label, fontsize=9)
    _square_limits(axes, x, y)
    axes[0].legend(fontsize=8, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def sliced_matching_figure(iterates, y, steps, *, distances=None, dims=(0, 1)):
    """The cloud after some of the iterations of histogram matching, over the target (two coordinates).

    Parameters
    ----------
    iterates : list of ndarray, shape (n, d)
        As :attr:`ot_style.maths.histogram_matching.SlicedMatching.iterates`.
    y : ndarray, shape (n, d)
    steps : sequence of int
        Which iterates to draw.
    distances : sequence of float, optional
        A distance per iterate, written in each title.
    dims : pair of int
        The two coordinates drawn.
    """
    y = np.asarray(y, float)
    a, b = dims
    fig = plotting.new_figure(2.6 * len(steps), 2.9)
    axes = fig.subplots(1, len(steps))
    for ax, t in zip(np.atleast_1d(axes), steps):
        x = np.asarray(iterates[t], float)
        ax.scatter(y[:, a], y[:, b], s=6, color="tab:orange", alpha=0.6)
        ax.scatter(x[:, a], x[:, b], s=6, color="tab:blue", alpha=0.8)
        label = f"after {t} rotation{'s' if t != 1 else ''}"
        if distances is not None:
            label += f"\nexact EMD {distances[t]:.3f}"
        ax.set_title(label, fontsize=9)
    _square_limits(axes, y[:, [a, b]], *[np.asarray(iterates[t], float)[:, [a, b]] for t in steps])
    fig.tight_layout()
    return fig


class RelaxedEMDExplorer:
    """A cloud x that one number morphs, against a fixed cloud y. Notebook 08.

    ``kind="ring"``: x is a ring of radius ``value`` (y a standard normal sample); at radius sqrt(2)
    the two have the same moments. ``kind="clusters"``: y has half its points in each of two clusters,
    x has the fraction ``value`` in the left one.
    """

    LIMITS = {"ring": (0.0, 3.0, 0.05, 1.0), "clusters": (0.0, 1.0, 0.05, 0.5)}

    def __init__(self, kind: str = "ring", *, n: int = 150, seed: int = 0):
        if kind not in self.LIMITS:
            raise ValueError(f"Choose kind 'ring' or 'clusters', not {kind!r}.")
        self.kind, self.n, self.seed = kind, int(n), int(seed)
        self.value = self.LIMITS[kind][3]
        self.y = toy_cloud("gaussian" if kind == "ring" else "clusters", self.n, seed=self.seed + 1)

    def set_value(self, value: float) -> None:
        """The ring's radius, or the share of x in the left cluster (clipped to the slider's range)."""
        lo, hi = self.LIMITS[self.kind][:2]
        self.value = float(np.clip(value, lo, hi))

    def x(self) -> np.ndarray:
        """The morphing cloud, from the same random draws at every value (shape (n, 2))."""
        if self.kind == "ring":
            return toy_cloud("ring", self.n, seed=self.seed, radius=self.value)
        return toy_cloud("clusters", self.n, seed=self.seed, share=self.value)

    def comparison(self) -> CloudComparison:
        """:func:`compare_clouds` of ``x()`` and ``y``."""
        return compare_clouds(self.x(), self.y)

    def numbers(self) -> dict:
        """``relaxed``, ``x_to_y``, ``y_to_x``, ``exact``, ``gaussian`` (floats) and ``hub`` (int)."""
        c = self.comparison()
        return {"relaxed": c.relaxed.value, "x_to_y": c.relaxed.x_to_y, "y_to_x": c.relaxed.y_to_x,
                "exact": c.exact.value, "gaussian": c.gaussian, "hub": max(c.relaxed.largest_share())}

    def figure(self):
        """:func:`matching_figure` at the current value."""
        what = "ring radius" if self.kind == "ring" else "share of x on the left"
        return matching_figure(self.x(), self.y, self.comparison(), title=f"{what} = {self.value:.2f}")


class RelaxedEMDUI(_UI):
    """One slider (``.slider``) over a :class:`RelaxedEMDExplorer` (``.model``), its numbers and picture."""

    _LABELS = {"ring": "Ring radius", "clusters": "Share on the left"}

    def __init__(self, model: RelaxedEMDExplorer):
        import ipywidgets as w

        self.model = model
        lo, hi, step, _ = model.LIMITS[model.kind]
        self.slider = w.FloatSlider(description=self._LABELS[model.kind], value=model.value, min=lo, max=hi,
                                    step=step, continuous_update=False, style={"description_width": "120px"})
        self.slider.observe(self._moved, names="value")
        self.numbers = w.HTML()
        self.plot = w.Image(format="png", layout=w.Layout(width="760px"))
        self.numbers.add_class("ot-style-numbers")
        self.plot.add_class("ot-style-plot")
        self.widget = w.VBox([self.slider, self.numbers, self.plot])
        self.widget.add_class("ot-style-relaxed-emd")
        self.update()

    def _moved(self, change) -> None:
        self.model.set_value(change["new"])
        self.update()

    def update(self) -> None:
        """Recompute the picture, then the numbers, from the model."""
        self.plot.value = plotting.figure_png(self.model.figure())
        n = self.model.numbers()
        self.numbers.value = (
            _numbers_html([("relaxed", "relaxed EMD", n["relaxed"]), ("x_to_y", "x to y", n["x_to_y"]),
                           ("y_to_x", "y to x", n["y_to_x"]), ("exact", "exact EMD", n["exact"]),
                           ("gaussian", "Gaussian W2^2", n["gaussian"])])
            + f' &nbsp;|&nbsp; most points on one neighbour: <b data-quantity="hub">{n["hub"]}</b>')


def relaxed_emd_explorer(kind: str = "ring", **kwargs) -> RelaxedEMDUI:
    """Notebook 08: a slider morphs one toy cloud; relaxed, exact and Gaussian W2^2 and the arrows follow."""
    return RelaxedEMDUI(RelaxedEMDExplorer(kind, **kwargs))
