"""Drive a notebook in JupyterLab the way a student does: open it, Run All Cells, move sliders.

Every wait is a bounded Playwright wait on a condition, never a fixed sleep.
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import time
import urllib.parse
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from servers import Server

OPEN_TIMEOUT_MS = 90_000
RUN_ALL_TIMEOUT_MS = 150_000
WIDGET_TIMEOUT_MS = 60_000

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

_workspaces = itertools.count()

# Error outputs are read from the notebook model (window.jupyterapp, see servers.py): JupyterLab 4
# renders an ``error`` output with the same stderr MIME type as a warning, so the DOM cannot tell
# them apart. Inside ipywidgets Output areas (callbacks), a traceback is recognised by its text.
TRACEBACK_MARK = "Traceback (most recent call last)"

# The state of the notebook in the current tab, evaluated in the page:
# prompts (as shown), the kernel status, and the text of every error output.
_NOTEBOOK_STATE_JS = """
() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model || !panel.sessionContext) return null;
  const prompts = [...panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .map(p => p.textContent.trim());
  const errors = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const out of cell.outputs.toJSON()) {
      if (out.output_type === 'error') {
        errors.push(`cell ${i}: ${out.ename}: ${out.evalue}`);
      }
    }
  }
  for (const area of panel.node.querySelectorAll('.widget-output')) {
    const text = area.textContent || '';
    if (text.includes('%TRACEBACK%')) errors.push('widget output: ' + text.slice(-1500));
  }
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  return {prompts, errors, status: kernel ? kernel.status : 'none'};
}
""".replace("%TRACEBACK%", TRACEBACK_MARK)

# True when the kernel is idle, no cell is queued or running, and every code cell shows an execution
# count, or the run stopped at an error (JupyterLab then leaves the remaining cells unexecuted).
_RUN_FINISHED_JS = """
() => {
  const state = (%STATE%)();
  if (!state || state.prompts.length === 0 || state.status !== 'idle') return false;
  if (state.prompts.some(p => p.includes('*'))) return false;
  return state.prompts.every(p => /\\[\\d+\\]/.test(p)) || state.errors.length > 0;
}
""".replace("%STATE%", _NOTEBOOK_STATE_JS)


def open_notebook(page: Page, server: Server, path: str) -> Locator:
    """Open ``path`` (relative to the server root) with a ready kernel; returns the notebook panel.

    The session is created over REST first: on a fresh server a "Select Kernel" dialog can otherwise
    swallow the first command. Each call uses a new workspace, so nothing from an earlier test is
    restored.
    """
    server.request("POST", "/api/sessions", {"path": path, "type": "notebook", "name": "",
                                             "kernel": {"name": "python3"}})
    workspace = f"t{next(_workspaces)}"
    quoted = urllib.parse.quote(path)
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{quoted}?token={server.token}",
              timeout=OPEN_TIMEOUT_MS)
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(panel).to_be_visible(timeout=OPEN_TIMEOUT_MS)
    expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
        "data-status", "idle", timeout=OPEN_TIMEOUT_MS)
    return panel


def shutdown_sessions(server: Server) -> None:
    """Delete every session (and its kernel) so the next test starts with a quiet machine."""
    for session in server.request("GET", "/api/sessions") or []:
        server.request("DELETE", f"/api/sessions/{session['id']}")


def run_all_cells(page: Page, panel: Locator, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
    """Run menu -> Run All Cells, then wait until every cell ran (or the run stopped at an error)."""
    panel.locator(".jp-Notebook").click(position={"x": 5, "y": 5})  # give the notebook focus
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    page.wait_for_function(_RUN_FINISHED_JS, timeout=timeout_ms, polling=250)


def notebook_state(page: Page) -> dict:
    """Prompts, kernel status and error outputs of the notebook in the current tab."""
    state = page.evaluate(_NOTEBOOK_STATE_JS)
    assert state is not None, "no notebook is open in the current tab"
    return state


def error_texts(page: Page) -> list[str]:
    """One line per error output in the notebook (tracebacks in widget outputs included)."""
    return notebook_state(page)["errors"]


def unexecuted_cells(panel: Locator) -> int:
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    return sum(1 for p in prompts if not any(ch.isdigit() for ch in p))


def fingerprint(locator: Locator) -> str:
    """A short hash of what a picture shows: the ``src`` of every <img> in it (data: or blob: URL)."""
    sources = locator.evaluate_all("els => els.map(e => e.getAttribute('src') || '')")
    return hashlib.sha256("\n".join(sources).encode()).hexdigest()[:16]


def wait_for_change(read, before, timeout_ms: int = WIDGET_TIMEOUT_MS, page: Page | None = None,
                    what: str = "value") -> object:
    """Poll ``read()`` until it differs from ``before`` (bounded); returns the new value."""
    deadline = time.monotonic() + timeout_ms / 1000
    value = read()
    while value == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not change within {timeout_ms / 1000:.0f} s "
                                 f"(still {before!r})")
        if page is not None:
            page.wait_for_timeout(200)  # yield to the page's event loop between polls
        value = read()
    return value


def press_slider(handle: Locator, key: str = "ArrowRight", times: int = 1) -> None:
    """Move a noUiSlider handle from the keyboard."""
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(times):
        handle.press(key)


def drag_slider(page: Page, handle: Locator, dx: float) -> None:
    """Drag a noUiSlider handle ``dx`` pixels to the right with the mouse."""
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    assert box is not None, "slider handle is not visible"
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=8)
    page.mouse.up()


def copy_notebook(name: str, workdir: Path, source: Path = NOTEBOOKS) -> str:
    """Copy ``source/NAME`` into ``workdir``; returns its path relative to the server root."""
    shutil.copy2(source / name, workdir / name)
    return f"{workdir.name}/{name}"
