"""The engine: stylize() with both optimisers, stopping, multi-scale, texture synthesis, determinism,
the L-BFGS wrapper's gradient, and clear errors. Tiny images (16-48 px) and random VGG weights."""

import numpy as np
import pytest
from PIL import Image

tf = pytest.importorskip("tensorflow")

from ot_style.config import STYLE_LOSSES, default_config  # noqa: E402
from ot_style.engine.optimizers import float64_objective  # noqa: E402
from ot_style.engine.synthesis import stylize  # noqa: E402
from ot_style.pixels.colour import preserve_luminance  # noqa: E402
from ot_style.network.vgg import FeatureExtractor  # noqa: E402

LAYERS = ("relu1_1", "relu2_1")
# RGB -> YIQ as published (NTSC 1953; Gatys et al. 2016's luminance/chroma split), written out here so
# the tests do not take the matrix from the code under test: Y is a weighted mean of R, G, B, and I and Q
# carry the colour (each row of chroma weights sums to 0, so greys have no chroma).
_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
STEPS = 6


def _images(seed=0, content_shape=(32, 40), style_shape=(36, 36)):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:1:content_shape[0] * 1j, 0:1:content_shape[1] * 1j]
    content = np.stack([xx, yy, 0.5 + 0.3 * np.sin(6 * xx * yy)], axis=2)
    content = np.clip(content + 0.05 * rng.normal(size=content.shape), 0, 1).astype(np.float32)
    # a striped, reddish style: clearly different statistics from the content
    sy, sx = np.mgrid[0:style_shape[0], 0:style_shape[1]]
    stripes = 0.5 + 0.5 * np.sin(sx * 0.9 + sy * 0.4)
    style = np.stack([0.6 + 0.4 * stripes, 0.2 * stripes, 0.3 * (1 - stripes)], axis=2)
    style = np.clip(style + 0.05 * rng.normal(size=style.shape), 0, 1).astype(np.float32)
    return content, style


@pytest.fixture(scope="module")
def extractor():
    # Only two shallow layers: the network runs up to the deepest layer asked for, so this keeps every
    # evaluation cheap (the content tests read relu2_1 too, see _CONTENT_CONFIG).
    return FeatureExtractor(LAYERS, weights="random", seed=0)


def _run(extractor, content, style, **options):
    # No content term unless a test asks for one: the default's (relu3_2) is beyond this small network.
    options = {"layers": LAYERS, "steps": STEPS, "size": 32, "scales": (32,), "extractor": extractor,
               "content_loss": None, **options}
    return stylize(content, style, **options)


class _Spy:
    """A wrapper around a real style loss that records what the engine hands to prepare()."""

    def __init__(self, inner):
        self.inner, self.layers, self.name = inner, inner.layers, "spy"
        self.calls = []

    def prepare(self, style_features, style_images, weights, *, seed=0):
        self.calls.append({"images": [s.numpy()[0] for s in style_images], "weights": list(weights),
                           "seed": seed})
        return self.inner.prepare(style_features, style_images, weights, seed=seed)

    def __call__(self, features, target, image):
        return self.inner(features, target, image)


# ------------------------------------------------------------------------------- the loss goes down
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_w2_loss_decreases_with_both_optimisers(extractor, optimizer):
    content, style = _images()
    result = _run(extractor, content, style, loss="w2", optimizer=optimizer, steps=10,
                  config=default_config().replace(learning_rate=0.05))
    total = result.history["total"]
    assert len(total) == result.evaluations == 10
    assert result.history["style"] == total  # no content term: the total is the style term
    # at least a 20% drop in 10 evaluations, and the result is the best evaluated image
    assert min(total) < 0.8 * total[0]
    assert result.image.shape == (26, 32, 3)  # 32x40 content, long side 32
    assert result.image.dtype == np.float32 and 0 <= result.image.min() and result.image.max() <= 1
    assert result.random_weights and "RANDOM" in result.weights_source
    assert not result.interrupted and result.config.optimizer == optimizer


