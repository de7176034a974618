"""Notebook 01 (``01_gram_is_not_a_metric``): what Gram and W2 cannot see, the metric axioms, the
mean/variance explorer.

Structure a browser test can find: sliders ``Mean of X``, ``Variance of X`` and the checkbox
``Keep the Gram matrix fixed``; the numbers in an HTML widget with class ``ot-style-numbers`` (its
``<b>`` elements carry ``data-quantity="gram"`` / ``"w2"``), the picture in ``img.ot-style-plot``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import plotting
from ..maths.counterexamples import PAIRS
from ..maths.gaussian import gatys_style_loss, gaussian_w2
from ..maths.moments import feature_moments, gram_matrix
from ._ui import UI as _UI
from ._ui import numbers_html as _numbers_html

__all__ = ["PairLosses", "counterexample_losses", "counterexample_patches", "ring_and_gaussian", "clouds_figure",
           "gram_distance", "AxiomCheck", "random_gaussian", "metric_axioms", "MeanVarianceExplorer",
           "MeanVarianceUI", "mean_variance_explorer"]


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
    """Gram loss and W2 for the pairs of :data:`ot_style.maths.counterexamples.PAIRS`. Notebook 01."""
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


def ring_and_gaussian(n: int = 500, radius: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""``n`` samples of the uniform law on the circle of radius :math:`r` and ``n`` of its Gaussian twin
    :math:`N(0, \tfrac{r^2}{2} I_2)`: the same mean and covariance, so the Gaussian W2 between them is 0.
    Notebook 01. Returns ``(ring (n, 2), gaussian (n, 2))``."""
    if int(n) < 1 or not radius > 0:
        raise ValueError(f"Use n >= 1 samples and a positive radius, got n={n}, radius={radius}.")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2.0 * np.pi, int(n))
    ring = radius * np.column_stack([np.cos(angle), np.sin(angle)])
    return ring, rng.standard_normal((int(n), 2)) * radius / np.sqrt(2.0)


def clouds_figure(panels, *, size: float = 2.8):
    """2-D clouds side by side on the same axes: ``panels`` is a list of ``(title, samples (n, 2))``.
    Notebook 01. Returns a Figure."""
    fig = plotting.new_figure(size * len(panels), size)
    axes = np.atleast_1d(fig.subplots(1, len(panels), sharex=True, sharey=True))
    reach = max(float(np.max(np.abs(samples))) for _, samples in panels) * 1.05
    for ax, (title, samples) in zip(axes, panels):
        ax.scatter(samples[:, 0], samples[:, 1], s=4, alpha=0.5)
        ax.set_aspect("equal")
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def gram_distance(mean_x, cov_x, mean_y, cov_y) -> float:
    r"""The square root of eq. 4, :math:`\lVert G_x - G_y\rVert_F` with :math:`G = \Sigma + \mu\mu^T`: a
    metric between Gram matrices, but not between Gaussians, since distinct :math:`(\mu, \Sigma)` can
    share one :math:`G` (W2 between fitted Gaussians is a metric on Gaussians). Notebook 01."""
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
        label = {"description_width": "110px"}  # the default width cuts "Variance of X"
        self.mean = w.FloatSlider(description="Mean of X", value=model.mean, min=-1.0, max=1.0, step=0.01,
                                  style=label)
        self.variance = w.FloatSlider(description="Variance of X", value=model.variance, min=0.0, max=0.5,
                                      step=0.005, readout_format=".3f", style=label)
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
