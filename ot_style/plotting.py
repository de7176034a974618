"""Shared matplotlib helpers for the notebooks and widgets.

Figures are built as bare :class:`matplotlib.figure.Figure` objects with an Agg canvas, never through
``pyplot``: no global figure state, no backend chosen at import, safe from a widget's worker thread,
and a notebook shows them after ``%matplotlib inline``. Widgets show them as PNG bytes
(:func:`figure_png`) in an ``ipywidgets.Image``. matplotlib is imported inside the functions, so
importing this module is cheap and ``import ot_style`` never loads matplotlib.

Used by notebooks ``01_gram_is_not_a_metric``, ``02_wasserstein_between_gaussians`` and
``03_the_cost_of_exact_emd`` (through :mod:`ot_style.widgets.theory`); other widgets may add helpers
here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

__all__ = ["new_figure", "figure_png", "samples_to_patch", "draw_patch", "Ellipse", "ellipse_parameters",
           "draw_ellipse", "loglog_slope", "format_bytes", "format_count"]


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
