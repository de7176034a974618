"""The ``ot-style`` command line: every user mistake is one line on stderr, exit 2 and no output file;
options reach the engine unchanged and absent ones are left to the config; Ctrl-C keeps the best image
(exit 130); the demo, transfer, texture and colour commands write real pictures."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image

from ot_style.cli import commands as cli
from ot_style.cli import parser as cli_parser
from ot_style.network import weights
from ot_style.pixels import colour
from ot_style.cli.demo import DEMO_FILES
from ot_style.config import DEFAULT, default_config, format_steps
from ot_style.pixels.images import load_image, save_image

RNG = np.random.default_rng(0)


def _picture(path, size=(48, 40), seed=0):
    """A smooth random picture (so VGG features are not pure noise) of size (w, h)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + rng.uniform(0, 6)), np.cos(5 * y + rng.uniform(0, 6)),
                     np.sin(4 * (x + y))], axis=2)
    image = 0.5 + 0.4 * base + 0.05 * rng.normal(size=(h, w, 3))
    save_image(np.clip(image, 0, 1), path)
    return path


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _only_pictures(folder, expected=()):
    """The folder holds exactly ``expected`` besides the inputs: no temporary or partial files."""
    names = sorted(os.listdir(folder))
    assert not [n for n in names if n.startswith(".")], names
    return names


@pytest.fixture()
def pictures(tmp_path):
    return _picture(tmp_path / "content.png"), _picture(tmp_path / "style.png", (40, 48), seed=1)


# --- refused inputs: message, exit 2, no output, no traceback ----------------------------------------

