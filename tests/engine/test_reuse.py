"""Networks and traced objectives are reused across stylize calls, and reuse never changes a result.

What the playground needs (issue 18): the same sizes and layers reuse the network and the traces; a
changed weight reuses them too (weights are graph inputs) and still takes effect; the Adam step is
reset between runs. Counted by TensorFlow's own tracing counters, not timed.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from ot_style import stylize  # noqa: E402
from ot_style.config import default_config  # noqa: E402
from ot_style.engine import synthesis  # noqa: E402

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(synthesis, "_CACHE", synthesis._Cache())
    return synthesis._CACHE


def pictures():
    rng = np.random.default_rng(5)
    content = rng.uniform(0, 1, (64, 56, 3)).astype(np.float32)
    style = rng.uniform(0, 1, (48, 48, 3)).astype(np.float32)
    return content, style


def config(optimizer="adam", **changes):
    return default_config().with_changes(size=64, scales=(32, 64), steps=3, optimizer=optimizer,
                                         weights="random", layers=LAYERS, layer_weights=(3.0, 1.0, 1.0),
                                         **changes).replace(content_layer="relu2_2")


def traces(cache) -> int:
    (objective,) = cache.objectives.values()
    count = objective._graph.experimental_get_tracing_count()
    for _, _, step in objective._adam.values():
        count += step.experimental_get_tracing_count()
    return count


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_a_second_run_reuses_the_network_and_the_traces_and_gives_the_same_picture(fresh_cache, optimizer):
    content, style = pictures()
    first = stylize(content, style, config=config(optimizer))
    assert len(fresh_cache.networks) == 1 and len(fresh_cache.objectives) == 1
    (network,) = fresh_cache.networks.values()
    before = traces(fresh_cache)
    assert before >= 2  # one trace per scale size
    second = stylize(content, style, config=config(optimizer))
    assert list(fresh_cache.networks.values()) == [network] and len(fresh_cache.objectives) == 1
    assert traces(fresh_cache) == before  # nothing traced again
    # The Adam step's state (moments, step count) was reset: the same run, the same picture.
    np.testing.assert_array_equal(second.image, first.image)
    assert second.history["total"] == first.history["total"]


def test_changed_weights_reuse_the_traces_and_take_effect(fresh_cache, monkeypatch):
    content, style = pictures()
    stylize(content, style, config=config())
    before = traces(fresh_cache)
    changed = config(content_weight=4.0).replace(layer_weights=(0.5, 2.0, 1.0))
    reused = stylize(content, style, config=changed)
    assert traces(fresh_cache) == before and len(fresh_cache.objectives) == 1
    # The same settings on a cold cache: the weights really reached the reused graph.
    monkeypatch.setattr(synthesis, "_CACHE", synthesis._Cache())
    cold = stylize(content, style, config=changed)
    np.testing.assert_allclose(reused.history["total"], cold.history["total"], rtol=1e-6)
    np.testing.assert_allclose(reused.image, cold.image, atol=1e-6)


def test_other_layers_or_losses_get_their_own_network_or_graph(fresh_cache):
    content, style = pictures()
    stylize(content, style, config=config())
    stylize(content, style, config=config().replace(loss="gram"))
    assert len(fresh_cache.networks) == 1 and len(fresh_cache.objectives) == 2
    stylize(content, style, config=config().with_changes(layers=("relu1_1", "relu2_1"), layer_weights=(1.0, 1.0)))
    assert len(fresh_cache.networks) == 2


def test_losses_with_their_own_call_are_never_reused(fresh_cache):
    from ot_style.losses.strotss import StrotssLoss

    assert StrotssLoss(LAYERS).graph_key() is None
    content, style = pictures()
    cfg = config().replace(loss="strotss", content_loss="self_similarity")
    stylize(content, style, config=cfg)
    assert fresh_cache.objectives == {}
