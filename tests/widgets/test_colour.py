"""Notebook 06's colour-transfer explorer (``ot_style.widgets.colour``): the sliced W2 it reports per
iteration, recomputed from the library's one-shot transfer, and the count of iterations that raised it."""

import numpy as np
import pytest

from ot_style.pixels.colour import colour_sliced_w2, transfer_sliced
from ot_style.widgets.colour import ColourTransferExplorer

RNG = np.random.default_rng(5)
# two colour clusters against one lump: the case where Pitie's loop does not fall at every step
FIRST = np.clip(RNG.normal(0.45, 0.12, size=(24, 20, 3)), 0, 1).astype(np.float32)
SECOND = np.where(RNG.random((20, 24, 1)) < 0.5, [0.9, 0.2, 0.1], [0.1, 0.3, 0.8])
SECOND = np.clip(SECOND + RNG.normal(0, 0.03, size=(20, 24, 3)), 0, 1).astype(np.float32)


def test_the_curve_is_the_yardstick_of_the_one_shot_transfer():
    explorer = ColourTransferExplorer(FIRST, SECOND, seed=2, n_projections=32)
    curve = explorer.sliced_w2_curve(6)
    for k in range(7):
        recoloured = transfer_sliced(FIRST, SECOND, iterations=k, seed=2)  # clipped, as the explorer shows it
        assert curve[k] == pytest.approx(colour_sliced_w2(recoloured, SECOND, n_projections=32, seed=1), rel=1e-6)


def test_rises_count_the_iterations_that_raised_the_distance():
    explorer = ColourTransferExplorer(FIRST, SECOND, seed=2, n_projections=32)
    curve = explorer.sliced_w2_curve(20, 1)
    want = sum(1 for a, b in zip(curve[:-1], curve[1:]) if b > a)
    assert explorer.sliced_w2_rises(20, 1) == want
    assert explorer.sliced_w2_rises(0, 1) == 0
    assert curve[-1] < 0.5 * curve[0]  # on average it falls


def test_the_widget_label_says_how_many_iterations_raised_it():
    pytest.importorskip("ipywidgets")
    from ot_style.widgets.colour import colour_transfer_widget

    explorer = ColourTransferExplorer(FIRST, SECOND, seed=2, n_projections=32)
    box = colour_transfer_widget(explorer=explorer, max_iterations=8, n_points=50)
    slider = box.children[0].children[1]
    slider.value = 8
    label = box.children[1].value
    assert f"{explorer.sliced_w2_rises(8, 0)} of them raised it" in label
    assert f"{explorer.sliced_w2_curve(8, 0)[-1]:.4f} after 8 iterations" in label


def test_the_mixing_table_shows_every_mix_with_its_two_distances_in_padded_cells():
    from ot_style.maths.gaussian import gaussian_w2
    from ot_style.pixels.colour import colour_moments
    from ot_style.widgets.colour import mix_gaussians, mixing_table_html

    a, b = colour_moments(FIRST), colour_moments(SECOND)
    html = mixing_table_html(mix_gaussians(a, b, 0.5))
    assert html.count("<tr>") == 4 and "padding" in html
    assert "W2 to the first style" in html and "W2 to the second style" in html
    half = gaussian_w2(a.mean, a.cov, b.mean, b.cov) / 2  # the barycentre is the midpoint
    assert f"<td style='padding: 2px 12px; text-align: right; border-bottom: 1px solid #ddd'>{half:.4f}</td>" in html
    assert f"{2 * half:.4f}</p>" in html


def test_the_texture_mixing_widget_has_a_fixed_width_and_a_caption_that_follows_the_slider():
    pytest.importorskip("ipywidgets")
    from types import SimpleNamespace

    from ot_style.widgets.colour import texture_mixing_widget

    class FakeMixer:  # what the widget needs of a TextureMixer, without running a synthesis
        def texture(self, t):
            return SimpleNamespace(image=np.full((8, 8, 3), t, dtype=np.float32))

    box = texture_mixing_widget(FakeMixer(), values=(0.0, 0.25, 1.0), width=256)
    assert box.picture.layout.width == "256px"
    assert "t = 0.25" in box.caption.value and "weight 0.75 on the first" in box.caption.value
    box.children[0].value = 1.0
    assert "t = 1.00" in box.caption.value and "weight 0.00 on the first" in box.caption.value


def test_the_colour_cloud_labels_stay_inside_their_own_column():
    from ot_style.widgets.colour import colour_clouds_figure

    fig = colour_clouds_figure([("a", FIRST), ("b", SECOND), ("c", FIRST)], n_points=100)
    renderer = fig.canvas.get_renderer()
    fig.canvas.draw()
    clouds = [ax for ax in fig.axes if ax.name == "3d"]
    width = fig.bbox.width
    for k, ax in enumerate(clouds):
        right = clouds[k + 1].get_window_extent(renderer).x0 if k + 1 < len(clouds) else width
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            box = axis.label.get_window_extent(renderer)
            assert axis.label.get_text() in "RGB" and 0 <= box.x0 and box.x1 <= right + 1, (k, axis.label.get_text())
