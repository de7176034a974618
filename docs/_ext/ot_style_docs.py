"""Sphinx extension for ot-style's site: pages generated from the package itself, never by hand.

- The course: ``notebooks/*.ipynb`` are copied into ``docs/course/`` (a build folder) before Sphinx
  reads its sources; MyST-NB executes them there.
- The API reference: one page per public module (``docs/api/generated/``), ``automodule`` of its
  ``__all__``, in the package's layers (maths, pixels, network, losses, engine, widgets, cli).
- Links both ways between the API and the course: each notebook's code is parsed; every ot-style
  function, class or module it uses gets a "Taught in" line in its API entry, and each notebook page
  ends with "The library in this lesson", links to those entries.
- Notebook pages with widgets get a note that their sliders show the state saved at build time and
  need a live kernel to move.
- The gallery's table is made from the picture-quality harness's JSON (``docs/gallery/quality.json``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.util import logging

logger = logging.getLogger(__name__)

DOCS = Path(__file__).resolve().parents[1]
REPO = DOCS.parent
NOTEBOOKS = REPO / "notebooks"
COURSE = DOCS / "course"
GENERATED = DOCS / "api" / "generated"

# The package's layers, from the mathematics up to people (DESIGN.md), and what each is for.
LAYERS = [
    ("ot_style", "The top-level names: ``import ot_style`` loads each on first use."),
    ("ot_style.config", "Every default, the presets and the one rulebook that checks a configuration."),
    ("ot_style.layers", "VGG19's layer names, shapes, receptive fields and FLOP counts (no TensorFlow)."),
    ("ot_style.maths", "The NumPy mathematics the notebooks teach (float64; the TensorFlow losses' references)."),
    ("ot_style.pixels", "Pictures as arrays: files, the bundled pictures, colour transfer, masks, quality measures."),
    ("ot_style.network", "VGG19 and where its weights come from."),
    ("ot_style.losses", "The style and content losses in TensorFlow."),
    ("ot_style.engine", "The optimisation: the plan of scales, the optimisers, :func:`ot_style.stylize`."),
    ("ot_style.plotting", "Matplotlib figures shared by the notebooks and the CLI."),
    ("ot_style.widgets", "The notebooks' interactive widgets."),
    ("ot_style.cli", "The ``ot-style`` command (its options: :doc:`/cli`)."),
]


# --------------------------------------------------------------------------------------- modules
def public_modules() -> list[str]:
    """Every importable ot-style module whose name has no part starting with an underscore."""
    import ot_style

    names = ["ot_style"]
    for info in pkgutil.walk_packages(ot_style.__path__, "ot_style."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        names.append(info.name)
    return sorted(names)


def documented_objects(module_name: str) -> list[str]:
    """The names ``automodule :members:`` shows for a module: its ``__all__``, defined there."""
    module = importlib.import_module(module_name)
    out = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module_name:
            out.append(name)
    return out


def write_api_pages(app) -> None:
    """``docs/api/generated/<module>.rst`` for each public module and the layer index pages."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    modules = public_modules()
    wanted = {}
    for name in modules:
        title = f"``{name}``"
        lines = [title, "=" * len(title), ""]
        if name == "ot_style":
            lines += [".. automodule:: ot_style", "   :no-members:", "", _top_level_table(), ""]
        else:
            lines += [f".. automodule:: {name}", "   :members:", "   :show-inheritance:", ""]
            children = [m for m in modules if m.rsplit(".", 1)[0] == name and m != name]
            if children:
                lines += [".. toctree::", "   :maxdepth: 1", ""] + [f"   {c}" for c in children] + [""]
        wanted[GENERATED / f"{name}.rst"] = "\n".join(lines)
    for path, text in wanted.items():
        _write_if_changed(path, text)
    for stale in GENERATED.glob("*.rst"):
        if stale not in wanted:
            stale.unlink()


