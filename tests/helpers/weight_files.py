"""Writers of small VGG19 weight files in the real on-disk layouts, and a NumPy reference network.

Shared by tests/test_weights.py and tests/test_vgg.py (not collected: the name starts with "_").

- MatConvNet (``imagenet-vgg-verydeep-19.mat``): ``layers`` is a 1 x L cell array of structs; a conv
  struct holds ``weights = {kernel (w, h, in, out), bias}``. The old (beta16) format puts ``weights``
  first and stores ``normalization.averageImage`` (224 x 224 x 3); the new format puts ``name, type,
  weights`` first and stores ``meta.normalization.averageImage`` (1 x 1 x 3). anishathalye/neural-style
  reads both by position (``layers[0][i][0][0][0][0]`` old, ``[0][0][2][0]`` new); a test checks that
  our files satisfy that positional reading too, so they have the real nesting.
- Keras ``.h5``: one group per layer (``block1_conv1``...) with a ``weight_names`` attribute, in the
  2016 application-file naming (``block1_conv1_W_1:0``) or the Keras 2 ``save_weights`` naming
  (``block1_conv1/kernel:0`` in a sub-group).
"""

from __future__ import annotations

import numpy as np

from ot_style.layers import LAYER_INFO, VGG19_LAYERS

CONVS = [row.name for row in LAYER_INFO if row.kind == "conv"]
CAFFE_RGB_MEAN = np.array([123.68, 116.779, 103.939])


def conv_shapes(upto: str = "conv5_4") -> dict:
    """conv name -> (3, 3, c_in, c_out) for the convs up to ``upto``."""
    shapes, c_in = {}, 3
    for row in LAYER_INFO:
        if row.kind == "conv":
            shapes[row.name] = (3, 3, c_in, row.channels)
            c_in = row.channels
            if row.name == upto:
                break
    return shapes


def known_weights(upto: str = "conv5_4", scale: float = 1.0):
    """Distinct, non-symmetric kernels (TF layout (h, w, in, out)) and biases, different per layer.

    He-scaled so that activations stay O(1) through the net; the bias of layer k has mean k / 100,
    so a layer read into the wrong slot is caught.
    """
    kernels, biases = {}, {}
    for k, (name, shape) in enumerate(conv_shapes(upto).items()):
        rng = np.random.default_rng(1000 + k)
        std = scale * np.sqrt(2.0 / (9 * shape[2]))
        kernels[name] = (rng.standard_normal(shape) * std).astype(np.float32)
        biases[name] = (k / 100 + 0.01 * rng.standard_normal(shape[3])).astype(np.float32)
    return kernels, biases


def write_matconvnet(path, kernels, biases, average_rgb=CAFFE_RGB_MEAN, *, new_format=False):
    """Write a MatConvNet-layout .mat file with ``kernels`` in TF layout (converted to (w, h, in, out))."""
    import scipy.io

    deepest = VGG19_LAYERS.index(list(kernels)[-1])
    names = list(VGG19_LAYERS[: deepest + 1]) + ["fc6"]  # the real file goes on past the conv part
    cells = np.empty((1, len(names)), dtype=object)
    for i, name in enumerate(names):
        if name.startswith("conv") or name == "fc6":
            if name == "fc6":
                kernel, bias = np.ones((1, 1, 1, 2), np.float32), np.zeros(2, np.float32)
            else:
                kernel, bias = np.transpose(kernels[name], (1, 0, 2, 3)), biases[name]
            pair = np.empty((1, 2), dtype=object)
            pair[0, 0] = kernel
            pair[0, 1] = bias.reshape(1, -1) if not new_format else bias.reshape(-1, 1)
            fields = {"weights": pair, "pad": np.ones((1, 4)), "type": "conv", "name": name,
                      "stride": np.ones((1, 2))}
            if new_format:
                fields = {"name": name, "type": "conv", "weights": pair, "size": np.array(kernel.shape),
                          "pad": np.ones((1, 4)), "stride": np.ones((1, 2))}
        elif name.startswith("relu"):
            fields = {"type": "relu", "name": name} if not new_format else {"name": name, "type": "relu"}
        else:
            fields = {"name": name, "stride": np.array([[2, 2]]), "pad": np.zeros((1, 4)),
                      "type": "pool", "method": "max", "pool": np.array([[2, 2]])}
        cells[0, i] = fields
    average = np.asarray(average_rgb, np.float64)
    if new_format:
        data = {"layers": cells, "meta": {"normalization": {
            "imageSize": np.array([[224, 224, 3, 1]]), "interpolation": "bilinear",
            "averageImage": average.reshape(1, 1, 3), "keepAspect": 1, "border": np.zeros((1, 2))}}}
    else:
        # a 4 x 4 average image whose per-channel mean is ``average_rgb`` but whose pixels differ
        ramp = np.linspace(-5.0, 5.0, 16).reshape(4, 4, 1)
        data = {"layers": cells, "normalization": {
            "averageImage": average.reshape(1, 1, 3) + ramp * np.array([1.0, -1.0, 2.0]),
            "keepAspect": 1, "border": np.zeros((1, 2)), "imageSize": np.array([[224, 224, 3]])}}
    scipy.io.savemat(path, data)
    return path


