"""Every figure and image encoder of the package: the notebooks', the widgets' and the demo's.

Figures are built as bare :class:`matplotlib.figure.Figure` objects with an Agg canvas, never through
``pyplot``: no global figure state, no backend chosen at import, safe from a widget's worker thread,
and a notebook shows them after ``%matplotlib inline``. Widgets show them as PNG bytes
(:func:`figure_png`) in an ``ipywidgets.Image``. matplotlib is imported inside the functions, so
importing this module is cheap and ``import ot_style`` never loads matplotlib.

Used by notebooks ``01_gram_is_not_a_metric``, ``02_wasserstein_between_gaussians`` and
``03_the_cost_of_exact_emd`` (through :mod:`ot_style.widgets.theory`), by the playground
(:func:`png_bytes`, :func:`loss_plot_png`) and by ``ot-style demo`` (:func:`side_by_side_figure`,
:func:`loss_curve_figure`, :func:`save_figure`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .pixels.images import atomic_write, to_uint8

__all__ = ["new_figure", "figure_png", "png_bytes", "loss_plot_png", "side_by_side_figure", "loss_curve_figure",
           "save_figure", "samples_to_patch", "draw_patch", "patches_figure", "Ellipse",
           "ellipse_parameters", "draw_ellipse", "mean_std_plane_figure", "monge_map_figure", "convergence_figure",
           "loglog_slope", "loglog_timing_figure", "format_bytes", "format_count"]


def new_figure(width: float = 6.0, height: float = 3.0, *, dpi: int = 90):
    """A bare matplotlib Figure with an Agg canvas attached (no ``pyplot`` state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig) -> bytes:
    """The PNG encoding of ``fig`` (what an ``ipywidgets.Image`` shows)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def png_bytes(image) -> bytes:
    """PNG encoding of a float image ``(h, w, 3)`` in [0, 1] (for an ``ipywidgets.Image``)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG")
    return buffer.getvalue()


def loss_plot_png(history: dict, *, title: str = "loss per term") -> bytes:
    """A small PNG of each loss term against the step (log scale when all values are positive).

    Drawn with a bare ``matplotlib.figure.Figure`` (no pyplot state), so a worker thread may call it.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 2.6), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    positive = True
    for term, values in history.items():
        if values:
            ax.plot(np.arange(1, len(values) + 1), values, label=term, lw=1.5 if term == "total" else 1)
            positive &= min(values) > 0
    if positive and any(history.values()):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title(title, fontsize=9)
    if any(history.values()):
        ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def side_by_side_figure(content, style, result):
    """Content | style | result in one row, the result titled with its loss and optimiser.

    Parameters
    ----------
    content : ndarray, shape (h, w, 3)
    style : ndarray, shape (h2, w2, 3)
    result : ot_style.StyleResult

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 4.4), layout="constrained")
    cfg = result.config
    titles = ("content", "style", f"result ({cfg.loss}, {cfg.optimizer}"
              + (", RANDOM weights)" if result.random_weights else ")"))
    for ax, image, title in zip(fig.subplots(1, 3), (content, style, result.image), titles):
        ax.imshow(image)
        ax.set_title(title)
        ax.set_axis_off()
    return fig


