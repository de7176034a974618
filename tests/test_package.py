"""The package as a learner installs it: a light import, the public names, the console script."""

import subprocess
import sys

import pytest

import ot_style


def test_import_does_not_load_tensorflow_ipywidgets_or_matplotlib():
    # `import ot_style` and a NumPy computation load the NumPy mathematics only (speed is a benchmark's
    # business, not a test's: see benchmarks/README.md).
    code = ("import sys; import ot_style; ot_style.gaussian_w2([0.0], [[1.0]], [1.0], [[1.0]]); "
            "print([m for m in ('tensorflow', 'ipywidgets', 'matplotlib', 'ot', 'torch', 'PIL', 'scipy') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_advertised_name_resolves():
    for name in ot_style.__all__:
        assert getattr(ot_style, name) is not None, name
    with pytest.raises(AttributeError, match="no attribute"):
        ot_style.not_a_name  # noqa: B018


def test_console_script_help_and_version():
    run = subprocess.run([sys.executable, "-m", "ot_style.cli", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and ot_style.__version__ in run.stdout
    run = subprocess.run([sys.executable, "-m", "ot_style.cli", "--help"], capture_output=True, text=True)
    assert run.returncode == 0 and "usage" in run.stdout.lower()
