"""Spatial guidance (ot_style.losses.guided): masked moments in TF, masks per layer, the guided W2 loss.

Most tests feed synthetic feature maps straight into the loss (no network needed): an "image" of
16x16 pixels gives relu1_1 maps of 16x16 and relu2_1 maps of 8x8, as VGG19 would.
"""

import numpy as np
import pytest
import tensorflow as tf

from ot_style.losses.guided import GuidedW2Loss, Region
from ot_style.pixels.masks import box_resize, mask_for_layer
from ot_style.losses import W2Loss, tf_moments
from ot_style.maths.moments import masked_moments

LAYERS = ("relu1_1", "relu2_1")
CHANNELS = 5


def fake_features(seed, side=16, dtype=tf.float64, shift=0.0):
    """Feature maps shaped like VGG's at relu1_1 and relu2_1 for a (side x side) image."""
    rng = np.random.default_rng(seed)
    maps = {}
    for layer, s in zip(LAYERS, (side, side // 2)):
        mixing = rng.standard_normal((CHANNELS, CHANNELS))
        values = rng.standard_normal((1, s, s, CHANNELS)) @ mixing + shift
        maps[layer] = tf.constant(np.maximum(values, 0.0) + 0.1 * values, dtype=dtype)
    image = tf.zeros((1, side, side, 3), dtype=dtype)
    return maps, image


def total(terms):
    return float(sum(float(v) for v in terms.values()))


@pytest.mark.parametrize("seed", range(3))
def test_tf_weighted_moments_equal_the_numpy_reference(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((50, 4)) * [1.0, 2.0, 0.5, 3.0]
    w = rng.uniform(0, 1, 50) * (rng.uniform(size=50) > 0.3)
    mean, cov = tf_moments(tf.constant(x), tf.constant(w))
    ref = masked_moments(x, w)
    np.testing.assert_allclose(mean.numpy(), ref.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cov.numpy(), ref.cov, rtol=1e-12, atol=1e-12)


def test_weighted_moments_ignore_rows_outside_the_mask():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 3))
    w = (np.arange(40) < 25).astype(float)
    changed = x.copy()
    changed[25:] = 1e3 * rng.standard_normal((15, 3))
    a, b = tf_moments(tf.constant(x), tf.constant(w)), tf_moments(tf.constant(changed), tf.constant(w))
    np.testing.assert_array_equal(a.mean.numpy(), b.mean.numpy())
    np.testing.assert_array_equal(a.cov.numpy(), b.cov.numpy())
    # and a 0/1 mask gives eq. 1 on the selected rows
    np.testing.assert_allclose(a.cov.numpy(), np.cov(x[:25].T), rtol=1e-12)


def test_masks_shrink_like_the_network():
    mask = np.zeros((16, 16))
    mask[:6] = 1.0  # six of sixteen rows
    assert mask_for_layer(mask, (16, 16), "relu1_1").shape == (16, 16)
    pooled = mask_for_layer(mask, (16, 16), "relu2_1")
    assert pooled.shape == (8, 8)
    np.testing.assert_allclose(pooled[:, 0], [1, 1, 1, 0, 0, 0, 0, 0])
    deep = mask_for_layer(mask, (16, 16), "relu3_1")
    np.testing.assert_allclose(deep[:, 0], [1.0, 0.5, 0.0, 0.0])
    # a mask given at another resolution is box-resized first: the area fraction is kept
    big = box_resize(mask, (48, 48))
    assert big.mean() == pytest.approx(mask.mean(), rel=1e-6)
    # odd sizes pool like VALID pooling (the last row/column is dropped)
    assert mask_for_layer(np.ones((9, 11)), (9, 11), "relu3_1").shape == (2, 2)


def test_one_all_ones_region_is_the_plain_w2_loss():
    style, _ = fake_features(0, shift=0.3)
    features, image = fake_features(1)
    plain = W2Loss(LAYERS, (1.0, 0.5), normalise=False)
    guided = GuidedW2Loss([Region("all", np.ones((16, 16)))], LAYERS, (1.0, 0.5), normalise=False)
    want = total(plain(features, plain.prepare([style], None, [1.0]), image))
    got = guided(features, guided.prepare([style], [tf.zeros((1, 16, 16, 3))], [1.0]), image)
    assert list(got) == ["style/all"]
    assert total(got) == pytest.approx(want, rel=1e-10)
    # the same with a mask of all twos (only the shape of the weights matters... and the area factor)
    twos = GuidedW2Loss([Region("all", 2 * np.ones((16, 16)))], LAYERS, (1.0, 0.5), normalise=False)
    assert total(twos(features, twos.prepare([style], None, [1.0]), image)) == pytest.approx(2 * want, rel=1e-10)


def test_guided_loss_is_the_area_weighted_sum_of_masked_w2():
    from ot_style.maths.gaussian import gaussian_w2

    sky_style, _ = fake_features(2, shift=0.5)
    ground_style, _ = fake_features(3)
    features, image = fake_features(4)
    sky = np.zeros((16, 16))
    sky[:6] = 1.0
    regions = [Region("sky", sky, style=0), Region("ground", 1.0 - sky, style=1)]
    loss = GuidedW2Loss(regions, LAYERS, per_layer=True, normalise=False)
    terms = loss(features, loss.prepare([sky_style, ground_style], None, [0.5, 0.5]), image)
    for region, style in ((regions[0], sky_style), (regions[1], ground_style)):
        for layer in LAYERS:
            w = mask_for_layer(region.content_mask, (16, 16), layer)
            x = masked_moments(features[layer].numpy()[0], w)
            s = masked_moments(style[layer].numpy()[0], np.ones(style[layer].shape[1:3]))
            want = region.content_mask.mean() * gaussian_w2(x.mean, x.cov, s.mean, s.cov, squared=True)
            assert float(terms[f"style/{region.name}/{layer}"]) == pytest.approx(want, rel=1e-7)


def test_masks_passed_in_the_target_after_at_scale_give_the_same_loss():
    # stylize calls at_scale(out_size, ...) before prepare, and the content weights travel in the target
    # (its traced function may not know the image shape); the result must equal the static-shape path.
    style, _ = fake_features(10)
    features, image = fake_features(11)
    sky = np.zeros((32, 32))  # given at another resolution than the 16 px image
    sky[:12] = 1.0
    static = GuidedW2Loss([Region("sky", sky), Region("rest", 1.0 - sky)], LAYERS, per_layer=True, normalise=False)
    want = static(features, static.prepare([style], None, [1.0]), image)
    hooked = GuidedW2Loss([Region("sky", sky), Region("rest", 1.0 - sky)], LAYERS, per_layer=True, normalise=False)
    hooked.at_scale((16, 16), [(16, 16)])
    target = hooked.prepare([style], None, [1.0])
    assert set(target["content"]["sky"]) == set(LAYERS) | {"area"}
    got = hooked(features, target, None)
    assert set(got) == set(want)
    for name in want:
        assert float(got[name]) == pytest.approx(float(want[name]), rel=1e-12)


def test_features_outside_a_region_do_not_change_its_term():
    style, _ = fake_features(5)
    features, image = fake_features(6)
    sky = np.zeros((16, 16))
    sky[:8] = 1.0
    loss = GuidedW2Loss([Region("sky", sky)], LAYERS, normalise=False)
    target = loss.prepare([style], None, [1.0])
    before = total(loss(features, target, image))
    rng = np.random.default_rng(0)
    changed = {}
    for layer, f in features.items():
        values = f.numpy().copy()
        rows = values.shape[1] // 2
        values[:, rows:] = 100.0 * rng.standard_normal(values[:, rows:].shape)
        changed[layer] = tf.constant(values)
    assert total(loss(changed, target, image)) == before
    # ...while changing features inside it does
    inside = {k: tf.constant(np.concatenate([v.numpy()[:, :1] + 1.0, v.numpy()[:, 1:]], axis=1))
              for k, v in features.items()}
    assert total(loss(inside, target, image)) != pytest.approx(before, rel=1e-6)


def test_style_mask_selects_part_of_a_style_image():
    style, _ = fake_features(7)
    left = np.zeros((16, 16))
    left[:, :8] = 1.0
    loss = GuidedW2Loss([Region("all", np.ones((16, 16)), style_mask=left)], LAYERS, normalise=False)
    target = loss.prepare([style], [tf.zeros((1, 16, 16, 3))], [1.0])
    for layer in LAYERS:
        cloud = style[layer].numpy()[0]
        half = cloud[:, : cloud.shape[1] // 2].reshape(-1, CHANNELS)
        np.testing.assert_allclose(target["style"]["all"][layer][0].numpy(), half.mean(0), rtol=1e-10)
        np.testing.assert_allclose(target["style"]["all"][layer][1].numpy(), np.cov(half.T), rtol=1e-10)


def test_gradient_is_finite_and_zero_outside_the_mask_at_the_feature_level():
    style, _ = fake_features(8)
    features, image = fake_features(9, dtype=tf.float64)
    sky = np.zeros((16, 16))
    sky[:8] = 1.0
    loss = GuidedW2Loss([Region("sky", sky)], LAYERS, normalise=False)
    target = loss.prepare([style], None, [1.0])
    variables = {k: tf.Variable(v) for k, v in features.items()}
    with tf.GradientTape() as tape:
        value = tf.add_n(list(loss(variables, target, image).values()))
    grads = tape.gradient(value, variables)
    g = grads["relu1_1"].numpy()
    assert np.all(np.isfinite(g))
    assert np.abs(g[:, 8:]).max() == 0.0 and np.abs(g[:, :8]).max() > 0


@pytest.mark.parametrize("make,message", [
    (lambda: Region("sky", np.zeros((4, 4))), "empty"),
    (lambda: Region("sky", -np.ones((4, 4))), "non-negative"),
    (lambda: Region("sky", np.ones(4)), "2-D"),
    (lambda: Region("", np.ones((4, 4))), "name"),
    (lambda: Region("sky", np.ones((4, 4)), style=-1), "index"),
    (lambda: GuidedW2Loss([Region("a", np.ones((4, 4))), Region("a", np.ones((4, 4)))], LAYERS, normalise=False), "differ"),
    (lambda: GuidedW2Loss([], LAYERS, normalise=False), "non-empty"),
])
def test_bad_regions_are_refused_in_one_sentence(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_missing_style_image_and_tiny_regions_are_refused():
    style, _ = fake_features(0)
    features, image = fake_features(1)
    loss = GuidedW2Loss([Region("sky", np.ones((16, 16)), style=1)], LAYERS, normalise=False)
    with pytest.raises(ValueError, match="style image 1"):
        loss.prepare([style], None, [1.0])
    corner = np.zeros((16, 16))
    corner[0, 0] = 1.0
    tiny = GuidedW2Loss([Region("dot", corner)], LAYERS, normalise=False)
    with pytest.raises(ValueError, match="fewer than 2 feature vectors"):
        tiny(features, tiny.prepare([style], None, [1.0]), image)


@pytest.mark.slow
def test_guided_stylize_runs_with_two_styles_and_lowers_the_loss():
    from ot_style import stylize
    from ot_style.pixels.masks import sky_ground_masks

    rng = np.random.default_rng(0)
    content = rng.uniform(0.3, 0.7, (32, 32, 3)).astype(np.float32)
    blue = np.clip(rng.normal([0.3, 0.5, 0.9], 0.1, (32, 32, 3)), 0, 1).astype(np.float32)
    brown = np.clip(rng.normal([0.5, 0.35, 0.1], 0.1, (32, 32, 3)), 0, 1).astype(np.float32)
    sky, ground = sky_ground_masks((32, 32), horizon=0.5)
    loss = GuidedW2Loss([Region("sky", sky, style=0), Region("ground", ground, style=1)],
                        ("relu1_1", "relu2_1"), normalise=False)
    # two scales: the engine traces its function once for both, with the masks passed as arguments
    result = stylize(content, [blue, brown], loss=loss, weights="random", size=32, scales=(24, 32), steps=5,
                     optimizer="adam")
    assert result.image.shape == (32, 32, 3)
    assert {"style/sky", "style/ground", "total"} <= set(result.history)
    assert result.history["total"][-1] < result.history["total"][0]
    # the sky became bluer than the ground
    top, bottom = result.image[:16].mean((0, 1)), result.image[16:].mean((0, 1))
    assert top[2] - top[0] > bottom[2] - bottom[0]


def test_sky_ground_masks_partition_the_picture():
    from ot_style.pixels.masks import sky_ground_masks

    sky, ground = sky_ground_masks((20, 7), horizon=0.4)
    np.testing.assert_array_equal(sky + ground, np.ones((20, 7)))
    assert sky[:8].min() == 1.0 and sky[8:].max() == 0.0
    soft_sky, soft_ground = sky_ground_masks((40, 5), horizon=0.5, softness=0.2)
    np.testing.assert_allclose(soft_sky + soft_ground, 1.0)
    column = soft_sky[:, 0]
    assert np.all(np.diff(column) <= 0) and 0 < column[20] < 1
    assert soft_sky.mean() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="horizon"):
        sky_ground_masks((10, 10), horizon=1.0)
