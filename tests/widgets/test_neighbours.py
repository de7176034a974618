"""Notebook 08's toy clouds, the relaxed-EMD explorer and its slider, driven without a browser."""

import re

import numpy as np
import pytest

from ot_style.maths.gaussian import gaussian_w2
from ot_style.maths.pot import import_pot
from ot_style.widgets import neighbours as nb


def _emd2(x, y):
    ot = import_pot()
    return float(ot.emd2(np.full(len(x), 1 / len(x)), np.full(len(y), 1 / len(y)), ot.dist(x, y)))


def shown(html_value: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-quantity="(\w+)">([-0-9.e]+)<', html_value)}


def test_toy_clouds_have_the_shapes_they_say():
    ring = nb.toy_cloud("ring", 2000, radius=2.0, noise=0.0, seed=1)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    np.testing.assert_allclose(np.cov(ring.T), 2.0 * np.eye(2), atol=0.12)  # radius^2 / 2 per axis
    two = nb.toy_cloud("clusters", 100, share=0.3, separation=6.0, spread=0.0)
    assert np.sum(two[:, 0] < 0) == 30 and set(np.round(two[:, 0], 9)) == {-3.0, 3.0}
    g = nb.toy_cloud("gaussian", 5000, seed=2)
    np.testing.assert_allclose(np.cov(g.T), np.eye(2), atol=0.06)
    np.testing.assert_array_equal(nb.toy_cloud("ring", 50, seed=3), nb.toy_cloud("ring", 50, seed=3))
    with pytest.raises(ValueError, match="choose one of"):
        nb.toy_cloud("square", 10)
    with pytest.raises(ValueError, match="fraction"):
        nb.toy_cloud("clusters", 10, share=1.5)


def test_compare_clouds_matches_pot_and_the_closed_form():
    x, y = nb.toy_cloud("ring", 120, seed=4), nb.toy_cloud("gaussian", 120, seed=5)
    c = nb.compare_clouds(x, y)
    assert c.exact.value == pytest.approx(_emd2(x, y), rel=1e-9)
    assert c.gaussian == pytest.approx(gaussian_w2(x.mean(0), np.cov(x.T), y.mean(0), np.cov(y.T)) ** 2, rel=1e-9)
    assert c.relaxed.value <= c.exact.value


def test_ring_explorer_gaussian_blind_near_sqrt2_exact_not():
    ex = nb.RelaxedEMDExplorer("ring", n=150)
    values = {}
    for r in np.arange(0.0, 3.01, 0.1):
        ex.set_value(r)
        values[round(r, 1)] = ex.numbers()
    best = min(values, key=lambda r: values[r]["gaussian"])
    assert 1.1 <= best <= 1.6                           # the moments match near radius sqrt(2)
    assert values[best]["gaussian"] < 0.1 and values[best]["exact"] > 0.3
    assert all(v["relaxed"] <= v["exact"] + 1e-12 for v in values.values())
    ex.set_value(9.0)
    assert ex.value == 3.0                              # clipped to the slider's range


def test_cluster_explorer_relaxed_emd_is_blind_to_proportions():
    ex = nb.RelaxedEMDExplorer("clusters", n=150)
    rows = {}
    for share in (0.05, 0.3, 0.5, 0.7, 0.95):
        ex.set_value(share)
        rows[share] = ex.numbers()
    assert max(r["relaxed"] for r in rows.values()) < 0.1         # both clusters present: all small
    assert rows[0.95]["exact"] > 5.0 and rows[0.5]["exact"] < 0.1  # exact sees 45% of the mass move by ~4
    assert rows[0.95]["exact"] > 100 * rows[0.95]["relaxed"]
    assert rows[0.95]["hub"] > 10                                  # many y share one x
    ex.set_value(1.0)                                              # one cluster empty: the y-side sees it
    assert ex.numbers()["y_to_x"] > 3.0 and ex.numbers()["x_to_y"] < 0.1


def test_figures_have_their_panels():
    x, y = nb.toy_cloud("ring", 40), nb.toy_cloud("gaussian", 40, seed=1)
    assert len(nb.matching_figure(x, y, title="t").axes) == 3
    from ot_style.maths.histogram_matching import sliced_histogram_matching

    run = sliced_histogram_matching(x, y, 3)
    fig = nb.sliced_matching_figure(run.iterates, y, [0, 1, 3], distances=[1.0, 0.5, 0.2, 0.1])
    assert len(fig.axes) == 3 and "exact EMD 0.100" in fig.axes[2].get_title()


def test_the_ui_slider_moves_numbers_and_picture():
    pytest.importorskip("ipywidgets")
    ui = nb.relaxed_emd_explorer("clusters", n=80)
    assert ui.slider.description == "Share on the left" and "ot-style-relaxed-emd" in ui.widget._dom_classes
    before, png = shown(ui.numbers.value), ui.plot.value
    assert set(before) == {"relaxed", "x_to_y", "y_to_x", "exact", "gaussian", "hub"}
    ui.slider.value = 0.9
    after = shown(ui.numbers.value)
    assert ui.model.value == pytest.approx(0.9) and ui.plot.value != png
    assert after["exact"] > before["exact"] + 3.0
    assert after == pytest.approx({k: round(v, 4) for k, v in ui.model.numbers().items()}, abs=1e-4)
    assert nb.relaxed_emd_explorer("ring", n=40).slider.description == "Ring radius"
    with pytest.raises(ValueError, match="ring"):
        nb.RelaxedEMDExplorer("moons")
