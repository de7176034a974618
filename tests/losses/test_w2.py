"""The W2 style loss (eq. 3) and its TensorFlow building blocks (ot_style.losses.w2).

Against ot_style.maths.gaussian / ot_style.maths.moments, autodiff and finite differences, on random
features fed directly (no VGG), mostly in float64.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.helpers.loss_checks import LAYERS, check_directional_derivatives, evaluate, flat, gradient, random_features  # noqa: E402

import ot_style.losses as losses  # noqa: E402
from ot_style.maths import gaussian, moments  # noqa: E402


@pytest.fixture(params=["host", "graph"])
def route(request):
    """Both routes of the per-step matrix work: NumPy on the host (a CPU's default) and TF ops (a GPU's)."""
    with losses.matrix_route(request.param):
        yield request.param


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


@pytest.mark.usefixtures("route")
@pytest.mark.parametrize("h, channels", [(8, (3, 4)), (6, (12, 20)), (4, (30, 40))],
                         ids=["full-rank", "n<c at layer 2", "n<c at both"])
def test_w2_matches_gaussian_w2(h, channels):
    rng = np.random.default_rng(h)
    style, image = random_features(rng, h, channels), random_features(rng, h + 2, channels)
    loss = losses.W2Loss(LAYERS, (0.7, 1.3), normalise=False)
    target = loss.prepare([style], None, [1.0])
    assert evaluate(loss, image, target) == pytest.approx(reference_w2(image, style, (0.7, 1.3)), rel=1e-5)
    per_layer = losses.W2Loss(LAYERS, per_layer=True, normalise=False)(image, target)
    assert set(per_layer) == {"style/relu1_1", "style/relu2_1"}


@pytest.mark.usefixtures("route")
def test_w2_float32_close_to_reference_and_zero_at_the_style():
    rng = np.random.default_rng(5)
    style, image = random_features(rng, 8, (16, 24)), random_features(rng, 8, (16, 24))
    loss = losses.W2Loss(LAYERS, normalise=False)
    f32 = lambda d: {k: tf.cast(v, tf.float32) for k, v in d.items()}  # noqa: E731
    target = loss.prepare([f32(style)], None, [1.0])
    # The targets and the eigendecomposition are float64; the loss comes back in the features' dtype.
    assert target["relu1_1"][0].dtype == tf.float64
    assert loss(f32(image), target)["style"].dtype == tf.float32
    assert evaluate(loss, f32(image), target) == pytest.approx(reference_w2(image, style), rel=1e-5)
    # At the style itself W2^2 is 0 up to float32 rounding of the features' covariance.
    scale = sum(float(np.trace(moments.feature_moments(flat(style[k])).cov)) for k in LAYERS)
    assert abs(evaluate(loss, f32(style), target)) < 1e-6 * scale


@pytest.mark.usefixtures("route")
def test_w2_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    style, image = random_features(rng, 6, (3, 4)), random_features(rng, 8, (3, 4))
    loss = losses.W2Loss(LAYERS, (1.0, 0.5), normalise=False)
    check_directional_derivatives(loss, image, loss.prepare([style], None, [1.0]))


@pytest.mark.usefixtures("route")
def test_w2_gradient_at_repeated_eigenvalues():
    # Image and style covariances both exactly the identity: S^1/2 C S^1/2 = I has one eigenvalue
    # repeated c times, where the gradient of eigh itself would divide by zero.
    c, n = 4, 8
    # Orthonormal columns orthogonal to the constant vector: centred, with cloud^T cloud = I.
    cloud = np.linalg.qr(np.vstack([np.ones(n), np.random.default_rng(4).standard_normal((c, n))]).T)[0][:, 1:]
    cloud *= np.sqrt(n - 1.0)
    np.testing.assert_allclose(np.cov(cloud.T), np.eye(c), atol=1e-12)
    features = {"relu1_1": tf.constant(cloud.reshape(1, 2, 4, c))}
    loss = losses.W2Loss(("relu1_1",), normalise=False)
    target = loss.prepare([{"relu1_1": tf.constant(cloud[::-1].reshape(1, 2, 4, c) + 1.0)}], None, [1.0])
    assert evaluate(loss, features, target) == pytest.approx(c, rel=1e-10)  # only the mean shift
    check_directional_derivatives(loss, features, target)


@pytest.mark.usefixtures("route")
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
    loss = losses.W2Loss(("relu1_1",), normalise=False)
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
    loss32 = losses.W2Loss(("relu1_1",), normalise=False)
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


@pytest.mark.usefixtures("route")
def test_w2_few_samples_path_equals_the_covariance_path():
    # n < c goes through an n x n eigendecomposition; it must give the same value and gradient as
    # w2_squared_to_target on the c x c covariance (the building block guidance.py reuses).
    rng = np.random.default_rng(19)
    style = {"relu1_1": tf.constant(rng.standard_normal((1, 6, 6, 20)))}
    x = tf.constant(rng.standard_normal((10, 20)) + 1.0)
    loss = losses.W2Loss(("relu1_1",), normalise=False)
    prepared = loss.prepare([style], None, [1.0])
    target = prepared["relu1_1"]
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
    check_directional_derivatives(loss, {"relu1_1": tf.reshape(x, (1, 2, 5, 20))}, prepared)


def test_w2_chooses_its_path_at_run_time_when_the_sample_count_is_unknown():
    # A caller's graph traced for any image size: W2Loss then decides between the n x n and c x c paths
    # in the graph. Both sides of that choice must give the reference.
    rng = np.random.default_rng(23)
    loss = losses.W2Loss(("relu1_1",), normalise=False)
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


@pytest.mark.parametrize("dtype, compute_dtype", [(np.float64, "features"), (np.float32, "features"),
                                                  (np.float32, "float64")],
                         ids=["float64", "float32", "float32 features, float64 targets (the engine)"])
def test_host_route_equals_the_graph_route(dtype, compute_dtype):
    # The NumPy route (a CPU's default) against the TF-ops route (a GPU's), value and gradient, for the
    # c x c path (n >= c) and the n x n path (n < c), eagerly and inside tf.function; BLAS threads restored.
    from threadpoolctl import threadpool_info

    rng = np.random.default_rng(29)
    loss = losses.W2Loss(("relu1_1",), compute_dtype=compute_dtype, normalise=False)
    style = {"relu1_1": tf.constant(rng.standard_normal((1, 6, 6, 16)) + 1.0, dtype)}
    target = loss.prepare([style], None, [1.0])["relu1_1"]
    blas_threads = [pool["num_threads"] for pool in threadpool_info()]

    def value_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = loss.score(x, target)
        return value, tape.gradient(value, x)

    for n in (40, 9):
        x = tf.constant(rng.standard_normal((n, 16)) * rng.uniform(0.3, 2.0, 16) + 0.5, dtype)
        results = {}
        for route in ("host", "graph"):
            with losses.matrix_route(route):
                results[route] = [value_and_gradient(x), tf.function(value_and_gradient)(x)]
        # For n < c the n x n kernel has a null direction (the centred samples sum to 0) whose slope is
        # capped at a large value, which amplifies the eigenvectors' rounding (LAPACK's and Eigen's
        # differ): both routes are ~2e-9 from the exact gradient there in float64 (the cap is lower in
        # float32, where features and eigendecomposition are float32 here, not as the engine runs them).
        if dtype == np.float64:
            rtol, gtol = 1e-12, (1e-10 if n > 16 else 1e-7)
        elif compute_dtype == "features":
            rtol, gtol = 2e-6, (1e-5 if n > 16 else 1e-3)
        else:
            rtol, gtol = 1e-6, 1e-5
        for (v_host, g_host), (v_graph, g_graph) in zip(results["host"], results["graph"]):
            assert v_host.dtype == dtype and g_host.shape == x.shape
            assert float(v_host) == pytest.approx(float(v_graph), rel=rtol)
            assert np.linalg.norm(g_host.numpy() - g_graph.numpy()) <= gtol * np.linalg.norm(g_graph.numpy())
    assert [pool["num_threads"] for pool in threadpool_info()] == blas_threads  # the limit was lifted


def test_host_route_gives_nan_for_a_diverged_image():
    # As tf.linalg.eigh would: a NaN in the image's features gives a NaN loss and gradient, not an error.
    from ot_style.losses import _w2_host

    rng = np.random.default_rng(31)
    a = rng.standard_normal((20, 8))
    cov = a.T @ a
    cov[2, 3] = cov[3, 2] = np.nan
    value, grad = _w2_host.host_sandwich(cov, np.eye(8), 1e-12, 1e-20)
    assert np.isnan(value) and np.isnan(grad).all() and grad.shape == (8, 8)
    d = rng.standard_normal((5, 8))
    d[2, 3] = np.nan
    value, grad = _w2_host.host_kernel(d, np.eye(8), 4.0, 1e-12, 1e-20)
    assert np.isnan(value) and np.isnan(grad).all() and grad.shape == (5, 8)
    features = rng.standard_normal((20, 8))
    features[2, 3] = np.nan
    loss = losses.W2Loss(("relu1_1",), normalise=False)
    target = loss.prepare([{"relu1_1": tf.constant(rng.standard_normal((1, 4, 4, 8)))}], None, [1.0])["relu1_1"]
    with tf.GradientTape() as tape:  # and through the loss, both paths (20 and 5 samples of 8 channels)
        x = tf.constant(features)
        tape.watch(x)
        value = loss.score(x, target) + loss.score(x[:5], target)
    assert np.isnan(float(value)) and np.isnan(tape.gradient(value, x).numpy()).all()


def test_host_work_runs_one_at_a_time_on_one_blas_thread():
    # Host W2 work from two threads (TF's inter-op threads) runs one after the other, each on one BLAS
    # thread; afterwards the BLAS thread counts found before are back, and another thread (here the main
    # one) can still set its own limit (threadpoolctl ignores a thread other than the one in control).
    import threading

    from threadpoolctl import ThreadpoolController, threadpool_info

    from ot_style.losses._w2_host import host_blas

    def counts():  # the BLAS the host work calls: NumPy's and SciPy's (other libraries, e.g. PyTorch's, may be loaded)
        return [pool["num_threads"] for pool in threadpool_info()
                if pool["user_api"] == "blas" and ("numpy" in pool["filepath"] or "scipy" in pool["filepath"])]

    before = counts()
    log, inside = [], threading.Event()

    def work(name):
        with host_blas():
            log.append((name, "in", counts()))
            inside.set()
            threading.Event().wait(0.2)
            log.append((name, "out"))

    first = threading.Thread(target=work, args=("first",))
    first.start()
    inside.wait(10)
    second = threading.Thread(target=work, args=("second",))
    second.start()
    first.join(10)
    second.join(10)
    assert [entry[:2] for entry in log] == [("first", "in"), ("first", "out"), ("second", "in"), ("second", "out")]
    assert log[0][2] == log[2][2] == [1] * len(before)
    assert counts() == before
    assert before
    with ThreadpoolController().limit(limits=1, user_api="blas"):
        assert counts() == [1] * len(before)
    assert counts() == before


def test_w2_mixing():
    rng = np.random.default_rng(8)
    a, b = random_features(rng, 6, (3, 4)), random_features(rng, 8, (3, 4))
    loss = losses.W2Loss(LAYERS, normalise=False)
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