def loss_curve_figure(result, scale_of_step=None):
    """Every loss term of ``result.history`` per evaluation, log scale; dashed lines where a finer
    scale starts (from ``scale_of_step``, the ``Iterate.scale`` of each evaluation, if known).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    terms = [term for term in result.history if term != "total"]
    for term, values in result.history.items():
        if len(terms) == 1 and term != "total":
            continue  # a single term is the total: draw it once, under its own name
        if values and min(values) > 0:
            label = terms[0] if term == "total" and len(terms) == 1 else term
            ax.semilogy(values, label=label, lw=2.0 if term == "total" else 1.0)
    if scale_of_step:
        for step in range(1, len(scale_of_step)):
            if scale_of_step[step] != scale_of_step[step - 1]:
                ax.axvline(step, color="grey", ls="--", lw=0.8)
    ax.set_xlabel("evaluation (all scales; dashed: next scale)" if scale_of_step else "evaluation")
    ax.set_ylabel("loss")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{result.config.loss} loss" + (" (random weights)" if result.random_weights else ""))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return fig


def save_figure(fig, path) -> Path:
    """Write ``fig`` as PNG atomically (:func:`ot_style.pixels.images.atomic_write`): an interrupt
    never leaves a half-written file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def samples_to_patch(samples, side: int | None = None) -> np.ndarray:
    """Lay samples out as a square image patch, one sample per pixel, as the theory notebook does.

    Parameters
    ----------
    samples : array_like, shape (n, 3) or (n,)
        RGB colours (or grey levels) of ``n >= side**2`` samples; values are clipped to [0, 1],
        which is also what ``imshow`` does with float RGB images.
    side : int, optional
        Side of the patch in pixels; by default the largest square that ``n`` samples fill.

    Returns
    -------
    ndarray, shape (side, side, 3)
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = np.repeat(x[:, None], 3, axis=1)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"Samples for a colour patch must have shape (n, 3) or (n,), not {x.shape}.")
    if side is None:
        side = int(np.floor(np.sqrt(x.shape[0])))
    if side < 1 or x.shape[0] < side * side:
        raise ValueError(f"A {side}x{side} patch needs {side * side} samples, but there are {x.shape[0]}.")
    return np.clip(x[: side * side].reshape(side, side, 3), 0.0, 1.0)


def draw_patch(ax, samples, title: str = "", side: int | None = None) -> None:
    """Draw :func:`samples_to_patch` of ``samples`` on ``ax`` without ticks."""
    ax.imshow(samples_to_patch(samples, side), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def patches_figure(panels, *, height: float = 2.4):
    """One row of colour patches: ``panels`` is a list of ``(title, samples (n, 3))``. Notebook 01."""
    fig = new_figure(2.0 * len(panels), height)
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    for ax, (title, samples) in zip(axes, panels):
        draw_patch(ax, samples, title)
    fig.tight_layout()
    return fig


def mean_std_plane_figure(mean, std, target_mean, target_std, samples, target_samples):
    r"""1-D Gaussians as points of the (mean, standard deviation) plane, with two grey patches.

    The red half circle :math:`\mu^2+\sigma^2 = \mu_y^2+\sigma_y^2` is where the Gram loss is 0; the
    dashed circle around the target goes through X: in 1-D, :math:`W_2` is the Euclidean distance in
    this plane. Notebook ``01_gram_is_not_a_metric``.
    """
    fig = new_figure(8.0, 2.9)
    grid = fig.add_gridspec(1, 3, width_ratios=[1.6, 1, 1])
    ax = fig.add_subplot(grid[0])
    t = np.linspace(0, np.pi, 200)
    r = np.hypot(target_mean, target_std)
    w2 = np.hypot(mean - target_mean, std - target_std)
    ax.plot(r * np.cos(t), r * np.sin(t), color="tab:red", label="Gram loss = 0")
    ax.plot(target_mean + w2 * np.cos(2 * t), target_std + w2 * np.sin(2 * t), color="tab:blue", ls="--",
            label="same W2 as X")
    ax.plot([target_mean], [target_std], "o", color="black", label="target Y")
    ax.plot([mean], [std], "o", color="tab:orange", label="X")
    ax.set_xlabel("mean")
    ax.set_ylabel("standard deviation")
    ax.set_aspect("equal")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-0.05, 1.1)
    ax.legend(fontsize=7, loc="upper left")
    draw_patch(fig.add_subplot(grid[1]), samples, "X")
    draw_patch(fig.add_subplot(grid[2]), target_samples, "target Y")
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class Ellipse:
    """The ``n_std`` level set of a 2-D Gaussian, as matplotlib's ``Ellipse`` patch wants it.

    Attributes
    ----------
    center : ndarray, shape (2,)
    width, height : float
        Full lengths of the axes: ``2 * n_std * sqrt(eigenvalue)``, largest first.
    angle : float
        Angle of the long axis, in degrees counter-clockwise from the x axis, in (-90, 90].
    """

    center: np.ndarray
    width: float
    height: float
    angle: float


def ellipse_parameters(mean, cov, n_std: float = 2.0) -> Ellipse:
    r"""Axes and angle of the ellipse :math:`(x-\mu)^T\Sigma^{-1}(x-\mu) = n_{std}^2`.

    With :math:`\Sigma = V\operatorname{diag}(\lambda_1 \ge \lambda_2)V^T`, the half-axes are
    :math:`n_{std}\sqrt{\lambda_i}` along the eigenvectors. A singular covariance gives a flat
    ellipse (height 0): the Gaussian lives on a line. Notebook ``02_wasserstein_between_gaussians``.

    Parameters
    ----------
    mean : array_like, shape (2,)
    cov : array_like, shape (2, 2)
        Symmetric positive semi-definite.
    n_std : float
        How many standard deviations the ellipse reaches along each axis.

    Returns
    -------
    Ellipse
    """
    m = np.asarray(mean, dtype=np.float64).ravel()
    c = np.asarray(cov, dtype=np.float64)
    if m.shape != (2,) or c.shape != (2, 2):
        raise ValueError(f"An ellipse needs a mean of shape (2,) and a 2x2 covariance, not {m.shape}, {c.shape}.")
    lam, vec = np.linalg.eigh(0.5 * (c + c.T))
    lam = np.clip(lam[::-1], 0.0, None)
    major = vec[:, 1]
    angle = float(np.degrees(np.arctan2(major[1], major[0])))
    # An eigenvector's sign is arbitrary: fold the angle into (-90, 90].
    if angle <= -90.0:
        angle += 180.0
    elif angle > 90.0:
        angle -= 180.0
    width, height = (2.0 * n_std * np.sqrt(lam)).tolist()
    return Ellipse(center=m, width=width, height=height, angle=angle)


def draw_ellipse(ax, mean, cov, n_std: float = 2.0, **style) -> Ellipse:
    """Draw :func:`ellipse_parameters` on ``ax`` (no fill by default) and return the parameters."""
    from matplotlib.patches import Ellipse as EllipsePatch

    e = ellipse_parameters(mean, cov, n_std)
    style.setdefault("fill", False)
    style.setdefault("lw", 2)
    ax.add_patch(EllipsePatch(tuple(e.center), e.width, e.height, angle=e.angle, **style))
    return e


def monge_map_figure(x, tx, mean_x, cov_x, mean_y, cov_y, *, arrows: int = 40, title: str = ""):
    """2-D samples ``x`` (n, 2), their images ``tx`` under a transport map drawn as arrows, and the
    2-standard-deviation ellipses of both Gaussians. Notebook ``02_wasserstein_between_gaussians``."""
    fig = new_figure(5.5, 4.2)
    ax = fig.add_subplot()
    ax.scatter(x[:, 0], x[:, 1], s=6, color="tab:blue", alpha=0.5, label="samples of X")
    ax.scatter(tx[:, 0], tx[:, 1], s=6, color="tab:orange", alpha=0.5, label="T(x)")
    k = min(int(arrows), x.shape[0])
    ax.quiver(x[:k, 0], x[:k, 1], tx[:k, 0] - x[:k, 0], tx[:k, 1] - x[:k, 1], angles="xy",
              scale_units="xy", scale=1, width=0.003, color="gray")
    draw_ellipse(ax, mean_x, cov_x, edgecolor="tab:blue", label="X (2 std)")
    draw_ellipse(ax, mean_y, cov_y, edgecolor="tab:orange", label="Y (2 std)")
    ax.set_aspect("equal")
    ax.set_xlim(-5, 5)
    ax.set_ylim(-4, 4)
    ax.legend(fontsize=7, loc="upper left")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _plain_log_ticks(ax, ns) -> None:
    # One plain label per measured n instead of matplotlib's overlapping "3x10^1" minor labels.
    from matplotlib.ticker import NullLocator

    ax.set_xticks([int(n) for n in ns], [str(int(n)) for n in ns])
    ax.xaxis.set_minor_locator(NullLocator())


def convergence_figure(ns, empirical, spread, closed_form: float):
    """Empirical W2 with its spread against the sample count, and the closed form as a line.
    Notebook ``02_wasserstein_between_gaussians``."""
    fig = new_figure(5.0, 3.0)
    ax = fig.add_subplot()
    ax.errorbar(ns, empirical, yerr=spread, marker="o", label="empirical_w2 (exact EMD)")
    ax.axhline(closed_form, color="black", ls="--", label="gaussian_w2 (eq. 2)")
    ax.set_xscale("log")
    _plain_log_ticks(ax, ns)
    ax.set_xlabel("samples per Gaussian")
    ax.set_ylabel("W2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loglog_timing_figure(ns, seconds: dict, *, title: str = ""):
    """Seconds against sample count on log-log axes, one line per method, with the fitted exponent
    (:func:`loglog_slope`) in the legend. Notebook ``03_the_cost_of_exact_emd``."""
    fig = new_figure(5.5, 3.5)
    ax = fig.add_subplot()
    for name, values in seconds.items():
        ax.loglog(ns, values, marker="o", label=f"{name} (~ n^{loglog_slope(ns, values):.1f})")
    _plain_log_ticks(ax, ns)
    ax.set_xlabel("samples per image n")
    ax.set_ylabel("seconds per distance")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def loglog_slope(x, y) -> float:
    r"""Least-squares slope of :math:`\log y` against :math:`\log x` (the exponent ``p`` in ``y ~ x^p``).

    Notebook ``03_the_cost_of_exact_emd`` reads the growth of run time with the sample count off it.
    """
    lx = np.log(np.asarray(x, dtype=np.float64))
    ly = np.log(np.asarray(y, dtype=np.float64))
    if lx.shape != ly.shape or lx.size < 2:
        raise ValueError("A log-log slope needs at least two (x, y) pairs of the same length.")
    if not (np.all(np.isfinite(lx)) and np.all(np.isfinite(ly))):
        raise ValueError("A log-log slope needs positive, finite x and y values.")
    return float(np.polyfit(lx, ly, 1)[0])


def format_bytes(n_bytes: float) -> str:
    """Decimal units as in the theory notebook: ``644.5 GB`` (1 GB = 10^9 bytes)."""
    n = float(n_bytes)
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} B"


def format_count(count: float) -> str:
    """A large count with a decimal prefix: ``126.3 T`` (10^12), ``1.2 G``, ``35.0 M``, ``3.1 k``."""
    n = float(count)
    for unit, scale in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f}"