@pytest.mark.parametrize("loss", [name for name in STYLE_LOSSES if name != "w2"])
def test_every_real_loss_decreases_with_lbfgs(extractor, loss):
    content, style = _images(1)
    result = _run(extractor, content, style, loss=loss, optimizer="lbfgs")
    total = result.history["total"]
    assert np.all(np.isfinite(total))
    assert min(total) < 0.95 * total[0]


@pytest.mark.parametrize("content_loss", ["features", "self_similarity"])
def test_content_terms_are_logged_and_summed(extractor, content_loss):
    content, style = _images(2)
    result = _run(extractor, content, style, loss="w2", content_loss=content_loss, content_weight=3.0,
                  steps=4, config=default_config().replace(content_layer="relu2_1"))
    terms = [name for name in result.history if name != "total"]
    assert "style" in terms and len(terms) == 2
    summed = np.sum([result.history[name] for name in terms], axis=0)
    np.testing.assert_allclose(summed, result.history["total"], rtol=1e-5)


# --------------------------------------------------------------------------- stopping and best image
def _recording_callback(stop_at, how):
    seen = []

    def callback(iterate):
        seen.append((iterate.step, iterate.losses["total"], iterate.image()))
        if iterate.step == stop_at:
            if how == "false":
                return False
            raise KeyboardInterrupt
        return True

    return callback, seen


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
@pytest.mark.parametrize("how", ["false", "interrupt"])
def test_stopping_returns_the_best_image_so_far(extractor, optimizer, how):
    content, style = _images(3)
    callback, seen = _recording_callback(5, how)
    result = _run(extractor, content, style, optimizer=optimizer, steps=40, callback=callback)
    assert result.interrupted
    assert result.evaluations == 5 == len(seen) == len(result.history["total"])
    assert [s[0] for s in seen] == [1, 2, 3, 4, 5]
    totals = [s[1] for s in seen]
    assert totals == result.history["total"]
    best = int(np.argmin(totals))
    np.testing.assert_array_equal(result.image, seen[best][2])


def test_iterate_fields_and_lazy_image(extractor):
    content, style = _images(4)
    records = []
    result = _run(extractor, content, style, steps=3, size=32, scales=(16, 32),
                  callback=lambda it: records.append((it.step, it.scale, it.size, set(it.losses),
                                                      it.elapsed)))
    assert [r[0] for r in records] == list(range(1, 7))
    assert [r[1] for r in records] == [0, 0, 0, 1, 1, 1]
    assert [r[2] for r in records] == [(13, 16)] * 3 + [(26, 32)] * 3
    assert all(r[3] == {"total", "style"} for r in records)
    elapsed = [r[4] for r in records]
    assert elapsed == sorted(elapsed) and elapsed[0] > 0
    assert result.image.shape == (26, 32, 3)


# ---------------------------------------------------------------------------------- multi-scale
def test_multi_scale_reaches_the_final_size_with_one_timing_per_scale(extractor):
    content, style = _images(5, content_shape=(48, 30))
    result = _run(extractor, content, style, steps=3, size=40, scales=(12, 20, 40))
    assert result.image.shape == (40, 25, 3)
    assert len(result.seconds_per_scale) == 3 and all(s > 0 for s in result.seconds_per_scale)
    assert result.evaluations == 9 and result.config.scales == (12, 20, 40)


def test_a_budget_per_scale_is_spent_scale_by_scale(extractor):
    content, style = _images(5, content_shape=(48, 30))
    scale_of_step = []
    result = _run(extractor, content, style, steps=(4, 2), size=40, scales=(20, 40),
                  callback=lambda it: scale_of_step.append(it.scale))
    assert result.evaluations == 6 and scale_of_step == [0, 0, 0, 0, 1, 1]


@pytest.mark.parametrize("steps,n,expected", [(5, 3, (5, 5, 5)), ((30, 12), 2, (30, 12)), ((30, 12), 1, (12,)),
                                               ((30, 12), 3, (30, 30, 12)), ([7], 2, (7, 7))])
def test_steps_per_scale_aligns_budgets_with_the_finest_scales(steps, n, expected):
    from ot_style.config import steps_per_scale

    assert steps_per_scale(steps, n) == expected