def _top_level_table() -> str:
    import ot_style

    rows = []
    for name in sorted(ot_style._EXPORTS):
        obj = getattr(ot_style, name)
        where = f"{obj.__module__}.{obj.__qualname__}" if hasattr(obj, "__qualname__") and not isinstance(
            obj, (tuple, dict)) else f"ot_style.{ot_style._EXPORTS[name]}.{name}"
        role = "class" if inspect.isclass(obj) else "func" if callable(obj) else "data"
        rows.append(f"   * - ``ot_style.{name}``\n     - :py:{role}:`{where}`")
    return "\n".join([".. list-table:: What ``import ot_style`` offers (each is documented where it is defined)",
                      "   :header-rows: 1", "", "   * - name", "     - defined as"] + rows)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


# --------------------------------------------------------------------------------------- course
def copy_notebooks(app) -> None:
    COURSE.mkdir(exist_ok=True)
    wanted = set()
    for source in sorted(NOTEBOOKS.glob("*.ipynb")):
        target = COURSE / source.name
        wanted.add(target)
        if not target.exists() or target.read_bytes() != source.read_bytes():
            shutil.copyfile(source, target)
    for stale in COURSE.glob("*.ipynb"):
        if stale not in wanted:
            stale.unlink()


def _cell_python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def names_used(notebook: Path) -> set[str]:
    """Dotted names of ot-style objects a notebook's code uses (as written, not yet resolved)."""
    cells = json.loads(notebook.read_text())["cells"]
    used: set[str] = set()
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        tree = ast.parse(_cell_python("".join(cell["source"])))
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ot_style":
                for alias in node.names:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "ot_style":
                        aliases[alias.asname or alias.name.split(".")[0]] = (
                            alias.name if alias.asname else alias.name.split(".")[0])
        used.update(aliases.values())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                chain = []
                inner = node
                while isinstance(inner, ast.Attribute):
                    chain.append(inner.attr)
                    inner = inner.value
                if isinstance(inner, ast.Name) and inner.id in aliases:
                    used.add(".".join([aliases[inner.id]] + chain[::-1]))
    return used


def resolve(dotted: str):
    """(kind, canonical dotted name) of an ot-style function, class or module, or None."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        break
    else:
        return None
    if inspect.ismodule(obj):
        name = obj.__name__
        return ("mod", name) if name.startswith("ot_style") and not any(
            p.startswith("_") for p in name.split(".")) else None
    if inspect.isfunction(obj) or inspect.isclass(obj):
        module = obj.__module__
        if not module.startswith("ot_style") or any(p.startswith("_") for p in module.split(".")):
            return None
        if obj.__name__ not in documented_objects(module):
            return None
        return ("class" if inspect.isclass(obj) else "func", f"{module}.{obj.__qualname__}")
    if inspect.ismethod(obj) or callable(obj) and hasattr(obj, "__qualname__"):
        return None
    return None


def build_links(app) -> None:
    """notebook -> [(kind, name)] and name -> [notebook], kept on the environment's app."""
    lessons: dict[str, list[tuple[str, str]]] = {}
    taught: dict[str, list[str]] = {}
    for notebook in sorted(NOTEBOOKS.glob("*.ipynb")):
        found = set()
        for dotted in names_used(notebook):
            hit = resolve(dotted)
            if hit:
                found.add(hit)
        # A method's class or a module's parent need no line of their own: keep what is used.
        lessons[notebook.stem] = sorted(found, key=lambda kind_name: kind_name[1])
        for _, name in found:
            taught.setdefault(name, []).append(notebook.stem)
    app.ot_style_lessons = lessons
    app.ot_style_taught = taught
    app.ot_style_titles = {nb.stem: _notebook_title(nb) for nb in NOTEBOOKS.glob("*.ipynb")}
    app.ot_style_widgets = {nb.stem for nb in NOTEBOOKS.glob("*.ipynb") if _uses_widgets(nb)}


