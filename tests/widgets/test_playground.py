"""The playground widgets without a browser: move controls, press buttons, check model and images.

Runs use tiny images (32 px), a few steps and random VGG weights, so no download is needed.
"""

import datetime
import io
import threading
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from ot_style.config import DEFAULT, FAST, default_config  # noqa: E402
from ot_style.widgets import playground as pg  # noqa: E402
from ot_style.layers import receptive_field  # noqa: E402
from ot_style.widgets.compare import feature_measures, gram_twin, measured_receptive_field  # noqa: E402
from ot_style.widgets.runner import RELU_LAYERS, Playground  # noqa: E402

FAST_STEPS = 4
_NOW = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def _tiny_ui(**kwargs):
    ui = pg.playground("houses.png", "swirls.png", weights="random", **kwargs)
    ui.size.value = 32
    ui.steps.value = FAST_STEPS
    ui.model.min_preview_interval = 0.0
    ui.model.preview_every = 1
    return ui


def _png_shape(data: bytes):
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data))).shape


def _png_upload(name, image):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return {"name": name, "type": "image/png", "size": len(buffer.getvalue()),
            "content": memoryview(buffer.getvalue()), "last_modified": _NOW}


# ------------------------------------------------------------------ controls -> configuration
@pytest.mark.parametrize("config", [DEFAULT, FAST], ids=["default", "fast"])
def test_defaults_come_from_the_config(config):
    # Both configurations, explicitly: the suite runs in fast mode, where the two could agree by chance.
    model = Playground("houses.png", "swirls.png", config=config)
    snap = model.snapshot()
    assert (snap.loss, snap.optimizer, snap.steps, snap.size) == (config.loss, config.optimizer,
                                                                   config.steps, config.size)
    assert snap.layers == config.layers
    assert snap.scales == config.scales
    assert set(RELU_LAYERS) == {f"relu{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
                                for i in range(1, n + 1)}


def test_each_control_changes_the_configuration_it_should():
    ui = _tiny_ui()
    model = ui.model
    ui.loss.value = "gram"
    ui.optimizer.value = "adam"
    ui.size.value = 48
    ui.steps.value = 7
    ui.content_loss.value = None
    assert ui.content_weight.disabled  # no content loss: the slider is inactive
    ui.loss.value = "strotss"
    assert not ui.content_weight.disabled  # STROTSS weighs its own content term with it
    ui.loss.value = "gram"
    ui.content_loss.value = "features"
    assert not ui.content_weight.disabled
    ui.content_weight.value = 10.0
    ui.layer_toggles["relu3_2"].value = True
    ui.layer_sliders["relu3_2"].value = 2.5
    ui.layer_toggles["relu5_1"].value = False
    ui.layer_sliders["relu1_1"].value = 0.5
    snap = model.snapshot()
    assert (snap.loss, snap.optimizer, snap.size, snap.steps) == ("gram", "adam", 48, 7)
    assert snap.scales[-1] == 48
    assert snap.content_loss == "features"
    assert snap.content_weight == pytest.approx(10.0)
    assert snap.layers == ("relu1_1", "relu2_1", "relu3_1", "relu3_2", "relu4_1")
    assert snap.layer_weights == pytest.approx((0.5, 1.0, 1.0, 2.5, 1.0))
    assert ui.layer_sliders["relu5_1"].disabled and not ui.layer_sliders["relu3_2"].disabled
    # a weight of 0 drops the layer, like switching it off
    ui.layer_sliders["relu2_1"].value = 0.0
    assert "relu2_1" not in model.snapshot().layers


def test_no_layer_left_shows_a_message_and_starts_nothing():
    ui = _tiny_ui()
    for toggle in ui.layer_toggles.values():
        toggle.value = False
    ui.run_button.click()
    assert not ui.model.running and ui.model.result is None
    assert "at least one layer" in ui.message.value


def test_asset_dropdowns_set_the_images():
    ui = _tiny_ui()
    from ot_style.widgets.runner import load_source

    ui.style_choice.value = "mosaic.png"
    np.testing.assert_array_equal(ui.model.style, load_source("mosaic.png"))
    ui.content_choice.value = "(none: texture synthesis)"
    assert ui.model.content is None


