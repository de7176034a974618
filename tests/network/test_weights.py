"""Weight sources (ot_style.network.weights): where weights come from, reading both file layouts, checksums, errors.

No TensorFlow here except the Keras 3 round trip; files are written by the tests (tests/_weight_files.py).
"""

import hashlib
import pathlib

import numpy as np
import pytest

from tests.helpers.weight_files import (CAFFE_RGB_MEAN, CONVS, conv_shapes, known_weights, write_keras_h5,
                           write_matconvnet)
from ot_style.network import readers
from ot_style.network import weights as W


@pytest.fixture(scope="module")
def full_net():
    """Known weights for all 16 conv layers (80 MB as float32), generated once."""
    return known_weights("conv5_4")


@pytest.fixture
def no_weights_on_disk(tmp_path, monkeypatch):
    """An empty HOME / Keras cache and no $OT_STYLE_WEIGHTS."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home" / ".keras"))
    monkeypatch.delenv("OT_STYLE_WEIGHTS", raising=False)
    monkeypatch.setattr(W, "download_imagenet_weights",
                        lambda: pytest.fail("download_imagenet_weights must never be called implicitly"))
    return tmp_path


def _md5(path):
    return hashlib.md5(pathlib.Path(path).read_bytes()).hexdigest()


# ---- reading files: every kernel and bias in its place ---------------------------------------------

@pytest.mark.parametrize("new_format", [False, True], ids=["beta16-format", "new-format"])
def test_matconvnet_file_puts_every_layer_in_its_place(tmp_path, full_net, monkeypatch, new_format):
    kernels, biases = full_net
    path = write_matconvnet(tmp_path / "imagenet-vgg-verydeep-19.mat", kernels, biases, new_format=new_format)
    monkeypatch.setattr(W, "MATCONVNET_MD5", (_md5(path),))  # the tiny file stands in for the real one
    net = W.load_weights(path, upto="conv5_4")
    assert list(net.kernels) == CONVS
    for name in CONVS:
        # stored (w, h, in, out) on disk, read back as TF's (h, w, in, out): an exact round trip
        np.testing.assert_array_equal(net.kernels[name], kernels[name], err_msg=name)
        np.testing.assert_array_equal(net.biases[name], biases[name], err_msg=name)
        assert net.kernels[name].dtype == np.float32
    assert net.channel_order == "RGB"
    # mean of the average image, per channel (neural-style's convention)
    np.testing.assert_allclose(net.mean, CAFFE_RGB_MEAN, rtol=0, atol=1e-4)
    assert "MatConvNet" in net.description


@pytest.mark.parametrize("new_format", [False, True], ids=["beta16-format", "new-format"])
def test_fixture_has_the_nesting_neural_style_reads_by_position(tmp_path, new_format):
    """anishathalye/neural-style's positional indexing works on our files, so they mirror the real one."""
    import scipy.io

    kernels, biases = known_weights("conv1_2")
    path = write_matconvnet(tmp_path / "x.mat", kernels, biases, new_format=new_format)
    data = scipy.io.loadmat(path)
    layers = data["layers"][0]
    kernel, bias = layers[2][0][0][2][0] if new_format else layers[2][0][0][0][0]  # conv1_2
    np.testing.assert_array_equal(np.transpose(kernel, (1, 0, 2, 3)), kernels["conv1_2"])
    np.testing.assert_array_equal(bias.reshape(-1), biases["conv1_2"])
    if new_format:
        mean = data["meta"]["normalization"][0][0][0][0][2][0][0]
    else:
        mean = np.mean(data["normalization"][0][0][0], axis=(0, 1))
    np.testing.assert_allclose(mean, CAFFE_RGB_MEAN, atol=1e-9)


@pytest.mark.parametrize("naming", ["application", "keras2"])
def test_keras_h5_puts_every_layer_in_its_place(tmp_path, full_net, naming):
    kernels, biases = full_net
    path = write_keras_h5(tmp_path / "my_vgg19.h5", kernels, biases, naming=naming)
    net = W.load_weights(path, upto="conv5_4")
    assert list(net.kernels) == CONVS
    for name in CONVS:
        np.testing.assert_array_equal(net.kernels[name], kernels[name], err_msg=name)
        np.testing.assert_array_equal(net.biases[name], biases[name], err_msg=name)
    assert net.channel_order == "BGR"
    np.testing.assert_allclose(net.mean, [103.939, 116.779, 123.68], rtol=1e-6)


def test_keras3_saved_weights_are_read(tmp_path):
    """A real Keras 3 VGG19 (random init) saved with save_weights: our reader finds every variable."""
    import keras

    keras.utils.set_random_seed(3)
    model = keras.applications.VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = tmp_path / "vgg.weights.h5"
    model.save_weights(path)
    net = W.load_weights(path, upto="conv5_4")
    for name in CONVS:
        block, index = name[4:].split("_")
        kernel, bias = model.get_layer(f"block{block}_conv{index}").get_weights()
        np.testing.assert_array_equal(net.kernels[name], kernel, err_msg=name)
        np.testing.assert_array_equal(net.biases[name], bias, err_msg=name)


