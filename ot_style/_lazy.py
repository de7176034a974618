"""Loading heavy things late and quietly: subpackages whose submodules load on first attribute access
(PEP 562), so ``ot_style.maths.gaussian`` works after a bare ``import ot_style`` without importing anything
heavy up front; and TensorFlow imported without its C++ start-up chatter, for the command line and the
notebooks."""

from __future__ import annotations

import importlib
import os
import sys

__all__ = ["lazy_submodules", "import_tensorflow_quietly"]


def lazy_submodules(package: str, names):
    """``(__getattr__, __dir__)`` for package ``package`` that import its submodules ``names`` when used."""
    names = tuple(names)

    def __getattr__(name):
        if name in names:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(names) | set(vars(importlib.import_module(package))))

    return __getattr__, __dir__


def import_tensorflow_quietly() -> None:
    """Import TensorFlow without its C++ start-up chatter (CUDA probing, CPU flags) on stderr.

    That chatter comes from absl logging, which ``TF_CPP_MIN_LOG_LEVEL`` does not fully silence, so the
    file descriptor 2 is pointed at /dev/null during the import only (in a notebook the kernel forwards
    that descriptor as a red stderr block under the cell). The devices are listed in the same window:
    on a machine with CUDA libraries but no GPU, the first operation would otherwise print
    "failed call to cuInit" under whichever cell runs it. Python errors still surface as exceptions.
    Library code never calls this: it is for the command line's clean first run and for the notebooks'
    widgets (:func:`ot_style.widgets.notes.weights_banner`, the playground).
    """
    if "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        sys.stderr.flush()
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except (OSError, ValueError):  # no real stderr (e.g. embedded): import normally
        import tensorflow  # noqa: F401
        return
    try:
        os.dup2(devnull, 2)
        import tensorflow

        tensorflow.config.list_physical_devices()  # CUDA probing happens here, silenced
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
