"""Normalised losses (the default): each layer's term is divided by its value at a blank picture, so every
layer starts at 1 there and the terms do not change when a layer's features are rescaled."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import ot_style.losses as losses  # noqa: E402
from ot_style.config import DEFAULT  # noqa: E402
from tests.helpers.loss_checks import LAYERS, evaluate, random_features  # noqa: E402

SCALABLE = {  # losses whose distance is homogeneous in the features (degree in DEGREE)
    "w2": lambda **kw: losses.W2Loss(LAYERS, **kw),
    "gram": lambda **kw: losses.GramLoss(LAYERS, **kw),
    "gram (gatys)": lambda **kw: losses.GramLoss(LAYERS, normalisation="gatys", **kw),
    "sliced": lambda **kw: losses.SlicedLoss(LAYERS, n_projections=9, **kw),
}
DEGREE = {"w2": 2, "gram": 4, "gram (gatys)": 4, "sliced": 2}  # W2^2 and SW^2 quadratic, |G - G_s|^2 quartic


def _scaled(features, factor):
    return {k: v * factor for k, v in features.items()}


@pytest.mark.parametrize("name", [*SCALABLE, "moments"])
def test_every_layer_is_one_at_a_blank_picture(name):
    rng = np.random.default_rng(3)
    style = random_features(rng, 8, (4, 5), relu=True)
    make = SCALABLE.get(name, lambda **kw: losses.MomentsLoss(LAYERS, **kw))
    loss = make(per_layer=True)
    target = loss.prepare([style], None, [1.0])
    blank = {k: tf.zeros_like(v) for k, v in style.items()}
    terms = loss(blank, target)
    assert sorted(terms) == [f"style/{layer}" for layer in LAYERS]
    for value in terms.values():
        assert float(value) == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("name", SCALABLE)
def test_normalised_terms_do_not_change_when_the_features_are_rescaled(name):
    rng = np.random.default_rng(4)
    style, image = random_features(rng, 8, (4, 5), relu=True), random_features(rng, 8, (4, 5), relu=True)
    loss = SCALABLE[name]()
    value = evaluate(loss, image, loss.prepare([style], None, [1.0]))
    for factor in (1e-3, 7.3, 250.0):  # VGG's layers differ by orders of magnitude
        again = evaluate(loss, _scaled(image, factor), loss.prepare([_scaled(style, factor)], None, [1.0]))
        assert again == pytest.approx(value, rel=1e-9)
    raw = SCALABLE[name](normalise=False)
    raw_value = evaluate(raw, image, raw.prepare([style], None, [1.0]))
    assert evaluate(raw, _scaled(image, 7.3), raw.prepare([_scaled(style, 7.3)], None, [1.0])) == pytest.approx(
        7.3 ** DEGREE[name] * raw_value, rel=1e-9)  # the raw distance's growth is what the blank value divides out


def test_normalised_w2_is_the_raw_w2_over_the_styles_second_moment():
    rng = np.random.default_rng(5)
    style, image = random_features(rng, 8, (4, 5)), random_features(rng, 8, (4, 5))
    raw, normalised = losses.W2Loss(LAYERS, per_layer=True, normalise=False), losses.W2Loss(LAYERS, per_layer=True)
    raw_terms = raw(image, raw.prepare([style], None, [1.0]))
    terms = normalised(image, normalised.prepare([style], None, [1.0]))
    for layer in LAYERS:
        y = style[layer].numpy().reshape(-1, style[layer].shape[-1])
        second_moment = y.mean(0) @ y.mean(0) + np.trace(np.cov(y, rowvar=False))  # |mu|^2 + tr S
        assert float(terms[f"style/{layer}"]) == pytest.approx(float(raw_terms[f"style/{layer}"]) / second_moment,
                                                              rel=1e-9)


def test_the_content_term_is_one_at_a_blank_picture_and_scale_free():
    rng = np.random.default_rng(6)
    content, image = random_features(rng, 8, (4, 5), relu=True), random_features(rng, 8, (4, 5), relu=True)
    term = losses.make_content_loss("features", "relu2_1", 2.0, DEFAULT)
    target = term.prepare(content)
    blank = {k: tf.zeros_like(v) for k, v in content.items()}
    assert float(term(blank, target)["content"]) == pytest.approx(2.0, rel=1e-9)  # the weight times 1
    value = float(term(image, target)["content"])
    scaled = float(term(_scaled(image, 40.0), term.prepare(_scaled(content, 40.0)))["content"])
    assert scaled == pytest.approx(value, rel=1e-9)
    want = 2.0 * np.mean((image["relu2_1"].numpy() - content["relu2_1"].numpy()) ** 2) / np.mean(
        content["relu2_1"].numpy() ** 2)
    assert value == pytest.approx(want, rel=1e-9)


def test_the_guided_loss_is_normalised_per_region_like_w2():
    rng = np.random.default_rng(7)
    style, image = random_features(rng, 8, (4, 5)), random_features(rng, 8, (4, 5))
    plain = losses.W2Loss(LAYERS)
    guided = losses.GuidedW2Loss([losses.Region("all", np.ones((8, 8)))], LAYERS)
    want = evaluate(plain, image, plain.prepare([style], None, [1.0]))
    got = evaluate(guided, image, guided.prepare([style], [tf.zeros((1, 8, 8, 3))], [1.0]), tf.zeros((1, 8, 8, 3)))
    assert got == pytest.approx(want, rel=1e-9)