def test_reading_stops_at_the_deepest_needed_layer(tmp_path):
    """A file holding only block 1-2 serves requests up to conv2_2 and refuses deeper ones clearly."""
    kernels, biases = known_weights("conv2_2")
    path = write_keras_h5(tmp_path / "short.h5", kernels, biases)
    net = W.load_weights(path, upto="conv2_1")
    assert list(net.kernels) == ["conv1_1", "conv1_2", "conv2_1"]
    with pytest.raises(ValueError, match=r"no layer 'conv3_1'.*conv1_1, conv1_2, conv2_1, conv2_2"):
        W.load_weights(path, upto="conv3_1")


# ---- random weights --------------------------------------------------------------------------------

def test_random_weights_are_seeded_he_normal():
    a = W.load_weights("random", upto="conv5_4", seed=0)
    b = W.load_weights("random", upto="conv5_4", seed=0)
    c = W.load_weights("random", upto="conv1_1", seed=1)
    for name in CONVS:
        np.testing.assert_array_equal(a.kernels[name], b.kernels[name])
        assert a.kernels[name].shape == conv_shapes()[name]
        assert not a.biases[name].any()
    assert not np.array_equal(a.kernels["conv1_1"], c.kernels["conv1_1"])
    # He-normal: std sqrt(2 / fan_in), fan_in = 9 c_in; 2.4M samples give the std to about 0.05%
    k = a.kernels["conv5_4"].astype(np.float64)
    assert abs(k.mean()) < 5 * np.sqrt(2 / (9 * 512)) / np.sqrt(k.size)  # 5 standard errors
    np.testing.assert_allclose(k.std(), np.sqrt(2 / (9 * 512)), rtol=3e-3)
    assert "seed 0" in a.description and "RANDOM" in a.description and "ot-style weights download" in a.description


# ---- which source "auto" picks -----------------------------------------------------------------------

def test_auto_falls_back_to_random_with_a_warning(no_weights_on_disk):
    with pytest.warns(UserWarning, match=r"RANDOM weights.*ot-style weights download"):
        choice = W.resolve_weights("auto")
    assert choice.is_random and choice.kind == "random" and choice.path is None
    with pytest.warns(UserWarning):
        assert W.resolve_weights(None).is_random


def test_auto_order_is_path_then_env_then_keras_cache(no_weights_on_disk, monkeypatch):
    tmp = no_weights_on_disk
    cache = W.keras_cache_path()
    assert str(cache).startswith(str(tmp))
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"not read by resolve_weights")
    choice = W.resolve_weights("auto")
    assert (choice.kind, choice.path, choice.is_random) == ("keras_h5", cache, False)
    assert "Keras cache" in choice.description
    assert W.resolve_weights("imagenet").path == cache

    env_file = tmp / "from_env.mat"
    env_file.write_bytes(b"x")
    monkeypatch.setenv("OT_STYLE_WEIGHTS", str(env_file))
    choice = W.resolve_weights("auto")
    assert (choice.kind, choice.path) == ("matconvnet", env_file)
    assert "OT_STYLE_WEIGHTS" in choice.description

    explicit = tmp / "explicit.h5"
    explicit.write_bytes(b"x")
    assert W.resolve_weights(explicit).path == explicit
    assert W.resolve_weights(str(explicit)).kind == "keras_h5"


def test_missing_sources_raise_file_not_found(no_weights_on_disk, monkeypatch):
    with pytest.raises(FileNotFoundError, match="ot-style weights download"):
        W.resolve_weights("imagenet")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        W.resolve_weights(no_weights_on_disk / "nowhere.h5")
    monkeypatch.setenv("OT_STYLE_WEIGHTS", str(no_weights_on_disk / "gone.mat"))
    with pytest.raises(FileNotFoundError, match="OT_STYLE_WEIGHTS"):
        W.resolve_weights("auto")


# ---- checksums and files that are not VGG19 ------------------------------------------------------------

def test_matconvnet_checksum_mismatch_says_so(tmp_path):
    kernels, biases = known_weights("conv1_2")
    path = write_matconvnet(tmp_path / "imagenet-vgg-verydeep-19.mat", kernels, biases)
    with pytest.raises(ValueError, match=r"Checksum mismatch.*8ee3263992981a1d26e73b3ca028a123"):
        W.load_weights(path, upto="conv1_2")
    assert readers.file_md5(path) == _md5(path)
    # the user can opt out for a file they trust
    net = W.load_weights(path, upto="conv1_2", verify_checksum=False)
    np.testing.assert_array_equal(net.kernels["conv1_2"], kernels["conv1_2"])


def test_keras_application_file_checksum_mismatch(tmp_path, monkeypatch):
    kernels, biases = known_weights("conv1_1")
    path = write_keras_h5(tmp_path / W.KERAS_FILE_NAME, kernels, biases)
    with pytest.raises(ValueError, match=f"Checksum mismatch.*{W.KERAS_MD5}"):
        W.load_weights(path, upto="conv1_1")
    monkeypatch.setattr(W, "KERAS_MD5", _md5(path))
    assert W.load_weights(path, upto="conv1_1").kernels["conv1_1"].shape == (3, 3, 3, 64)


