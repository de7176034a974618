"""Fixtures for the browser tests: a JupyterLab server, a Playwright-driven Chromium, screenshots.

- The browser is Debian's Chromium (``/usr/bin/chromium``, or ``OT_STYLE_CHROMIUM``), launched by
  Playwright with ``executable_path``: no browser download, ever. Every non-local host name fails
  at once (``--host-resolver-rules``), so nothing reaches the internet.
- Without Chromium or Playwright the suite is skipped with the reason, unless
  ``OT_STYLE_REQUIRE_BROWSER=1`` (CI), where that is a failure.
- JupyterLab serves a temporary copy of the notebooks (autosave would otherwise write outputs back),
  with its own Jupyter directories under the temporary folder; it is stopped by its PID.
- Each test gets a fresh browser context; a failing test leaves a full-page screenshot and the page's
  console log in a temporary folder (``OT_STYLE_BROWSER_ARTIFACTS``, default
  ``$TMPDIR/ot-style-browser-failures``); the path is printed with the failure.
"""

from __future__ import annotations

import importlib.util
import os
import re
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = Path(os.environ.get("OT_STYLE_BROWSER_ARTIFACTS",
                              Path(tempfile.gettempdir()) / "ot-style-browser-failures"))
CHROMIUM = Path(os.environ.get("OT_STYLE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
    # Any host but loopback fails at once (Voila's template asks a CDN for an icon font).
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1400, "height": 1000}


def _missing_requirement() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session", autouse=True)
def _browser_requirements():
    reason = _missing_requirement()
    if reason:
        if os.environ.get("OT_STYLE_REQUIRE_BROWSER", "") == "1":
            pytest.fail(f"browser tests required (OT_STYLE_REQUIRE_BROWSER=1) but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)  # read by the page fixture to save a screenshot
    return report


@pytest.fixture(scope="session")
def browser(_browser_requirements):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True, timeout=60_000)
        yield chromium
        chromium.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def page(browser, request):
    """A page in a fresh browser context; on failure, screenshot and console log are saved."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"[{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: console.append(f"[pageerror] {exc}"))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = ARTIFACTS / _artifact_name(request.node.nodeid)
        try:
            page.screenshot(path=f"{stem}.png", full_page=True, timeout=15_000)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            console.append(f"[screenshot failed] {exc}")
        Path(f"{stem}.console.txt").write_text("\n".join(console))
        report.sections.append(("browser artifacts", f"screenshot and console log: {stem}.*"))
    context.close()


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """The folder JupyterLab serves: every test copies what it opens into its own subfolder."""
    root = tmp_path_factory.mktemp("lab-root")
    assets = REPO / "assets"
    if assets.is_dir():
        (root / "assets").symlink_to(assets)  # notebooks that read ../assets find them
    return root


@pytest.fixture(scope="session")
def lab_server(lab_root, tmp_path_factory, _browser_requirements):
    from tests.browser.servers import start_jupyterlab

    server = start_jupyterlab(lab_root, tmp_path_factory.mktemp("lab-state"))
    yield server
    try:
        from tests.browser.lab import shutdown_sessions

        shutdown_sessions(server)  # kernels end cleanly before the server does
    finally:
        server.stop()
        if server.process.returncode not in (0, -15):
            print(f"JupyterLab exit code {server.process.returncode}:\n{server.log_tail()}")


@pytest.fixture
def lab_workdir(lab_root, lab_server, request) -> Path:
    """A fresh folder under the server root for this test; kernels are shut down afterwards."""
    from tests.browser.lab import shutdown_sessions

    workdir = lab_root / f"w{len(list(lab_root.iterdir()))}-{_artifact_name(request.node.name)}"
    workdir.mkdir()
    yield workdir
    shutdown_sessions(lab_server)

