"""``ot-style demo``: the bundled pictures it uses and the three files it writes.

:func:`ot_style.cli.commands` runs :func:`ot_style.stylize` on two bundled pictures (:data:`DEMO_CONTENT`,
:data:`DEMO_STYLE`) with the default settings and writes :data:`DEMO_FILES`; the figures are drawn by
:mod:`ot_style.plotting` (so a notebook can draw the same pictures, notebook 04) and written atomically.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEMO_CONTENT", "DEMO_STYLE", "DEMO_FILES", "write_demo_figures"]

# The mosaic rather than the swirls: the harness (benchmarks/quality.py) found the portrait recognisable
# in its palette and tiles (structure 0.72) where the swirls' strong light and dark patches hide it (0.58).
DEMO_CONTENT, DEMO_STYLE = "grace_hopper.jpg", "mosaic.png"
#: result, side-by-side figure, loss curve
DEMO_FILES = ("result.png", "side_by_side.png", "loss_curve.png")


def write_demo_figures(content, style, result, folder, scale_of_step=None) -> list[Path]:
    """Write the side-by-side figure and the loss curve into ``folder``; returns their paths."""
    from ..plotting import loss_curve_figure, save_figure, side_by_side_figure

    folder = Path(folder)
    return [save_figure(side_by_side_figure(content, style, result), folder / DEMO_FILES[1]),
            save_figure(loss_curve_figure(result, scale_of_step), folder / DEMO_FILES[2])]
