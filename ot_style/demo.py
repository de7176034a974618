"""The pictures of ``ot-style demo``: the side-by-side figure and the loss curve, written atomically.

``ot-style demo`` (:mod:`ot_style.cli`) runs :func:`ot_style.stylize` on two bundled pictures
(:data:`DEMO_CONTENT`, :data:`DEMO_STYLE`) with the default settings and writes :data:`DEMO_FILES`.
The figure functions take a :class:`ot_style.synthesis.StyleResult`, so a notebook can draw the same
pictures (notebook 04, ``04_style_transfer_playground``). Matplotlib is used through
:class:`matplotlib.figure.Figure` only (no pyplot state, no GUI backend), imported when called.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

__all__ = ["DEMO_CONTENT", "DEMO_STYLE", "DEMO_FILES", "side_by_side_figure", "loss_curve_figure",
           "save_figure", "write_demo_figures"]

DEMO_CONTENT, DEMO_STYLE = "grace_hopper.jpg", "swirls.png"
#: result, side-by-side figure, loss curve
DEMO_FILES = ("result.png", "side_by_side.png", "loss_curve.png")


def side_by_side_figure(content, style, result):
    """Content | style | result in one row, the result titled with its loss and optimiser.

    Parameters
    ----------
    content : ndarray, shape (h, w, 3)
    style : ndarray, shape (h2, w2, 3)
    result : StyleResult

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
    """Write ``fig`` as PNG atomically (temporary file, then rename), like
    :func:`ot_style.images.save_image`: an interrupt never leaves a half-written file."""
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_demo_figures(content, style, result, folder, scale_of_step=None) -> list[Path]:
    """Write the side-by-side figure and the loss curve into ``folder``; returns their paths."""
    folder = Path(folder)
    return [save_figure(side_by_side_figure(content, style, result), folder / DEMO_FILES[1]),
            save_figure(loss_curve_figure(result, scale_of_step), folder / DEMO_FILES[2])]
