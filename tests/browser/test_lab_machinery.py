"""The browser machinery proves itself on small notebooks written here, before any real notebook.

- A notebook that computes something runs to the end in JupyterLab and shows the right number.
- The error detector used on the real notebooks catches a failing cell and does not mistake a
  warning on stderr for an error.
- The screen-defect detector finds a stderr block, a broken image and a cut label, and nothing in a
  clean notebook.
- A slider moved by keyboard and by mouse changes its readout and the picture it drives.
"""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import expect

from tests.browser.lab import (Slider, error_texts, open_notebook, picture_digest, run_all_cells, screen_defects,
                               unexecuted_cells, wait_for_change, wait_for_value)

pytestmark = pytest.mark.browser


def _write(path, *sources: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return f"{path.parent.name}/{path.name}"


def test_trivial_notebook_runs_all_cells_and_shows_its_output(page, lab_server, lab_workdir):
    path = _write(lab_workdir / "trivial.ipynb",
                  "import os\nfast = os.environ.get('OT_STYLE_FAST')",
                  "total = sum(k * k for k in range(1, 11))",
                  "print(f'sum of squares = {total}, fast = {fast}')")
    panel = open_notebook(page, lab_server, path)
    run_all_cells(page, panel)
    assert unexecuted_cells(panel) == 0
    assert error_texts(page) == []
    # 1 + 4 + ... + 100 = 385; the kernel inherited fast mode from the server.
    assert "sum of squares = 385, fast = 1" in panel.locator(".jp-OutputArea-output").last.inner_text()


def test_error_detector_catches_a_failing_cell_but_not_a_warning(page, lab_server, lab_workdir):
    path = _write(lab_workdir / "failing.ipynb",
                  "import warnings\nwarnings.warn('only a warning')",
                  "1 / 0",
                  "print('never reached')")
    panel = open_notebook(page, lab_server, path)
    run_all_cells(page, panel)
    errors = error_texts(page)
    assert len(errors) == 1 and "ZeroDivisionError: division by zero" in errors[0], errors
    # The warning is on stderr, which is not an error output.
    stderr = panel.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert "only a warning" in stderr.first.inner_text()
    assert unexecuted_cells(panel) == 1  # Run All stops at the error


def test_screen_defect_detector_finds_stderr_broken_images_and_cut_labels(page, lab_server, lab_workdir):
    path = _write(lab_workdir / "defects.ipynb",
                  "import sys\nsys.stderr.write('a warning block\\n')",
                  "from IPython.display import HTML\nHTML('<img src=\"data:image/png;base64,AAAA\">')",
                  "import ipywidgets as w\nw.IntSlider(description='A description far too long to fit')",
                  "w.IntSlider(description='Fits', style={'description_width': 'initial'})")
    panel = open_notebook(page, lab_server, path)
    run_all_cells(page, panel)
    expect(panel.locator(".widget-slider").nth(1)).to_be_visible(timeout=60_000)
    defects = screen_defects(page)
    assert len(defects) == 3, defects
    assert defects[0].startswith("cell 0: stderr: a warning block")
    assert "broken image" in defects[1] and defects[1].startswith("cell 1")
    assert 'cut label "A description far too long to fit"' in defects[2] and defects[2].startswith("cell 2")

    clean = _write(lab_workdir / "clean.ipynb", "print('fine')",
                   "import ipywidgets as w\nw.IntSlider(description='Fits', style={'description_width': 'initial'})")
    panel = open_notebook(page, lab_server, clean)
    run_all_cells(page, panel)
    expect(panel.locator(".widget-slider").first).to_be_visible(timeout=60_000)
    assert screen_defects(page) == []


def test_slider_moves_by_keyboard_and_mouse_and_redraws_the_picture(page, lab_server, lab_workdir):
    # The shape of the theory widgets: a slider drives an HTML number and an ipywidgets.Image.
    path = _write(
        lab_workdir / "slider.ipynb",
        "import io, ipywidgets as w\nfrom PIL import Image\n"
        "slider = w.IntSlider(value=10, min=0, max=255, description='grey level')\n"
        "number = w.HTML()\nnumber.add_class('number')\n"
        "picture = w.Image(format='png')\n"
        "def draw(change=None):\n"
        "    buf = io.BytesIO()\n"
        "    Image.new('RGB', (32, 32), (slider.value,) * 3).save(buf, 'PNG')\n"
        "    picture.value = buf.getvalue()\n"
        "    number.value = f'<b>{slider.value ** 2}</b>'\n"
        "slider.observe(draw, 'value')\n"
        "draw()\n"
        "w.VBox([slider, number, picture])")
    panel = open_notebook(page, lab_server, path)
    run_all_cells(page, panel)
    assert error_texts(page) == []
    slider = Slider(panel, "grey level")
    number = panel.locator(".number b")
    picture = panel.locator(".widget-image")
    first = wait_for_change(lambda: picture_digest(picture), None, page=page, what="first picture")
    assert slider.value() == "10" and number.inner_text() == "100"

    slider.press("ArrowRight", times=3)
    # each key press is its own value change: the number may show 11**2 and 12**2 on the way
    wait_for_value(slider.value, lambda v: v == "13", page=page, what="readout")
    wait_for_value(number.inner_text, lambda text: text == "169", page=page, what="number")  # 13**2
    after_keys = wait_for_change(lambda: picture_digest(picture), first, page=page, what="picture")

    slider.drag(page, 120)
    value = int(wait_for_change(slider.value, "13", page=page, what="readout after drag"))
    assert value > 13
    wait_for_value(number.inner_text, lambda text: text == str(value ** 2), page=page, what="number")
    after_drag = wait_for_change(lambda: picture_digest(picture), after_keys, page=page, what="picture")

    slider.type("7")
    wait_for_value(number.inner_text, lambda text: text == "49", page=page, what="number after typing")
    assert slider.value() == "7"
    wait_for_change(lambda: picture_digest(picture), after_drag, page=page, what="picture after typing")
