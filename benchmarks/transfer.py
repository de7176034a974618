"""The synthesis engine's figures (issue 4): loss overhead, the default demo's time, and a PyTorch twin.

Usage::

    python benchmarks/transfer.py             # the figures: 256 and 512 px (several minutes on 2 cores)
    python benchmarks/transfer.py --quick     # smoke run: 64 and 96 px, a few evaluations

What it measures, all in one process so a busy machine slows every side alike:

1. ``loss_overhead``: for each style loss (``ot_style.config.STYLE_LOSSES``) the median wall time of ONE
   loss-and-gradient evaluation, exactly what L-BFGS calls (``ot_style.engine.optimizers.float64_objective``:
   one ``tf.function``, float64 in and out), divided by the same for a VGG-only objective (forward to
   the loss's layers plus the input gradient, a trivial quadratic on the features) - so the ratio is
   what the loss adds to the network. Square s x s images (content and style resized), random weights.
   The objectives are called in turn (VGG, w2, gram, ..., VGG, w2, ...), so a drift in the machine's
   speed during the run moves every series alike.
2. ``demo_seconds_total`` and ``demo_seconds_to_95``: ``ot_style.stylize`` on the CLI demo's pictures
   with the default configuration (``ot_style.config.DEFAULT``: 256 px, its multi-scale schedule),
   timed from the call, network building and tracing included. "95%": L0 is the full-resolution loss
   of the start image (the content at 256 px, measured afterwards in a separate call), L* the best loss
   of the final scale; the time to 95% is the elapsed time at the first final-scale evaluation whose
   loss is at most L0 - 0.95 (L0 - L*). The coarse scales count in that time.
3. ``torch_over_ours``: the same SciPy L-BFGS-B loop (same start, same number of evaluations; driven
   as the engine drives it, ``lbfgs_seconds``) over the raw W2 loss (eq. 3, ``normalise=False``: the
   twin does not normalise) on VGG19 with the same random weights, in TensorFlow (ot-style's objective) and in
   PyTorch (``benchmarks/torch_twin.py``, eager, ``torch.set_num_threads`` = TF's intra-op threads);
   the ratio is PyTorch's seconds per evaluation divided by ours (> 1: ours is faster), over two rounds
   run in turn (ours, PyTorch, ours, PyTorch; one in ``--quick``). Both objectives are
   evaluated on the same image first; their losses agree to float32 rounding and their gradients to about
   1e-6 in norm (printed as ``twin_agreement``), which shows the twin computes the same thing. Where a
   feature covariance is nearly singular (few samples at the deep layers of a small image) the W2
   gradient is ill-conditioned and the float32-rounding differences of the two frameworks' features can
   show as up to a few percent.
   Skipped with a note when PyTorch is not installed (``pip install torch``; it is in the ``bench``
   extra, never a runtime dependency).

The last line printed is one JSON object with keys ``loss_overhead`` ({loss: {"256": r, "512": r}}),
``demo_seconds_to_95``, ``demo_seconds_total``, ``torch_over_ours`` ({"256": r, "512": r} or null),
plus context.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import _common


def demo_pictures() -> tuple[str, str]:
    """Names of the CLI demo's bundled content and style pictures."""
    from ot_style.cli.demo import DEMO_CONTENT, DEMO_STYLE

    return DEMO_CONTENT, DEMO_STYLE


def square_images(size: int):
    """The demo's content and style, resized to size x size (float32 in [0, 1])."""
    from PIL import Image

    from ot_style.pixels.images import read_image

    DEMO_CONTENT, DEMO_STYLE = demo_pictures()
    out = []
    for name in (DEMO_CONTENT, DEMO_STYLE):
        image = Image.fromarray(np.round(read_image(name) * 255).astype(np.uint8))
        out.append(np.asarray(image.resize((size, size), Image.BICUBIC), np.float32) / 255.0)
    return out


def tf_objective(tf, extractor, loss, style, shape):
    """ot-style's evaluate(x) -> (loss, gradient) for a style loss, or the VGG-only objective (loss None)."""
    from ot_style.engine.optimizers import float64_objective

    layers = loss.layers if loss is not None else extractor.layers
    if loss is None:
        target = None

        def terms(x, target):
            feats = extractor(x)
            return {"vgg": tf.add_n([tf.reduce_mean(tf.square(feats[name])) for name in layers])}
    else:
        style_image = tf.constant(style[None])
        target = loss.prepare([extractor(style_image)], [style_image], [1.0], seed=0)

        def terms(x, target):  # the style target is an argument of the graph, as in the engine
            return loss(extractor(x), target, x)
    evaluate = float64_objective(terms, shape, target)
    return lambda x: evaluate(x)[:2]


