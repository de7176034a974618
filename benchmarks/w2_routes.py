"""W2's two routes on a CPU, timed interleaved against VGG alone: where the per-step matrix work runs.

Usage::

    python benchmarks/w2_routes.py                  # 128, 256 and 512 px
    python benchmarks/w2_routes.py --inter-op 1     # with one TensorFlow inter-op thread
    python benchmarks/w2_routes.py --quick          # smoke run: 64 px, 2 rounds

``host``: ot-style's CPU route (``ot_style.losses.w2.matrix_route("host")``: each
layer's float64 products and eigendecomposition in NumPy/LAPACK, one graph node on one BLAS thread).
``graph``: the same loss in TF ops, as on a GPU. Each is one loss-and-gradient evaluation exactly as
L-BFGS calls it (``transfer.tf_objective``), divided by the VGG-only objective; the three are called in
turn, round after round, and the medians compared. The last line printed is one JSON object
``{"sizes": {"256": {"vgg_seconds", "host_over_vgg", "graph_over_vgg"}, ...}, "inter_op", ...}``.
"""

from __future__ import annotations

import argparse

import numpy as np

import _common


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512], help="image sides in pixels")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (each calls all three)")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    parser.add_argument("--inter-op", type=int, default=None, help="TF inter-op threads (default: TF's)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 64 px, 2 rounds")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.rounds = [64], 2

    tf = _common.setup_tensorflow(args.threads)
    if args.inter_op is not None:
        tf.config.threading.set_inter_op_parallelism_threads(args.inter_op)
    import transfer

    from ot_style.config import DEFAULT
    from ot_style.losses import W2Loss, matrix_route
    from ot_style.network.vgg import FeatureExtractor

    extractor = FeatureExtractor(DEFAULT.layers, weights="random", pooling=DEFAULT.pooling)
    figures = {"sizes": {}}
    for size in args.sizes:
        content, style = transfer.square_images(size)
        x = content.astype(np.float64).ravel()
        shape = (size, size, 3)
        objectives = {"vgg": transfer.tf_objective(tf, extractor, None, style, shape)}
        for route in ("host", "graph"):  # the route is chosen when the graph is traced (first call)
            with matrix_route(route):
                objectives[route] = transfer.tf_objective(tf, extractor, W2Loss(DEFAULT.layers), style, shape)
                objectives[route](x)
        times = _common.time_interleaved([lambda f=f: f(x) for f in objectives.values()],
                                         warmup=1, repeats=args.rounds)
        vgg, on_host, graph = (_common.median(series) for series in times)
        figures["sizes"][str(size)] = {"vgg_seconds": round(vgg, 4), "host_over_vgg": round(on_host / vgg, 3),
                                       "graph_over_vgg": round(graph / vgg, 3)}
        print(f"{size:>4} px  VGG only {vgg:.3f} s; W2 host route {on_host:.3f} s = {on_host / vgg:.3f} x, "
              f"TF-ops route {graph:.3f} s = {graph / vgg:.3f} x")
    figures.update(inter_op=args.inter_op or "default", threads=args.threads, device=_common.device_name(tf),
                   statistic="median of interleaved rounds", quick=args.quick)
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
