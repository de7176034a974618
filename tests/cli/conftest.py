"""Fixtures shared by the command-line tests: two small pictures, and a stand-in engine that records
how it was called."""

from __future__ import annotations

import sys
import types
import numpy as np
import pytest

from tests.helpers.cli import EngineResult as _Result
from tests.helpers.cli import picture


@pytest.fixture()
def pictures(tmp_path):
    return picture(tmp_path / "content.png"), picture(tmp_path / "style.png", (40, 48), seed=1)


@pytest.fixture()
def recorded(monkeypatch):
    """Replace the engine by one that records its arguments and reports three steps."""
    calls = []

    def stylize(content, style, **kwargs):
        calls.append((content, style, kwargs))
        for step in range(3):
            kwargs["callback"](types.SimpleNamespace(step=step, scale=0, size=(32, 40),
                                                     losses={"total": 3.0 - step}, elapsed=0.0,
                                                     image=lambda: None))
        shape = (32, 40, 3) if content is None else content.shape
        return _Result(np.full(shape, 0.25, np.float32), config=kwargs["config"])

    monkeypatch.setitem(sys.modules, "ot_style.engine.synthesis", types.SimpleNamespace(stylize=stylize))
    return calls