def _broken_inputs(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("my shopping list, not a picture")
    full = (tmp_path / "content.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(full[: len(full) // 2])
    save_image(np.full((10, 40, 3), 0.5), tmp_path / "tiny.png")
    (tmp_path / "folder").mkdir()


@pytest.mark.parametrize("content, message", [
    ("missing.png", r"'.*missing.png' does not exist"),
    ("folder", "it is a folder, not a file"),
    ("empty.png", "the file is empty"),
    ("cut.png", "truncated or damaged"),
    ("notes.png", "not a picture in a format ot-style reads"),
    ("tiny.png", r"40x10 pixels but the chosen VGG layers need at least 16"),
])
def test_refused_pictures(tmp_path, capsys, pictures, content, message):
    _broken_inputs(tmp_path)
    before = _only_pictures(tmp_path)
    code, out, err = _run(capsys, "transfer", tmp_path / content, pictures[1], "-o", tmp_path / "out.png")
    assert code == 2
    assert err.startswith("ot-style transfer: error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert "Traceback" not in err and out == ""
    assert _only_pictures(tmp_path) == before  # no out.png, no temporary file


@pytest.mark.parametrize("command", [["texture"], ["colour", "{content}"], ["colour", "--method", "sliced",
                                                                         "{content}"]])
def test_other_commands_refuse_the_same_way(tmp_path, capsys, pictures, command):
    _broken_inputs(tmp_path)
    before = _only_pictures(tmp_path)
    argv = [str(pictures[0]) if a == "{content}" else a for a in command]
    for bad, message in [("cut.png", "truncated or damaged"), ("missing.png", "does not exist")]:
        code, out, err = _run(capsys, *argv, tmp_path / bad, "-o", tmp_path / "out.png")
        assert code == 2 and message in err and err.count("\n") == 1 and out == "", err
    assert _only_pictures(tmp_path) == before


@pytest.mark.parametrize("options, message", [
    (["--size", "0"], "argument --size: must be a whole number of at least 1, not '0'"),
    (["--steps", "many"], "argument --steps: must be a whole number of at least 1, not 'many'"),
    (["--seed", "-2"], "argument --seed: must be a whole number >= 0, not '-2'"),
    (["--loss", "l1"], "argument --loss: invalid choice: 'l1'"),
    (["--optimizer", "sgd"], "argument --optimizer: invalid choice: 'sgd'"),
    (["--content-weight", "-1"], "argument --content-weight: must be a finite number >= 0"),
    (["--layers", "relu9_1"], "relu9_1"),
    (["--layers", "relu1_1,relu2_1", "--layer-weights", "1", "2", "3"],
     "one layer weight per style layer: 2 layers but 3 weights"),
    (["--layer-weights", "1"], f"one layer weight per style layer: {len(DEFAULT.layers)} layers but 1 weights"),
    (["--style-weights", "1", "2"], "one mixing weight per style image: 1 styles but 2 weights"),
    (["--weights", "nowhere/vgg.h5"], "nowhere/vgg.h5' (given path) does not exist"),
    (["--weights", "{style}"], "Cannot tell what kind of weights"),
])
def test_refused_options(tmp_path, capsys, pictures, options, message):
    options = [o.replace("{style}", str(pictures[1])) for o in options]
    before = _only_pictures(tmp_path)
    code, out, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", *options)
    assert code == 2, err
    assert message in err and err.strip().count("\n") <= 2 and "Traceback" not in err, err
    assert "error" in err.splitlines()[-1]
    assert _only_pictures(tmp_path) == before


@pytest.mark.parametrize("output, message", [
    ("no_such_folder/out.png", "the folder .*no_such_folder' does not exist"),
    ("out.txt", "unsupported extension '.txt'"),
    ("", "it is a folder"),
])
def test_refused_outputs(tmp_path, capsys, pictures, output, message):
    before = _only_pictures(tmp_path)
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / output)
    assert code == 2 and re.search(message, err), err
    assert _only_pictures(tmp_path) == before


def test_unwritable_folder_is_refused_before_loading(tmp_path, capsys, pictures, monkeypatch):
    # The superuser ignores chmod, so the OS's refusal is simulated at the one call that asks it.
    from ot_style.pixels import images

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    loaded = []
    monkeypatch.setattr(images.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(images, "load_image", lambda *a, **k: loaded.append(a))
    code, _, err = _run(capsys, "texture", pictures[1], "-o", tmp_path / "out.png")
    assert code == 2 and "does not accept new files (Permission denied)" in err
    assert loaded == []  # refused before any work


def test_demo_into_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    code, _, err = _run(capsys, "demo", "-o", tmp_path / "taken")
    assert code == 2 and "it is a file, not a folder" in err


def test_subprocess_mistake_has_no_traceback(tmp_path):
    env = dict(os.environ, OT_STYLE_FAST="1")
    done = subprocess.run([sys.executable, "-m", "ot_style", "transfer", str(tmp_path / "nope.jpg"),
                           str(tmp_path / "nope2.jpg"), "-o", str(tmp_path / "out.png")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"ot-style transfer: error: Image file {str(tmp_path / 'nope.jpg')!r} does not exist."]
    assert os.listdir(tmp_path) == []


# --- help and defaults come from the config --------------------------------------------------------

def test_help_shows_the_config_defaults(capsys, monkeypatch):
    cfg = default_config()
    code, out, _ = _run(capsys, "transfer", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for text in (f"(default: {cfg.loss})", f"(default: {cfg.size})", f"(default: {format_steps(cfg.steps)} per scale",
                 f"(default: {cfg.optimizer})", f"(default: {' '.join(cfg.layers)})"):
        assert text in flat, text
    # change the config and the help follows: the CLI holds no copy of a default
    changed = lambda: DEFAULT.replace(loss="sliced", steps=7)  # noqa: E731
    monkeypatch.setattr(cli, "default_config", changed)
    monkeypatch.setattr(cli_parser, "default_config", changed)
    _, out, _ = _run(capsys, "texture", "--help")
    flat = " ".join(out.split())
    assert "style loss (default: sliced)" in flat and "(default: 7 per scale" in flat
    for command in ("demo", "colour", "weights", "classroom"):
        assert _run(capsys, command, "--help")[0] == 0


def test_version_and_no_command(capsys):
    from ot_style import __version__

    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.strip() == f"ot-style {__version__}"
    code, out, _ = _run(capsys)
    assert code == 0 and "transfer" in out and "demo" in out


# --- options reach the engine; a stand-in engine records the call ------------------------------------

@dataclass
class _Result:
    image: np.ndarray
    history: dict = field(default_factory=lambda: {"total": [3.0, 2.0, 1.0]})
    evaluations: int = 3
    seconds_per_scale: list = field(default_factory=lambda: [0.1])
    weights_source: str = "RANDOM"
    random_weights: bool = True
    interrupted: bool = False
    config: object = None


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


def test_options_are_passed_and_absent_ones_left_to_the_config(tmp_path, capsys, pictures, recorded):
    code, out, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", "--loss", "gram",
                          "--steps", "3", "--layers", "relu1_1,relu2_1", "--layer-weights", "1", "2",
                          "--content-loss", "features", "--content-weight", "0.5", "--preserve-colour",
                          "--weights", "random", "--seed", "4", "--size", "40", "--scales", "20", "40")
    assert code == 0, err
    content, style, kwargs = recorded[0]
    np.testing.assert_allclose(content, load_image(pictures[0]))
    np.testing.assert_allclose(style, load_image(pictures[1]))
    assert kwargs.pop("callback") and kwargs.pop("config") == default_config()
    assert kwargs == dict(loss="gram", steps=3, layers=("relu1_1", "relu2_1"), layer_weights=(1.0, 2.0),
                          content_loss="features", content_weight=0.5, preserve_colour=True,
                          weights="random", seed=4, size=40, scales=(20, 40))
    assert f"wrote {tmp_path / 'out.png'}" in out
    assert "weights: RANDOM weights" in err and "WARNING: the VGG19 network has RANDOM weights" in err
    assert "loss=1" in err  # the progress bar shows the current loss
    np.testing.assert_allclose(load_image(tmp_path / "out.png"), 0.25, atol=1 / 255)

    recorded.clear()
    assert _run(capsys, "texture", pictures[1], pictures[0], "-o", tmp_path / "t.png",
                "--style-weights", "3", "1", "--weights", "random")[0] == 0
    content, style, kwargs = recorded[0]
    assert content is None and isinstance(style, list) and len(style) == 2
    kwargs.pop("callback"), kwargs.pop("config")
    assert kwargs == dict(style_weights=(3.0, 1.0), weights="random")  # nothing else is decided here


def test_transparency_is_reported_as_a_note(tmp_path, capsys, pictures, recorded):
    rgba = np.dstack([RNG.integers(0, 256, (40, 40, 3)), np.full((40, 40), 100)]).astype(np.uint8)
    Image.fromarray(rgba).save(tmp_path / "glass.png")
    code, _, err = _run(capsys, "transfer", tmp_path / "glass.png", pictures[1], "-o", tmp_path / "o.png",
                        "--weights", "random")
    assert code == 0
    assert "note: glass.png has transparent pixels; they were composited on a white background." in err
    assert recorded[0][0].min() > 0.5  # 100/255 opaque over white


def test_keyboard_interrupt_escaping_the_engine(tmp_path, capsys, pictures, monkeypatch):
    def stylize(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "ot_style.engine.synthesis", types.SimpleNamespace(stylize=stylize))
    before = _only_pictures(tmp_path)
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", "--weights", "random")
    assert code == 130 and "no file was left half-written" in err and "Traceback" not in err
    assert _only_pictures(tmp_path) == before


# --- colour, weights, classroom (no engine needed) ---------------------------------------------------

def test_colour_gaussian_matches_the_style_moments(tmp_path, capsys):
    # Colours well inside the cube, so clipping and 8-bit rounding move the moments very little.
    content = 0.5 + 0.08 * RNG.normal(size=(40, 48, 3)) @ np.array([[1, 0.3, 0], [0, 1, 0.2], [0, 0, 1]])
    style = np.clip(0.4 + 0.1 * RNG.normal(size=(36, 30, 3)) * [1.0, 0.5, 0.8] + [0.1, 0, -0.1], 0, 1)
    save_image(np.clip(content, 0, 1), tmp_path / "c.png")
    save_image(style, tmp_path / "s.png")
    style = load_image(tmp_path / "s.png")
    code, out, _ = _run(capsys, "colour", tmp_path / "c.png", tmp_path / "s.png", "-o", tmp_path / "r.png")
    assert code == 0 and f"wrote {tmp_path / 'r.png'}" in out
    result = load_image(tmp_path / "r.png")
    assert result.shape == (40, 48, 3)
    got, want = colour.colour_moments(result), colour.colour_moments(style)
    before = colour.colour_moments(load_image(tmp_path / "c.png"))
    np.testing.assert_allclose(got.mean, want.mean, atol=3e-3)
    np.testing.assert_allclose(got.cov, want.cov, atol=3e-4)
    assert np.abs(before.cov - want.cov).max() > 10 * np.abs(got.cov - want.cov).max()


def test_colour_sliced_lowers_the_sliced_w2(tmp_path, capsys, pictures):
    code, _, _ = _run(capsys, "colour", *pictures, "-o", tmp_path / "r.png", "--method", "sliced",
                      "--iterations", "8", "--seed", "3")
    assert code == 0
    content, style, result = (load_image(p) for p in (*pictures, tmp_path / "r.png"))
    assert colour.colour_sliced_w2(result, style) < 0.2 * colour.colour_sliced_w2(content, style)
    code, _, err = _run(capsys, "colour", *pictures, "-o", tmp_path / "r2.png", "--iterations", "-2")
    assert code == 2 and "--iterations: must be a whole number >= 0" in err


def test_weights_info_is_offline(tmp_path, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("weights info must not download")

    monkeypatch.setattr(weights, "download_imagenet_weights", no_network)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("OT_STYLE_WEIGHTS", raising=False)
    code, out, _ = _run(capsys, "weights", "info")
    assert code == 0 and "auto uses: RANDOM weights" in out and "(absent)" in out
    cached = weights.keras_cache_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not read by info")
    code, out, _ = _run(capsys, "weights", "info")
    assert code == 0 and f"auto uses: ImageNet (Keras cache: {cached})" in out and "(present)" in out
    monkeypatch.setenv("OT_STYLE_WEIGHTS", str(tmp_path / "vgg.mat"))
    (tmp_path / "vgg.mat").write_bytes(b"x")
    code, out, _ = _run(capsys, "weights", "info")
    assert "auto uses: ImageNet (MatConvNet file" in out and f"{tmp_path / 'vgg.mat'})" in out


def test_weights_download_failure_is_one_line(capsys, monkeypatch):
    def offline():
        raise OSError("URL fetch failure: [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(weights, "download_imagenet_weights", offline)
    code, _, err = _run(capsys, "weights", "download")
    assert code == 2 and err.strip() == ("ot-style weights: error: The download failed: URL fetch failure: "
                                         "[Errno -3] Temporary failure in name resolution")
    assert _run(capsys, "weights")[0] == 2  # an action is required
    monkeypatch.setattr(weights, "download_imagenet_weights", lambda: weights.keras_cache_path())
    code, out, _ = _run(capsys, "weights", "download")
    assert code == 0 and f"saved {weights.keras_cache_path()}" in out


def test_classroom_calls_serve(capsys, monkeypatch):
    calls = []
    fake = types.SimpleNamespace(serve=lambda notebook=None, **kw: calls.append((notebook, kw)) or 0)
    monkeypatch.setitem(sys.modules, "ot_style.cli.classroom", fake)
    assert _run(capsys, "classroom", "--port", "8899", "--no-browser")[0] == 0
    assert calls == [(None, {"port": 8899, "open_browser": False, "max_kernels": None})]
    assert _run(capsys, "classroom", "--notebook", "x.ipynb", "--max-kernels", "3")[0] == 0
    assert calls[-1] == ("x.ipynb", {"port": None, "open_browser": True, "max_kernels": 3})
    code, _, err = _run(capsys, "classroom", "--max-kernels", "0")
    assert code == 2 and "--max-kernels" in err


# --- real runs of the engine (random weights, tiny pictures) ----------------------------------------

SMALL = ["--weights", "random", "--layers", "relu1_1", "relu2_1", "--steps", "3"]


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


# --- the user's files: never overwritten by mistake, never lost at the end (issue 17) -----------------

def test_an_output_that_is_an_input_is_refused_under_any_name(tmp_path, capsys, pictures):
    content, style = pictures
    before = content.read_bytes()
    link = tmp_path / "same-photo.png"
    link.symlink_to(content)
    for output in (content, link, style):
        code, _, err = _run(capsys, "transfer", content, style, "-o", output, "--weights", "random")
        assert code == 2 and "it is the input picture" in err and "Traceback" not in err
    code, _, err = _run(capsys, "colour", content, style, "-o", link)
    assert code == 2 and "it is the input picture" in err
    assert content.read_bytes() == before


def test_a_stop_after_one_evaluation_saves_that_image_over_an_older_output(tmp_path, capsys, pictures,
                                                                         monkeypatch):
    from ot_style.engine import synthesis

    real_stylize = synthesis.stylize

    def stop_at_once(*args, callback, **kwargs):
        return real_stylize(*args, callback=lambda it: False, steps=1, **kwargs)  # noqa: ARG005

    (tmp_path / "out.png").write_bytes(b"the user's earlier picture")
    monkeypatch.setattr(synthesis, "stylize", stop_at_once)
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", *SMALL[:-2])
    # one evaluation happened, so there is a result to keep (a run with none writes nothing: below)
    assert code == 130 and "best image so far was saved" in err
    assert load_image(tmp_path / "out.png").shape == (53, 64, 3)  # fast mode: the long side 64


def test_a_run_stopped_with_no_evaluation_leaves_an_existing_output_alone(tmp_path, capsys, pictures, recorded,
                                                                             monkeypatch):
    def no_evaluation(content, style, **kwargs):
        return _Result(np.zeros((27, 32, 3), np.float32), history={"total": []}, evaluations=0,
                       interrupted=True, config=kwargs["config"])

    monkeypatch.setitem(sys.modules, "ot_style.engine.synthesis", types.SimpleNamespace(stylize=no_evaluation))
    (tmp_path / "out.png").write_bytes(b"the user's earlier picture")
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.png", "--weights", "random")
    assert code == 130 and "nothing was written" in err
    assert (tmp_path / "out.png").read_bytes() == b"the user's earlier picture"


def test_a_folder_removed_during_the_run_does_not_lose_the_result(tmp_path, capsys, pictures, monkeypatch):
    import shutil
    import tempfile

    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(rescue))
    folder = tmp_path / "results"
    folder.mkdir()

    def stylize_then_remove_the_folder(content, style, **kwargs):
        shutil.rmtree(folder)
        return _Result(np.full((27, 32, 3), 0.25, np.float32), config=kwargs["config"])

    monkeypatch.setitem(sys.modules, "ot_style.engine.synthesis",
                        types.SimpleNamespace(stylize=stylize_then_remove_the_folder))
    code, _, err = _run(capsys, "transfer", *pictures, "-o", folder / "out.png", "--weights", "random")
    (kept,) = rescue.glob("ot-style-rescued-*.png")
    assert code == 1 and f"the result was saved to {kept} instead" in err and "does not exist" in err
    np.testing.assert_allclose(load_image(kept), 0.25, atol=1 / 255)


def test_a_webp_output_without_a_webp_encoder_is_refused_before_the_run(tmp_path, capsys, pictures, monkeypatch):
    from PIL import features

    real = features.check_module
    monkeypatch.setattr(features, "check_module", lambda name: False if name == "webp" else real(name))
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "out.webp", "--weights", "random")
    assert code == 2 and "cannot encode .webp" in err and not (tmp_path / "out.webp").exists()


def test_a_path_that_is_not_utf8_is_printed_without_an_error(tmp_path, pictures):
    folder = os.fsencode(tmp_path) + b"/caf\xe9"  # Latin-1 bytes: not valid UTF-8
    os.mkdir(folder)
    output = os.fsdecode(folder + b"/out.png")
    env = dict(os.environ, OT_STYLE_FAST="1", PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    done = subprocess.run([sys.executable, "-m", "ot_style", "colour", str(pictures[0]), str(pictures[1]), "-o",
                           output], capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert b"wrote " in done.stdout and b"\\udce9" in done.stdout and b"Traceback" not in done.stderr
    assert os.path.exists(folder + b"/out.png")


def test_a_size_beyond_the_machines_memory_is_one_sentence(tmp_path, capsys, pictures):
    code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "big.png", "--size", "20000",
                        "--weights", "random")
    assert code == 2 and "A 20000-px picture needs about" in err and "the largest size that fits" in err
    assert err.strip().count("\n") <= 2 and "Traceback" not in err and not (tmp_path / "big.png").exists()


def test_running_out_of_memory_anyway_is_one_line(tmp_path, capsys, pictures, monkeypatch):
    class ResourceExhaustedError(Exception):  # TensorFlow's, by name
        pass

    for error in (MemoryError(), ResourceExhaustedError("OOM when allocating tensor")):
        def stylize(*args, error=error, **kwargs):
            raise error

        monkeypatch.setitem(sys.modules, "ot_style.engine.synthesis", types.SimpleNamespace(stylize=stylize))
        code, _, err = _run(capsys, "transfer", *pictures, "-o", tmp_path / "o.png", "--weights", "random")
        assert code == 2 and "ran out of memory; use a smaller --size" in err and "Traceback" not in err
