"""Reading VGG19 weight files into NumPy arrays: Keras HDF5 (three layouts) and MatConvNet ``.mat``.

:mod:`ot_style.network.weights` decides which file to read; the functions here read it and check
every array against the VGG19 layer table (:data:`CONVS`) with one clear sentence when a file is not
VGG19 weights. Checksums of the published files are verified with :func:`verify_md5`.
"""

from __future__ import annotations

import hashlib
import io
import pathlib
import zipfile

import numpy as np

from ..layers import LAYER_INFO

__all__ = ["CONVS", "read_h5", "read_mat", "verify_md5", "file_md5"]

_MAX_MEMBER_BYTES = 1_000_000_000  # a .keras zip member larger than this is not VGG19's 80 MB of weights

#: conv layer name -> (Keras layer name, in channels, out channels), in network order
CONVS = {}
_prev = 3
for _row in LAYER_INFO:
    if _row.kind == "conv":
        _b, _i = _row.name[4:].split("_")
        CONVS[_row.name] = (f"block{_b}_conv{_i}", _prev, _row.channels)
        _prev = _row.channels
del _prev, _row, _b, _i


_MD5_CACHE: dict = {}  # (path, size, mtime) -> hex digest: hashing 550 MB takes seconds, do it once


def file_md5(path: pathlib.Path) -> str:
    """The MD5 of a file, remembered per (path, size, modification time)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _MD5_CACHE:
        digest = hashlib.md5()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 22), b""):
                digest.update(chunk)
        _MD5_CACHE[key] = digest.hexdigest()
    return _MD5_CACHE[key]


def verify_md5(path: pathlib.Path, expected) -> None:
    """Raise ``ValueError`` unless the file's MD5 is ``expected`` (one hash or several)."""
    expected = (expected,) if isinstance(expected, str) else tuple(expected)
    actual = file_md5(path)
    if actual not in expected:
        raise ValueError(
            f"Checksum mismatch: {path.name} has MD5 {actual} but the published file has "
            f"{' or '.join(expected)}, so it is incomplete, corrupt or a different model; download it "
            f"again, or pass verify_checksum=False if you trust this file.")


def _check_shapes(name, kernel, bias, path) -> tuple[np.ndarray, np.ndarray]:
    _, c_in, c_out = CONVS[name]
    kernel = np.asarray(kernel, dtype=np.float32)
    bias = np.asarray(bias, dtype=np.float32).reshape(-1)
    if not (np.all(np.isfinite(kernel)) and np.all(np.isfinite(bias))):
        raise ValueError(f"{path} is damaged: layer {name} holds NaN or infinite weights.")
    if kernel.shape != (3, 3, c_in, c_out) or bias.shape != (c_out,):
        raise ValueError(f"{path} is not VGG19 weights: layer {name} has kernel {kernel.shape} and bias "
                         f"{bias.shape}, VGG19 needs (3, 3, {c_in}, {c_out}) and ({c_out},).")
    return kernel, bias


def _missing(name, path, found):
    return ValueError(f"{path} is not VGG19 weights up to {name}: it has no layer {name!r} "
                      f"(it has {len(found)} VGG19 conv layer(s): {', '.join(found) or 'none'}). "
                      f"Use a complete VGG19 file or request shallower layers.")


def _h5_layer_group(root, keras_name):
    """The h5 group holding one Keras layer's variables, in the legacy or the Keras 3 layout."""
    if keras_name in root:  # legacy: root/block1_conv1/...
        return root[keras_name]
    layers = root.get("layers")  # Keras 3: root/layers/<auto name>/vars with attrs name=block1_conv1
    if layers is not None:
        for key, group in layers.items():
            variables = group.get("vars")
            if variables is not None and variables.attrs.get("name") in (keras_name, keras_name.encode()):
                return variables
        if keras_name in layers:
            return layers[keras_name]
    return None


def _h5_file(path: pathlib.Path):
    """An open HDF5 file: the file itself, or the ``*.weights.h5`` inside a Keras 3 ``.keras`` zip."""
    import h5py

    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if m.filename.endswith(".weights.h5")]
            if len(members) != 1:
                raise ValueError(f"{path} is a zip file without exactly one *.weights.h5 inside, so it is not "
                                 "a Keras .keras model.")
            if members[0].file_size > _MAX_MEMBER_BYTES:
                raise ValueError(f"{path}'s weights would be {members[0].file_size / 1e9:.1f} GB unpacked; VGG19's "
                                 "are 0.08 GB.")
            return h5py.File(io.BytesIO(archive.read(members[0])), "r")
    return h5py.File(path, "r")


