"""Why W2's per-step matrix work stays in float64: the pixel gradient against a float64 reference.

Usage::

    python benchmarks/w2_precision.py            # 256 px (about a minute on 2 cores)
    python benchmarks/w2_precision.py --quick    # smoke run: 64 px, a short stylisation

The engine computes VGG features in float32 and W2's products and eigendecompositions in float64
(``ot_style.tf_gaussian``). Doing the latter in float32 too (``sgemm`` and ``ssyevd``) would halve the
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


def float64_features(tf, extractor, images):
    """The extractor's network run in float64 on (b, h, w, 3) images (same weights, same layers)."""
    x = tf.cast(images, tf.float64) * 255.0
    if extractor.channel_order == "BGR":
        x = tf.reverse(x, axis=[-1])
    x = x - tf.cast(extractor._mean, tf.float64)
    out = {}
    for name in extractor._plan:  # the extractor's own layer plan: conv, relu and pool names in order
        kind = name[:4]
        if kind == "conv":
            kernel, bias = (tf.cast(t, tf.float64) for t in (extractor._kernels[name], extractor._biases[name]))
            x = tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias)
        elif kind == "relu":
            x = tf.nn.relu(x)
        elif extractor.pooling == "max":
            x = tf.nn.max_pool2d(x, 2, 2, "VALID")
        else:
            x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
        if name in extractor.layers:
            out[name] = x
    return out


@contextlib.contextmanager
def float32_host_work(tf_gaussian):
    """The host route's two functions with their matrix work in float32 (thresholds scaled to its eps)."""
    real = tf_gaussian._host_sandwich, tf_gaussian._host_kernel
    scale = np.finfo(np.float32).eps / np.finfo(np.float64).eps
    f32 = np.float32

    def sandwich(cov_x, root_s, value_tol, grad_floor):
        with tf_gaussian._host_blas():
            root = root_s.astype(f32)
            value, vec, slope = tf_gaussian._sqrt_spectrum(root @ (cov_x.astype(f32) @ root), f32(value_tol * scale),
                                                           f32(grad_floor))
            w = root @ vec
            return np.float64(value), ((w * slope) @ w.T).astype(np.float64)

    def kernel(d, cov_s, n_minus_1, value_tol, grad_floor):
        with tf_gaussian._host_blas():
            d, n1 = d.astype(f32), f32(n_minus_1)
            ds = d @ cov_s.astype(f32)
            value, vec, slope = tf_gaussian._sqrt_spectrum(ds @ d.T / n1, f32(value_tol * scale), f32(grad_floor))
            return np.float64(value), (((vec * (2.0 * slope / n1)) @ vec.T) @ ds).astype(np.float64)

    tf_gaussian._host_sandwich, tf_gaussian._host_kernel = sandwich, kernel
    try:
        yield
    finally:
        tf_gaussian._host_sandwich, tf_gaussian._host_kernel = real


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
    from ot_style import tf_gaussian
    from ot_style.config import DEFAULT
    from ot_style.losses import W2Loss
    from ot_style.vgg import FeatureExtractor

    tf_gaussian._ROUTE = "host"  # the route whose precision is in question (the CPU's)
    extractor = FeatureExtractor(DEFAULT.layers, weights="random", pooling=DEFAULT.pooling)
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
            features = float64_features(tf, extractor, x) if variant == "reference" else extractor(x)
            terms = loss(features, target)
            total = tf.add_n(list(terms.values()))
        values = {name.split("/")[1]: float(v) for name, v in terms.items()}
        return values, tape.gradient(total, x).numpy().astype(np.float64).ravel()

    figures = {"size": args.size, "images": {}}
    for image_name, image in images.items():
        ref_values, ref_grad = loss_and_gradient(image, "reference")
        row = {"loss": round(sum(ref_values.values()), 6)}
        for variant in ("engine", "float32"):
            context = float32_host_work(tf_gaussian) if variant == "float32" else contextlib.nullcontext()
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
