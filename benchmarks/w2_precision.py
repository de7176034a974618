"""Why W2's per-step matrix work stays in float64: the pixel gradient against a float64 reference.

Usage::

    python benchmarks/w2_precision.py            # 256 px (about a minute on 2 cores)
    python benchmarks/w2_precision.py --quick    # smoke run: 64 px, a short stylisation

The engine computes VGG features in float32 and W2's products and eigendecompositions in float64
(``ot_style.losses.w2``). Doing the latter in float32 too (``sgemm`` and ``ssyevd``) would halve the
host work's time on a CPU (512 x 512: 66 ms against 32 ms on one thread), which is most of what the W2
loss adds to VGG at 256 px. This script measures what that would cost in accuracy. Each variant gives
the W2 loss (``W2Loss`` with the default layers, random weights) and its gradient in the pixels:

- ``reference``: the same network in float64 (the same weights, ``tf.nn.conv2d`` in float64) and the
  float64 host work;
- ``engine``: float32 features, float64 host work (what ot-style runs);
- ``float32``: float32 features, float32 host work (the faster option).

at two images: the content at the start of a run, and a stylised image (the default ``stylize`` run
from that content). It prints, per variant and image, ``|g - g_ref| / |g_ref|`` and the largest
relative error of a layer's loss value. A stylised image is the harder case: the loss there is a small
difference of large traces, so the cross term's rounding shows. Not a speed benchmark; it records the
evidence behind a speed decision. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib

import numpy as np

import _common


def float64_network(tf, layers, pooling):
    """``images -> {layer: activations}``: the engine's random-weight VGG19 (same seed, same weights as
    ``FeatureExtractor(layers, weights="random")``) run in float64, differentiable."""
    from ot_style.layers import VGG19_LAYERS
    from ot_style.network.weights import load_weights

    plan = VGG19_LAYERS[: max(VGG19_LAYERS.index(name) for name in layers) + 1]
    net = load_weights("random", upto=[name for name in plan if name.startswith("conv")][-1])
    kernels = {name: tf.constant(net.kernels[name], tf.float64) for name in net.kernels}
    biases = {name: tf.constant(net.biases[name], tf.float64) for name in net.biases}
    mean = tf.constant(np.reshape(net.mean, (1, 1, 1, 3)), tf.float64)

    def features(images):
        x = tf.cast(images, tf.float64) * 255.0
        if net.channel_order == "BGR":
            x = tf.reverse(x, axis=[-1])
        x = x - mean
        out = {}
        for name in plan:
            if name.startswith("conv"):
                x = tf.nn.bias_add(tf.nn.conv2d(x, kernels[name], 1, "SAME"), biases[name])
            elif name.startswith("relu"):
                x = tf.nn.relu(x)
            else:
                x = (tf.nn.max_pool2d if pooling == "max" else tf.nn.avg_pool2d)(x, 2, 2, "VALID")
            if name in layers:
                out[name] = x
        return out

    return features


@contextlib.contextmanager
def float32_host_work(host):
    """The host route's two functions fed float32 (so ``sgemm`` and ``ssyevd`` run), with the value
    threshold scaled to float32's eps; their results are handed back in float64."""
    real = host.host_sandwich, host.host_kernel
    scale = np.finfo(np.float32).eps / np.finfo(np.float64).eps

    def in_float32(function):
        def run(*args):
            *arrays, value_tol, grad_floor = args  # both host functions end with the two thresholds
            value, grad = function(*(np.asarray(a, np.float32) for a in arrays),
                                   np.float32(value_tol * scale), np.float32(grad_floor))
            return np.float64(value), grad.astype(np.float64)

        return run

    host.host_sandwich, host.host_kernel = (in_float32(f) for f in real)
    try:
        yield
    finally:
        host.host_sandwich, host.host_kernel = real


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image side in pixels")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 px, a short stylisation")
    args = parser.parse_args(argv)
    if args.quick:
        args.size = 64

    tf = _common.setup_tensorflow(args.threads)
    import transfer

    import ot_style
    from ot_style.config import DEFAULT
    # The benchmark swaps the CPU route's own functions for float32 variants: it reaches into the private
    # module on purpose (it measures a variant the package does not offer).
    from ot_style.losses import _w2_host
    from ot_style.losses import W2Loss
    from ot_style.network.vgg import FeatureExtractor

    _w2_host.set_route("host")  # the route whose precision is in question (the CPU's)
    extractor = FeatureExtractor(DEFAULT.layers, weights="random", pooling=DEFAULT.pooling)
    reference_network = float64_network(tf, DEFAULT.layers, DEFAULT.pooling)
    content, style = transfer.square_images(args.size)
    loss = W2Loss(DEFAULT.layers, per_layer=True)
    target = loss.prepare([extractor(tf.constant(style[None]))], None, [1.0])
    run = ot_style.stylize(content, style, size=args.size, scales=(args.size // 2, args.size), weights="random",
                           steps=(4, 2) if args.quick else DEFAULT.steps)
    images = {"content": content, "stylised": np.asarray(run.image, np.float32)}

    def loss_and_gradient(image, variant):
        dtype = tf.float64 if variant == "reference" else tf.float32
        x = tf.Variable(tf.constant(image[None], dtype))
        with tf.GradientTape() as tape:
            features = (reference_network if variant == "reference" else extractor)(x)
            terms = loss(features, target)
            total = tf.add_n(list(terms.values()))
        values = {name.split("/")[1]: float(v) for name, v in terms.items()}
        return values, tape.gradient(total, x).numpy().astype(np.float64).ravel()

    figures = {"size": args.size, "images": {}}
    for image_name, image in images.items():
        ref_values, ref_grad = loss_and_gradient(image, "reference")
        row = {"loss": round(sum(ref_values.values()), 6)}
        for variant in ("engine", "float32"):
            context = float32_host_work(_w2_host) if variant == "float32" else contextlib.nullcontext()
            with context:
                values, grad = loss_and_gradient(image, variant)
            grad_error = float(np.linalg.norm(grad - ref_grad) / np.linalg.norm(ref_grad))
            value_error = max(abs(values[k] - ref_values[k]) / abs(ref_values[k]) for k in ref_values)
            row[variant] = {"gradient_rel_error": float(f"{grad_error:.3g}"),
                            "worst_layer_value_rel_error": float(f"{value_error:.3g}")}
            print(f"{image_name:>9}  {variant:>7}: |g - g_ref| / |g_ref| = {grad_error:.2e}, worst layer's loss "
                  f"off by {value_error:.1e} of itself")
        figures["images"][image_name] = row
    figures.update(threads=args.threads, device=_common.device_name(tf), weights="random (seeded)", quick=args.quick)
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
