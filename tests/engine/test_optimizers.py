"""The optimisers' first step is bounded in pixel units, whatever the loss's scale (issue 15: L-BFGS-B's
first quasi-Newton step overshot and the bounds clipped the picture)."""

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from ot_style import stylize  # noqa: E402
from ot_style.config import DEFAULT  # noqa: E402
from ot_style.network.vgg import FeatureExtractor  # noqa: E402

LAYERS = ("relu1_1", "relu2_1")


@pytest.fixture(scope="module")
def extractor():
    return FeatureExtractor(LAYERS, weights="random", seed=0)


def _first_moves(extractor, optimizer, *, normalise, learning_rate):
    rng = np.random.default_rng(0)
    content = rng.uniform(0.2, 0.8, (24, 32, 3)).astype(np.float32)
    style = np.clip(rng.normal(0.5, 0.3, (24, 24, 3)), 0, 1).astype(np.float32)
    seen = []
    config = DEFAULT.replace(optimizer=optimizer, learning_rate=learning_rate, normalise_losses=normalise)
    stylize(content, style, layers=LAYERS, size=32, scales=(32,), steps=3, extractor=extractor, config=config,
            content_loss=None, callback=lambda it: seen.append(it.image()))
    return float(np.max(np.abs(seen[1] - seen[0])))


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("normalise", [True, False], ids=["normalised", "raw losses"])
@pytest.mark.parametrize("learning_rate", [0.02, 0.1])
def test_the_first_step_moves_no_pixel_more_than_the_learning_rate(extractor, optimizer, normalise, learning_rate):
    move = _first_moves(extractor, optimizer, normalise=normalise, learning_rate=learning_rate)
    assert 0 < move <= learning_rate * (1 + 1e-5)
