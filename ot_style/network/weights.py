"""Where VGG19's weights come from, and reading them into NumPy arrays (no TensorFlow here).

:mod:`ot_style.network.vgg` builds the network; this module only decides *which* weights to use
(:func:`resolve_weights`, cheap: it never opens a network connection and builds no graph), reads them
(:func:`load_weights`) and, when a user asks for it explicitly, downloads the Keras ImageNet file
(:func:`download_imagenet_weights`, the only network access in the whole package). The file formats
are read by :mod:`ot_style.network.readers`.
Notebook 04 (``notebooks/04_style_transfer_playground.ipynb``) shows which weights a run used and why it matters.

Sources
-------
``"imagenet"``
    The Keras application file ``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` in the Keras cache
    (``$KERAS_HOME/models`` or ``~/.keras/models``). Keras/Caffe convention: BGR channels, 0-255,
    ImageNet BGR mean ``(103.939, 116.779, 123.68)`` subtracted.
a ``.h5`` path
    Keras weights in any of the three layouts Keras has written: the original 2016 application file
    (``block1_conv1/block1_conv1_W_1:0``), Keras 2 / legacy ``save_weights``
    (``block1_conv1/block1_conv1/kernel``) and Keras 3 ``.weights.h5`` (``layers/conv2d/vars/0`` with the
    layer name in the ``vars`` group's ``name`` attribute). Same preprocessing as ``"imagenet"``.
a ``.mat`` path
    The MatConvNet file ``imagenet-vgg-verydeep-19.mat`` that the seed program and anishathalye/neural-style
    use. Its kernels are stored (width, height, in, out) and are transposed to TensorFlow's
    (height, width, in, out). It expects **RGB** 0-255 input minus its own average image; we read that
    average from the file (``normalization.averageImage`` in the old format, ``meta.normalization`` in the
    new one) and subtract its per-channel mean, exactly as neural-style does.
``"random"``
    He-normal kernels, :math:`\\mathcal N(0, 2 / (9 c_{in}))`, zero biases, from ``numpy.random.default_rng(seed)``
    layer by layer; Keras preprocessing. Features are then *not* ImageNet features, but with the normalised
    losses they still carry colour, grain and larger structures: the picture-quality harness
    (``benchmarks/quality.py``) compared He-normal with zero-mean kernels, spatially smooth kernels and
    kernels rescaled to unit activations on the bundled pictures, and He-normal gave the best pictures
    (``benchmarks/README.md``).
``"auto"`` (default)
    ``$OT_STYLE_WEIGHTS`` if set, else the Keras cache file, else ``"random"`` with a warning that says how to
    get the real weights (``ot-style weights download``).
"""

from __future__ import annotations

import os
import pathlib
import warnings
from dataclasses import dataclass

import numpy as np

from .readers import CONVS, read_h5, read_mat, verify_md5

__all__ = [
    "WeightsChoice", "NetworkWeights", "resolve_weights", "load_weights", "keras_cache_path",
    "download_imagenet_weights", "KERAS_FILE_NAME", "KERAS_URL", "KERAS_MD5", "MATCONVNET_MD5",
    "CAFFE_BGR_MEAN", "RandomWeightsWarning",
]

KERAS_FILE_NAME = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + KERAS_FILE_NAME)
KERAS_MD5 = "253f8cb515780f3b799900260a226db6"  # the hash keras.applications.VGG19 checks
MATCONVNET_FILE_NAME = "imagenet-vgg-verydeep-19.mat"
# The seed's README names the first (MatConvNet beta16 "old format"); vlfeat later republished the same
# network in the "new format" with the second hash (neural-style's README). Both are accepted.
MATCONVNET_MD5 = ("8ee3263992981a1d26e73b3ca028a123", "106118b7cf60435e6d8e04f6a6dc3657")
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
ENV_VAR = "OT_STYLE_WEIGHTS"
_GET_WEIGHTS = "run `ot-style weights download` (or call ot_style.network.weights.download_imagenet_weights())"


@dataclass(frozen=True)
class WeightsChoice:
    """Which weights a network will use, decided without reading them.

    Attributes
    ----------
    kind : str
        ``"keras_h5"``, ``"matconvnet"`` or ``"random"``.
    path : pathlib.Path or None
        The file (None for random weights).
    is_random : bool
        True for random weights.
    description : str
        One line for people, e.g. ``"ImageNet (Keras cache: ~/.keras/models/...h5)"``.
    """

    kind: str
    path: pathlib.Path | None
    is_random: bool
    description: str


