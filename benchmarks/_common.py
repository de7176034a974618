"""Shared helpers of the benchmarks: thread setup, timing, and this machine's float32 matmul peak.

Not part of the package (benchmarks/ is not installed). Every figure a benchmark prints is measured in
the same process as the reference it is compared with, so a loaded machine slows both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time

# Quiet TensorFlow before it is imported anywhere.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # run from a checkout


def physical_cores() -> int:
    """Cores to use for intra-op threads (os.cpu_count(): this machine reports no SMT siblings)."""
    return os.cpu_count() or 1


def setup_tensorflow(threads: int):
    """Import TensorFlow with ``threads`` intra-op threads (before any TF op).

    Inter-op threads stay at TensorFlow's default, which is what the package's users run with (nothing in
    ot_style sets them): with two, the W2 loss's host work (one BLAS thread, ``ot_style.losses.w2``)
    overlaps the deeper layers' convolutions. One inter-op thread serialises it: at 256 px a W2 evaluation
    cost 1.135-1.146 VGG-only evaluations with the default and 1.225 with one inter-op thread.
    """
    import tensorflow as tf

    from ot_style.network.vgg import configure_threads

    configure_threads(intra_op=threads)
    tf.get_logger().setLevel("ERROR")  # each benchmarked objective is its own tf.function: no retrace noise
    return tf


def device_name(tf) -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU: {platform.processor() or platform.machine()}, {physical_cores()} cores"


def time_calls(fn, *, warmup: int, repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones (tracing, caches)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def time_interleaved(fns, *, warmup: int, repeats: int) -> list[list[float]]:
    """Wall seconds of each of ``fns``, called in turn (a b c a b c ...) ``repeats`` times after ``warmup``
    rounds: a machine that speeds up or slows down during the run shifts every function alike, so ratios
    of their medians hold better than ratios of separate series."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, series in zip(fns, times):
            start = time.perf_counter()
            fn()
            series.append(time.perf_counter() - start)
    return times


def median(values) -> float:
    return float(statistics.median(values))


def matmul_peak_gflops(tf, *, n: int = 2048, warmup: int = 2, repeats: int = 7) -> float:
    """This machine's float32 matmul rate in TensorFlow: 2 n^3 / median seconds of an n x n product.

    Same library, same thread pools and same statistic (median) as the figures compared with it.
    """
    a = tf.random.stateless_normal((n, n), seed=(1, 2), dtype=tf.float32)
    b = tf.random.stateless_normal((n, n), seed=(3, 4), dtype=tf.float32)

    @tf.function
    def product():
        return tf.reduce_sum(tf.linalg.matmul(a, b))

    seconds = median(time_calls(lambda: float(product()), warmup=warmup, repeats=repeats))
    return 2.0 * n ** 3 / seconds / 1e9


def numpy_matmul_gflops(*, n: int = 2048, warmup: int = 2, repeats: int = 7) -> float:
    """The same float32 n x n product in NumPy (its BLAS, e.g. OpenBLAS), same statistic (median).

    On the 2-core AMD EPYC (AVX2, FMA) that this project develops on, OpenBLAS reaches about 150-180
    GFLOP/s where TensorFlow's matmul reaches about 100-115: TensorFlow's rate is not the machine's peak.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    seconds = median(time_calls(lambda: a @ b, warmup=warmup, repeats=repeats))
    return 2.0 * n ** 3 / seconds / 1e9


def print_json(figures: dict) -> None:
    """The last line a benchmark prints: one JSON object."""
    print(json.dumps(figures, sort_keys=False))
