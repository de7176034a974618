"""Notebook 00's figures and explorer (ot_style.widgets.features), driven without a browser.

Activations are synthetic ReLU maps (one channel dead), so no network is needed except in the last test,
which runs a small picture through seeded random VGG19 weights. Every number the explorer shows is
recomputed here with NumPy and SciPy.
"""

import re

import numpy as np
import pytest
from scipy import stats

pytest.importorskip("ipywidgets")

from ot_style.widgets import features as ft  # noqa: E402


def shown(html_value: str) -> dict[str, float]:
    """The numbers an ``ot-style-numbers`` HTML widget shows, by their data-quantity."""
    return {k: float(v) for k, v in re.findall(r'data-quantity="(\w+)">([-0-9.e]+)<', html_value)}


@pytest.fixture(scope="module")
def acts():
    """Three 'layers': 20x18x6 (n > c), 5x4x30 (n - 1 < c, singular), 10x9x12 with channel 3 dead."""
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(20, 18, 6)) * 2.0 + 0.3, 0.0)
    b = np.maximum(rng.normal(size=(5, 4, 30)), 0.0)
    c = np.maximum(rng.normal(size=(10, 9, 12)) + np.linspace(-1, 1, 12), 0.0)
    c[:, :, 3] = 0.0
    return {"relu1_1": a.astype(np.float32), "relu4_1": b.astype(np.float32), "relu5_1": c.astype(np.float32)}


def test_layer_rows_count_samples_and_bound_the_rank(acts):
    rows = [ft.layer_row(name, a, 64) for name, a in acts.items()]
    for row, (name, a) in zip(rows, acts.items()):
        h, w, c = a.shape
        f = a.reshape(h * w, c).astype(np.float64)
        assert (row.layer, row.height, row.width, row.channels, row.samples) == (name, h, w, c, h * w)
        assert row.bound == min(h * w - 1, c)
        assert row.rank == np.linalg.matrix_rank(np.cov(f, rowvar=False)) <= row.bound
    assert [r.singular for r in rows] == [False, True, True]   # 20 samples for 30 channels; a dead channel
    assert rows[1].rank == 19 and rows[2].dead == 1 and rows[2].rank == 11
    html = ft.layer_table_html(rows)
    assert 'data-rank="relu4_1-64">19<' in html and "ot-style-feature-table" in html
    assert "n - 1 < c" in html and "dead channels" in html and "full rank" in html


def test_layer_row_refuses_a_flat_array():
    with pytest.raises(ValueError, match=r"\(h, w, c\)"):
        ft.layer_row("relu1_1", np.zeros((4, 3)), 64)


def test_typical_channels_are_live_and_near_the_median_skewness(acts):
    f = acts["relu5_1"].reshape(-1, 12).astype(np.float64)
    chosen = ft.typical_channels(f, 2)
    assert len(chosen) == 2 and 3 not in chosen
    live = [k for k in range(12) if k != 3]
    skew = stats.skew(f[:, live], axis=0)
    median = np.median(skew)
    best = sorted(np.abs(skew - median))[:2]
    assert sorted(abs(stats.skew(f[:, k]) - median) for k in chosen) == pytest.approx(best)


def test_model_numbers_are_the_independent_statistics(acts):
    cloud = ft.FeatureCloud(acts, "relu5_1")
    assert cloud.layer == "relu5_1" and (cloud.channel, cloud.other) == tuple(ft.typical_channels(cloud.features()))
    cloud.select(channel=7, other=1)
    f = acts["relu5_1"].reshape(-1, 12).astype(np.float64)
    x = f[:, 7]
    n = cloud.numbers()
    assert (n["samples"], n["channels"], n["bound"]) == (90, 12, 12)
    assert n["rank"] == np.linalg.matrix_rank(np.cov(f, rowvar=False)) == 11
    assert n["zero_fraction"] == np.mean(x == 0) and n["minimum"] == 0.0
    assert n["skewness"] == pytest.approx(stats.skew(x), rel=1e-9)
    assert n["excess_kurtosis"] == pytest.approx(stats.kurtosis(x), rel=1e-9)
    assert n["gaussian_negative_mass"] == pytest.approx(stats.norm.cdf(0, x.mean(), x.std(ddof=1)), rel=1e-9)
    assert n["on_an_axis"] == np.mean((x == 0) | (f[:, 1] == 0))
    quantiles = stats.norm.ppf((np.arange(1, 91) - 0.5) / 90, x.mean(), x.std(ddof=1))
    assert n["w2_to_gaussian"] == pytest.approx(np.sqrt(np.mean((np.sort(x) - quantiles) ** 2)) / x.std(ddof=1))


def test_a_new_layer_starts_at_its_typical_channels_and_bad_choices_raise(acts):
    cloud = ft.FeatureCloud(acts)
    assert cloud.layer == "relu1_1"
    cloud.select("relu4_1")
    assert cloud.channel in ft.typical_channels(cloud.features()) and cloud.numbers()["rank"] == 19
    with pytest.raises(ValueError, match="channels 0 to 29"):
        cloud.select(channel=30)
    with pytest.raises(ValueError, match="relu1_1, relu4_1, relu5_1"):
        cloud.select("relu9_9")
    with pytest.raises(ValueError, match=r"\(h, w, c\)"):
        ft.FeatureCloud({"relu1_1": np.zeros((3, 4))})


def test_figures_have_their_panels(acts):
    image = np.random.default_rng(1).uniform(size=(40, 36, 3))
    assert len(ft.activation_maps_figure(image, acts).axes) == 4
    fig = ft.histograms_figure(acts, ("relu1_1", "relu5_1"))
    assert len(fig.axes) == 2 and "skewness" in fig.axes[0].get_title()
    cloud = ft.FeatureCloud(acts, "relu1_1")
    fig = cloud.figure()
    assert len(fig.axes) == 3 and "lie on an axis" in fig.axes[2].get_title()


def test_the_ui_follows_its_controls(acts):
    ui = ft.feature_cloud_explorer(acts)
    first = ui.image.value
    assert ui.channel.max == 5 and shown(ui.numbers.value)["rank"] == 6
    ui.layer.value = "relu4_1"                       # what choosing in the dropdown does
    assert ui.cloud.layer == "relu4_1" and ui.channel.max == 29 and ui.other.max == 29
    assert ui.channel.value == ui.cloud.channel and shown(ui.numbers.value)["rank"] == 19
    assert ui.image.value != first
    ui.channel.value = 11                            # what moving the slider does
    assert ui.cloud.channel == 11
    x = acts["relu4_1"][:, :, 11].ravel().astype(np.float64)
    assert shown(ui.numbers.value)["zero_fraction"] == pytest.approx(np.mean(x == 0), abs=1e-4)
    ui.layer.value = "relu1_1"                       # back to fewer channels: the sliders shrink
    assert ui.channel.max == 5 and ui.channel.value < 6 and ui.cloud.channel == ui.channel.value


def test_activations_of_a_real_network_are_relu_features():
    pytest.importorskip("tensorflow")
    from ot_style.layers import spatial_size
    from ot_style.network.vgg import FeatureExtractor

    image = np.random.default_rng(2).uniform(size=(36, 28, 3)).astype(np.float32)
    extractor = FeatureExtractor(("relu1_1", "relu3_1"), weights="random")
    out = ft.activations(extractor, image)
    for name, a in out.items():
        assert a.shape == (*spatial_size(36, 28, name), 256 if name == "relu3_1" else 64)
        assert a.min() >= 0.0 and np.mean(a == 0) > 0.1