@pytest.mark.parametrize("steps", [0, -1, 2.5, "3", (3, 0), (), True])
def test_a_bad_budget_is_refused_in_one_sentence(extractor, steps):
    content, style = _images(5)
    with pytest.raises(ValueError, match="steps must be a whole number of at least 1"):
        _run(extractor, content, style, steps=steps, size=32, scales=(16, 32))


def test_size_alone_rescales_the_config_schedule(extractor):
    content, style = _images(5)
    config = default_config().replace(size=64, scales=(32, 64), steps=2)
    result = _run(extractor, content, style, size=32, scales=None, config=config)
    assert result.config.scales == (16, 32) and len(result.seconds_per_scale) == 2


def test_style_targets_are_recomputed_at_each_scale_and_never_enlarged(extractor):
    from ot_style.losses import make_style_loss

    content, style = _images(6, style_shape=(20, 24))
    spy = _Spy(make_style_loss("w2", LAYERS, None, default_config()))
    _run(extractor, content, style, loss=spy, steps=2, size=40, scales=(16, 40))
    assert [c["images"][0].shape for c in spy.calls] == [(13, 16, 3), (20, 24, 3)]
    np.testing.assert_allclose(spy.calls[1]["images"][0], style, atol=1e-6)


# --------------------------------------------------------------------------- texture, determinism
def test_texture_synthesis_larger_than_the_style(extractor):
    _, style = _images(7, style_shape=(24, 24))
    result = _run(extractor, None, style, steps=8, size=48, scales=(48,))
    assert result.image.shape == (48, 48, 3)
    total = result.history["total"]
    assert min(total) < 0.8 * total[0]
    assert result.image.std() > 0.02  # noise start, not a flat image


def test_same_seed_same_image_other_seed_other_texture(extractor):
    _, style = _images(8, style_shape=(24, 24))
    first = _run(extractor, None, style, steps=4, seed=3)
    second = _run(extractor, None, style, steps=4, seed=3)
    other = _run(extractor, None, style, steps=4, seed=4)
    np.testing.assert_array_equal(first.image, second.image)
    assert first.history == second.history
    assert np.abs(first.image - other.image).mean() > 0.01


# ---------------------------------------------------------------------------------- colour and mixing
def test_preserve_luminance_keeps_content_chroma_and_result_luminance():
    rng = np.random.default_rng(0)
    result = 0.3 + 0.4 * rng.random((8, 8, 3))
    content = 0.3 + 0.4 * rng.random((8, 8, 3))
    out = preserve_luminance(result, content).astype(np.float64)
    np.testing.assert_allclose((out @ _YIQ.T)[..., 0], (result @ _YIQ.T)[..., 0], atol=1e-6)
    np.testing.assert_allclose((out @ _YIQ.T)[..., 1:], (content @ _YIQ.T)[..., 1:], atol=1e-6)


def test_colour_transfer_recolours_the_style_with_the_content_palette(extractor):
    from ot_style.losses import make_style_loss

    content, style = _images(9)
    spy = _Spy(make_style_loss("w2", LAYERS, None, default_config()))
    _run(extractor, content, style, loss=spy, steps=1, colour_transfer="gaussian")
    seen = spy.calls[0]["images"][0].reshape(-1, 3)
    # the recoloured style's mean colour is the content's, not the style's (clipping moves it a little)
    assert np.abs(seen.mean(0) - content.reshape(-1, 3).mean(0)).max() < 0.03
    assert np.abs(style.reshape(-1, 3).mean(0) - content.reshape(-1, 3).mean(0)).max() > 0.1


def test_preserve_colour_result_has_the_content_chroma(extractor):
    content, style = _images(10)
    result = _run(extractor, content, style, steps=4, preserve_colour=True)
    # The content at the output size, shrunk as the engine shrinks pictures (Lanczos on float channels).
    small = np.stack([np.asarray(Image.fromarray(content[:, :, c]).resize((32, 26), Image.Resampling.LANCZOS))
                      for c in range(3)], axis=2)
    chroma = (result.image.astype(np.float64) @ _YIQ.T)[..., 1:]
    inside = np.all((result.image > 0.01) & (result.image < 0.99), axis=2)  # not clipped
    np.testing.assert_allclose(chroma[inside], (np.clip(small, 0, 1) @ _YIQ.T)[..., 1:][inside],
                               atol=1e-4)


