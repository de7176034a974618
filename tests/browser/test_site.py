"""The built documentation site in a real browser, served from 127.0.0.1 as a reader's machine would.

The site is built by the README's docs command (``sphinx-build -W ... docs docs/_build/html``), which
``.ci/run`` runs before the tests. Every page opened here must load with no page error, no console
error, no failed request and no request leaving 127.0.0.1 (the site is self-contained: MathJax, the
widget manager and the fonts are served from it). Without a built site these tests are skipped, unless
``OT_STYLE_REQUIRE_SITE=1`` (CI), where that is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from tests.browser.conftest import REPO

pytestmark = pytest.mark.browser

SITE = Path(os.environ.get("OT_STYLE_SITE", REPO / "docs" / "_build" / "html"))
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site():
    """The base URL of the built site, served by a static file server in a thread of this process."""
    if not (SITE / "index.html").is_file():
        reason = (f"the documentation site is not built ({SITE / 'index.html'} is missing; build it with "
                  "the README's docs command)")
        if os.environ.get("OT_STYLE_REQUIRE_SITE", "") == "1":
            pytest.fail(f"site tests required (OT_STYLE_REQUIRE_SITE=1) but {reason}")
        pytest.skip(reason)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # the test reports failed requests itself
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class Visit:
    """A page of the site with everything that went wrong while it loaded."""

    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.problems: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and self.problems.append(f"console: {msg.text}"))
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda req: self.problems.append(f"failed request: {req.url}"))
        page.on("response", lambda resp: resp.status >= 400 and self.problems.append(
            f"HTTP {resp.status}: {resp.url}"))
        # Anything not from the local server is refused and recorded (the browser's resolver rule
        # already sends every other host nowhere).
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.problems.append(f"external request: {url}")
            route.abort()

    def open(self, path: str):
        self.page.goto(f"{self.base}/{path}", wait_until="load")
        self.page.wait_for_load_state("networkidle")
        return self.page

    def typeset(self) -> dict:
        """Waits for MathJax and counts formulas: on the page, typeset, and typeset with an error."""
        self.page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                                    timeout=30_000)
        self.page.evaluate("() => MathJax.startup.promise")
        return self.page.evaluate("""() => ({
            formulas: document.querySelectorAll('.math').length,
            typeset: document.querySelectorAll('.math mjx-container').length,
            errors: document.querySelectorAll('mjx-merror').length,
            raw: [...document.querySelectorAll('.math')].filter(m => !m.querySelector('mjx-container'))
                   .map(m => m.textContent.slice(0, 80)),
        })""")

    def images(self) -> dict:
        return self.page.evaluate("""() => {
            const imgs = [...document.querySelectorAll('img')];
            return {count: imgs.length,
                    broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 120))};
        }""")


@pytest.fixture
def visit(page, site):
    return Visit(page, site)


def test_the_index_loads_with_its_formula_typeset_and_links_to_every_part(visit):
    page = visit.open("index.html")
    math = visit.typeset()
    assert math["formulas"] >= 1 and math["typeset"] == math["formulas"] and math["errors"] == 0, math
    links = page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    for target in ("tour.html", "course/index.html", "gallery.html", "api/index.html", "cli.html"):
        assert target in links, (target, links)
    assert visit.images()["broken"] == []
    assert visit.problems == []


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_each_notebook_page_shows_its_figures_and_formulas_and_links_to_the_library(visit, notebook):
    page = visit.open(f"course/{notebook}.html")
    images = visit.images()
    # Executed at build time: every notebook shows pictures or plots made by its code.
    assert images["count"] >= 1 and images["broken"] == [], images
    outputs = page.locator(".cell_output").count()
    assert outputs >= 3, f"{notebook}: only {outputs} cell outputs on the page: was it executed?"
    math = visit.typeset()
    assert math["errors"] == 0 and math["raw"] == [], math
    assert math["typeset"] == math["formulas"]
    # The reverse link of the API's "Taught in": the library this lesson uses, resolved to API pages.
    lesson = page.locator("#the-library-in-this-lesson")
    assert lesson.count() == 1
    hrefs = lesson.locator("li a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert hrefs and all("api/generated/ot_style" in h for h in hrefs), hrefs
    article = page.inner_text("article")
    assert "Traceback (most recent call last)" not in article
    assert "<Figure size" not in article  # a figure shown as its text, not drawn
    assert visit.problems == []


def test_the_playground_page_renders_its_widgets_from_their_saved_state(visit):
    page = visit.open("course/04_style_transfer_playground.html")
    # The vendored html-manager replaces each saved widget view with live DOM (no kernel behind it).
    page.wait_for_selector(".cell_output .widget-slider, .cell_output .jupyter-widgets .widget-button",
                           timeout=30_000)
    assert page.locator(".cell_output .widget-slider").count() >= 1
    assert page.locator(".cell_output .jupyter-widgets .widget-button").count() >= 1
    note = page.locator("article .admonition.note").first.inner_text()
    assert "live kernel" in note
    assert visit.problems == []


def test_the_api_page_of_stylize_gives_its_formula_parameters_and_the_notebooks_that_teach_it(visit):
    page = visit.open("api/generated/ot_style.engine.synthesis.html")
    entry = page.locator('dl.py.function:has(> dt#ot_style\\.engine\\.synthesis\\.stylize)')
    assert entry.count() == 1
    text = entry.inner_text()
    assert "Parameters" in text or "PARAMETERS" in text.upper()
    assert "content_weight" in text and "RETURNS" in text.upper()
    math = visit.typeset()
    assert math["typeset"] >= 1 and math["errors"] == 0
    taught = entry.locator("a[href*='course/']").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert taught, "stylize's entry links to no notebook"
    lesson = visit.open("api/generated/" + taught[0])  # relative to the API page: ../../course/...
    assert "course/" in lesson.url and lesson.locator("#the-library-in-this-lesson").count() == 1
    assert visit.problems == []


def test_the_cli_page_is_the_parser_itself(visit):
    from ot_style.cli.parser import build_parser

    page = visit.open("cli.html")
    text = page.inner_text("article")
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    first_names = {}
    for name, sub in commands.items():  # an alias ("color") maps to the same parser as its command
        first_names.setdefault(id(sub), (name, sub))
    for name, sub in first_names.values():
        assert f"ot-style {name}" in text, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--"):
                    assert flag in text, (name, flag)
    assert visit.problems == []


def test_the_gallery_shows_the_contact_sheet_and_its_figures(visit):
    page = visit.open("gallery.html")
    images = visit.images()
    assert images["count"] >= 1 and images["broken"] == [], images
    sheet = page.locator("img[alt*='contact sheet']")
    assert sheet.count() == 1 and sheet.evaluate("i => i.naturalWidth") > 600
    text = page.inner_text("article")
    assert "random" in text.lower() and "palette_gain" in text
    assert visit.problems == []
