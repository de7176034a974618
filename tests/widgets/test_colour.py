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
