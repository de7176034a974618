"""The ``ot-style`` command line: every user mistake is one line on stderr, exit 2 and no output file;
options reach the engine unchanged and absent ones are left to the config; Ctrl-C keeps the best image
(exit 130); the colour command writes real pictures. Real engine runs are in ``test_runs.py``, the
user's files in ``test_user_files.py``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from ot_style.cli import commands as cli
from ot_style.cli import parser as cli_parser
from ot_style.network import weights
from ot_style.pixels import colour
from ot_style.config import DEFAULT, default_config, format_steps
from ot_style.pixels.images import load_image, save_image
from tests.helpers.cli import only_pictures as _only_pictures
from tests.helpers.cli import run_cli as _run

RNG = np.random.default_rng(0)


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
    # The progress bar shows the scale, the step and the current loss.
    assert "scale 1/2 40x32, step 3/6, loss 1" in err
    np.testing.assert_allclose(load_image(tmp_path / "out.png"), 0.25, atol=1 / 255)

    recorded.clear()
    assert _run(capsys, "texture", pictures[1], pictures[0], "-o", tmp_path / "t.png",
                "--style-weights", "3", "1", "--weights", "random")[0] == 0
    content, style, kwargs = recorded[0]
    assert content is None and isinstance(style, list) and len(style) == 2
    kwargs.pop("callback"), kwargs.pop("config")
    assert kwargs == dict(style_weights=(3.0, 1.0), weights="random")  # nothing else is decided here


def test_bundled_pictures_are_taken_by_name_and_a_users_file_wins(tmp_path, capsys, recorded, monkeypatch):
    # The README and the playground name the bundled pictures ("grace_hopper.jpg"); the CLI takes them
    # from any folder. A file of the user's with the same name, where they run it, is theirs and wins.
    from ot_style.pixels.assets import asset_path

    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "transfer", "grace_hopper.jpg", "mosaic.png", "-o", "out.png",
                        "--weights", "random")
    assert code == 0, err
    content, style, _ = recorded[0]
    np.testing.assert_array_equal(content, load_image(asset_path("grace_hopper.jpg")))
    np.testing.assert_array_equal(style, load_image(asset_path("mosaic.png")))
    mine = RNG.uniform(size=(48, 40, 3))
    save_image(mine, tmp_path / "mosaic.png")
    recorded.clear()
    assert _run(capsys, "texture", "mosaic.png", "-o", "t.png", "--weights", "random")[0] == 0
    np.testing.assert_array_equal(recorded[0][1], load_image(tmp_path / "mosaic.png"))
    code, out, err = _run(capsys, "colour", "houses.png", "swirls.png", "-o", "c.png")
    assert code == 0 and "wrote c.png" in out, err
    assert load_image(tmp_path / "c.png").shape == load_image(asset_path("houses.png")).shape
    # The output may take a bundled picture's name: it is a new file here, the bundled one is untouched.
    bundled = asset_path("swirls.png").read_bytes()
    code, _, err = _run(capsys, "colour", "houses.png", "swirls.png", "-o", "swirls.png")
    assert code == 0, err
    assert (tmp_path / "swirls.png").is_file() and asset_path("swirls.png").read_bytes() == bundled
    # A name that is neither a file nor a bundled picture is the usual one-line refusal.
    code, _, err = _run(capsys, "transfer", "grace_hoper.jpg", "mosaic.png", "-o", "x.png")
    assert code == 2 and "'grace_hoper.jpg' does not exist" in err and not (tmp_path / "x.png").exists()


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