def write_keras_h5(path, kernels, biases, *, naming="application"):
    """Write Keras-layout .h5 weights (``naming`` "application" (2016 file) or "keras2")."""
    import h5py

    with h5py.File(path, "w") as handle:
        layer_names = [b"input_1"]
        handle.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S1")
        for name in kernels:
            block, index = name[4:].split("_")
            keras_name = f"block{block}_conv{index}"
            layer_names.append(keras_name.encode())
            group = handle.create_group(keras_name)
            if naming == "application":
                names = [f"{keras_name}_W_1:0", f"{keras_name}_b_1:0"]
                group.create_dataset(names[0], data=kernels[name])
                group.create_dataset(names[1], data=biases[name])
            else:
                names = [f"{keras_name}/kernel:0", f"{keras_name}/bias:0"]
                sub = group.create_group(keras_name)
                sub.create_dataset("kernel:0", data=kernels[name])
                sub.create_dataset("bias:0", data=biases[name])
            group.attrs["weight_names"] = np.array([n.encode() for n in names])
        handle.attrs["layer_names"] = np.array(layer_names)
        handle.attrs["backend"] = b"tensorflow"
    return path


# ---- NumPy reference network (hand-computed convolutions) -------------------------------------------

def conv_same(x, kernel, bias):
    """3x3 'SAME' cross-correlation (what TF's conv2d computes): x (h, w, c_in) -> (h, w, c_out)."""
    x = np.asarray(x, np.float64)
    h, w, _ = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel.shape[3]))
    for dy in range(3):
        for dx in range(3):
            out += padded[dy:dy + h, dx:dx + w, :] @ np.asarray(kernel[dy, dx], np.float64)
    return out + bias


def pool2(x, how):
    """2x2 stride-2 VALID pooling of (h, w, c)."""
    h, w = x.shape[0] // 2 * 2, x.shape[1] // 2 * 2
    blocks = x[:h, :w].reshape(h // 2, 2, w // 2, 2, -1)
    return blocks.max(axis=(1, 3)) if how == "max" else blocks.mean(axis=(1, 3))


def reference_features(image, kernels, biases, *, order="BGR", mean_in_order, upto, pooling="max"):
    """Every layer up to ``upto`` of VGG19 in float64 NumPy, for one image (h, w, 3) RGB in [0, 1]."""
    x = np.asarray(image, np.float64) * 255.0
    if order == "BGR":
        x = x[..., ::-1]
    x = x - np.asarray(mean_in_order, np.float64)
    out = {}
    for name in VGG19_LAYERS[: VGG19_LAYERS.index(upto) + 1]:
        if name.startswith("conv"):
            x = conv_same(x, kernels[name], biases[name])
        elif name.startswith("relu"):
            x = np.maximum(x, 0.0)
        else:
            x = pool2(x, pooling)
        out[name] = x
    return out
