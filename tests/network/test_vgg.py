"""The TensorFlow VGG19 feature extractor (ot_style.network.vgg) against a hand-computed NumPy network.

Weights are tiny files written by the tests (tests/_weight_files.py) or seeded random ones; images are
at most 64 px.
"""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from tests.helpers.weight_files import (CAFFE_RGB_MEAN, conv_shapes, known_weights, reference_features, write_keras_h5,
                           write_matconvnet)
from ot_style.network import readers
from ot_style.network import weights as W
from ot_style.layers import VGG19_LAYERS, spatial_size
from ot_style.network.vgg import FeatureExtractor

BLOCK2 = ["conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1", "conv2_1", "relu2_1"]


@pytest.fixture(scope="module")
def small_net():
    return known_weights("conv2_2")


@pytest.fixture(scope="module")
def image():
    """A 12 x 10 RGB image whose three channels differ (so a channel swap changes everything)."""
    rng = np.random.default_rng(7)
    return rng.uniform(0.0, 1.0, (12, 10, 3)).astype(np.float32)


def _close(actual, expected, name):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = np.abs(expected).max() + 1e-12
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=2e-5, err_msg=name)


def test_numpy_reference_convolution_is_scipy_correlation():
    """The hand-written 3x3 SAME convolution equals scipy.signal.correlate2d channel by channel."""
    from scipy.signal import correlate2d

    from tests.helpers.weight_files import conv_same

    rng = np.random.default_rng(0)
    x, k, b = rng.normal(size=(6, 5, 2)), rng.normal(size=(3, 3, 2, 3)), rng.normal(size=3)
    ours = conv_same(x, k, b)
    for o in range(3):
        expected = sum(correlate2d(x[..., i], k[..., i, o], mode="same") for i in range(2)) + b[o]
        np.testing.assert_allclose(ours[..., o], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_keras_h5_forward_equals_hand_computed_network(tmp_path, small_net, image, pooling):
    kernels, biases = small_net
    path = write_keras_h5(tmp_path / "w.h5", kernels, biases)
    ex = FeatureExtractor(BLOCK2, weights=path, pooling=pooling)
    assert not ex.is_random and "Keras weights file" in ex.weights_source
    feats = ex(image[None])
    ref = reference_features(image, kernels, biases, order="BGR", mean_in_order=[103.939, 116.779, 123.68],
                             upto="relu2_1", pooling=pooling)
    for name in BLOCK2:
        assert feats[name].shape == (1,) + ref[name].shape, name
        _close(feats[name][0], ref[name], name)
    # pre-ReLU outputs really are pre-ReLU
    assert float(tf.reduce_min(feats["conv1_1"])) < 0.0
    np.testing.assert_array_equal(feats["relu1_1"], tf.nn.relu(feats["conv1_1"]))


def test_matconvnet_forward_is_rgb_with_the_files_mean(tmp_path, small_net, image, monkeypatch):
    kernels, biases = small_net
    average = np.array([120.0, 100.0, 80.0])
    path = write_matconvnet(tmp_path / "imagenet-vgg-verydeep-19.mat", kernels, biases, average)
    monkeypatch.setattr(W, "MATCONVNET_MD5", (readers.file_md5(path),))
    ex = FeatureExtractor(["conv1_1", "relu2_1"], weights=path)
    feats = ex(image[None])
    ref = reference_features(image, kernels, biases, order="RGB", mean_in_order=average, upto="relu2_1")
    _close(feats["conv1_1"][0], ref["conv1_1"], "conv1_1")
    _close(feats["relu2_1"][0], ref["relu2_1"], "relu2_1")


def test_same_network_as_mat_rgb_and_h5_bgr_gives_same_features(tmp_path, small_net, image, monkeypatch):
    """Caffe/Keras BGR and MatConvNet RGB conventions agree when the first kernel is channel-flipped."""
    kernels, biases = small_net
    mat = write_matconvnet(tmp_path / "n.mat", kernels, biases, CAFFE_RGB_MEAN)
    bgr_kernels = dict(kernels, conv1_1=kernels["conv1_1"][:, :, ::-1, :].copy())
    h5 = write_keras_h5(tmp_path / "n.h5", bgr_kernels, biases)
    a = FeatureExtractor("relu2_1", weights=mat, verify_checksum=False)(image[None])["relu2_1"]
    b = FeatureExtractor("relu2_1", weights=h5)(image[None])["relu2_1"]
    _close(a, b, "relu2_1")


def test_builds_only_up_to_the_deepest_requested_layer(tmp_path, small_net):
    kernels, biases = small_net  # the file stops at conv2_2: deeper layers must not be needed
    path = write_keras_h5(tmp_path / "short.h5", kernels, biases)
    ex = FeatureExtractor(["relu1_2", "conv2_1"], weights=path)
    assert ex.computed_layers == VGG19_LAYERS[: VGG19_LAYERS.index("conv2_1") + 1]
    assert [name for name in ex.computed_layers if name.startswith("conv")] == ["conv1_1", "conv1_2", "conv2_1"]
    assert set(ex(np.zeros((1, 8, 8, 3), np.float32))) == {"relu1_2", "conv2_1"}
    with pytest.raises(ValueError, match="no layer 'conv3_1'"):
        FeatureExtractor("relu3_1", weights=path)


@pytest.mark.parametrize("size", [(32, 32), (33, 47), (64, 40)])
def test_output_shapes_follow_the_layer_table(size):
    layers = ["conv1_1", "pool1", "relu2_2", "pool3", "relu4_1", "relu5_1"]
    ex = FeatureExtractor(layers, weights="random")
    images = np.random.default_rng(0).uniform(size=(2,) + size + (3,)).astype(np.float32)
    feats = ex(images)
    channels = {"conv1_1": 64, "pool1": 64, "relu2_2": 128, "pool3": 256, "relu4_1": 512, "relu5_1": 512}
    for name in layers:
        assert feats[name].shape == (2,) + spatial_size(*size, name) + (channels[name],), name
        assert feats[name].dtype == tf.float32


def test_input_gradient_is_finite_and_matches_finite_differences():
    ex = FeatureExtractor(["relu1_2", "relu5_1"], weights="random", seed=2)
    x = tf.constant(np.random.default_rng(1).uniform(size=(1, 32, 32, 3)), tf.float32)

    @tf.function
    def loss_and_grad(img):
        with tf.GradientTape() as tape:
            tape.watch(img)
            f = ex(img)
            loss = tf.reduce_mean(f["relu5_1"] ** 2) + 1e-4 * tf.reduce_mean(f["relu1_2"] ** 2)
        return loss, tape.gradient(loss, img)

    loss, grad = loss_and_grad(x)
    assert np.isfinite(grad.numpy()).all() and float(tf.reduce_max(tf.abs(grad))) > 0
    # directional derivative along a smooth direction vs a central difference (float32: loose tolerance)
    direction = tf.constant(np.random.default_rng(2).normal(size=(1, 32, 32, 3)), tf.float32)
    eps = 1e-3
    plus, _ = loss_and_grad(x + eps * direction)
    minus, _ = loss_and_grad(x - eps * direction)
    numeric = (float(plus) - float(minus)) / (2 * eps)
    analytic = float(tf.reduce_sum(grad * direction))
    assert abs(numeric - analytic) <= 2e-2 * abs(analytic)


@pytest.mark.parametrize("kernel_size,shape", [(3, (2, 13, 8, 5)), (3, (1, 7, 11, 4)), (5, (1, 9, 6, 3)),
                                               (2, (1, 6, 7, 3))])
def test_convolution_gradient_as_a_forward_convolution_equals_tensorflows(kernel_size, shape):
    """The adjoint (flipped, channel-swapped kernel) is exact for odd kernels of any image size, in float64."""
    from ot_style.network.vgg import conv_with_forward_gradient

    rng = np.random.default_rng(kernel_size)
    kernel = tf.constant(rng.normal(size=(kernel_size, kernel_size, shape[-1], 6)))
    bias = tf.constant(rng.normal(size=6))
    x = tf.constant(rng.normal(size=shape))
    upstream = tf.constant(rng.normal(size=shape[:-1] + (6,)))
    conv = conv_with_forward_gradient(kernel, bias)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = conv(x)
        theirs = tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(tape.gradient(ours, x, upstream).numpy(),
                               tape.gradient(theirs, x, upstream).numpy(), rtol=0, atol=1e-11)


@pytest.mark.parametrize("shape", [(2, 8, 6, 3), (1, 7, 9, 4), (1, 5, 4, 2)])
def test_max_pool_gradient_equals_tensorflows_and_shares_ties(shape):
    """Unique maxima: TensorFlow's MaxPoolGrad exactly, odd sides included, static or unknown shape.
    Ties: the window's gradient is shared equally by the positions holding the maximum."""
    from ot_style.network.vgg import max_pool_2x2

    rng = np.random.default_rng(sum(shape))
    x = tf.constant(rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64))  # no ties
    upstream = tf.constant(rng.normal(size=(shape[0], shape[1] // 2, shape[2] // 2, shape[3])))
    relaxed = tf.function(lambda v: max_pool_2x2(v),
                          input_signature=[tf.TensorSpec([None, None, None, shape[3]], tf.float64)])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours, traced = max_pool_2x2(x), relaxed(x)
        theirs = tf.nn.max_pool2d(x, 2, 2, "VALID")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    want = tape.gradient(theirs, x, upstream).numpy()
    np.testing.assert_array_equal(tape.gradient(ours, x, upstream).numpy(), want)
    np.testing.assert_array_equal(tape.gradient(traced, x, upstream).numpy(), want)

    tied = tf.constant(np.array([[5.0, 5.0, 1.0, 2.0], [0.0, 5.0, 3.0, 3.0]]).reshape(1, 2, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(tied)
        pooled = max_pool_2x2(tied)
    grad = tape.gradient(pooled, tied, tf.constant([[[[3.0], [-2.0]]]], tf.float64)).numpy()
    np.testing.assert_allclose(grad.reshape(2, 4), [[1.0, 1.0, 0.0, 0.0], [0.0, 1.0, -1.0, -1.0]])


def test_random_weights_deterministic_per_seed():
    x = np.random.default_rng(3).uniform(size=(1, 32, 32, 3)).astype(np.float32)
    a = FeatureExtractor("relu3_1", weights="random", seed=5)
    b = FeatureExtractor("relu3_1", weights="random", seed=5)
    c = FeatureExtractor("relu3_1", weights="random", seed=6)
    np.testing.assert_array_equal(a(x)["relu3_1"], b(x)["relu3_1"])
    assert not np.allclose(a(x)["relu3_1"], c(x)["relu3_1"])
    assert a.is_random and "seed 5" in a.weights_source and "RANDOM" in a.weights_source


def test_auto_with_nothing_on_disk_warns_and_uses_random(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / ".keras"))
    monkeypatch.delenv("OT_STYLE_WEIGHTS", raising=False)
    with pytest.warns(UserWarning, match="ot-style weights download"):
        ex = FeatureExtractor("relu1_1")
    assert ex.is_random and ex.weights_source.startswith("RANDOM")


def test_traced_once_for_any_size_inside_tf_function():
    ex = FeatureExtractor("relu2_1", weights="random")
    fn = tf.function(ex, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    for h, w in [(16, 16), (20, 36)]:
        assert fn(tf.zeros((1, h, w, 3)))["relu2_1"].shape == (1, h // 2, w // 2, 128)
    assert fn.experimental_get_tracing_count() == 1


def test_errors_a_learner_understands():
    with pytest.raises(ValueError, match=r"Unknown VGG19 layer 'relu6_1'; valid layers are: conv1_1, relu1_1"):
        FeatureExtractor(["relu1_1", "relu6_1"], weights="random")
    with pytest.raises(ValueError, match="pooling must be 'max' or 'avg'"):
        FeatureExtractor("relu1_1", weights="random", pooling="mean")
    ex = FeatureExtractor("relu5_1", weights="random")
    assert ex.min_image_size == 16
    with pytest.raises(ValueError, match=r"too small for layer relu5_1: it needs at least 16 pixels"):
        ex(np.zeros((1, 15, 40, 3), np.float32))
    assert ex(np.zeros((1, 16, 16, 3), np.float32))["relu5_1"].shape == (1, 1, 1, 512)
    with pytest.raises(ValueError, match=r"shape \(batch, height, width, 3\)"):
        ex(np.zeros((16, 16, 3), np.float32))
    assert conv_shapes("conv1_2")["conv1_2"] == (3, 3, 64, 64)
