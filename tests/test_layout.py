"""The package's layers, checked mechanically over every module: imports only go down, never in a circle,
never reach for another module's private names; modules stay small and ``stylize`` stays a short pipeline.

The layers, from the mathematics up to people (``shared/DESIGN.md``, "The layers"): a module may import
from a lower layer or from its own subpackage, nothing else. ``ot_style/__init__.py`` (the public face,
whose names resolve lazily) and ``__main__.py`` (the entry point) are above every layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ot_style

PACKAGE = Path(ot_style.__file__).resolve().parent
RANKS = {"_version": 0, "_lazy": 0, "layers": 0, "config": 1, "maths": 2, "pixels": 3, "network": 4, "losses": 5,
         "engine": 6, "plotting": 7, "widgets": 8, "cli": 8}
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _group(name: str):
    parts = name.split(".")[1:]
    if not parts or parts[0] == "__main__":
        return None  # the public face and the entry point sit above the layers
    return parts[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _imports(name: str):
    """(target module, imported names, line) for every import of ``ot_style`` code in module ``name``."""
    tree = ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))
    package = name if _is_package(name) else name.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "ot_style" and alias.name in MODULES:
                    yield alias.name, (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "ot_style":
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:
                    yield submodule, (), node.lineno
                else:
                    yield source, (alias.name,), node.lineno


EDGES = {name: list(_imports(name)) for name in MODULES}


def test_every_module_belongs_to_a_layer():
    unplaced = [name for name in MODULES if _group(name) is not None and _group(name) not in RANKS]
    assert unplaced == [], f"modules outside the layer table: {unplaced}"


def test_imports_only_go_down_the_layers():
    wrong = []
    for name, edges in EDGES.items():
        group = _group(name)
        if group is None:
            continue
        for target, _, line in edges:
            other = _group(target)
            if other is None or (other != group and RANKS[other] >= RANKS[group]):
                wrong.append(f"{name} (line {line}) imports {target}")
    assert wrong == [], "imports that go up or sideways:\n" + "\n".join(wrong)


def test_the_import_graph_has_no_cycle():
    graph = {name: {target for target, _, _ in edges if target != name} for name, edges in EDGES.items()}
    state, cycles = {}, []

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def _module_aliases(name: str) -> dict:
    """Local names bound to ot_style modules in module ``name`` (``from ..maths import gaussian``)."""
    tree = ast.parse(MODULES[name].read_text())
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({alias.asname: alias.name for alias in node.names if alias.asname in MODULES})
            aliases.update({alias.asname: alias.name for alias in node.names
                            if alias.asname and alias.name in MODULES})
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                for target, names, _ in _imports(name):
                    if not names and target.rsplit(".", 1)[-1] == alias.name:
                        aliases[alias.asname or alias.name] = target
    return aliases


def _inside(name: str, target: str) -> bool:
    """Whether module ``name`` lives in the package that owns module ``target``."""
    owner = target.rsplit(".", 1)[0]
    return (name + ".").startswith(owner + ".")


def test_no_private_name_or_private_module_is_reached_from_outside():
    wrong = []
    for name, edges in EDGES.items():
        for target, names, line in edges:
            wrong += [f"{name} (line {line}) imports {target}.{n}" for n in names if _private(n) and target != name]
            if _private(target.rsplit(".", 1)[-1]) and not _inside(name, target):
                wrong.append(f"{name} (line {line}) imports the private module {target}")
        aliases = _module_aliases(name)
        for node in ast.walk(ast.parse(MODULES[name].read_text())):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and _private(node.attr)):
                wrong.append(f"{name} (line {node.lineno}) reads {aliases[node.value.id]}.{node.attr}")
    assert wrong == [], "private names used across modules:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_are_small(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it by idea (at most {MAX_LINES})"


def test_stylize_is_a_short_pipeline():
    path = MODULES["ot_style.engine.synthesis"]
    tree = ast.parse(path.read_text())
    (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "stylize"]
    docstring = function.body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    lines = (function.end_lineno - function.lineno + 1) - (docstring.end_lineno - docstring.lineno + 1)
    assert lines <= 80, f"stylize has {lines} lines besides its docstring"


def test_library_code_never_prints_exits_or_asserts_input():
    # The command line prints; everything else raises with a sentence (DESIGN.md, "Layout").
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                wrong.append(f"{name} (line {node.lineno}): assert")
            if _group(name) == "cli" or _group(name) is None:
                continue
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                wrong.append(f"{name} (line {node.lineno}): print")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "exit"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "sys"):
                wrong.append(f"{name} (line {node.lineno}): sys.exit")
    assert wrong == [], "\n".join(wrong)
