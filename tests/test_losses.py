"""The TensorFlow losses against their NumPy references, finite differences and POT.

Features are random tensors fed directly (no VGG), mostly in float64 so that the references can be
matched tightly and central finite differences are accurate.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from ot_style import gaussian, losses, moments  # noqa: E402
from ot_style.config import DEFAULT  # noqa: E402
from ot_style.losses_strotss import (cosine_cost, hypercolumns, sample_bilinear,  # noqa: E402
                                     self_similarity)

LAYERS = ("relu1_1", "relu2_1")


def random_features(rng, h=6, channels=(5, 7), dtype=np.float64, layers=LAYERS, relu=False):
    """A feature dict layer -> (1, h_l, w_l, c) with the second layer at half resolution."""
    out = {}
    for i, (layer, c) in enumerate(zip(layers, channels)):
        side = max(1, h // (2**i))
        x = rng.standard_normal((1, side, side, c)) + rng.standard_normal(c)
        out[layer] = tf.constant(np.maximum(x, 0) if relu else x, dtype=dtype)
    return out


def evaluate(loss, features, target, image=None):
    return float(tf.add_n(list(loss(features, target, image).values())))


def gradient(loss, features, target, image=None):
    names = sorted(features)
    tensors = [features[k] for k in names]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        if image is not None:
            tape.watch(image)
        value = tf.add_n(list(loss(dict(zip(names, tensors)), target, image).values()))
    grads = tape.gradient(value, tensors + ([image] if image is not None else []))
    return dict(zip(names + (["image"] if image is not None else []), grads))


def check_directional_derivatives(loss, features, target, image=None, *, seed=0, h=1e-6, rtol=1e-5,
                                  directions=3):
    """<grad, v> against the central difference (L(x + h v) - L(x - h v)) / 2h, float64."""
    rng = np.random.default_rng(seed)
    grads = gradient(loss, features, target, image)
    for _ in range(directions):
        step = {k: rng.standard_normal(v.shape) for k, v in grads.items()}
        analytic = sum(float(np.sum(grads[k].numpy() * step[k])) for k in grads)

        def shifted(sign):
            f = {k: v + sign * h * step[k] for k, v in features.items()}
            img = None if image is None else image + sign * h * step["image"]
            return evaluate(loss, f, target, img)

        numeric = (shifted(1.0) - shifted(-1.0)) / (2 * h)
        assert analytic == pytest.approx(numeric, rel=rtol, abs=rtol * 1e-3 * max(1.0, abs(numeric)))


def flat(x):
    x = np.asarray(x, dtype=np.float64)
    return x.reshape(-1, x.shape[-1])


# ---------------------------------------------------------------- moments and the Gaussian W2

def test_tf_moments_match_feature_moments_and_masked_moments():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 6)) * rng.uniform(0.1, 3, 6)
    mean, cov = losses.tf_moments(tf.constant(x))
    ref = moments.feature_moments(x)
    np.testing.assert_allclose(mean.numpy(), ref.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cov.numpy(), ref.cov, rtol=1e-12, atol=1e-14)
    w = rng.uniform(0, 1, 40) * (rng.uniform(size=40) > 0.3)
    mean, cov = losses.tf_moments(tf.constant(x), tf.constant(w))
    ref = moments.masked_moments(x, w)
    np.testing.assert_allclose(mean.numpy(), ref.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(cov.numpy(), ref.cov, rtol=1e-11, atol=1e-13)


def test_tf_moments_gradient_is_the_gradient_of_eq_1():
    # tf_moments' hand-written gradient against autodiff of the plain formula, in float64, for an
    # upstream on both outputs and on each alone; and a central difference along one direction.
    rng = np.random.default_rng(5)
    x = tf.constant(rng.standard_normal((30, 7)) * rng.uniform(0.2, 2, 7) + 1.0)
    g_mean, g_cov = tf.constant(rng.standard_normal(7)), tf.constant(rng.standard_normal((7, 7)))

    def plain(x):
        mean = tf.reduce_mean(x, axis=0)
        return mean, tf.matmul(x - mean, x - mean, transpose_a=True) / 29.0

    def objectives(moments_of):
        return (lambda v: tf.reduce_sum(moments_of(v)[0] * g_mean) + tf.reduce_sum(moments_of(v)[1] * g_cov),
                lambda v: tf.reduce_sum(moments_of(v)[0] * g_mean),
                lambda v: tf.reduce_sum(moments_of(v)[1] * g_cov))

    for ours, theirs in zip(objectives(losses.tf_moments), objectives(plain)):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            a, b = ours(x), theirs(x)
        np.testing.assert_allclose(tape.gradient(a, x).numpy(), tape.gradient(b, x).numpy(), rtol=1e-12, atol=1e-12)
    full = objectives(losses.tf_moments)[0]
    direction = tf.constant(rng.standard_normal((30, 7)))
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = full(x)
    analytic = float(tf.reduce_sum(tape.gradient(value, x) * direction))
    numeric = (float(full(x + 1e-6 * direction)) - float(full(x - 1e-6 * direction))) / 2e-6
    assert analytic == pytest.approx(numeric, rel=1e-7)


def reference_w2(features, style, layer_weights=(1.0, 1.0)):
    return sum(w * gaussian.gaussian_w2(*moments.feature_moments(flat(features[k])),
                                        *moments.feature_moments(flat(style[k])), squared=True)
               for k, w in zip(LAYERS, layer_weights))


@pytest.mark.parametrize("h, channels", [(8, (3, 4)), (6, (12, 20)), (4, (30, 40))],
                         ids=["full-rank", "n<c at layer 2", "n<c at both"])
def test_w2_matches_gaussian_w2(h, channels):
    rng = np.random.default_rng(h)
    style, image = random_features(rng, h, channels), random_features(rng, h + 2, channels)
    loss = losses.W2Loss(LAYERS, (0.7, 1.3))
    target = loss.prepare([style], None, [1.0])
    assert evaluate(loss, image, target) == pytest.approx(reference_w2(image, style, (0.7, 1.3)), rel=1e-5)
    per_layer = losses.W2Loss(LAYERS, per_layer=True)(image, target)
    assert set(per_layer) == {"style/relu1_1", "style/relu2_1"}


def test_w2_float32_close_to_reference_and_zero_at_the_style():
    rng = np.random.default_rng(5)
    style, image = random_features(rng, 8, (16, 24)), random_features(rng, 8, (16, 24))
    loss = losses.W2Loss(LAYERS)
    f32 = lambda d: {k: tf.cast(v, tf.float32) for k, v in d.items()}  # noqa: E731
    target = loss.prepare([f32(style)], None, [1.0])
    # The targets and the eigendecomposition are float64; the loss comes back in the features' dtype.
    assert target["relu1_1"][0].dtype == tf.float64
    assert loss(f32(image), target)["style"].dtype == tf.float32
    assert evaluate(loss, f32(image), target) == pytest.approx(reference_w2(image, style), rel=1e-5)
    # At the style itself W2^2 is 0 up to float32 rounding of the features' covariance.
    scale = sum(float(np.trace(moments.feature_moments(flat(style[k])).cov)) for k in LAYERS)
    assert abs(evaluate(loss, f32(style), target)) < 1e-6 * scale


def test_w2_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 8, (3, 4))
    loss = losses.W2Loss(LAYERS, (1.0, 0.5))
    check_directional_derivatives(loss, image, loss.prepare([style], None, [1.0]))


def test_w2_gradient_at_repeated_eigenvalues():
    # Image and style covariances both exactly the identity: S^1/2 C S^1/2 = I has one eigenvalue
    # repeated c times, where the gradient of eigh itself would divide by zero.
    c, n = 4, 8
    # Orthonormal columns orthogonal to the constant vector: centred, with cloud^T cloud = I.
    cloud = np.linalg.qr(np.vstack([np.ones(n), np.random.default_rng(4).standard_normal((c, n))]).T)[0][:, 1:]
    cloud *= np.sqrt(n - 1.0)
    np.testing.assert_allclose(np.cov(cloud.T), np.eye(c), atol=1e-12)
    features = {"relu1_1": tf.constant(cloud.reshape(1, 2, 4, c))}
    loss = losses.W2Loss(("relu1_1",))
    target = loss.prepare([{"relu1_1": tf.constant(cloud[::-1].reshape(1, 2, 4, c) + 1.0)}], None, [1.0])
    assert evaluate(loss, features, target) == pytest.approx(c, rel=1e-10)  # only the mean shift
    check_directional_derivatives(loss, features, target)


@pytest.mark.parametrize("case", ["n<c", "duplicated channels", "dead channels", "constant image"])
def test_w2_finite_and_useful_at_rank_deficient_covariances(case):
    rng = np.random.default_rng(7)
    c = 24
    style = {"relu1_1": tf.constant(rng.standard_normal((1, 8, 8, c)))}
    x = rng.standard_normal((1, 6, 6, c))
    if case == "n<c":
        x = x[:, :3, :3]  # 9 samples for 24 channels, like relu5_1 at 256 px
    elif case == "duplicated channels":
        x[..., 12:] = x[..., :12]
    elif case == "dead channels":
        x[..., ::3] = 0.0
    else:
        x = np.zeros_like(x) + 0.5
    image = {"relu1_1": tf.constant(x)}
    loss = losses.W2Loss(("relu1_1",))
    target = loss.prepare([style], None, [1.0])
    value = evaluate(loss, image, target)
    ref = gaussian.gaussian_w2(*moments.feature_moments(flat(x)),
                               *moments.feature_moments(flat(style["relu1_1"])), squared=True)
    assert value == pytest.approx(ref, rel=1e-5)
    grad = gradient(loss, image, target)["relu1_1"].numpy()
    assert np.all(np.isfinite(grad))
    if case != "constant image":  # (a constant image has a zero gradient through its covariance)
        assert np.linalg.norm(grad) > 0
        # A small step down the gradient lowers the loss: the capped slope still points the right way.
        step = 1e-3 * np.linalg.norm(x) / np.linalg.norm(grad)
        assert evaluate(loss, {"relu1_1": tf.constant(x - step * grad)}, target) < value
    # float32 as the engine runs it, inside tf.function.
    loss32 = losses.W2Loss(("relu1_1",))
    target32 = loss32.prepare([{"relu1_1": tf.cast(style["relu1_1"], tf.float32)}], None, [1.0])

    @tf.function
    def value_and_grad(f):
        with tf.GradientTape() as tape:
            tape.watch(f)
            v = loss32({"relu1_1": f}, target32)["style"]
        return v, tape.gradient(v, f)

    v32, g32 = value_and_grad(tf.constant(x, tf.float32))
    assert np.isfinite(v32.numpy()) and np.all(np.isfinite(g32.numpy()))
    # Against the same (float32-rounded) features in float64: rank deficiency leaves sqrt(eps32)-level
    # rounding in the value, and the slope cap keeps the gradient within 1e-3.
    x32 = x.astype(np.float32).astype(np.float64)
    grad64 = gradient(loss, {"relu1_1": tf.constant(x32)}, target)["relu1_1"].numpy()
    assert float(v32) == pytest.approx(evaluate(loss, {"relu1_1": tf.constant(x32)}, target), rel=1e-3)
    assert np.linalg.norm(g32.numpy() - grad64) <= 1e-3 * max(np.linalg.norm(grad64), 1e-12)


def test_w2_few_samples_path_equals_the_covariance_path():
    # n < c goes through an n x n eigendecomposition; it must give the same value and gradient as
    # w2_squared_to_target on the c x c covariance (the building block guidance.py reuses).
    rng = np.random.default_rng(19)
    style = {"relu1_1": tf.constant(rng.standard_normal((1, 6, 6, 20)))}
    x = tf.constant(rng.standard_normal((10, 20)) + 1.0)
    loss = losses.W2Loss(("relu1_1",))
    target = loss.prepare([style], None, [1.0])["relu1_1"]
    for dtype in (tf.float64, tf.float32):
        xd = tf.cast(x, dtype)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(xd)
            few = loss.score(xd, target)
            full = losses.w2_squared_to_target(*losses.tf_moments(xd), *target)
        assert few.dtype == dtype and full.dtype == dtype
        tol, gtol = (1e-10, 1e-6) if dtype == tf.float64 else (1e-4, 1e-3)
        assert float(few) == pytest.approx(float(full), rel=tol)
        # (the c x c path leaks a little rounding through its capped null-space slopes: ~3e-8)
        g_few, g_full = tape.gradient(few, xd).numpy(), tape.gradient(full, xd).numpy()
        assert np.linalg.norm(g_few - g_full) <= gtol * np.linalg.norm(g_full)
    check_directional_derivatives(loss, {"relu1_1": tf.reshape(x, (1, 2, 5, 20))}, {"relu1_1": target})


@pytest.mark.parametrize("lapack_from", [8, 384])
def test_w2_chooses_its_path_at_run_time_when_the_sample_count_is_unknown(lapack_from, monkeypatch):
    # The engine's graph is relaxed to unknown image sizes after its second scale: W2Loss then decides
    # between the n x n and c x c paths in the graph. Both sides of that choice must give the reference,
    # with the 12 x 12 eigendecomposition through LAPACK (lapack_from=8) or through TensorFlow.
    from ot_style import tf_gaussian

    monkeypatch.setattr(tf_gaussian, "_LAPACK_FROM", lapack_from)
    rng = np.random.default_rng(23)
    loss = losses.W2Loss(("relu1_1",))
    target = loss.prepare([{"relu1_1": tf.constant(rng.standard_normal((1, 5, 5, 12)))}], None, [1.0])["relu1_1"]

    @tf.function(input_signature=[tf.TensorSpec((None, 12), tf.float64)])
    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss.score(x, target)
        return value, tape.gradient(value, x)

    for n in (7, 30):  # fewer and more samples than channels
        x = rng.standard_normal((n, 12)) + 0.5
        value, grad = value_and_gradient(tf.constant(x))
        mean, cov = moments.feature_moments(x)
        want = gaussian.gaussian_w2(mean, cov, target[0].numpy(), target[1].numpy(), squared=True)
        assert float(value) == pytest.approx(want, rel=1e-9)
        with tf.GradientTape() as tape:  # eager, static shape: the path chosen in Python
            xt = tf.constant(x)
            tape.watch(xt)
            static = loss.score(xt, target)
        np.testing.assert_allclose(grad.numpy(), tape.gradient(static, xt).numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eigendecomposition_in_and_out_of_a_graph_is_lapacks(dtype, monkeypatch):
    from threadpoolctl import threadpool_info

    from ot_style import tf_gaussian
    from ot_style.tf_gaussian import _eigh

    rng = np.random.default_rng(4)
    a = rng.standard_normal((40, 30))
    mat = (a.T @ a).astype(dtype)
    monkeypatch.setattr(tf_gaussian, "_LAPACK_FROM", 16)  # 30 x 30 goes through LAPACK
    blas_threads = [pool["num_threads"] for pool in threadpool_info()]
    want_lam, want_vec = np.linalg.eigh(mat)
    for lam, vec in (_eigh(tf.constant(mat)), tf.function(_eigh)(tf.constant(mat))):
        assert lam.dtype == vec.dtype == dtype and lam.shape == (30,) and vec.shape == (30, 30)
        np.testing.assert_array_equal(lam.numpy(), want_lam)
        np.testing.assert_array_equal(np.abs(vec.numpy()), np.abs(want_vec))
    assert [pool["num_threads"] for pool in threadpool_info()] == blas_threads  # the limit was lifted
    mat[3, 4] = mat[4, 3] = np.nan
    assert np.isnan(_eigh(tf.constant(mat))[0].numpy()).all()


def test_w2_mixing():
    rng = np.random.default_rng(8)
    a, b = random_features(rng, 6, (3, 4)), random_features(rng, 8, (3, 4))
    loss = losses.W2Loss(LAYERS)
    single = loss.prepare([a], None, [1.0])
    for mixed in (loss.prepare([a], None, None), loss.prepare([a, b], None, [1.0, 0.0]),
                  loss.prepare([a, a], None, [0.3, 0.7])):
        for k in LAYERS:
            for got, want in zip(mixed[k], single[k]):
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-7, atol=1e-9)
    mixed = loss.prepare([a, b], None, [1.0, 3.0])
    for k in LAYERS:
        ga, gb = moments.feature_moments(flat(a[k])), moments.feature_moments(flat(b[k]))
        mean, cov = gaussian.gaussian_barycenter([ga.mean, gb.mean], [ga.cov, gb.cov], [0.25, 0.75])
        np.testing.assert_allclose(mixed[k][0].numpy(), mean, rtol=1e-10)
        np.testing.assert_allclose(mixed[k][1].numpy(), cov, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(mixed[k][2].numpy() @ mixed[k][2].numpy(), cov, rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------- Gram and moments

def test_gram_matches_gatys_formulas():
    rng = np.random.default_rng(9)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 6, (3, 4))
    loss = losses.GramLoss(LAYERS)
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
    gatys = losses.GramLoss(LAYERS, normalisation="gatys")
    want = 0.0
    for k in LAYERS:
        f, s = flat(image[k]), flat(style[k])
        want += np.sum((f.T @ f - s.T @ s)**2) / (4.0 * f.shape[1]**2 * f.shape[0]**2)
    assert evaluate(gatys, image, gatys.prepare([style], None, [1.0])) == pytest.approx(want, rel=1e-12)
    check_directional_derivatives(loss, image, target)


def test_moments_matches_strotss_formula():
    rng = np.random.default_rng(10)
    a, b, image = (random_features(rng, 6, (3, 4)) for _ in range(3))
    loss = losses.MomentsLoss(LAYERS, (2.0, 1.0))
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


# ---------------------------------------------------------------- sliced

def test_sliced_matches_pot_with_the_same_projections():
    import ot

    rng = np.random.default_rng(11)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 6, (3, 4))
    loss = losses.SlicedLoss(LAYERS, n_projections=10)
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
    loss = losses.SlicedLoss(LAYERS, n_projections=7)
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
    feat = losses.make_content_loss("features", "relu2_1", 0.5, DEFAULT)
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
    obj = losses.W2Loss(LAYERS)
    assert losses.make_style_loss(obj, None, None, DEFAULT) is obj
    assert losses.make_style_loss("sliced", LAYERS, None, DEFAULT.replace(sliced_projections=5)).n_projections == 5
    gatys = losses.make_style_loss("gram", LAYERS, None, DEFAULT.replace(extra={"gram_normalisation": "gatys"}))
    assert gatys.normalisation == "gatys"
    assert losses.make_style_loss("w2", LAYERS, None, DEFAULT).compute_dtype == tf.float64
    fast = losses.make_style_loss("w2", LAYERS, None, DEFAULT.replace(extra={"w2_compute_dtype": "float32"}))
    assert fast.compute_dtype == tf.float32
    assert losses.make_content_loss("features", None, None, DEFAULT).layers == (DEFAULT.content_layer,)


@pytest.mark.parametrize("call, message", [
    (lambda: losses.make_style_loss("wasserstein", None, None, DEFAULT), "Unknown style loss 'wasserstein'"),
    (lambda: losses.make_content_loss("pixels", None, None, DEFAULT), "Unknown content loss 'pixels'"),
    (lambda: losses.make_style_loss("w2", ("relu9_9",), None, DEFAULT), "Unknown VGG19 layer 'relu9_9'"),
    (lambda: losses.make_style_loss("w2", LAYERS, (1.0,), DEFAULT), "one layer weight per layer"),
    (lambda: losses.W2Loss(LAYERS, (1.0, -1.0)), "non-negative"),
    (lambda: losses.GramLoss(LAYERS, normalisation="l1"), "Unknown Gram normalisation"),
    (lambda: losses.SlicedLoss(LAYERS, n_projections=0), "at least 1 projection"),
    (lambda: losses.StrotssLoss(LAYERS, alpha=0.0), "positive content weight"),
    (lambda: losses.make_content_loss("features", None, -1.0, DEFAULT), "non-negative"),
])
def test_bad_arguments_raise_one_clear_sentence(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_mixing_weights_raise():
    rng = np.random.default_rng(17)
    a = random_features(rng, 4, (2, 3))
    loss = losses.W2Loss(LAYERS)
    with pytest.raises(ValueError, match="one mixing weight per style image"):
        loss.prepare([a, a], None, [1.0])
    with pytest.raises(ValueError, match="not all zero"):
        loss.prepare([a], None, [0.0])
    with pytest.raises(ValueError, match="At least one style image"):
        loss.prepare([], None, [])


def test_w2_on_the_vgg_with_random_weights_inside_tf_function():
    from ot_style.vgg import FeatureExtractor

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
