"""VGG19 feature extractor in TensorFlow: pixels -> named activations, differentiable wrt the pixels.

The network is built by walking the layer table (:data:`ot_style.layers.VGG19_LAYERS`) into a
name -> tensor dict, as anishathalye/neural-style does, and stops at the deepest layer that was asked
for. Weights come from :mod:`ot_style.network.weights`. Notebook 04
(``notebooks/04_style_transfer_playground.ipynb``) uses it and shows which weights were loaded.

Speed: kernels are ``tf.constant`` float32 tensors in NHWC layout, so a gradient with respect to the
image computes only data gradients, never kernel gradients. Each convolution's data gradient is itself
a forward convolution (:func:`conv_with_forward_gradient`): for a stride-1, ``SAME``-padded, odd-sized
kernel, ``dL/dx = conv2d(dL/dy, W')`` with ``W'`` the kernel flipped in space and with its in/out
channels swapped, and oneDNN's forward convolution is faster than its ``Conv2DBackpropInput``. Max
pooling's gradient is built from a mask of the window maxima (:func:`max_pool_2x2`), faster than
TensorFlow's ``MaxPoolGrad``. The caller wraps the call in ``tf.function`` (eager execution runs at
about half the speed); inside a graph TensorFlow's oneDNN remapper fuses ``conv2d + bias_add + relu``.
``benchmarks/vgg_iteration.py`` measures the whole against the machine's matmul peak, and
``benchmarks/README.md`` records what each of these choices saved.
"""

from __future__ import annotations

import numpy as np

from ..config import POOLINGS
from ..layers import VGG19_LAYERS, check_layers, deepest_layer, min_image_side
from .weights import NetworkWeights, load_weights, resolve_weights

__all__ = ["FeatureExtractor", "configure_threads", "conv_with_forward_gradient", "max_pool_2x2"]


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """Set TensorFlow's CPU thread pools; call it before TensorFlow runs its first operation.

    Nothing in the package calls this (no global configuration at import). The benchmarks set ``intra_op``
    to the number of physical cores and leave ``inter_op`` at TensorFlow's default: VGG's convolutions
    form a chain, but the W2 loss's host work (one BLAS thread per layer, see
    :mod:`ot_style.losses._w2_host`) overlaps them only with more than one inter-op thread
    (``benchmarks/README.md`` has the figures).

    Parameters
    ----------
    intra_op, inter_op : int or None
        Threads used inside one operation / to run independent operations; None leaves TF's default.
    """
    import tensorflow as tf

    if intra_op is not None:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra_op))
    if inter_op is not None:
        tf.config.threading.set_inter_op_parallelism_threads(int(inter_op))


def conv_with_forward_gradient(kernel, bias):
    """``x -> conv2d(x, kernel, SAME) + bias`` whose input gradient is a forward convolution.

    With stride 1 and an odd kernel, ``SAME`` pads (k-1)/2 on every side, and the adjoint of the
    convolution is the convolution with the kernel rotated by 180 degrees and its channel axes swapped,
    with the same padding. The kernel is constant: no kernel or bias gradient is returned. Even-sized
    kernels (padding not symmetric) keep TensorFlow's own gradient.
    """
    import tensorflow as tf

    if kernel.shape[0] % 2 == 0 or kernel.shape[1] % 2 == 0:
        return lambda x: tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias)
    adjoint = tf.constant(np.ascontiguousarray(np.transpose(kernel.numpy()[::-1, ::-1], (0, 1, 3, 2))))

    @tf.custom_gradient
    def conv(x):
        def grad(upstream):
            return tf.nn.conv2d(upstream, adjoint, 1, "SAME")

        return tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias), grad

    return conv


def max_pool_2x2(x):
    """2x2 stride-2 ``VALID`` max pooling whose gradient is built from a mask (not ``MaxPoolGrad``).

    The gradient of each window goes to the positions that hold its maximum; when several do (flat
    image regions give equal activations), they share it equally, which is TensorFlow's rule for
    ``reduce_max`` (``MaxPoolGrad`` gives it all to the first). Both are valid subgradients and agree
    wherever the maximum is unique. It is faster than TensorFlow's ``MaxPoolGrad`` on a CPU
    (``benchmarks/README.md``). A trailing odd row or column, which ``VALID`` pooling drops, gets no
    gradient.
    """
    import tensorflow as tf

    @tf.custom_gradient
    def pool(x):
        y = tf.nn.max_pool2d(x, 2, 2, "VALID")

        def grad(upstream):
            shape = tf.shape(x)
            b, h, w, c = shape[0], shape[1] // 2, shape[2] // 2, shape[3]
            windows = tf.reshape(x[:, : 2 * h, : 2 * w, :], [b, h, 2, w, 2, c])
            # (tf.where, not tf.cast: Grappler copied a cast of the mask through the reshape below, twice the work)
            holds_max = tf.where(tf.equal(windows, y[:, :, None, :, None, :]), tf.ones((), x.dtype),
                                 tf.zeros((), x.dtype))
            count = 4.0 * tf.nn.avg_pool2d(tf.reshape(holds_max, [b, 2 * h, 2 * w, c]), 2, 2, "VALID")
            dx = tf.reshape(holds_max * (upstream / count)[:, :, None, :, None, :], [b, 2 * h, 2 * w, c])
            if x.shape[1] is not None and x.shape[2] is not None and x.shape[1] % 2 == 0 and x.shape[2] % 2 == 0:
                return dx
            return tf.pad(dx, [[0, 0], [0, shape[1] - 2 * h], [0, shape[2] - 2 * w], [0, 0]])

        return y, grad

    return pool(x)


