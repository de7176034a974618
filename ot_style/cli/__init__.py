"""The ``ot-style`` command: the argument parser (:mod:`~ot_style.cli.parser`), the commands
(:mod:`~ot_style.cli.commands`), the demo's pictures (:mod:`~ot_style.cli.demo`) and classroom mode
(:mod:`~ot_style.cli.classroom`). ``ot-style`` and ``python -m ot_style.cli`` both run :func:`main`."""

from .._lazy import lazy_submodules
from .commands import main

__all__ = ["main"]

__getattr__, __dir__ = lazy_submodules(__name__, ("commands", "parser", "demo", "classroom"))
