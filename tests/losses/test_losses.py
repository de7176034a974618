"""The TensorFlow losses against their NumPy references, finite differences and POT (W2: test_w2_loss.py).

Features are random tensors fed directly (no VGG), mostly in float64 so that the references can be
matched tightly and central finite differences are accurate.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.helpers.loss_checks import LAYERS, check_directional_derivatives, evaluate, flat, random_features  # noqa: E402

import ot_style.losses as losses  # noqa: E402
from ot_style.maths import gaussian, moments  # noqa: E402
from ot_style.config import DEFAULT  # noqa: E402
from ot_style.losses.strotss import (cosine_cost, hypercolumns, sample_bilinear,  # noqa: E402
                                     self_similarity)


# ---------------------------------------------------------------- Gram and moments

def test_gram_matches_gatys_formulas():
    rng = np.random.default_rng(9)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 6, (3, 4))
    loss = losses.GramLoss(LAYERS, normalise=False)
    target = loss.prepare([style], None, [1.0])
    want = sum(np.sum((moments.gram_matrix(flat(image[k])) - moments.gram_matrix(flat(style[k])))**2)
               for k in LAYERS)
    assert evaluate(loss, image, target) == pytest.approx(want, rel=1e-12)
    # eq. 4 with divide-by-n covariances is the same number.
    eq4 = 0.0
    for k in LAYERS:
        (mx, cx), (ms, cs) = moments.feature_moments(flat(image[k])), moments.feature_moments(flat(style[k]))
        n = flat(image[k]).shape[0]
        eq4 += gaussian.gatys_style_loss(mx, cx * (n - 1) / n, ms, cs * (n - 1) / n)
    assert evaluate(loss, image, target) == pytest.approx(eq4, rel=1e-10)
    # Gatys' own normalisation: 1 / (4 N^2 M^2) ||F^T F - S^T S||^2 for images of equal size.
    gatys = losses.GramLoss(LAYERS, normalisation="gatys", normalise=False)
    want = 0.0
    for k in LAYERS:
        f, s = flat(image[k]), flat(style[k])
        want += np.sum((f.T @ f - s.T @ s)**2) / (4.0 * f.shape[1]**2 * f.shape[0]**2)
    assert evaluate(gatys, image, gatys.prepare([style], None, [1.0])) == pytest.approx(want, rel=1e-12)
    check_directional_derivatives(loss, image, target)


def test_moments_matches_strotss_formula():
    rng = np.random.default_rng(10)
    a, b, image = (random_features(rng, 6, (3, 4)) for _ in range(3))
    loss = losses.MomentsLoss(LAYERS, (2.0, 1.0), normalise=False)
    target = loss.prepare([a, b], None, [0.25, 0.75])
    want = 0.0
    for k, w in zip(LAYERS, (2.0, 1.0)):
        mx, cx = moments.feature_moments(flat(image[k]))
        ma, ca = moments.feature_moments(flat(a[k]))
        mb, cb = moments.feature_moments(flat(b[k]))
        c = cx.shape[0]
        want += w * (np.sum(np.abs(mx - (0.25 * ma + 0.75 * mb))) / c
                     + np.sum(np.abs(cx - (0.25 * ca + 0.75 * cb))) / c**2)
    assert evaluate(loss, image, target) == pytest.approx(want, rel=1e-12)
    check_directional_derivatives(loss, image, target)


def test_moments_loss_is_the_tf_twin_of_the_numpy_moment_distance():
    rng = np.random.default_rng(12)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 6, (3, 4))
    loss = losses.MomentsLoss(LAYERS, normalise=False)
    target = loss.prepare([style], None, [1.0])
    want = sum(gaussian.moment_distance(*moments.feature_moments(flat(image[k])),
                                       *moments.feature_moments(flat(style[k]))) for k in LAYERS)
    assert evaluate(loss, image, target) == pytest.approx(want, rel=1e-6)


# ---------------------------------------------------------------- sliced

def test_sliced_matches_pot_with_the_same_projections():
    import ot

    rng = np.random.default_rng(11)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 6, (3, 4))
    loss = losses.SlicedLoss(LAYERS, n_projections=10, normalise=False)
    target = loss.prepare([style], None, [1.0], seed=3)
    want = 0.0
    for k in LAYERS:
        directions = target[k][0].numpy()
        np.testing.assert_allclose(np.linalg.norm(directions, axis=0), 1.0, rtol=1e-12)
        want += ot.sliced_wasserstein_distance(flat(image[k]), flat(style[k]), projections=directions,
                                               p=2) ** 2
    assert evaluate(loss, image, target) == pytest.approx(want, rel=1e-10)
    check_directional_derivatives(loss, image, target)
    # Projections are fixed for a seed and change with it.
    again = loss.prepare([style], None, [1.0], seed=3)
    np.testing.assert_array_equal(again["relu1_1"][0].numpy(), target["relu1_1"][0].numpy())
    other = loss.prepare([style], None, [1.0], seed=4)
    assert not np.allclose(other["relu1_1"][0].numpy(), target["relu1_1"][0].numpy())


def numpy_quantiles(sorted_values, n):
    m = sorted_values.shape[0]
    positions = np.arange(m)
    wanted = np.clip((np.arange(n) + 0.5) * m / n - 0.5, 0, m - 1)
    return np.stack([np.interp(wanted, positions, col) for col in sorted_values.T], axis=1)


def test_sliced_resamples_quantiles_when_sizes_differ_and_mixes_quantile_functions():
    rng = np.random.default_rng(12)
    a, b = random_features(rng, 8, (3, 4)), random_features(rng, 4, (3, 4))
    image = random_features(rng, 6, (3, 4))
    loss = losses.SlicedLoss(LAYERS, n_projections=7, normalise=False)
    target = loss.prepare([a, b], None, [0.6, 0.4], seed=1)
    want = 0.0
    for k in LAYERS:
        d = target[k][0].numpy()
        pa, pb = np.sort(flat(a[k]) @ d, axis=0), np.sort(flat(b[k]) @ d, axis=0)
        m = max(pa.shape[0], pb.shape[0])
        mixed = 0.6 * numpy_quantiles(pa, m) + 0.4 * numpy_quantiles(pb, m)
        np.testing.assert_allclose(target[k][1].numpy(), mixed, rtol=1e-12)
        x = np.sort(flat(image[k]) @ d, axis=0)
        want += np.mean((x - numpy_quantiles(mixed, x.shape[0]))**2)
    assert evaluate(loss, image, target) == pytest.approx(want, rel=1e-12)
    # The TF and NumPy resamplers agree, and resampling to the same count is the identity.
    v = np.sort(rng.standard_normal((9, 2)), axis=0)
    for n in (4, 9, 20):
        np.testing.assert_allclose(losses.resample_sorted(tf.constant(v), n).numpy(), numpy_quantiles(v, n),
                                   rtol=1e-12)
    np.testing.assert_array_equal(losses.resample_sorted(v, 9), v)


# ---------------------------------------------------------------- STROTSS and content terms

def numpy_bilinear(f, coords):
    f = np.asarray(f, np.float64)[0]
    h, w = f.shape[:2]
    out = []
    for r, q in coords:
        y, x = r * (h - 1), q * (w - 1)
        y0, x0 = int(np.floor(y)), int(np.floor(x))
        y1, x1 = min(y0 + 1, h - 1), min(x0 + 1, w - 1)
        dy, dx = y - y0, x - x0
        out.append((1 - dy) * ((1 - dx) * f[y0, x0] + dx * f[y0, x1]) + dy * ((1 - dx) * f[y1, x0] + dx * f[y1, x1]))
    return np.array(out)


def np_cosine(a, b):
    na = a / np.sqrt(np.maximum(np.sum(a * a, 1, keepdims=True), 1e-12))
    nb = b / np.sqrt(np.maximum(np.sum(b * b, 1, keepdims=True), 1e-12))
    return 1.0 - na @ nb.T


def np_remd(d):
    return max(d.min(axis=1).mean(), d.min(axis=0).mean())


def np_self_similarity_loss(fc, fp):
    dc, dp = np_cosine(fc, fc), np_cosine(fp, fp)
    n = fc.shape[0]
    return np.sum(np.abs(dc / dc.sum(axis=0, keepdims=True) - dp / dp.sum(axis=0, keepdims=True))) / n**2


def test_bilinear_sampling():
    rng = np.random.default_rng(13)
    f = rng.standard_normal((1, 5, 7, 3))
    coords = np.vstack([rng.uniform(size=(20, 2)), [[0, 0], [1, 1], [0.25, 0.5], [1, 0]]])
    np.testing.assert_allclose(sample_bilinear(tf.constant(f), tf.constant(coords)).numpy(),
                               numpy_bilinear(f, coords), rtol=1e-12)
    # Grid coordinates return the grid values exactly.
    np.testing.assert_allclose(sample_bilinear(tf.constant(f), tf.constant([[0.25, 0.5], [1.0, 0.0]])).numpy(),
                               f[0, [1, 4], [3, 0]], rtol=1e-12)


def test_strotss_matches_seed_formulas_and_finite_differences():
    rng = np.random.default_rng(14)
    style, image = random_features(rng, 8, (3, 4), relu=True), random_features(rng, 6, (3, 4), relu=True)
    style_img, img = rng.uniform(size=(1, 8, 8, 3)), tf.constant(rng.uniform(size=(1, 6, 6, 3)))
    alpha = 2.0
    loss = losses.StrotssLoss(LAYERS, alpha=alpha, samples=12)
    target = loss.prepare([style], [tf.constant(style_img)], [1.0], seed=5)
    coords = target["coords"].numpy()
    assert coords.shape == (12, 2) and target["columns"].shape == (12, 7)
    hyper = np.hstack([numpy_bilinear(image[k], coords) for k in LAYERS])
    cols = target["columns"].numpy()
    ms, cs = moments.feature_moments(cols)
    np.testing.assert_allclose(target["mean"].numpy(), ms, rtol=1e-12)
    l_r = np_remd(np_cosine(hyper, cols))
    mx, cx = moments.feature_moments(hyper)
    l_m = np.sum(np.abs(mx - ms)) / 7 + np.sum(np.abs(cx - cs)) / 49
    pixels = numpy_bilinear(img.numpy(), coords)
    l_p = np_remd(np.sqrt(((pixels[:, None] - target["pixels"].numpy()[None])**2).sum(-1)))
    z = 2 + alpha + 1 / alpha
    terms = loss(image, target, img)
    assert float(terms["style/remd"]) == pytest.approx(l_r / z, rel=1e-12)
    assert float(terms["style/moments"]) == pytest.approx(l_m / z, rel=1e-12)
    assert float(terms["style/colour"]) == pytest.approx(l_p / (alpha * z), rel=1e-12)
    check_directional_derivatives(loss, image, target, img)
    # Its content term: self-similarity on the same hypercolumns with weight alpha / z.
    content = losses.make_content_loss("self_similarity", None, alpha,
                                       DEFAULT.replace(loss="strotss", layers=LAYERS, strotss_samples=10))
    assert content.layers == LAYERS and content.weight == pytest.approx(alpha / z)
    content_features = random_features(rng, 6, (3, 4), relu=True)
    ctarget = content.prepare(content_features, None)
    c = ctarget["coords"].numpy()
    want = np_self_similarity_loss(np.hstack([numpy_bilinear(content_features[k], c) for k in LAYERS]),
                                   np.hstack([numpy_bilinear(image[k], c) for k in LAYERS]))
    assert float(content(image, ctarget)["content"]) == pytest.approx(alpha / z * want, rel=1e-12)
    check_directional_derivatives(content, image, ctarget)


def test_strotss_texture_synthesis_has_no_content_term_and_runs_in_tf_function():
    rng = np.random.default_rng(15)
    style = {k: tf.cast(v, tf.float32) for k, v in random_features(rng, 8, (3, 4), relu=True).items()}
    loss = losses.make_style_loss("strotss", LAYERS, None, DEFAULT.replace(strotss_samples=16))
    target = loss.prepare([style], [tf.constant(rng.uniform(size=(1, 8, 8, 3)), tf.float32)], [1.0])
    assert losses.make_content_loss(None, None, None, DEFAULT.replace(loss="strotss")) is None

    @tf.function
    def run(f, img):
        return loss(f, target, img)

    terms = run(style, tf.constant(rng.uniform(size=(1, 8, 8, 3)), tf.float32))
    assert set(terms) == {"style/remd", "style/moments", "style/colour"}
    assert all(np.isfinite(v.numpy()) for v in terms.values())


def test_self_similarity_is_zero_for_rescaled_content_and_features_loss_is_mse():
    rng = np.random.default_rng(16)
    content = random_features(rng, 6, (3, 4), relu=True)
    ss = losses.make_content_loss("self_similarity", "relu1_1", 3.0, DEFAULT.replace(strotss_samples=9))
    target = ss.prepare(content, None)
    # Cosine distances ignore a positive rescaling of the features.
    assert float(ss({k: 2.5 * v for k, v in content.items()}, target)["content"]) == pytest.approx(0, abs=1e-12)
    d = self_similarity(hypercolumns(content, ("relu1_1",), target["coords"])).numpy()
    np.testing.assert_allclose(d.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(cosine_cost(tf.constant([[1.0, 0.0]]), tf.constant([[0.0, 2.0], [-3.0, 0.0]])).numpy(),
                               [[1.0, 2.0]])
    image = random_features(rng, 6, (3, 4))
    feat = losses.make_content_loss("features", "relu2_1", 0.5, DEFAULT.replace(normalise_losses=False))
    want = 0.5 * np.mean((image["relu2_1"].numpy() - content["relu2_1"].numpy())**2)
    assert float(feat(image, feat.prepare(content, None))["content"]) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name", ["w2", "gram", "moments", "sliced", "strotss"])
def test_every_loss_runs_in_tf_function_with_unknown_image_size(name):
    # The engine may trace once for several sizes: no Python-side decision may need the pixel count.
    rng = np.random.default_rng(20)
    style = {k: tf.cast(v, tf.float32) for k, v in random_features(rng, 8, (6, 8), relu=True).items()}
    config = DEFAULT.replace(strotss_samples=16, sliced_projections=4)
    loss = losses.make_style_loss(name, LAYERS, None, config)
    target = loss.prepare([style], [tf.constant(rng.uniform(size=(1, 8, 8, 3)), tf.float32)], [1.0])
    spec = [tf.TensorSpec((1, None, None, c), tf.float32) for c in (6, 8)]

    @tf.function(input_signature=spec + [tf.TensorSpec((1, None, None, 3), tf.float32)])
    def value_and_grad(f1, f2, image):
        with tf.GradientTape() as tape:
            tape.watch([f1, f2])
            value = tf.add_n(list(loss({"relu1_1": f1, "relu2_1": f2}, target, image).values()))
        return value, tape.gradient(value, [f1, f2])

    image = random_features(rng, 6, (6, 8), relu=True)
    eager = evaluate(loss, {k: tf.cast(v, tf.float32) for k, v in image.items()}, target,
                     tf.constant(np.full((1, 6, 6, 3), 0.5), tf.float32))
    value, grads = value_and_grad(*(tf.cast(image[k], tf.float32) for k in LAYERS),
                                  tf.constant(np.full((1, 6, 6, 3), 0.5), tf.float32))
    assert float(value) == pytest.approx(eager, rel=1e-4)
    assert all(np.all(np.isfinite(g.numpy())) for g in grads)


# ---------------------------------------------------------------- factories and errors

def test_factories_build_every_loss_and_pass_objects_through():
    for name in ("w2", "gram", "moments", "sliced", "strotss"):
        loss = losses.make_style_loss(name, None, None, DEFAULT)
        assert loss.name == name and loss.layers == DEFAULT.layers
    obj = losses.W2Loss(LAYERS, normalise=False)
    assert losses.make_style_loss(obj, None, None, DEFAULT) is obj
    assert losses.make_style_loss("sliced", LAYERS, None, DEFAULT.replace(sliced_projections=5)).n_projections == 5
    gatys = losses.make_style_loss("gram", LAYERS, None, DEFAULT.replace(gram_normalisation="gatys"))
    assert gatys.normalisation == "gatys"
    assert losses.make_style_loss("w2", LAYERS, None, DEFAULT).compute_dtype == tf.float64
    fast = losses.make_style_loss("w2", LAYERS, None, DEFAULT.replace(w2_compute_dtype="float32"))
    assert fast.compute_dtype == tf.float32
    assert losses.make_content_loss("features", None, None, DEFAULT).layers == (DEFAULT.content_layer,)


@pytest.mark.parametrize("call, message", [
    (lambda: losses.make_style_loss("wasserstein", None, None, DEFAULT), "Unknown style loss 'wasserstein'"),
    (lambda: losses.make_content_loss("pixels", None, None, DEFAULT), "Unknown content loss 'pixels'"),
    (lambda: losses.make_style_loss("w2", ("relu9_9",), None, DEFAULT), "Unknown VGG19 layer 'relu9_9'"),
    (lambda: losses.make_style_loss("w2", LAYERS, (1.0,), DEFAULT), "one layer weight per style layer"),
    (lambda: losses.W2Loss(LAYERS, (1.0, -1.0), normalise=False), "non-negative"),
    (lambda: losses.GramLoss(LAYERS, normalisation="l1", normalise=False), "Unknown Gram normalisation"),
    (lambda: losses.SlicedLoss(LAYERS, n_projections=0, normalise=False), "at least 1 projection"),
    (lambda: losses.StrotssLoss(LAYERS, alpha=0.0), "positive content weight"),
    (lambda: losses.make_content_loss("features", None, -1.0, DEFAULT), "non-negative"),
])
def test_bad_arguments_raise_one_clear_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_mixing_weights_raise():
    rng = np.random.default_rng(17)
    a = random_features(rng, 4, (2, 3))
    loss = losses.W2Loss(LAYERS, normalise=False)
    with pytest.raises(ValueError, match="one mixing weight per style image"):
        loss.prepare([a, a], None, [1.0])
    with pytest.raises(ValueError, match="not all be zero"):
        loss.prepare([a], None, [0.0])
    with pytest.raises(ValueError, match="At least one style image"):
        loss.prepare([], None, [])


def test_w2_on_the_vgg_with_random_weights_inside_tf_function():
    from ot_style.network.vgg import FeatureExtractor

    rng = np.random.default_rng(18)
    extractor = FeatureExtractor(("relu1_1", "relu3_1"), weights="random", seed=0)
    loss = losses.make_style_loss("w2", extractor.layers, None, DEFAULT)
    style = tf.constant(rng.uniform(size=(1, 32, 32, 3)), tf.float32)
    target = loss.prepare([extractor(style)], [style], [1.0])

    @tf.function
    def value_and_grad(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            value = loss(extractor(image), target, image)["style"]
        return value, tape.gradient(value, image)

    value, grad = value_and_grad(tf.constant(rng.uniform(size=(1, 32, 32, 3)), tf.float32))
    assert float(value) > 0 and np.all(np.isfinite(grad.numpy())) and float(tf.norm(grad)) > 0
    # relu3_1 at 32 px has 64 samples for 256 channels: rank-deficient, yet finite.
    self_value, _ = value_and_grad(style)
    # (A float32 eigendecomposition gave 13% of `value` here; the float64 one gives ~1e-8.)
    assert abs(float(self_value)) < 1e-6 * float(value)