def test_files_that_are_not_vgg19_weights(tmp_path):
    import h5py

    kernels, biases = known_weights("conv1_2")
    wrong = dict(kernels, conv1_2=np.zeros((3, 3, 64, 32), np.float32))
    path = write_keras_h5(tmp_path / "wrong.h5", wrong, dict(biases, conv1_2=np.zeros(32, np.float32)))
    with pytest.raises(ValueError, match=r"not VGG19 weights: layer conv1_2 .*\(3, 3, 64, 64\)"):
        W.load_weights(path, upto="conv1_2")

    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an HDF5"):
        W.load_weights(text, upto="conv1_1")

    with h5py.File(tmp_path / "other.h5", "w") as handle:
        handle.create_dataset("dense/kernel:0", data=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="not VGG19 weights.*no layer 'conv1_1'"):
        W.load_weights(tmp_path / "other.h5", upto="conv1_1")

    garbage = tmp_path / "garbage.mat"
    garbage.write_bytes(b"\x00" * 300)
    with pytest.raises(ValueError, match="not a MATLAB"):
        W.load_weights(garbage, upto="conv1_1", verify_checksum=False)

    import scipy.io
    scipy.io.savemat(tmp_path / "empty.mat", {"x": np.ones(3)})
    with pytest.raises(ValueError, match="no 'layers'"):
        W.load_weights(tmp_path / "empty.mat", upto="conv1_1", verify_checksum=False)

    odd = tmp_path / "weights.npz"
    odd.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"\.h5.*imagenet-vgg-verydeep-19\.mat"):
        W.resolve_weights(odd)
    with pytest.raises(ValueError, match="weights must be"):
        W.resolve_weights(3)
    with pytest.raises(ValueError, match="conv layer name"):
        W.load_weights("random", upto="relu1_1")


# ---- damaged or unusual weight files (issue 17) ------------------------------------------------------

def test_nan_or_infinite_weights_are_refused(tmp_path):
    kernels, biases = known_weights("conv1_2")
    broken = dict(kernels, conv1_2=kernels["conv1_2"].copy())
    broken["conv1_2"][1, 1, 0, 0] = np.nan
    path = write_keras_h5(tmp_path / "nan.h5", broken, biases)
    with pytest.raises(ValueError, match="nan.h5 is damaged: layer conv1_2 holds NaN or infinite weights"):
        W.load_weights(path, upto="conv1_2")


def test_h5_shapes_and_dtypes_are_checked_before_anything_is_read(tmp_path):
    import h5py

    path = tmp_path / "huge.h5"
    with h5py.File(path, "w") as handle:  # declares 2.4 GB of kernel but stores none of it
        group = handle.create_group("block1_conv1")
        group.create_dataset("block1_conv1_W_1:0", shape=(3, 3, 3, 20_000_000), dtype="f4")
        group.create_dataset("block1_conv1_b_1:0", data=np.zeros(64, np.float32))
    assert path.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"layer conv1_1 has kernel \(3, 3, 3, 20000000\)"):
        W.load_weights(path, upto="conv1_1")
    path = tmp_path / "refs.h5"
    with h5py.File(path, "w") as handle:  # object references where the numbers should be
        group = handle.create_group("block1_conv1")
        group.create_dataset("block1_conv1_W_1:0", shape=(3, 3, 3, 64), dtype=h5py.ref_dtype)
        group.create_dataset("block1_conv1_b_1:0", data=np.zeros(64, np.float32))
    with pytest.raises(ValueError, match="holds object data, not floating-point numbers"):
        W.load_weights(path, upto="conv1_1")


def test_a_keras_zip_is_read_and_a_zip_without_weights_is_refused(tmp_path):
    import zipfile

    kernels, biases = known_weights("conv1_2")
    inner = write_keras_h5(tmp_path / "model.weights.h5", kernels, biases)
    with zipfile.ZipFile(tmp_path / "vgg.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.write(inner, "model.weights.h5")
    loaded = W.load_weights(tmp_path / "vgg.keras", upto="conv1_2")
    np.testing.assert_array_equal(loaded.kernels["conv1_2"], kernels["conv1_2"])
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(ValueError, match="without exactly one \\*.weights.h5 inside"):
        W.load_weights(tmp_path / "empty.keras", upto="conv1_2")


def test_the_keras_cache_follows_keras_home_with_a_tilde_and_the_tmp_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KERAS_HOME", "~/my-keras")
    assert W.keras_cache_path() == tmp_path / "home" / "my-keras" / "models" / W.KERAS_FILE_NAME
    fallback = pathlib.Path("/tmp/.keras/models") / W.KERAS_FILE_NAME  # where get_file writes if home cannot
    if fallback.exists():
        pytest.skip("a real Keras cache file is in /tmp/.keras")
    fallback.parent.mkdir(parents=True, exist_ok=True)
    try:
        fallback.write_bytes(b"stand-in")
        assert W.keras_cache_path() == fallback
    finally:
        fallback.unlink()
