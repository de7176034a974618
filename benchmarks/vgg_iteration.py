"""Forward + input gradient through VGG19 to relu5_1, as the optimiser runs it, against the matmul peak.

Usage::

    python benchmarks/vgg_iteration.py            # 256 and 512 px, the figures for the issue
    python benchmarks/vgg_iteration.py --quick    # smoke run: 64 and 96 px, few repetitions

One iteration = ``FeatureExtractor(["relu5_1"])`` on a (1, s, s, 3) image plus the gradient of
``0.5 * sum(relu5_1**2)`` with respect to the image, inside one ``tf.function`` (random weights: the
cost does not depend on their values).

FLOP convention (stated because conventions differ): the analytic count of the convolutions,
``ot_style.layers.conv_flops`` (2 FLOP per multiply-add, bias/ReLU/pooling not counted), times **2**:
one forward pass plus one data-gradient pass (``Conv2DBackpropInput``, the same multiply-adds as the
forward convolution). No kernel gradients are computed (the kernels are constants), so the training
convention "x3" would overstate the work by half.

The peak is the faster of two float32 n x n matmul rates measured in the same run with the same
threads: TensorFlow's and NumPy's (its BLAS). On this project's 2-core CPU NumPy's is about 1.5x
TensorFlow's, so a figure against TensorFlow's matmul alone (``fraction_of_tf_matmul``, also printed)
overstates how close to the hardware the network runs. The analytic count is of direct convolution;
oneDNN may use fewer multiplications (e.g. Winograd), so a fraction above 1 is possible.
The last line printed is one JSON object:
``{"sizes": {"256": {"seconds_per_iteration", "gflops", "fraction_of_peak"}, "512": {...}},
"peak_gflops", ...}``.
"""

from __future__ import annotations

import argparse

import _common

FLOP_FACTOR = 2  # forward + data gradient (see the module docstring)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512], help="image sides in pixels")
    parser.add_argument("--repeats", type=int, default=10, help="timed iterations per size")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    parser.add_argument("--layer", default="relu5_1")
    parser.add_argument("--pooling", default="max", choices=["max", "avg"])
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, 2 repetitions")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = [64, 96], 2

    tf = _common.setup_tensorflow(args.threads)
    from ot_style.layers import conv_flops
    from ot_style.network.vgg import FeatureExtractor

    print(f"device: {_common.device_name(tf)}; TF {tf.__version__}; intra-op threads {args.threads}")
    n = 512 if args.quick else 2048
    tf_peak = _common.matmul_peak_gflops(tf, n=n, repeats=3 if args.quick else 7)
    numpy_peak = _common.numpy_matmul_gflops(n=n, repeats=3 if args.quick else 7)
    peak = max(tf_peak, numpy_peak)
    print(f"float32 {n} x {n} matmul, same run: TensorFlow {tf_peak:.1f} GFLOP/s, NumPy {numpy_peak:.1f} GFLOP/s; "
          f"peak = the faster, {peak:.1f} GFLOP/s")

    extractor = FeatureExtractor([args.layer], weights="random", pooling=args.pooling)

    @tf.function(jit_compile=False, reduce_retracing=True)
    def iteration(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            features = extractor(image)[args.layer]
            loss = 0.5 * tf.reduce_sum(tf.square(features))
        grad = tape.gradient(loss, image)
        return loss, tf.reduce_sum(tf.abs(grad))  # a scalar: forces the work, cheap to fetch

    figures = {"sizes": {}, "peak_gflops": round(peak, 2), "tf_matmul_gflops": round(tf_peak, 2),
               "numpy_matmul_gflops": round(numpy_peak, 2)}
    for size in args.sizes:
        image = tf.random.stateless_uniform((1, size, size, 3), seed=(size, 0))
        seconds = _common.median(_common.time_calls(lambda: [float(v) for v in iteration(image)],
                                                    warmup=2, repeats=args.repeats))
        flops = FLOP_FACTOR * conv_flops(size, size, args.layer)
        gflops = flops / seconds / 1e9
        figures["sizes"][str(size)] = {"seconds_per_iteration": round(seconds, 5), "gflops": round(gflops, 2),
                                       "fraction_of_peak": round(gflops / peak, 4),
                                       "fraction_of_tf_matmul": round(gflops / tf_peak, 4)}
        print(f"{size:>5} px: {seconds:.4f} s/iteration, {flops / 1e9:.1f} GFLOP "
              f"(forward + data gradient), {gflops:.1f} GFLOP/s = {gflops / peak:.1%} of peak "
              f"({gflops / tf_peak:.1%} of TensorFlow's matmul)")
    figures.update(flop_convention="2 x conv_flops: forward + input (data) gradient, no kernel gradients",
                   layer=args.layer, threads=args.threads, device=_common.device_name(tf),
                   statistic="median", quick=args.quick)
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