def lbfgs_seconds(evaluate, x0, evaluations: int) -> tuple[float, int, float]:
    """SciPy's L-BFGS-B (bounds [0, 1]) for at most ``evaluations`` calls, after one untimed warm-up call.

    Driven as the engine drives it (``ot_style.engine._lbfgsb.minimize_box``: SciPy's routine, with
    the bounds as NumPy arrays; ``scipy.optimize.minimize`` would add about 1.6 s of per-variable
    Python per call at 256 px, 6.5 s at 512 px, to both frameworks alike). Returns (seconds,
    evaluations made, final loss). The same driver for both frameworks.
    """
    from ot_style.engine._lbfgsb import minimize_box

    evaluate(x0)  # tracing / first-call costs are not the loop's
    count = [0]

    def fun(x):
        count[0] += 1
        return evaluate(x)

    start = time.perf_counter()
    result = minimize_box(fun, x0, 0.0, 1.0, maxiter=evaluations, maxfun=evaluations)
    return time.perf_counter() - start, count[0], float(result["fun"])


def loss_overhead(tf, sizes, losses, repeats, config):
    from ot_style.losses import make_style_loss
    from ot_style.network.vgg import FeatureExtractor

    extractor = FeatureExtractor(config.layers, weights="random", pooling=config.pooling)
    table, vgg_seconds = {name: {} for name in losses}, {}
    for size in sizes:
        content, style = square_images(size)
        x = content.astype(np.float64).ravel()
        shape = (size, size, 3)
        objectives = [tf_objective(tf, extractor, None, style, shape)]
        objectives += [tf_objective(tf, extractor, make_style_loss(name, config=config), style, shape)
                       for name in losses]
        times = _common.time_interleaved([lambda f=f: f(x) for f in objectives], warmup=2, repeats=repeats)
        base, *seconds = [_common.median(series) for series in times]
        vgg_seconds[str(size)] = round(base, 4)
        print(f"{size:>4} px  VGG only (forward + input gradient, {len(config.layers)} layers): "
              f"{base:.3f} s/evaluation")
        for name, value in zip(losses, seconds):
            table[name][str(size)] = round(value / base, 3)
            print(f"{size:>4} px  {name:<8} {value:.3f} s/evaluation = {value / base:.3f} x VGG only")
    return table, vgg_seconds


def demo(config, weights):
    import ot_style
    from ot_style.pixels.images import read_image

    DEMO_CONTENT, DEMO_STYLE = demo_pictures()
    content, style = read_image(DEMO_CONTENT), read_image(DEMO_STYLE)
    events = []

    def record(iterate):
        events.append((iterate.elapsed, iterate.scale, iterate.losses["total"]))

    with warnings.catch_warnings(record=True):  # "auto" without weights on disk warns; reported below
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = ot_style.stylize(content, style, config=config, weights=weights, callback=record)
        total = time.perf_counter() - start
        reference = ot_style.stylize(content, style, config=config, weights=weights,
                                     scales=(config.size,), steps=1)
    last = len(config.scales) - 1
    final = [(t, loss) for t, scale, loss in events if scale == last]
    if not final:
        raise RuntimeError(f"The demo never reached its final scale (interrupted: {result.interrupted}).")
    start_loss, best = reference.history["total"][0], min(loss for _, loss in final)
    threshold = start_loss - 0.95 * (start_loss - best)
    to_95 = next(t for t, loss in final if loss <= threshold)
    print(f"demo ({DEMO_CONTENT} + {DEMO_STYLE}, {config.loss}, scales {config.scales}, {config.steps} "
          f"evaluations per scale, weights: {result.weights_source}): total {total:.1f} s, 95% of the "
          f"final-scale drop ({start_loss:.4g} -> {best:.4g}) after {to_95:.1f} s; "
          f"seconds per scale {[round(s, 1) for s in result.seconds_per_scale]}")
    return {"demo_seconds_to_95": round(to_95, 2), "demo_seconds_total": round(total, 2),
            "demo_weights": result.weights_source, "demo_evaluations": result.evaluations,
            "demo_seconds_per_scale": [round(s, 2) for s in result.seconds_per_scale]}


