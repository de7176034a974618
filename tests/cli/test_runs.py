"""The command line on real (tiny) engine runs: the demo, transfer and texture write real pictures,
Ctrl-C keeps the best image (exit 130, a real SIGINT too), small sizes drop coarse scales, and classroom
mode fails in one line without Voila."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from ot_style.cli.demo import DEMO_FILES
from ot_style.config import DEFAULT, default_config
from ot_style.pixels.images import load_image
from tests.helpers.cli import SMALL
from tests.helpers.cli import EngineResult as _Result
from tests.helpers.cli import only_pictures as _only_pictures
from tests.helpers.cli import run_cli as _run


# --- real runs of the engine (random weights, tiny pictures) ----------------------------------------

def test_demo_end_to_end_in_fast_mode(tmp_path, capsys):
    folder = tmp_path / "demo" / "nested"  # created on the way
    code, out, err = _run(capsys, "demo", "-o", folder, "--weights", "random", "--steps", "4")
    assert code == 0, err
    assert sorted(os.listdir(folder)) == sorted(DEMO_FILES)  # no temporary file left
    for name in DEMO_FILES:
        assert str(folder / name) in out
    result = load_image(folder / "result.png")
    assert max(result.shape[:2]) == default_config().size and result.std() > 0.01
    side, curve = (Image.open(folder / name) for name in DEMO_FILES[1:])
    assert side.size[0] > 2 * side.size[1] and curve.size[0] > 300
    assert "WARNING: the VGG19 network has RANDOM weights" in err and "fast mode" in out


def test_transfer_and_texture_write_real_pictures(tmp_path, capsys, pictures):
    code, out, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "t.jpg", "--size", "32",
                          "--scales", "32", *SMALL)
    assert code == 0, err
    assert load_image(tmp_path / "t.jpg").shape == (27, 32, 3)  # content 48x40 -> long side 32
    assert f"wrote {tmp_path / 't.jpg'}" in out and "3/3" in err  # the progress bar reached the end
    code, _, err = _run(capsys, "texture", pictures[1], pictures[0], "-o", tmp_path / "x.png",
                        "--size", "56", "--scales", "56", "--style-weights", "1", "1", *SMALL)
    assert code == 0, err
    # larger than the 40x48 style picture, with its shape: long side 56
    assert load_image(tmp_path / "x.png").shape == (56, 47, 3)
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "y.png", "--size", "8",
                        "--scales", "8", "--weights", "random", "--layers", "relu4_1")
    assert code == 2 and "too small for layer relu4_1" in err  # the engine's check, as one line
    assert not (tmp_path / "y.png").exists()


def test_ctrl_c_saves_the_best_image(tmp_path, capsys, pictures, monkeypatch):
    from ot_style.engine import synthesis

    real_stylize, results = synthesis.stylize, []

    def stylize_then_ctrl_c(*args, callback, **kwargs):
        def pressing_ctrl_c(iterate):
            callback(iterate)
            if iterate.step >= 2:
                raise KeyboardInterrupt

        results.append(real_stylize(*args, callback=pressing_ctrl_c, **kwargs))
        return results[-1]

    monkeypatch.setattr(synthesis, "stylize", stylize_then_ctrl_c)
    before = _only_pictures(tmp_path)
    code, out, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", "--size", "32",
                          "--scales", "16", "32", *SMALL[:-2], "--steps", "20")
    assert code == 130, err
    assert results[0].interrupted and results[0].evaluations < 20
    assert f"Interrupted: the best image so far was saved to {tmp_path / 'out.png'}" in err
    saved = load_image(tmp_path / "out.png")
    assert saved.shape == (27, 32, 3)  # stopped at the coarse scale, upsampled to the full size
    np.testing.assert_allclose(saved, np.clip(results[0].image, 0, 1), atol=0.5 / 255 + 1e-6)
    assert _only_pictures(tmp_path) == sorted(before + ["out.png"])


@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="sends a real SIGINT")
def test_real_sigint_in_a_subprocess(tmp_path, pictures):
    """A real Ctrl-C (SIGINT) mid-run: exit 130, the best image saved, no traceback, no temporary file."""
    import signal
    import time

    log = tmp_path / "stderr.txt"
    with open(log, "w") as err:
        # A background job of a non-interactive shell ignores SIGINT; give the child the default.
        proc = subprocess.Popen(
            [sys.executable, "-m", "ot_style", "transfer", *map(str, pictures), "-o", str(tmp_path / "out.png"),
             "--size", "32", "--scales", "32", "--steps", "100000", "--optimizer", "adam",
             "--layers", "relu1_1", "--weights", "random"],
            stdout=subprocess.PIPE, stderr=err, text=True, env=dict(os.environ, OT_STYLE_FAST="1"),
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            deadline = time.monotonic() + 240  # a bound, not a measurement: normally a few seconds
            while "loss=" not in log.read_text() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            assert proc.poll() is None, log.read_text()
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
    text = log.read_text()
    assert proc.returncode == 130, text
    assert f"Interrupted: the best image so far was saved to {tmp_path / 'out.png'}" in text
    assert "Traceback" not in text
    assert load_image(tmp_path / "out.png").shape == (27, 32, 3)
    assert sorted(os.listdir(tmp_path)) == ["content.png", "out.png", "stderr.txt", "style.png"]


def test_demo_figures(tmp_path):
    from ot_style import plotting
    from ot_style.cli import demo

    image = np.full((20, 30, 3), 0.5, np.float32)
    result = _Result(image, history={"total": [4.0, 2.0, 3.0, 1.0], "style": [4.0, 2.0, 3.0, 1.0]},
                     config=DEFAULT)
    ax = plotting.loss_curve_figure(result, scale_of_step=[0, 0, 1, 1]).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["style", "_child1"]  # curve + one scale line
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [4.0, 2.0, 3.0, 1.0])
    assert ax.get_lines()[1].get_xdata()[0] == 2  # the second scale starts at evaluation 2
    result.history["content"] = [1.0, 1.0, 0.5, 0.5]
    ax = plotting.loss_curve_figure(result).axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["total", "style", "content"]
    side = plotting.side_by_side_figure(image, image[:10], result)
    assert [a.get_title() for a in side.axes] == ["content", "style",
                                                  f"result (w2, {DEFAULT.optimizer}, RANDOM weights)"]
    paths = demo.write_demo_figures(image, image, result, tmp_path)
    assert [p.name for p in paths] == list(demo.DEMO_FILES[1:]) and sorted(os.listdir(tmp_path)) == sorted(
        demo.DEMO_FILES[1:])


def test_classroom_without_voila_is_one_line(capsys, monkeypatch):
    def serve(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'voila'", name="voila")

    monkeypatch.setitem(sys.modules, "ot_style.cli.classroom", types.SimpleNamespace(serve=serve))
    code, _, err = _run(capsys, "classroom", "--no-browser")
    assert code == 2 and err.strip() == ("ot-style classroom: error: Classroom mode needs Voila: "
                                         "pip install 'ot-style[classroom]'.")


def test_classroom_with_the_real_module_refuses_a_missing_notebook(tmp_path, capsys):
    code, _, err = _run(capsys, "classroom", "--notebook", tmp_path / "none.ipynb", "--no-browser")
    assert code == 2 and "none.ipynb' does not exist" in err


def test_a_small_size_drops_the_coarse_scales_instead_of_refusing(tmp_path, capsys, pictures):
    # relu5_1 needs 16 px per side; at 16 px the 40x48 content would be 13x16, so that scale is dropped
    # and the run goes on at 32 px (issue 15: `--size 32` was refused).
    code, out, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "s.png", "--size", "32",
                          "--scales", "16", "32", "--steps", "2", "--weights", "random")
    assert code == 0, err
    assert load_image(tmp_path / "s.png").shape == (27, 32, 3) and "2/2" in err