def test_bad_upload_shows_one_clear_line_and_keeps_the_image():
    ui = _tiny_ui()
    before = ui.model.style.copy()
    ui.style_upload.value = ({"name": "notes.png", "type": "image/png", "size": 12,
                              "content": memoryview(b"not an image"), "last_modified": _NOW},)
    message = ui.message.value
    assert "Could not use 'notes.png' as the style image" in message
    assert "Traceback" not in message and "\n" not in message
    assert np.array_equal(ui.model.style, before)


def test_good_upload_replaces_the_image():
    ui = _tiny_ui()
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, :15] = (255, 0, 0)
    ui.content_upload.value = (_png_upload("flag.png", pixels),)
    assert ui.model.content.shape == (20, 30, 3)
    np.testing.assert_allclose(ui.model.content[0, 0], (1.0, 0.0, 0.0))
    assert ui.content_choice.value == "(uploaded)"
    assert "Loaded 'flag.png'" in ui.message.value


def test_random_weights_are_flagged_before_the_run():
    ui = _tiny_ui()
    assert "RANDOM" in ui.weights.value


# ------------------------------------------------------------------------------------ runs
def test_run_produces_an_image_a_loss_history_and_a_preview():
    ui = _tiny_ui()
    ui.run_button.click()
    assert ui.model.join(timeout=240)
    model = ui.model
    assert model.error is None
    result = model.result
    assert max(result.image.shape[:2]) == 32 and result.image.shape[2] == 3
    assert np.all(np.isfinite(result.image)) and result.image.min() >= 0 and result.image.max() <= 1
    total = model.history["total"]
    assert len(total) >= 2 and min(total) < total[0]
    assert _png_shape(ui.preview.value)[:2] == result.image.shape[:2]
    assert len(ui.loss_plot.value) > 100
    assert ui.progress.value == ui.progress.max
    assert not ui.run_button.disabled and ui.stop_button.disabled
    assert result.random_weights and "RANDOM" in ui.weights.value


def test_stop_from_the_callback_returns_the_best_image():
    model = Playground("houses.png", "swirls.png", weights="random", min_preview_interval=0.0)
    model.size, model.steps = 32, 60

    def stop_after_two(m, event):
        if event.kind in ("step", "preview") and event.step >= 2:
            m.stop()

    model.listeners.append(stop_after_two)
    model.run(block=True)
    result = model.result
    assert result.interrupted
    assert len(model.history["total"]) < 60
    assert max(result.image.shape[:2]) == 32 and np.all(np.isfinite(result.image))


