"""Classroom mode in a real browser: ``ot_style.cli.classroom.serve`` shows the playground as an app.

The server is started the way ``ot-style classroom --no-browser --port P`` starts it (``serve`` in a
child Python, which runs Voila on the trimmed copy of notebook 04), in a temporary working folder,
and stopped by its PID (``serve`` turns SIGTERM into stopping Voila).
"""

from __future__ import annotations

import sys

import pytest
from playwright.sync_api import expect

from tests.browser.lab import picture_digest, wait_for_change
from tests.browser.servers import free_port, start_voila_command

pytestmark = pytest.mark.browser

RENDER_TIMEOUT_MS = 240_000  # Voila shows the page after every cell ran (TF import, widgets) on busy cores
RUN_TIMEOUT_MS = 240_000
CELL_TIMEOUT_S = 240
TOKEN = "classroom-test-token"


@pytest.fixture
def classroom_server(tmp_path, _browser_requirements):
    port = free_port()
    code = ("import sys\nfrom ot_style.cli.classroom import serve\n"
            f"sys.exit(serve(port={port}, open_browser=False, cell_timeout={CELL_TIMEOUT_S}, token={TOKEN!r}))")
    workdir = tmp_path / "class"
    workdir.mkdir()
    server = start_voila_command([sys.executable, "-c", code], state=tmp_path / "state", cwd=workdir,
                                 port=port)
    yield server
    server.stop()
    assert server.process.returncode == 0, server.log_tail()


def test_classroom_shows_the_playground_without_code_and_run_makes_a_picture(page, classroom_server):
    page.goto(classroom_server.url + f"/?token={TOKEN}", timeout=RENDER_TIMEOUT_MS)
    ui = page.locator(".ot-style-playground")
    expect(ui).to_be_visible(timeout=RENDER_TIMEOUT_MS)

    # An app, not a notebook: no code cells, no editor, not even the source text; the prose stays.
    assert page.locator(".jp-CodeMirrorEditor, .cm-editor").count() == 0
    assert all(not s.strip() for s in page.locator(".jp-CodeCell .jp-InputArea").all_inner_texts())
    text = page.locator("body").inner_text()
    assert "import" not in text and "playground(" not in text
    assert "style-transfer playground" in text
    # and the notebook's Checks section is not part of the app
    assert "Checks" not in text
    assert page.locator(".widget-slider").count() >= 2
    expect(ui.locator(".ot-style-status")).to_contain_text("Ready")

    run, stop = ui.locator("button.ot-style-run"), ui.locator("button.ot-style-stop")
    preview, status = ui.locator("img.ot-style-preview"), ui.locator(".ot-style-status")
    run.click()
    expect(stop).to_be_enabled(timeout=RUN_TIMEOUT_MS)
    wait_for_change(lambda: picture_digest(preview), None, RUN_TIMEOUT_MS, page, "picture from Run")
    # fast mode (the server's OT_STYLE_FAST=1): a 10-step run finishes on its own
    expect(status).to_contain_text("done", timeout=RUN_TIMEOUT_MS)
    expect(run).to_be_enabled()
    size = preview.evaluate("img => Math.max(img.naturalWidth, img.naturalHeight)")
    assert size == 64  # the fast-mode size
    assert ui.locator(".ot-style-message").inner_text().strip() == ""  # no error line
