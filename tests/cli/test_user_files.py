"""The user's files through the command line (issue 17): an input is never overwritten, a stopped run
writes only what an evaluation produced, a result that cannot be written where asked is kept elsewhere,
an encoder is checked before the run, any path prints, and memory is checked before allocating."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import numpy as np

from ot_style.pixels.images import load_image
from tests.helpers.cli import SMALL
from tests.helpers.cli import EngineResult as _Result
from tests.helpers.cli import run_cli as _run


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
