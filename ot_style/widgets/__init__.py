"""Interactive widgets for the notebooks (ipywidgets and matplotlib are imported only here).

Each notebook cell builds its UI with one call. The logic behind every control is a plain function or
a small class in the submodules, so tests drive it without a browser (as iminuit does):

- :mod:`ot_style.widgets.theory`: notebooks 01-03, gathered from :mod:`~ot_style.widgets.gram_blindness`
  (01), :mod:`~ot_style.widgets.w2_gaussians` (02) and :mod:`~ot_style.widgets.emd_cost` (03).
- :mod:`ot_style.widgets.playground`: notebooks 04, 05 and 07 (live style transfer, losses side by
  side, what each layer sees).
- :mod:`ot_style.widgets.colour`: notebook 06 (colour transfer, mixing, masks).
- :mod:`ot_style.widgets.notes`: the weights banner every notebook that builds a network shows once.
"""

import importlib

_SUBMODULES = ("theory", "playground", "colour", "notes")


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    for sub in _SUBMODULES:
        try:
            module = importlib.import_module(f".{sub}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{sub}":
                continue
            raise
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