def _kernel_and_bias(group, name, path):
    """The one 4-d and one 1-d float dataset of a layer's group, chosen and checked from their metadata
    before anything is read (a small file can declare large datasets)."""
    import h5py

    datasets = []
    group.visititems(lambda _, obj: datasets.append(obj) if isinstance(obj, h5py.Dataset) else None)
    _, c_in, c_out = CONVS[name]
    four_d = [d for d in datasets if len(d.shape) == 4]
    one_d = [d for d in datasets if len(d.shape) == 1]
    if len(four_d) != 1 or len(one_d) != 1:
        raise ValueError(f"{path} is not VGG19 weights: layer {name} should hold one kernel and one "
                         f"bias, it holds arrays of shapes {[d.shape for d in datasets]}.")
    kernel, bias = four_d[0], one_d[0]
    if kernel.shape != (3, 3, c_in, c_out) or bias.shape != (c_out,):
        raise ValueError(f"{path} is not VGG19 weights: layer {name} has kernel {kernel.shape} and bias "
                         f"{bias.shape}, VGG19 needs (3, 3, {c_in}, {c_out}) and ({c_out},).")
    for dataset in (kernel, bias):
        if dataset.dtype.kind != "f":
            raise ValueError(f"{path} is not VGG19 weights: layer {name} holds {dataset.dtype} data, not "
                             "floating-point numbers.")
    return kernel[()], bias[()]


def read_h5(path: pathlib.Path, convs) -> tuple[dict, dict]:
    """Kernels and biases of the conv layers ``convs`` from a Keras HDF5 file (any of its layouts, or a
    Keras 3 ``.keras`` zip)."""
    kernels, biases = {}, {}
    with _h5_file(path) as handle:
        root = handle["model_weights"] if "model_weights" in handle else handle  # a whole saved model
        found = [name for name, (keras_name, _, _) in CONVS.items()
                 if _h5_layer_group(root, keras_name) is not None]
        for name in convs:
            group = _h5_layer_group(root, CONVS[name][0])
            if group is None:
                raise _missing(name, path, found)
            kernels[name], biases[name] = _check_shapes(name, *_kernel_and_bias(group, name, path), path)
    return kernels, biases


def _unbox(value):
    """Strip the 1x1 cell/struct wrappers that ``scipy.io.loadmat`` puts around every MATLAB value."""
    while isinstance(value, np.ndarray) and value.size == 1 and (value.dtype == object or value.dtype.names):
        value = value.ravel()[0]
    return value


def _field(record, name):
    """Field ``name`` of a MATLAB struct read by scipy (None if it has no such field)."""
    record = _unbox(record)
    names = getattr(getattr(record, "dtype", None), "names", None) or ()
    return _unbox(record[name]) if name in names else None


def read_mat(path: pathlib.Path, convs) -> tuple[dict, dict, np.ndarray]:
    """Kernels, biases and the RGB mean (0-255) of the conv layers ``convs`` from the MatConvNet file."""
    import scipy.io

    try:
        data = scipy.io.loadmat(path)
    except Exception as error:  # scipy raises several types for a file that is not MATLAB
        raise ValueError(f"{path} is not a MATLAB .mat file ({error}).") from None
    if "layers" not in data:
        raise ValueError(f"{path} is not MatConvNet VGG19 weights: it has no 'layers' variable.")
    # 'layers' is a 1 x L cell array of structs with (among others) fields name, type and weights, where
    # weights is a 1 x 2 cell {kernel, bias} (the layout anishathalye/neural-style reads by position).
    by_name = {}
    for entry in np.ravel(data["layers"]):
        name = _field(entry, "name")
        if name is not None:
            by_name[str(np.ravel(name)[0]) if isinstance(name, np.ndarray) else str(name)] = entry
    found = [name for name in CONVS if name in by_name]
    kernels, biases = {}, {}
    for name in convs:
        cell = _field(by_name[name], "weights") if name in by_name else None
        if cell is None:
            raise _missing(name, path, found)
        pair = list(np.ravel(cell)) if isinstance(cell, np.ndarray) and cell.dtype == object else []
        if len(pair) != 2:
            raise ValueError(f"{path} is not VGG19 weights: layer {name} should hold {{kernel, bias}}.")
        kernel, bias = (np.asarray(_unbox(item)) for item in pair)
        if kernel.ndim != 4:
            raise ValueError(f"{path} is not VGG19 weights: layer {name} has a kernel of shape "
                             f"{kernel.shape}, VGG19 needs (3, 3, in, out).")
        # MatConvNet stores (width, height, in, out); TensorFlow wants (height, width, in, out).
        kernels[name], biases[name] = _check_shapes(name, np.transpose(kernel, (1, 0, 2, 3)), bias, path)
    if "normalization" in data:  # old (beta16) format: normalization.averageImage, (224, 224, 3)
        average = _field(data["normalization"], "averageImage")
    elif "meta" in data:  # new format: meta.normalization.averageImage, (1, 1, 3)
        average = _field(_field(data["meta"], "normalization"), "averageImage")
    else:
        average = None
    if average is None or np.size(average) % 3:
        raise ValueError(f"{path} has no normalization.averageImage; it is not the MatConvNet VGG19 file.")
    mean = np.asarray(average, np.float64).reshape(-1, 3).mean(axis=0).astype(np.float32)  # RGB, 0-255
    return kernels, biases, mean
