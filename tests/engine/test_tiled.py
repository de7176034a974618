"""The exact tiled evaluation (ot_style.engine.tiled) against the same loss on the whole picture.

The reference is the engine's own untiled objective (one VGG pass over the whole picture, autodiff
through it): the tiled loss and pixel gradient must equal it to 1e-5 relative, for W2, moments and
Gram with the content term, at sizes where both fit. A halo narrower than the receptive field must
visibly break that agreement (so the comparison can fail), and losses that are not functions of the
feature sums are refused with a sentence.
"""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from ot_style.engine.optimizers import LossAndGradient  # noqa: E402
from ot_style.engine.plan import grid_step, halo_for  # noqa: E402
from ot_style.engine.tiled import NotTileable, TiledObjective, tile_grid  # noqa: E402
from ot_style.layers import receptive_field  # noqa: E402
from ot_style.losses.content import FeatureContentLoss, SelfSimilarityLoss  # noqa: E402
from ot_style.losses.gram import GramLoss  # noqa: E402
from ot_style.losses.moments import MomentsLoss  # noqa: E402
from ot_style.losses.sliced import SlicedLoss  # noqa: E402
from ot_style.losses.strotss import StrotssLoss  # noqa: E402
from ot_style.losses.w2 import W2Loss  # noqa: E402
from ot_style.network.vgg import FeatureExtractor  # noqa: E402

SHALLOW = ("relu1_1", "relu2_1", "relu3_1")
DEEP = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def pictures(h, w, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([0.5 + 0.3 * np.sin(7 * xx + 3 * yy), 0.5 + 0.3 * np.cos(5 * yy), 0.4 + 0.2 * xx], -1)
    content = np.clip(base + 0.05 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)
    style = rng.uniform(0, 1, (48, 56, 3)).astype(np.float32)
    start = np.clip(content + 0.1 * rng.standard_normal((h, w, 3)), 0, 1).astype(np.float32)
    return content, style, start


def untiled(extractor, style_loss, content_term, targets, image):
    def loss_terms(x, t):
        features = extractor(x)
        terms = dict(style_loss(features, t[0], x))
        if content_term is not None:
            terms.update(content_term(features, t[1], x))
        return terms

    total, grad, terms = LossAndGradient(loss_terms).float64(image.shape, targets)(image.astype(np.float64))
    return total, grad.reshape(image.shape), terms


def setup(style_loss, layers, content_layer, h, w):
    content_term = FeatureContentLoss(content_layer, weight=0.5) if content_layer else None
    needed = tuple(dict.fromkeys(layers + ((content_layer,) if content_layer else ())))
    extractor = FeatureExtractor(needed, weights="random", seed=3)
    content, style, start = pictures(h, w)
    style_target = style_loss.prepare([extractor(tf.constant(style[None]))], None, [1.0], seed=0)
    content_target = None if content_term is None else content_term.prepare(extractor(tf.constant(content[None])))
    return extractor, content_term, (style_target, content_target), start


def relative(a, b) -> float:
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b)))


def test_the_tiles_cover_every_pixel_once_and_start_on_the_pooling_grid():
    step, halo = 16, halo_for(DEEP)
    assert step == grid_step(DEEP) and halo % step == 0 and halo >= receptive_field("relu5_1") / 2
    h, w = 1080, 1920
    cover = np.zeros((h, w), np.int32)
    for tile in tile_grid(h, w, 512, step=step, halo=halo):
        top, bottom, left, right = tile.interior
        cover[top:bottom, left:right] += 1
        otop, obottom, oleft, oright = tile.outer
        assert otop % step == 0 and oleft % step == 0
        assert otop == max(top - halo, 0) and obottom == min(bottom + halo, h)
        assert oleft == max(left - halo, 0) and oright == min(right + halo, w)
    assert cover.min() == 1 and cover.max() == 1
    with pytest.raises(ValueError, match="multiples of the pooling grid"):
        tile_grid(100, 100, 40, step=16, halo=96)


@pytest.mark.parametrize("loss_class", [W2Loss, MomentsLoss, GramLoss])
def test_tiled_loss_and_gradient_equal_the_untiled_ones(loss_class):
    # 100 x 76 px over 32-px tiles: a 4 x 3 grid with short last row and column, odd sizes that VALID
    # pooling floors, every tile with a halo cut by the picture's edge on some side.
    style_loss = loss_class(SHALLOW, (3.0, 1.0, 1.0))
    extractor, content_term, targets, start = setup(style_loss, SHALLOW, "relu2_2", 100, 76)
    tiled = TiledObjective(extractor, style_loss, content_term, tile=32)
    assert len(tile_grid(100, 76, 32, step=tiled.step, halo=tiled.halo)) == 12
    total, grad, terms = tiled.evaluate(start, targets)
    ref_total, ref_grad, ref_terms = untiled(extractor, style_loss, content_term, targets, start)
    assert total == pytest.approx(ref_total, rel=1e-5)
    for name in ref_terms:
        assert terms[name] == pytest.approx(ref_terms[name], rel=1e-5), name
    assert relative(grad, ref_grad) < 1e-5


