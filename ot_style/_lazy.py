"""Subpackages whose submodules load on first attribute access (PEP 562), so ``ot_style.maths.gaussian``
works after a bare ``import ot_style`` without importing anything heavy up front."""

from __future__ import annotations

import importlib

__all__ = ["lazy_submodules"]


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