@dataclass(frozen=True)
class NetworkWeights:
    """VGG19 parameters as NumPy arrays plus the input convention they were trained with.

    Attributes
    ----------
    kernels : dict of str to ndarray, shape (3, 3, c_in, c_out), float32
        ``convB_I`` -> kernel in TensorFlow layout (height, width, in, out).
    biases : dict of str to ndarray, shape (c_out,), float32
    channel_order : str
        ``"BGR"`` (Keras/Caffe) or ``"RGB"`` (MatConvNet): order the first kernel expects.
    mean : ndarray, shape (3,), float32
        Per-channel mean (0-255 scale) subtracted from the input, in ``channel_order``.
    description : str
    """

    kernels: dict
    biases: dict
    channel_order: str
    mean: np.ndarray
    description: str


class RandomWeightsWarning(UserWarning):
    """``weights="auto"`` found no ImageNet weights and fell back to seeded random ones.

    A notebook that has said so once in its own words (:func:`ot_style.widgets.notes.weights_banner`)
    silences this category, so the student sees one styled note instead of a warning block per cell.
    """


def _keras_homes() -> list[pathlib.Path]:
    """Keras's own resolution of its cache folder: ``$KERAS_HOME`` (``~`` expanded) or ``~/.keras``, and
    ``/tmp/.keras``, where ``keras.utils.get_file`` writes when that folder cannot be written."""
    home = pathlib.Path(os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras")))
    return [home, pathlib.Path("/tmp") / ".keras"]


def keras_cache_path() -> pathlib.Path:
    """Where Keras keeps the ImageNet VGG19 file: ``$KERAS_HOME/models`` or ``~/.keras/models``, or
    ``/tmp/.keras/models`` when Keras had to fall back there (an unwritable home). The first that holds
    the file; the first otherwise."""
    candidates = [home / "models" / KERAS_FILE_NAME for home in _keras_homes()]
    return next((path for path in candidates if path.is_file()), candidates[0])


def _random_choice(seed_note: str = "") -> WeightsChoice:
    return WeightsChoice("random", None, True,
                         "RANDOM weights (seeded He-normal" + seed_note + ") - not ImageNet; "
                         "run `ot-style weights download`")


def _file_choice(path, origin: str) -> WeightsChoice:
    path = pathlib.Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file {str(path)!r} ({origin}) does not exist.")
    suffix = path.suffix.lower()
    where = "" if origin in ("Keras cache", "given path") else f" {origin}"
    if suffix == ".mat":
        return WeightsChoice("matconvnet", path, False, f"ImageNet (MatConvNet file{where}: {path})")
    if suffix in (".h5", ".hdf5", ".keras"):
        label = "Keras cache" if origin == "Keras cache" else f"Keras weights file{where}"
        return WeightsChoice("keras_h5", path, False, f"ImageNet ({label}: {path})")
    raise ValueError(f"Cannot tell what kind of weights {str(path)!r} holds: use a Keras .h5 file or the "
                     f"MatConvNet {MATCONVNET_FILE_NAME}.")


def resolve_weights(weights="auto") -> WeightsChoice:
    """Decide which VGG19 weights to use, without reading them or touching the network.

    Parameters
    ----------
    weights : str, os.PathLike or WeightsChoice
        ``"auto"``, ``"imagenet"``, ``"random"`` or a path to a ``.h5`` / ``.mat`` file.

    Returns
    -------
    WeightsChoice

    Raises
    ------
    FileNotFoundError
        A path (or ``$OT_STYLE_WEIGHTS``) that does not exist, or ``"imagenet"`` not in the Keras cache.

    Warns
    -----
    UserWarning
        ``"auto"`` found no weights on disk and falls back to random ones.
    """
    if isinstance(weights, WeightsChoice):
        return weights
    if weights is None:
        weights = "auto"
    if isinstance(weights, str) and weights in ("auto", "imagenet", "random"):
        if weights == "random":
            return _random_choice()
        if weights == "imagenet":
            cache = keras_cache_path()
            if not cache.is_file():
                raise FileNotFoundError(f"The ImageNet VGG19 weights are not in the Keras cache ({cache}); "
                                        f"{_GET_WEIGHTS} once while online.")
            return _file_choice(cache, "Keras cache")
        env = os.environ.get(ENV_VAR, "").strip()
        if env:
            return _file_choice(env, f"from ${ENV_VAR}")
        cache = keras_cache_path()
        if cache.is_file():
            return _file_choice(cache, "Keras cache")
        warnings.warn(f"No VGG19 ImageNet weights found (looked at ${ENV_VAR} and {cache}); using RANDOM "
                      f"weights, so results only show the mechanics. To get the real weights, {_GET_WEIGHTS}.",
                      RandomWeightsWarning, stacklevel=2)
        return _random_choice()
    if isinstance(weights, (str, os.PathLike)):
        return _file_choice(weights, "given path")
    raise ValueError(f"weights must be 'auto', 'imagenet', 'random' or a file path, not {weights!r}.")


def load_weights(weights="auto", *, upto: str = "conv5_4", seed: int = 0,
                 verify_checksum: bool = True) -> NetworkWeights:
    """Read VGG19 kernels and biases up to conv layer ``upto``, as float32 NumPy arrays.

    Parameters
    ----------
    weights : str, os.PathLike or WeightsChoice
        As in :func:`resolve_weights`.
    upto : str
        Deepest conv layer needed (``convB_I``); deeper layers are not read, and a file that stops
        earlier is refused with a clear message.
    seed : int
        Seed of the random weights (ignored for files).
    verify_checksum : bool
        Check the MD5 of every ``.mat`` file against :data:`MATCONVNET_MD5`, and of a ``.h5`` file named
        like the Keras application file against :data:`KERAS_MD5` (other ``.h5`` files are a user's own
        weights and have no published hash).

    Returns
    -------
    NetworkWeights
    """
    if upto not in CONVS:
        raise ValueError(f"upto must be a conv layer name such as 'conv5_4', not {upto!r}.")
    choice = resolve_weights(weights)
    names = list(CONVS)
    convs = names[: names.index(upto) + 1]
    bgr_mean = np.asarray(CAFFE_BGR_MEAN, dtype=np.float32)
    if choice.kind == "random":
        rng = np.random.default_rng(seed)
        kernels, biases = {}, {}
        for name in convs:
            _, c_in, c_out = CONVS[name]
            std = np.sqrt(2.0 / (9 * c_in))  # He-normal: fan_in = 3 * 3 * c_in
            kernels[name] = (rng.standard_normal((3, 3, c_in, c_out)) * std).astype(np.float32)
            biases[name] = np.zeros(c_out, np.float32)
        description = choice.description.replace("He-normal", f"He-normal, seed {seed}")
        return NetworkWeights(kernels, biases, "BGR", bgr_mean, description)
    path = choice.path
    if choice.kind == "matconvnet":
        # Every .mat is checked: VGG19 exists in MatConvNet form only as the two published files.
        if verify_checksum:
            verify_md5(path, MATCONVNET_MD5)
        kernels, biases, mean = read_mat(path, convs)
        return NetworkWeights(kernels, biases, "RGB", mean, choice.description)
    if verify_checksum and path.name == KERAS_FILE_NAME:
        verify_md5(path, (KERAS_MD5,))
    try:
        kernels, biases = read_h5(path, convs)
    except (OSError, KeyError, TypeError, RuntimeError) as error:  # h5py's errors for what is not HDF5
        raise ValueError(f"{path} is not an HDF5 (.h5) weights file that can be read ({error}).") from None
    return NetworkWeights(kernels, biases, "BGR", bgr_mean, choice.description)


def download_imagenet_weights() -> pathlib.Path:
    """Download the Keras ImageNet VGG19 (no top) weights into the Keras cache, checking their MD5.

    This is the only function of the package that opens a network connection; nothing calls it
    implicitly (the CLI's ``ot-style weights download`` does, on request).

    Returns
    -------
    pathlib.Path
        The cached file, where ``get_file`` wrote it (found by :func:`keras_cache_path` afterwards).
    """
    from keras.utils import get_file

    path = get_file(KERAS_FILE_NAME, KERAS_URL, cache_subdir="models", file_hash=KERAS_MD5,
                    cache_dir=str(_keras_homes()[0]))
    return pathlib.Path(path)  # where get_file put it (its own fallback folder included)