@pytest.mark.slow
def test_tiled_w2_to_relu5_1_equals_the_untiled_one():
    # The default layers: a 16-px grid and a 96-px halo; 208 x 176 px over 64-px tiles (4 x 3).
    style_loss = W2Loss(DEEP, (3.0, 1.0, 1.0, 1.0, 1.0))
    extractor, content_term, targets, start = setup(style_loss, DEEP, "relu3_2", 208, 176)
    tiled = TiledObjective(extractor, style_loss, content_term, tile=64)
    total, grad, _ = tiled.evaluate(start, targets)
    ref_total, ref_grad, _ = untiled(extractor, style_loss, content_term, targets, start)
    assert total == pytest.approx(ref_total, rel=1e-5)
    assert relative(grad, ref_grad) < 1e-5


def test_a_halo_narrower_than_the_receptive_field_is_not_exact():
    # The same comparison with a 4-px halo (relu3_1 sees 24 px): the tiles' borders show.
    style_loss = W2Loss(SHALLOW)
    extractor, content_term, targets, start = setup(style_loss, SHALLOW, None, 64, 64)
    exact = TiledObjective(extractor, style_loss, None, tile=16)
    narrow = TiledObjective(extractor, style_loss, None, tile=16, halo=4)
    ref_total, ref_grad, _ = untiled(extractor, style_loss, None, targets, start)
    assert relative(exact.evaluate(start, targets)[1], ref_grad) < 1e-5
    total, grad, _ = narrow.evaluate(start, targets)
    assert relative(grad, ref_grad) > 1e-3 or abs(total - ref_total) > 1e-3 * abs(ref_total)


def test_features_assembled_from_tiles_equal_one_pass():
    layers = ("relu2_2", "relu3_1")
    extractor = FeatureExtractor(layers, weights="random", seed=1)
    _, _, image = pictures(90, 70)
    tiled = TiledObjective(extractor, W2Loss(layers), None, tile=24)
    assembled = tiled.features(image, layers)
    whole = extractor(tf.constant(image[None]))
    for name in layers:
        assert assembled[name].shape == whole[name].shape
        # Equal up to float32 rounding (oneDNN sums in another order for another tile shape).
        scale = float(np.max(np.abs(whole[name].numpy())))
        np.testing.assert_allclose(assembled[name].numpy(), whole[name].numpy(), rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize("style_loss, content_term, words", [
    (SlicedLoss(SHALLOW), None, "The 'sliced' style loss cannot be computed tile by tile"),
    (StrotssLoss(SHALLOW), None, "'strotss' style loss cannot be computed tile by tile"),
    (W2Loss(SHALLOW), SelfSimilarityLoss(("relu2_1",)), "'self_similarity' content term cannot"),
])
def test_losses_that_compare_samples_across_the_picture_are_refused(style_loss, content_term, words):
    extractor = FeatureExtractor(SHALLOW, weights="random")
    with pytest.raises(NotTileable, match=words) as caught:
        TiledObjective(extractor, style_loss, content_term)
    assert str(caught.value).count(".") <= 2 and "\n" not in str(caught.value)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_stylize_tile_by_tile_makes_the_same_picture_as_whole(optimizer):
    from ot_style import stylize
    from ot_style.config import default_config

    # Shallow layers at one scale where every layer has more feature vectors than channels (relu3_1: 480
    # for 256): with fewer, the whole-picture W2 takes its n x n route, whose slope cap near zero
    # eigenvalues differs from the c x c form the tiles' sums give.
    content, style, _ = pictures(96, 80)
    cfg = default_config().with_changes(size=96, scales=(96,), steps=4, optimizer=optimizer, weights="random",
                                        layers=SHALLOW, layer_weights=(3.0, 1.0, 1.0))
    cfg = cfg.replace(content_layer="relu2_2")
    whole = stylize(content, style, config=cfg.replace(tile_size=0))
    tiled = stylize(content, style, config=cfg.replace(tile_size=32))
    # Each evaluation agrees to 1e-5 (above); over a few steps the optimisers amplify rounding a little.
    np.testing.assert_allclose(tiled.history["total"], whole.history["total"], rtol=2e-3)
    # Adam's first steps move each pixel by about the sign of its gradient, so a pixel whose gradient is
    # at rounding level may go either way: compare the picture on average.
    assert float(np.mean(np.abs(tiled.image - whole.image))) < 1e-3
