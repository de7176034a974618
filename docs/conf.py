"""Sphinx configuration of ot-style's site (``sphinx-build -W -b html docs docs/_build/html``).

Everything the site shows is made from the package: the notebooks are executed at build time in full
mode (MyST-NB), the API pages come from the docstrings (autodoc + numpydoc), the CLI page from the
argument parser (sphinx-argparse). The site is self-contained: MathJax comes from
``sphinx-mathjax-offline``, the widget manager and RequireJS are vendored under ``_static/vendor``,
and the build opens no network connection.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# TensorFlow's C++ start-up lines would land on the build log and in notebook kernels' stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # (errors, like cuInit on a GPU-less machine, still print)

import ot_style  # noqa: E402

project = "ot-style"
author = "the ot-style developers"
copyright = "2026, the ot-style developers"
release = version = ot_style.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",
    "sphinxarg.ext",
    "ot_style_docs",
]

exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints", "course/*.ipynb.orig"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = []

# --- the notebooks: executed at build time, full mode unless OT_STYLE_FAST is set for a quick look.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("OT_STYLE_DOCS_EXECUTE", "cache")   # "off" for a layout-only build
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 1200
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# A cell that writes to stderr is a defect on the page (a student sees a red block): fail the build.
nb_output_stderr = "warn"
# Widgets are embedded as their saved state, rendered by the vendored html-manager (no CDN).
nb_ipywidgets_js = {
    "vendor/require.js": {},
    "vendor/jupyter-widgets/embed-amd.js": {},
}

# --- the API reference.
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"          # numpydoc's Parameters sections say the types, in words
autodoc_mock_imports = []
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
add_module_names = False

# --- the pages.
html_theme = "furo"
html_title = f"ot-style {release}"
html_static_path = ["_static"]
html_css_files = ["ot-style.css"]
html_theme_options = {"navigation_with_keys": True}
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
pygments_style = "sphinx"
suppress_warnings = []
html_favicon = "_static/favicon.png"
# Before MathJax and the widget manager: where the widgets' fonts are, and MathJax 3 answering the
# MathJax 2 call the widgets make (the file says why).
html_js_files = [("widgets-offline.js", {"priority": 100})]