def test_style_weights_are_normalised_and_handed_to_the_loss(extractor):
    from ot_style.losses import make_style_loss

    content, style = _images(11)
    spy = _Spy(make_style_loss("w2", LAYERS, None, default_config()))
    _run(extractor, content, [style, style[::-1]], loss=spy, steps=1, style_weights=(1, 3))
    assert spy.calls[0]["weights"] == pytest.approx([0.25, 0.75])
    assert len(spy.calls[0]["images"]) == 2


# ----------------------------------------------------------------------------- the L-BFGS wrapper
def test_lbfgs_wrapper_gradient_matches_finite_differences():
    from ot_style.losses import make_style_loss

    small = FeatureExtractor(("relu1_1", "relu2_1"), weights="random", seed=1)
    loss = make_style_loss("w2", ("relu1_1", "relu2_1"), None, default_config())
    _, style = _images(12, style_shape=(12, 12))
    target = loss.prepare([small(style[None])], [tf.constant(style[None])], [1.0])
    shape = (8, 8, 3)
    evaluate = float64_objective(lambda x, t: loss(small(x), t, x), shape, target)
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, size=np.prod(shape))
    value, grad, terms = evaluate(x)
    assert grad.dtype == np.float64 and grad.shape == x.shape
    assert value == pytest.approx(sum(terms.values()), rel=1e-6)
    for _ in range(3):
        direction = rng.normal(size=x.shape)
        direction /= np.linalg.norm(direction)
        eps = 1e-2
        numeric = (evaluate(x + eps * direction)[0] - evaluate(x - eps * direction)[0]) / (2 * eps)
        assert grad @ direction == pytest.approx(numeric, rel=2e-2, abs=1e-3 * abs(value))


# ------------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("options, message", [
    ({"loss": "gatys"}, "Unknown loss 'gatys'"),
    ({"optimizer": "sgd"}, "Unknown optimizer 'sgd'"),
    ({"init": "zeros"}, "Unknown init 'zeros'"),
    ({"layers": ("relu9_1",)}, "Unknown VGG19 layer 'relu9_1'"),
    ({"scales": (16, 24)}, "must equal the output size 32"),
    ({"scales": (32, 16, 32)}, "must increase"),
    ({"style_weights": (1, 2)}, "one mixing weight per style image: 1 styles but 2 weights"),
    ({"style_weights": (-1,)}, "non-negative"),
    ({"layer_weights": (1, -1)}, "non-negative"),
    ({"layer_weights": (1, 1, 1)}, "one layer weight per style layer: 2 layers but 3 weights"),
    ({"content_weight": -2.0, "content_loss": "features"}, "non-negative"),
    ({"steps": 0}, "steps must be a whole number"),
    ({"colour_transfer": "histogram"}, "Unknown colour_transfer"),
    ({"content_loss": "pixels"}, "Unknown content loss 'pixels'"),
])
def test_bad_arguments_raise_one_clear_sentence(extractor, options, message):
    content, style = _images()
    with pytest.raises(ValueError, match=message):
        _run(extractor, content, style, **options)


def test_too_small_and_missing_content_raise(extractor):
    content, style = _images()
    # A coarse scale the network cannot take is dropped (issue 15); a final size it cannot take is refused.
    assert _run(extractor, content, style, size=32, scales=(1, 32), steps=2).seconds_per_scale[1:] == []
    with pytest.raises(ValueError, match="too small for layer relu2_1: it needs at least 2 pixels"):
        _run(extractor, content, style, size=1, scales=(1,))
    with pytest.raises(ValueError, match="need a content image"):
        _run(extractor, None, style, preserve_colour=True)
    with pytest.raises(ValueError, match="does not compute layer relu5_1"):
        _run(extractor, content, style, layers=("relu5_1",))
    with pytest.raises(ValueError, match=r"shape \(height, width, 3\)"):
        _run(extractor, content[..., :2], style)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        _run(extractor, content * 3, style)
