"""Every notebook, the way a student uses it in JupyterLab: Run All Cells, then move the sliders.

- Each notebook in ``notebooks/`` (the glob, so a new notebook is included without editing this file)
  runs to the end in fast mode (the server's ``OT_STYLE_FAST=1``) with no error output, its widget
  outputs included, and shows a student no stderr block, no broken image and no cut label.
  ``OT_STYLE_SCREENSHOTS=folder`` also saves a screenshot of every screenful after Run All.
- Where a notebook has an interactive figure (00, 01, 02, 02b, 03, 07, 08), a slider moved with the keyboard and
  then dragged with the mouse changes its readout, the number it drives (computed in the kernel) and
  the picture (compared by its bytes).
- In the playground (04): the Size slider moved by keyboard and mouse sets the size of the picture a
  run produces; Run shows a live preview; Stop stops the run and keeps the best picture.

The widget structure used here is documented in ``ot_style/widgets/theory.py`` and ``playground.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.lab import (NOTEBOOKS, Slider, copy_notebook, notebook_state, open_notebook, picture_digest,
                               run_all_cells, save_screens, screen_defects, unexecuted_cells, wait_for_change,
                               wait_for_value)

pytestmark = pytest.mark.browser

NOTEBOOK_NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
RUN_TIMEOUT_MS = 240_000  # a style-transfer run's first preview: TF traces the graph first, on 2 busy cores
KERNEL_TIMEOUT_MS = 60_000  # a slider's round trip through the kernel (numbers and a matplotlib figure)


@dataclass(frozen=True)
class Figure:
    """A slider and what it drives: a number (text) and, when given, a picture."""

    root: str        # CSS selector of the widget box
    slider: str      # the slider's description
    number: str      # CSS selector (inside root) of the number the kernel recomputes
    picture: str | None = None  # CSS selector (inside root) of the picture it redraws


# By the notebook's number, the part of its name before the first underscore ("02b" is not "02").
FIGURES = {
    "00": Figure(".ot-style-feature-cloud", "Channel", '.ot-style-numbers b[data-quantity="skewness"]',
                 "img.ot-style-plot"),
    "01": Figure(".ot-style-mean-variance", "Mean of X", '.ot-style-numbers b[data-quantity="w2"]',
                 "img.ot-style-plot"),
    "02": Figure(".ot-style-gaussian-2d", "X: mean 1", '.ot-style-numbers b[data-quantity="w2"]',
                 "img.ot-style-plot"),
    "02b": Figure(".ot-style-transport-flow", "Steps", '.ot-style-numbers b[data-quantity="w2"]',
                  "img.ot-style-plot"),
    "03": Figure(".jp-OutputArea-output", "Image size (px)",
                 '.ot-style-cost-table td[data-layer="relu1_1"]'),
    "07": Figure(".ot-style-layer-explorer", "Layer", ".widget-html-content",
                 "img.ot-style-layer-texture"),
    "08": Figure(".ot-style-relaxed-emd", "Ring radius", '.ot-style-numbers b[data-quantity="relaxed"]',
                 "img.ot-style-plot"),
}


def _params():
    if not NOTEBOOK_NAMES:
        return [pytest.param(None, marks=pytest.mark.skip(reason="notebooks/ has no notebook yet"))]
    return NOTEBOOK_NAMES


@pytest.mark.parametrize("name", _params())
def test_notebook_runs_in_jupyterlab_and_its_widgets_respond(name, page, lab_server, lab_workdir):
    path = copy_notebook(name, lab_workdir)
    panel = open_notebook(page, lab_server, path)
    run_all_cells(page, panel)
    assert notebook_state(page)["errors"] == []
    assert unexecuted_cells(panel) == 0
    screens = os.environ.get("OT_STYLE_SCREENSHOTS")  # a folder: look at every screenful afterwards
    if screens:
        Path(screens).mkdir(parents=True, exist_ok=True)
        save_screens(page, panel, Path(screens) / Path(name).stem)
    # what a student sees: no stderr block, no broken image, no cut label
    assert screen_defects(page) == []

    figure = FIGURES.get(name.split("_", 1)[0])
    if figure is not None:
        _move_slider_and_see_the_figure_change(page, panel, figure)
    if name.startswith("04_"):
        _playground_run_and_stop(page, panel)
    # no widget callback raised (ipywidgets shows callback tracebacks in the notebook's outputs)
    assert notebook_state(page)["errors"] == []
    assert screen_defects(page) == []


def _direction(slider: Slider) -> int:
    """+1 to move right, -1 to move left: toward the middle, so neither end stops the move."""
    low, high, now = (float(slider.handle.get_attribute(a))
                      for a in ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
    return 1 if now <= (low + high) / 2 else -1


def _move_slider_and_see_the_figure_change(page: Page, panel: Locator, figure: Figure) -> None:
    root = panel.locator(figure.root, has=page.locator(".widget-label", has_text=figure.slider)).first
    slider = Slider(root, figure.slider)
    number = root.locator(figure.number).first
    picture = root.locator(figure.picture) if figure.picture else None

    def drawn():
        return picture_digest(picture)

    expect(number).not_to_be_empty(timeout=KERNEL_TIMEOUT_MS)
    value, text = slider.value(), number.inner_text()
    image = wait_for_change(drawn, None, KERNEL_TIMEOUT_MS, page, "first picture") if picture else None

    # keyboard (one step: a notebook's check cell may have drawn another setting than the slider's,
    # so two steps could land on the same picture)
    slider.press("ArrowRight" if _direction(slider) > 0 else "ArrowLeft")
    value = wait_for_change(slider.value, value, KERNEL_TIMEOUT_MS, page, f"{figure.slider} readout")
    text = wait_for_change(number.inner_text, text, KERNEL_TIMEOUT_MS, page, "number after keys")
    if picture:
        image = wait_for_change(drawn, image, KERNEL_TIMEOUT_MS, page, "picture after keys")

    # mouse
    box = slider.box.locator(".noUi-target").first.bounding_box()
    slider.drag(page, _direction(slider) * max(box["width"] / 4, 20))
    wait_for_change(slider.value, value, KERNEL_TIMEOUT_MS, page, f"{figure.slider} readout after drag")
    wait_for_change(number.inner_text, text, KERNEL_TIMEOUT_MS, page, "number after drag")
    if picture:
        wait_for_change(drawn, image, KERNEL_TIMEOUT_MS, page, "picture after drag")


def _natural_size(picture: Locator) -> tuple[int, int]:
    return tuple(picture.evaluate("img => [img.naturalWidth, img.naturalHeight]"))


def _playground_run_and_stop(page: Page, panel: Locator) -> None:
    ui = panel.locator(".ot-style-playground").first
    size, steps = Slider(ui, "Size (px)"), Slider(ui, "Steps")
    preview = ui.locator("img.ot-style-preview")
    status = ui.locator(".ot-style-status")
    run, stop = ui.locator("button.ot-style-run"), ui.locator("button.ot-style-stop")
    expect(status).to_contain_text("Ready", timeout=KERNEL_TIMEOUT_MS)

    # The Size slider: two steps of 16 px by keyboard, then smaller by mouse (a small, fast run).
    before = int(size.value())
    size.press("ArrowRight", times=2)
    keyed = int(wait_for_change(size.value, str(before), KERNEL_TIMEOUT_MS, page, "size after keys"))
    assert keyed == before + 32
    size.drag(page, -12)
    dragged = int(wait_for_change(size.value, str(keyed), KERNEL_TIMEOUT_MS, page, "size after drag"))
    assert 32 <= dragged < keyed
    # Many steps, typed into the readout, so the run is still going when Stop is pressed.
    steps.type("500")
    wait_for_value(steps.value, lambda v: v == "500", KERNEL_TIMEOUT_MS, page, "steps")

    placeholder = picture_digest(preview)  # before the first run: a grey picture saying what will appear
    assert placeholder is not None and _natural_size(preview)[0] > 0
    run.click()
    expect(stop).to_be_enabled(timeout=KERNEL_TIMEOUT_MS)
    expect(run).to_be_disabled()
    wait_for_change(lambda: picture_digest(preview), placeholder, RUN_TIMEOUT_MS, page, "live preview")
    # The picture the slider drives: the run works at the size the slider was moved to.
    assert max(_natural_size(preview)) == dragged
    expect(status).to_contain_text("/500", timeout=KERNEL_TIMEOUT_MS)

    stop.click()
    expect(status).to_contain_text("stopped, best image kept", timeout=RUN_TIMEOUT_MS)
    expect(run).to_be_enabled()
    expect(stop).to_be_disabled()
    step = int(status.inner_text().split("step", 1)[1].split("/", 1)[0])
    assert 1 <= step < 500, status.inner_text()
    assert max(_natural_size(preview)) == dragged  # the best picture so far, kept