class FeatureExtractor:
    """VGG19 activations of a batch of images at named layers.

    .. math:: x \\mapsto \\{\\ell: \\phi_\\ell(x)\\}, \\quad
              \\phi_\\ell \\in \\mathbb R^{b \\times h_\\ell \\times w_\\ell \\times c_\\ell}

    Parameters
    ----------
    layers : str or sequence of str
        Names from :data:`VGG19_LAYERS` (``convB_I`` is pre-ReLU, ``reluB_I`` post-ReLU, ``poolB``).
    weights : str, os.PathLike or WeightsChoice
        ``"auto"`` (default), ``"imagenet"``, ``"random"`` or a ``.h5`` / ``.mat`` path;
        see :mod:`ot_style.network.weights`.
    pooling : {"max", "avg"}
        2x2 stride-2 ``VALID`` pooling; ``"avg"`` is Gatys et al.'s choice for synthesis.
    seed : int
        Seed of random weights.
    verify_checksum : bool
        Check a weights file's MD5 against the published one (see :func:`ot_style.network.weights.load_weights`).

    Attributes
    ----------
    layers : tuple of str
    computed_layers : tuple of str
        Every layer the network runs through, from the image to the deepest of ``layers``.
    weights_source : str
        Human-readable source of the weights (shown by the CLI and the widgets).
    is_random : bool
    min_image_size : int
        Smallest image side giving at least 1x1 activations at the deepest requested layer.

    Examples
    --------
    >>> ex = FeatureExtractor(["relu1_1", "relu2_1"], weights="random")   # doctest: +SKIP
    >>> feats = tf.function(ex)(images)                                    # doctest: +SKIP
    """

    def __init__(self, layers, *, weights="auto", pooling: str = "max", seed: int = 0,
                 verify_checksum: bool = True):
        import tensorflow as tf

        self.layers = check_layers(layers)
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be {' or '.join(map(repr, POOLINGS))}, not {pooling!r}.")
        self.pooling = pooling
        self.computed_layers = VGG19_LAYERS[: VGG19_LAYERS.index(deepest_layer(self.layers)) + 1]
        self.min_image_size = min_image_side(self.layers)
        convs = [name for name in self.computed_layers if name.startswith("conv")]
        choice = resolve_weights(weights)
        net: NetworkWeights = load_weights(choice, upto=convs[-1], seed=seed, verify_checksum=verify_checksum)
        self.weights_source = net.description
        self.is_random = choice.is_random
        self.channel_order = net.channel_order
        self._kernels = {name: tf.constant(net.kernels[name]) for name in convs}
        self._biases = {name: tf.constant(net.biases[name]) for name in convs}
        self._convs = {name: conv_with_forward_gradient(self._kernels[name], self._biases[name])
                       for name in convs}
        self._mean = tf.constant(np.asarray(net.mean, np.float32).reshape(1, 1, 1, 3))
        self._wanted = frozenset(self.layers)

    def __repr__(self) -> str:
        return (f"FeatureExtractor(layers={self.layers!r}, pooling={self.pooling!r}, "
                f"weights_source={self.weights_source!r})")

    def preprocess(self, images):
        """Map float images in [0, 1], RGB, to the network's input (0-255, channel order, mean removed)."""
        import tensorflow as tf

        x = tf.convert_to_tensor(images, dtype=tf.float32) * 255.0
        if self.channel_order == "BGR":
            x = tf.reverse(x, axis=[-1])
        return x - self._mean

    def _check_input(self, images):
        shape = images.shape
        if shape.rank != 4 or (shape[-1] is not None and shape[-1] != 3):
            raise ValueError(f"images must have shape (batch, height, width, 3), got {tuple(shape)}.")
        for side in (shape[1], shape[2]):
            if side is not None and side < self.min_image_size:
                raise ValueError(f"Image of {shape[1]}x{shape[2]} pixels is too small for layer "
                                 f"{self.computed_layers[-1]}: it needs at least {self.min_image_size} pixels per side.")

    def __call__(self, images) -> dict:
        """Activations at :attr:`layers`.

        Parameters
        ----------
        images : tf.Tensor or ndarray, shape (b, h, w, 3), float32 in [0, 1], RGB

        Returns
        -------
        dict of str to tf.Tensor, shape (b, h_l, w_l, c_l)
        """
        import tensorflow as tf

        images = tf.convert_to_tensor(images, dtype=tf.float32)
        self._check_input(images)
        x = self.preprocess(images)
        out = {}
        for name in self.computed_layers:
            kind = name[:4]
            if kind == "conv":
                x = self._convs[name](x)
            elif kind == "relu":
                x = tf.nn.relu(x)
            elif self.pooling == "max":
                x = max_pool_2x2(x)
            else:
                x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
            if name in self._wanted:
                out[name] = x
        return out