def torch_comparison(tf, sizes, evaluations, threads, config, rounds=2):
    import torch_twin
    from ot_style.losses import W2Loss
    from ot_style.network.vgg import FeatureExtractor

    version = torch_twin.available()
    if version is None:
        print("NOTE: PyTorch is not installed, so the PyTorch twin is skipped (pip install torch, or the "
              "'bench' extra).")
        return None, None
    layers = config.layers
    extractor = FeatureExtractor(layers, weights="random", pooling="max", seed=0)
    ratios, agreement = {}, {}
    for size in sizes:
        content, style = square_images(size)
        x0 = content.astype(np.float64).ravel()
        shape = (size, size, 3)
        ours = tf_objective(tf, extractor, W2Loss(layers, normalise=False), style, shape)  # eq. 3 as the twin computes it
        twin = torch_twin.TorchW2(style, layers, shape, threads=threads, seed=0)
        (a, grad_a), (b, grad_b) = ours(x0), twin.evaluate(x0)
        agreement[str(size)] = {"loss": float(abs(a - b) / abs(a)),
                                "gradient": float(np.linalg.norm(grad_a - grad_b) / np.linalg.norm(grad_a))}
        ours_s = twin_s = 0.0
        ours_n = twin_n = 0
        for _ in range(rounds):  # ours, twin, ours, twin: a drift in the machine's speed hits both
            seconds, count, ours_f = lbfgs_seconds(ours, x0, evaluations)
            ours_s, ours_n = ours_s + seconds, ours_n + count
            seconds, count, twin_f = lbfgs_seconds(twin.evaluate, x0, evaluations)
            twin_s, twin_n = twin_s + seconds, twin_n + count
        ratio = (twin_s / twin_n) / (ours_s / ours_n)
        ratios[str(size)] = round(ratio, 3)
        print(f"{size:>4} px  L-BFGS loop x {rounds}, W2: ours {ours_s / ours_n:.3f} s/evaluation ({ours_n} evals, "
              f"loss {a:.5g} -> {ours_f:.5g}), PyTorch {version} {twin_s / twin_n:.3f} s/evaluation "
              f"({twin_n} evals, -> {twin_f:.5g}); torch/ours = {ratio:.2f}; at the start the losses differ by "
              f"{agreement[str(size)]['loss']:.1e}, the gradients by {agreement[str(size)]['gradient']:.1e} "
              f"(relative)")
    return ratios, agreement


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=9, help="timed evaluations per loss and size")
    parser.add_argument("--evaluations", type=int, default=20, help="L-BFGS evaluations per framework")
    parser.add_argument("--threads", type=int, default=_common.physical_cores())
    parser.add_argument("--weights", default="auto", help="VGG weights of the demo run (default auto)")
    parser.add_argument("--skip", nargs="*", default=[], choices=["overhead", "demo", "torch"])
    parser.add_argument("--quick", action="store_true", help="smoke run: 64/96 px, few evaluations, tiny demo")
    args = parser.parse_args(argv)

    tf = _common.setup_tensorflow(args.threads)
    from ot_style.config import DEFAULT, STYLE_LOSSES

    config = DEFAULT
    demo_config = DEFAULT
    if args.quick:
        args.sizes, args.repeats, args.evaluations = [64, 96], 1, 3
        demo_config = DEFAULT.replace(size=64, scales=(32, 64), steps=4)
    print(f"device: {_common.device_name(tf)}; TF {tf.__version__}; threads {args.threads}")
    float(tf.reduce_sum(tf.linalg.matmul(tf.ones((64, 64)), tf.ones((64, 64)))))  # TF runtime started

    figures = {"loss_overhead": None, "demo_seconds_to_95": None, "demo_seconds_total": None,
               "torch_over_ours": None}
    if "demo" not in args.skip:
        figures.update(demo(demo_config, args.weights))
    if "overhead" not in args.skip:
        figures["loss_overhead"], figures["vgg_seconds_per_evaluation"] = loss_overhead(
            tf, args.sizes, STYLE_LOSSES, args.repeats, config)
    if "torch" not in args.skip:
        figures["torch_over_ours"], figures["twin_agreement"] = torch_comparison(
            tf, args.sizes, args.evaluations, args.threads, config, rounds=1 if args.quick else 2)
    figures.update(threads=args.threads, device=_common.device_name(tf), quick=args.quick,
                   statistic="median per evaluation (overhead); mean per evaluation over the L-BFGS loop (twin)")
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