def test_slow_previews_are_spaced_out_so_they_take_at_most_a_fifth_of_the_run(monkeypatch):
    from ot_style.widgets import runner

    clock = {"now": 0.0}  # a fake clock for the runner only: drawing a preview "costs" 1 s, a step 0.5 s
    monkeypatch.setattr(runner, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    model = Playground("houses.png", "swirls.png", weights="random", min_preview_interval=0.0)
    model.size, model.steps, model.preview_every = 32, 6, 1
    kinds = []

    def listener(m, event):
        kinds.append(event.kind)
        clock["now"] += {"preview": 1.0, "step": 0.5}.get(event.kind, 0.0)

    model.listeners.append(listener)
    model.run(block=True)
    # after the first preview (1 s) the next waits 4 s; the 5 steps left take only 2.5 s
    assert kinds.count("preview") == 1 and kinds[1] == "preview"
    assert kinds.count("step") == len(model.history["total"]) - 1 and kinds[-1] == "done"


def _start_and_hold_at_first_step(ui) -> threading.Event:
    """Press Run and return once the run sits at its first step; set the returned event to go on."""
    started, release = threading.Event(), threading.Event()

    def hold_first_step(m, event):
        if event.kind in ("step", "preview") and not started.is_set():
            started.set()
            release.wait(60)

    ui.model.listeners.append(hold_first_step)
    ui.run_button.click()
    assert started.wait(240)
    return release


def test_stop_button_from_another_thread_stops_the_run():
    ui = _tiny_ui()
    ui.steps.value = 200
    release = _start_and_hold_at_first_step(ui)
    assert ui.run_button.disabled and not ui.stop_button.disabled
    ui.stop_button.click()  # main thread, as a browser click would be handled
    release.set()
    assert ui.model.join(timeout=240)
    assert ui.model.result.interrupted
    assert len(ui.model.history["total"]) < 200
    assert "best image kept" in ui.status.value


def test_changing_controls_mid_run_does_not_change_the_running_config():
    ui = _tiny_ui()
    release = _start_and_hold_at_first_step(ui)
    running = ui.model.running_config
    ui.loss.value = "gram"
    ui.steps.value = 50
    ui.layer_sliders["relu1_1"].value = 4.0
    ui.layer_toggles["relu5_1"].value = False
    assert "next run" in ui.note.value
    release.set()
    assert ui.model.join(timeout=240)
    result = ui.model.result
    assert ui.model.running_config is running
    assert running.loss == "w2" and running.steps == FAST_STEPS
    assert result.config.loss == "w2" and result.config.steps == FAST_STEPS
    assert tuple(result.config.layers) == default_config().layers
    assert len(ui.model.history["total"]) <= FAST_STEPS * len(running.scales) + 1
    nxt = ui.model.snapshot()
    assert nxt.loss == "gram" and nxt.steps == 50 and "relu5_1" not in nxt.layers


def test_save_writes_a_plain_file_name_into_the_working_folder_and_never_replaces(tmp_path, monkeypatch):
    from ot_style.pixels.images import load_image

    monkeypatch.chdir(tmp_path)
    ui = _tiny_ui()
    ui.save_path.value = "out.png"
    ui.save_button.click()
    assert "no image to save" in ui.message.value
    ui.model.run(block=True)
    ui.save_button.click()
    saved = load_image(tmp_path / "out.png")
    np.testing.assert_allclose(saved, ui.model.result.image, atol=1 / 255 + 1e-6)
    before = (tmp_path / "out.png").read_bytes()
    ui.save_button.click()  # again: the file is there now, and it is kept
    assert "already exists" in ui.message.value and (tmp_path / "out.png").read_bytes() == before
    (tmp_path / "outside").mkdir()
    victim = tmp_path / "outside" / "notes.png"
    victim.write_bytes(b"the teacher's file")
    for typed in (str(victim), "../outside/notes.png", "outside/notes.png", "..", ""):
        ui.save_path.value = typed  # what a page can type into the box
        ui.save_button.click()
        assert "Save takes a file name" in ui.message.value, typed
    assert victim.read_bytes() == b"the teacher's file"
    assert ui.model.save("again.png", replace=False).endswith("again.png")
    assert ui.model.save("again.png", replace=True).endswith("again.png")  # only when asked


def test_the_model_enforces_its_limits_whatever_the_page_sets(tmp_path):
    ui = _tiny_ui()
    ui.size.max = 100_000  # a page can raise a slider's max ...
    ui.size.value = 4096
    assert ui.model.size == 4096
    ui.run_button.click()  # ... but the model refuses what it does not allow
    assert "The size is at most 512 px here" in ui.message.value and not ui.model.running
    ui.size.value = 32
    ui.model.steps = 10**6
    with pytest.raises(ValueError, match="At most 1000 steps per scale"):
        ui.model.snapshot()
    big = b"\x89PNG" + bytes(9 * 1024 * 1024)
    text = ui.model.load_upload("style", "huge.png", big)
    assert "uploads are limited to 8.4 MB" in text and ui.model.style is not None


def test_an_upload_with_too_many_pixels_is_refused_before_it_is_decoded(monkeypatch):
    import io

    from PIL import Image

    from ot_style.pixels import decode

    ui = _tiny_ui()
    before = ui.model.content
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 10, 10)).save(buffer, format="PNG")  # 1 KB of bytes, 120 000 pixels
    monkeypatch.setattr(decode, "MAX_PIXELS", 100_000)
    text = ui.model.load_upload("content", "bomb.png", buffer.getvalue())
    assert "400x300" in text and "million pixels" in text and "\n" not in text
    assert ui.model.content is before


# ------------------------------------------------------------------ notebooks 05 and 07 logic
def test_the_gradient_support_of_a_central_activation_is_the_receptive_field():
    # Measured on the network (random weights, average pooling), not counted: the two must agree.
    for name in ("relu1_1", "relu1_2", "relu2_1", "relu3_1"):
        assert measured_receptive_field(name) == receptive_field(name)


