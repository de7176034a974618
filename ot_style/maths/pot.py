"""Import POT without letting it import TensorFlow, PyTorch or JAX.

POT (``import ot``) loads every array backend it finds installed, which here means TensorFlow (seconds,
and gigabytes of address space) even when the package only needs NumPy transport. The NumPy
mathematics of ot_style (:mod:`ot_style.maths.emd`, :mod:`ot_style.pixels.colour`, the tests' oracles) only ever hands POT NumPy arrays,
so before the first import we tell POT to skip those backends through its documented environment
variables. ``setdefault`` keeps any choice the user made; once ``ot`` is imported the call is a no-op.
"""

from __future__ import annotations

import os
import sys

__all__ = ["import_pot"]

_SKIP = ("POT_BACKEND_DISABLE_TENSORFLOW", "POT_BACKEND_DISABLE_PYTORCH", "POT_BACKEND_DISABLE_JAX",
         "POT_BACKEND_DISABLE_CUPY")


def import_pot():
    """Return the ``ot`` module, importing it with the heavy backends disabled on first use."""
    if "ot" not in sys.modules:
        for name in _SKIP:
            os.environ.setdefault(name, "1")
    import ot

    return ot
