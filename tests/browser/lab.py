"""Drive a notebook in JupyterLab the way a student does: open it, Run All Cells, move sliders.

Every wait is a bounded Playwright wait on a condition, never a fixed sleep.
"""

from __future__ import annotations

import itertools
import re
import shutil
import time
import urllib.parse
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .servers import Server

OPEN_TIMEOUT_MS = 90_000
RUN_ALL_TIMEOUT_MS = 300_000  # generous: 8 helpers share 2 cores
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
  // Execution counts from the model: a cell whose input is folded (an exercise's check) shows no prompt.
  const running = [...panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .some(p => p.textContent.includes('*'));
  const prompts = [];
  const errors = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    prompts.push(running ? '[*]' : (cell.executionCount == null ? '[ ]' : `[${cell.executionCount}]`));
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
    # Even with the session made first, a "Select Kernel" dialog sometimes still comes up (a race in
    # JupyterLab's session start); it would swallow the next command, so accept it (Python 3).
    deadline = time.monotonic() + OPEN_TIMEOUT_MS / 1000
    while True:
        state = page.evaluate(_KERNEL_READY_JS)
        if state["dialog"]:
            page.locator(".jp-Dialog .jp-mod-accept").first.click()
        elif state["ready"]:
            return panel
        if time.monotonic() > deadline:
            raise AssertionError(f"the notebook's kernel was not ready within {OPEN_TIMEOUT_MS // 1000} s: "
                                 f"{state}")
        page.wait_for_timeout(250)  # a polling interval inside a bounded wait


_KERNEL_READY_JS = """
() => {
  const dialog = document.querySelector('.jp-Dialog') !== null;
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  const context = panel && panel.sessionContext;
  const kernel = context && context.session && context.session.kernel;
  return {dialog, ready: !!(context && context.isReady && kernel && kernel.status === 'idle')};
}
"""


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


# What a student must not see after Run All (DESIGN.md, "Notebooks are lessons"): a stderr output (a
# Python warning block, TensorFlow's start-up chatter), an image that shows the broken-image icon, and
# a widget label or button whose text is cut (ipywidgets ends it with an ellipsis).
_SCREEN_DEFECTS_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!panel || !panel.content || !panel.content.model) return ['no notebook is open'];
  const defects = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const out of cell.outputs.toJSON()) {
      if (out.output_type === 'stream' && out.name === 'stderr') {
        const text = Array.isArray(out.text) ? out.text.join('') : String(out.text);
        defects.push(`cell ${i}: stderr: ${text.slice(0, 300)}`);
      }
    }
  }
  const cellNodes = [...panel.node.querySelectorAll('.jp-Cell')];
  const where = el => `cell ${cellNodes.indexOf(el.closest('.jp-Cell'))}`;
  for (const area of panel.node.querySelectorAll('.widget-output [data-mime-type="application/vnd.jupyter.stderr"]')) {
    defects.push(`${where(area)}: stderr in a widget: ${(area.textContent || '').slice(0, 300)}`);
  }
  for (const img of panel.node.querySelectorAll('.jp-OutputArea img')) {
    if (!img.getAttribute('src') || (img.complete && img.naturalWidth === 0)) {
      defects.push(`${where(img)}: broken image (${img.className || 'img'})`);
    }
  }
  const labels = '.jp-OutputArea .widget-label, .jp-OutputArea .widget-label-basic, .jp-OutputArea button, ' +
                 '.jp-OutputArea .widget-readout';
  for (const label of panel.node.querySelectorAll(labels)) {
    if (label.offsetParent === null || label.clientWidth === 0) continue;  // hidden (a closed accordion)
    if (label.scrollWidth > label.clientWidth + 1) {
      defects.push(`${where(label)}: cut label "${(label.textContent || '').trim()}" ` +
                   `(${label.scrollWidth} px of text in ${label.clientWidth} px)`);
    }
  }
  return defects;
}
"""


def screen_defects(page: Page) -> list[str]:
    """One line per stderr output, broken image or cut label in the notebook of the current tab."""
    return page.evaluate(_SCREEN_DEFECTS_JS)


def save_screens(page: Page, panel: Locator, stem: Path) -> list[Path]:
    """Screenshots of the whole notebook, one per screenful, scrolled from the top (``stem-NN.png``):
    for a person to look at, as a student would after Run All."""
    scroller = panel.locator(".jp-WindowedPanel-outer").first
    height = scroller.evaluate("el => el.scrollHeight")
    step = max(200, scroller.evaluate("el => el.clientHeight") - 80)
    paths = []
    for index, top in enumerate(range(0, max(1, height), step)):
        scroller.evaluate(f"el => el.scrollTo(0, {top})")
        page.wait_for_timeout(300)  # let the scrolled cells paint (a screenshot, not a condition)
        path = stem.parent / f"{stem.name}-{index:02d}.png"
        page.screenshot(path=str(path))
        paths.append(path)
    return paths


def unexecuted_cells(panel: Locator) -> int:
    """Code cells without an execution count (read from the notebook model, folded inputs included)."""
    return sum(1 for p in notebook_state(panel.page)["prompts"] if not any(ch.isdigit() for ch in p))


# SHA-256 of the bytes every <img> shows (fetched from its data: or blob: URL), joined by commas;
# null while an <img> has no picture yet or its old blob URL was just revoked (read again).
_PICTURE_DIGEST_JS = """
async (imgs) => {
  const parts = [];
  for (const img of imgs) {
    const src = img.getAttribute('src');
    if (!src) return null;
    try {
      const bytes = await (await fetch(src)).arrayBuffer();
      if (bytes.byteLength === 0) return null;
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      parts.push([...digest.slice(0, 8)].map(b => b.toString(16).padStart(2, '0')).join(''));
    } catch (e) {
      return null;
    }
  }
  return parts.length ? parts.join(',') : null;
}
"""


def picture_digest(pictures: Locator) -> str | None:
    """What the pictures show, as a digest of their bytes (None while one has no picture)."""
    return pictures.evaluate_all(_PICTURE_DIGEST_JS)


def wait_for_change(read, before, timeout_ms: int = WIDGET_TIMEOUT_MS, page: Page | None = None,
                    what: str = "value") -> object:
    """Poll ``read()`` until it gives something other than ``before`` and None (bounded).

    Returns the new value. Between polls the page's event loop runs (widget messages arrive).
    """
    deadline = time.monotonic() + timeout_ms / 1000
    value = read()
    while value is None or value == before:
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not change within {timeout_ms / 1000:.0f} s "
                                 f"(still {value!r}, before {before!r})")
        if page is not None:
            page.wait_for_timeout(200)  # a polling interval inside a bounded wait, not a fixed sleep
        value = read()
    return value


def wait_for_value(read, predicate, timeout_ms: int = WIDGET_TIMEOUT_MS, page: Page | None = None,
                   what: str = "value") -> object:
    """Poll ``read()`` until ``predicate(value)`` holds (bounded); returns the value."""
    deadline = time.monotonic() + timeout_ms / 1000
    value = read()
    while not predicate(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout_ms / 1000:.0f} s (last {value!r})")
        if page is not None:
            page.wait_for_timeout(200)
        value = read()
    return value


class Slider:
    """An ipywidgets slider found by its description: its handle, its readout, and moves."""

    def __init__(self, root: Locator, description: str):
        label = root.page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(description)}\s*$"))
        self.description = description
        self.box = root.locator(".widget-slider", has=label)
        expect(self.box).to_have_count(1, timeout=WIDGET_TIMEOUT_MS)
        self.handle = self.box.locator(".noUi-handle").first
        self.readout = self.box.locator(".widget-readout").first

    def value(self) -> str:
        return self.readout.inner_text().strip()

    def press(self, key: str = "ArrowRight", times: int = 1) -> None:
        press_slider(self.handle, key, times)

    def drag(self, page: Page, dx: float) -> None:
        drag_slider(page, self.handle, dx)

    def type(self, text: str) -> None:
        """Type a value into the readout (it is editable) and press Enter."""
        self.readout.scroll_into_view_if_needed()
        self.readout.click()
        self.readout.press("Control+a")
        self.readout.press_sequentially(text)
        self.readout.press("Enter")


def press_slider(handle: Locator, key: str = "ArrowRight", times: int = 1) -> None:
    """Move a noUiSlider handle from the keyboard."""
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(times):
        handle.press(key)


def drag_slider(page: Page, handle: Locator, dx: float) -> None:
    """Drag a noUiSlider handle ``dx`` pixels (to the right when positive) with the mouse."""
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