def _notebook_title(notebook: Path) -> str:
    for cell in json.loads(notebook.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return notebook.stem


def _uses_widgets(notebook: Path) -> bool:
    names = names_used(notebook)
    text = notebook.read_text()
    return any(n.startswith("ot_style.widgets") and not n.startswith("ot_style.widgets.notes")
               for n in names) or "import ipywidgets" in text


def add_taught_in(app, what, name, obj, options, lines) -> None:
    notebooks = getattr(app, "ot_style_taught", {}).get(name)
    if not notebooks:
        return
    links = ", ".join(f":doc:`{app.ot_style_titles[nb]} </course/{nb}>`" for nb in sorted(set(notebooks)))
    lines += ["", f"**Taught in:** {links}", ""]


def add_lesson_links(app, doctree) -> None:
    docname = app.env.docname
    if not docname.startswith("course/"):
        return
    stem = docname.split("/", 1)[1]
    if stem in app.ot_style_widgets:
        note = nodes.note()
        note += nodes.paragraph(text=(
            "This page was executed when the site was built: its sliders and buttons show the state "
            "they were saved in, and moving them changes nothing here. They need a live kernel: open the "
            f"notebook in Jupyter (jupyter lab notebooks/{stem}.ipynb) to use them."))
        sections = list(doctree.findall(nodes.section))
        if sections:
            title_index = sections[0].first_child_matching_class(nodes.title)
            sections[0].insert((title_index or 0) + 1, note)
    used = app.ot_style_lessons.get(stem, [])
    if not used:
        return
    section = nodes.section(ids=["the-library-in-this-lesson"])
    section += nodes.title(text="The library in this lesson")
    section += nodes.paragraph(text="The ot-style functions, classes and modules this notebook's code calls:")
    items = nodes.bullet_list()
    for kind, name in used:
        ref = pending_xref("", refdomain="py", reftype=kind, reftarget=name, refexplicit=False,
                           refwarn=True)
        ref += nodes.literal(text=name, classes=["xref", "py", f"py-{kind}"])
        items += nodes.list_item("", nodes.paragraph("", "", ref))
    section += items
    sections = list(doctree.findall(nodes.section))
    (sections[0] if sections else doctree).append(section)


# --------------------------------------------------------------------------------------- gallery
def write_gallery_table(app) -> None:
    """``docs/gallery/figures.md``: how the harness ran and its figures, from its JSON, as tables."""
    data = json.loads((DOCS / "gallery" / "quality.json").read_text())
    steps = data.get("steps")
    lines = [
        f"Made by `python benchmarks/quality.py --sheet docs/gallery/quality.jpg --json "
        f"docs/gallery/quality.json` on {data.get('date', 'an unrecorded date')}"
        + (f" (commit `{data['commit']}`)" if data.get("commit") else "")
        + f", {data.get('cores', '?')} CPU cores: the {data.get('config', 'defaults')} at "
        f"{data.get('size')} px, {data.get('optimizer')}, steps {steps}, with "
        f"**{data.get('weights', 'unrecorded')}**. The harness does not run while the site is built "
        "(it takes minutes); it is re-run, and these two files committed, whenever the engine, the "
        "losses, the network or the defaults change.", ""]
    for group, title in (("pairs", "Style transfer: content + style"), ("textures", "Texture synthesis")):
        rows = data.get(group, {})
        if not rows:
            continue
        measures = [m for m in next(iter(rows.values())) if isinstance(next(iter(rows.values()))[m], (int, float))]
        head = "pair" if group == "pairs" else "exemplar"
        lines += [f"# {title}", "", "| " + " | ".join([head] + [f"`{m}`" for m in measures] + ["seconds"]) + " |",
                  "|" + "---|" * (len(measures) + 2)]
        for name, row in rows.items():
            key = name if group == "pairs" else f"texture:{name}"
            cells = [f"{row[m]:.3f}" if isinstance(row.get(m), (int, float)) else "" for m in measures]
            seconds = data.get("seconds", {}).get(key)
            lines.append("| " + " | ".join([name] + cells + [f"{seconds:.0f}" if seconds else ""]) + " |")
        lines.append("")
    pictures = data.get("pictures", {})
    if pictures:
        lines += ["# The pictures", "", "| picture | where it comes from | licence |", "|---|---|---|"]
        lines += [f"| {name} | {p['source']} | {p['licence']} |" for name, p in pictures.items()]
        lines.append("")
    _write_if_changed(DOCS / "gallery" / "figures.md", "\n".join(lines))


def setup(app):
    app.connect("builder-inited", copy_notebooks, priority=100)
    app.connect("builder-inited", write_api_pages, priority=100)
    app.connect("builder-inited", write_gallery_table, priority=100)
    app.connect("builder-inited", build_links, priority=100)
    app.connect("autodoc-process-docstring", add_taught_in, priority=900)
    app.connect("doctree-read", add_lesson_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
