"""The model and UI of notebook 02b's transport-flow widget, driven without a browser.

The numbers the model shows are checked against closed forms: one Monge step (t = 1) from a cloud whose
mean is the target's lands on T(y) with W2 = 0; a step of t moves every sample the fraction t of the way
to T(y); the W2 curve is what the UI shows.
"""

import re

import numpy as np
import pytest
import scipy.linalg

pytest.importorskip("ipywidgets")

from ot_style.widgets.transport_flow import SOURCE, TARGET, TransportFlow, transport_flow_explorer  # noqa: E402


def shown(html_value: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-quantity="(\w+)">([-0-9.e]+)<', html_value)}


def monge_image(y, mean_s, cov_s):
    """T(y) from SciPy's sqrtm, independent of the library."""
    mean, cov = y.mean(axis=0), np.cov(y.T)
    root = scipy.linalg.sqrtm(cov).real
    inv = np.linalg.inv(root)
    a = inv @ scipy.linalg.sqrtm(root @ cov_s @ root).real @ inv
    return mean_s + (y - mean) @ a


def test_one_monge_step_from_the_target_mean_lands_on_the_map():
    model = TransportFlow(n=120, centre=True, fraction=1.0, steps=1, max_steps=3)
    assert np.allclose(model.start.mean(axis=0), TARGET[0])
    assert model.step == pytest.approx((120 - 1) / 2)
    assert np.allclose(model.cloud(), monge_image(model.start, *TARGET), atol=1e-10)
    numbers = model.numbers()
    assert numbers["w2"] == pytest.approx(0.0, abs=1e-6)
    assert numbers["to_map"] == pytest.approx(0.0, abs=1e-10)
    assert np.allclose(np.cov(model.cloud().T), TARGET[1], atol=1e-10)


def test_a_fraction_t_covers_that_fraction_of_every_arrow():
    t, k = 0.3, 4
    model = TransportFlow(n=200, centre=True, fraction=t, steps=k, max_steps=10)
    mapped = monge_image(model.start, *TARGET)
    expected = mapped + (1 - t) ** k * (model.start - mapped)
    assert np.allclose(model.cloud(), expected, atol=1e-10)
    w2 = model.numbers()
    assert w2["w2"] == pytest.approx((1 - t) ** k * w2["w2_start"], rel=1e-8)
    assert np.all(np.diff(model.flow().w2_squared) < 0)


def test_the_start_cloud_is_drawn_from_the_source():
    model = TransportFlow(n=20_000)
    assert np.allclose(model.start.mean(axis=0), SOURCE[0], atol=0.03)
    assert np.allclose(np.cov(model.start.T), SOURCE[1], atol=0.04)


def test_bad_settings_are_refused():
    model = TransportFlow(n=50, max_steps=5)
    with pytest.raises(ValueError, match="between 0 and 2"):
        model.set(fraction=2.0)
    with pytest.raises(ValueError, match="between 0 and 5"):
        model.set(steps=6)
    with pytest.raises(ValueError, match="at least 3 samples"):
        TransportFlow(n=2)


def test_figure_has_three_panels_and_labels():
    model = TransportFlow(n=60, steps=2, max_steps=4)
    fig = model.figure()
    axes = fig.get_axes()
    assert len(axes) == 3
    assert axes[2].get_xlabel() == "step" and "W2" in axes[2].get_ylabel()
    assert "t = 0.25" in axes[0].get_title()


def test_ui_sliders_move_the_model_and_the_numbers():
    ui = transport_flow_explorer(n=80, max_steps=8, centre=True)
    assert {ui.fraction.description, ui.steps.description} == {"Step (t)", "Steps"}
    assert ui.steps.max == 8 and ui.play.max == 8
    assert "ot-style-transport-flow" in ui.widget._dom_classes
    assert ui.plot.value[:8] == b"\x89PNG\r\n\x1a\n"
    ui.fraction.value = 1.0
    ui.steps.value = 1
    assert ui.model.fraction == 1.0 and ui.model.steps == 1
    numbers = shown(ui.numbers.value)
    assert numbers["w2"] == pytest.approx(0.0, abs=1e-4)
    assert numbers["step"] == pytest.approx((80 - 1) / 2, abs=1e-4)
    ui.steps.value = 0
    assert shown(ui.numbers.value)["w2"] == pytest.approx(ui.model.numbers()["w2_start"], abs=1e-4)