def test_gram_twin_has_the_same_gram_but_a_large_w2():
    from ot_style.maths.moments import gram_matrix

    rng = np.random.default_rng(3)
    x = np.maximum(rng.normal(0.5, 1.0, size=(400, 6)), 0)  # ReLU-like features
    y = gram_twin(x, seed=1)
    np.testing.assert_allclose(gram_matrix(y), gram_matrix(x), atol=1e-12)
    measures = feature_measures(x, y, n_projections=32)
    assert measures["Gram (Gatys)"] < 1e-20
    assert measures["gaussian W2^2"] > 0.5  # the means alone differ by about |mean x|^2 > 0.5
    same = feature_measures(x, x, n_projections=32)
    assert same["gaussian W2^2"] == pytest.approx(0, abs=1e-8)
    assert same["moments"] == 0 and same["sliced W2"] == pytest.approx(0, abs=1e-12)


def test_feature_measures_agree_with_the_numpy_references():
    from ot_style.maths.emd import sliced_w2
    from ot_style.maths.gaussian import gaussian_w2
    from ot_style.maths.moments import feature_moments, gram_matrix

    rng = np.random.default_rng(7)
    x = np.maximum(rng.normal(0.3, 1.0, size=(300, 5)), 0)
    y = np.maximum(rng.normal(0.0, 1.5, size=(200, 5)) @ rng.normal(size=(5, 5)), 0)
    y[:, 4] = 0.0  # a dead channel: the style's covariance is singular
    got = feature_measures(x, y, n_projections=16, seed=2)
    mx, my = feature_moments(x), feature_moments(y)
    assert got["gaussian W2^2"] == pytest.approx(
        gaussian_w2(mx.mean, mx.cov, my.mean, my.cov, squared=True), rel=1e-9, abs=1e-12)
    assert got["Gram (Gatys)"] == pytest.approx(np.sum((gram_matrix(x) - gram_matrix(y)) ** 2), rel=1e-12)
    # "moments" is what the moments loss minimises (STROTSS's l_m): mean absolute differences of the
    # 5 means and of the 25 covariance entries, from NumPy's own mean and np.cov.
    expected = (np.abs(x.mean(0) - y.mean(0)).sum() / 5
                + np.abs(np.cov(x, rowvar=False) - np.cov(y, rowvar=False)).sum() / 25)
    assert got["moments"] == pytest.approx(expected, rel=1e-12)
    assert got["sliced W2"] == pytest.approx(sliced_w2(x, y, n_projections=16, seed=2), rel=1e-12)


@pytest.mark.slow
def test_compare_losses_measures_every_result_under_every_loss():
    from ot_style.widgets.compare import MEASURES, compare_losses

    comp = compare_losses("houses.png", "swirls.png", losses=("w2", "gram"), weights="random",
                          size=32, steps=FAST_STEPS)
    assert list(comp.images) == ["start", "w2", "gram"]
    assert set(comp.seconds) == {"w2", "gram"}
    for name in comp.images:
        assert set(comp.measures[name]) == set(MEASURES)
    # each loss lowers its own measure from where it started
    assert comp.measures["w2"]["gaussian W2^2"] < comp.measures["start"]["gaussian W2^2"]
    assert comp.measures["gram"]["Gram (Gatys)"] < comp.measures["start"]["Gram (Gatys)"]
    shown = pg.losses_side_by_side(comparison=comp)
    assert "ot-style-measures" in comp.table_html() and shown.comparison is comp


def test_layer_explorer_slider_switches_the_texture():
    ex = pg.layer_explorer("swirls.png", layers=("relu1_1", "relu3_1"), weights="random",
                           size=32, steps=FAST_STEPS)
    assert ex.image.value == pg.png_bytes(ex.textures["relu1_1"].image) and "3x3" in ex.caption.value
    ex.slider.value = "relu3_1"
    assert ex.image.value == pg.png_bytes(ex.textures["relu3_1"].image) and "24x24" in ex.caption.value
    for texture in ex.textures.values():
        # the history holds every evaluation (line searches too); the best one beat the noise start
        assert max(texture.image.shape[:2]) == 32 and min(texture.losses) < texture.losses[0]
