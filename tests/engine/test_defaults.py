"""A short run with the default settings makes a picture that works a little (measured without VGG),
both from the subject and from noise: the behaviour the picture-quality harness measures at full size."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from ot_style import stylize  # noqa: E402
from ot_style.config import FAST  # noqa: E402
from ot_style.pixels.images import read_image  # noqa: E402
from ot_style.pixels.quality import assess_transfer, coarse_structure, colour_distance  # noqa: E402


@pytest.fixture(scope="module")
def pair():
    return read_image("houses.png", max_size=96), read_image("swirls.png", max_size=96)


def test_from_the_subject_the_palette_moves_and_the_layout_stays(pair):
    content, style = pair
    result = stylize(content, style, config=FAST.replace(steps=12), weights="random")
    quality = assess_transfer(result.image, content, style)
    assert quality.palette_gain > 0.3  # the start (the content itself) has 0
    assert quality.content_structure > 0.5
    assert quality.roughness_ratio < 2.0


def test_from_noise_the_layout_and_the_palette_both_come_closer(pair):
    content, style = pair
    config = FAST.replace(steps=20, init="noise")
    seen = []
    result = stylize(content, style, config=config, weights="random", callback=lambda it: seen.append(it.image())
                     if not seen else None)
    start = seen[0]
    # (From noise the layout comes back slowly with random weights: about 0.10 -> 0.18 here.)
    assert coarse_structure(result.image, content) > coarse_structure(start, content) + 0.05
    assert colour_distance(result.image, style) < 0.5 * colour_distance(start, style)
