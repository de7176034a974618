"""Cost against size (issue 18): seconds per evaluation and peak memory from 256 px to 4K, whole and tiled.

Each measurement runs in its own Python process, so its peak resident memory (``VmHWM``) is its own: one
loss-and-gradient evaluation of the default objective (W2 at relu1_1-relu5_1, the content term at
relu3_2, random weights) on a 16:9 photograph at 256, 512, 1024 and 1920 px long side, and tiled
(:mod:`ot_style.engine.tiled`) at 1920 and 3840 px. The growth exponent is fitted to the whole-picture
sizes (seconds ~ pixels^k). Then ``ot-style transfer`` at 1920 px with the defaults (its large
schedule, ``ot_style.config.StyleConfig.with_size``) runs in its own process: wall time, peak memory
and the picture-quality measures of the result at that size (``--transfer-sizes 1920 3840`` adds the
4K transfer, tiled by the engine's own choice). Prints readable lines and, last, one JSON
line ``{"sizes": {"256": {"seconds_per_evaluation": ..., "peak_rss_gb": ...}, ...}, "exponent": ...,
"tiled": {...}, "transfer_1920_seconds": ..., "transfer_1920_peak_rss_gb": ..., ...}``.

The photograph is scikit-image's ``rocket`` (public domain), cropped to 16:9 (the ``bench`` extra).
Run it on a quiet machine: it takes about 25 minutes on 2 cores.

    python benchmarks/scale.py
    python benchmarks/scale.py --quick              # smoke run: 128 and 256 px, tiled at 256, no transfer
    python benchmarks/scale.py --skip transfer 3840 # parts can be skipped
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import _common

EVALUATE = r"""
import json, sys, time
import numpy as np
size, tile, repeats, photo, painting = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
import tensorflow as tf
from ot_style.config import default_config
from ot_style.engine.optimizers import LossAndGradient
from ot_style.engine.synthesis import _loss_terms
from ot_style.engine.tiled import TiledObjective
from ot_style.losses.registry import build_losses
from ot_style.network.vgg import FeatureExtractor
from ot_style.pixels.images import fit_size, read_image, resize

cfg = default_config().with_size(size)
style_loss, content_term = build_losses(cfg, None, "config", has_content=True)
needed = tuple(dict.fromkeys(style_loss.layers + content_term.layers))
extractor = FeatureExtractor(needed, weights="random")
content, style = read_image(photo), read_image(painting)
hw = fit_size(content.shape, size)
image = resize(content, hw)
start_image = np.clip(image + 0.05 * np.random.default_rng(0).standard_normal(image.shape), 0, 1).astype(np.float32)
style_img = resize(style, fit_size(style.shape, min(size, max(style.shape[:2]))))
style_target = style_loss.prepare([extractor(tf.constant(style_img[None]))], None, [1.0])
if tile:
    objective = TiledObjective(extractor, style_loss, content_term, tile=tile)
    content_features = objective.features(image, content_term.layers)
else:
    content_features = extractor(tf.constant(image[None]))
content_target = content_term.prepare(content_features, None)
targets = (style_target, content_target)
evaluate = (objective.float64(image.shape, targets) if tile else
            LossAndGradient(_loss_terms(extractor, style_loss, content_term)).float64(image.shape, targets))
x = start_image.astype(np.float64).ravel()
times = []
for _ in range(repeats):
    t = time.perf_counter()
    evaluate(x)
    times.append(time.perf_counter() - t)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) * 1024
print(json.dumps({"size": list(hw), "times": times, "peak_rss_bytes": hwm}))
"""

TRANSFER = r"""
import json, sys, time
from ot_style.cli import main
t = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - t
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) * 1024
print(json.dumps({"code": code, "seconds": seconds, "peak_rss_bytes": hwm}))
"""


def pictures(folder: str) -> tuple[str, str]:
    """The 16:9 photograph and the painting-like style, written as PNG files."""
    from skimage import data

    from ot_style.pixels.assets import asset_path
    from ot_style.pixels.images import save_image

    rocket = data.rocket()  # 427 x 640
    h = round(rocket.shape[1] * 9 / 16)
    photo = os.path.join(folder, "rocket_16x9.png")
    save_image(rocket[(rocket.shape[0] - h) // 2:][:h], photo)
    return photo, str(asset_path("mosaic.png"))


def child(code: str, args: list, env: dict, timeout: float) -> dict:
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 1920])
    parser.add_argument("--tiled", type=int, nargs="+", default=[1920, 3840], help="tiled sizes")
    parser.add_argument("--tile", type=int, default=1024, help="tile interior side for the tiled runs")
    parser.add_argument("--skip", nargs="*", default=[], help="any of: transfer, 3840, tiled")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    parser.add_argument("--transfer-sizes", type=int, nargs="+", default=[1920],
                        help="long sides of the end-to-end transfers (default 1920; 3840 takes about 25 minutes)")
    parser.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, no transfer")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.tiled, args.tile, args.skip = [128, 256], [256], 64, args.skip + ["transfer"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", OT_STYLE_FAST="", TF_NUM_INTRAOP_THREADS=str(args.threads))
    figures = {"sizes": {}, "tiled": {}, "threads": args.threads}
    with tempfile.TemporaryDirectory() as folder:
        photo, painting = pictures(folder)
        for size in args.sizes:
            repeats = 3 if size <= 512 else 2  # the first evaluation includes tracing; the last is reported
            out = child(EVALUATE, [size, 0, repeats, photo, painting], env, 3600)
            figures["sizes"][str(size)] = {"pixels": out["size"], "seconds_per_evaluation": round(out["times"][-1], 3),
                                           "first_evaluation_seconds": round(out["times"][0], 3),
                                           "peak_rss_gb": round(out["peak_rss_bytes"] / 1e9, 2)}
            print(f"whole {size:5d} px {out['size'][1]}x{out['size'][0]}: {out['times'][-1]:8.2f} s per evaluation, "
                  f"peak RSS {out['peak_rss_bytes'] / 1e9:5.2f} GB", flush=True)
        if "tiled" not in args.skip:
            for size in args.tiled:
                if str(size) in args.skip:
                    continue
                repeats = 2 if size <= 1920 else 1  # at 4K one evaluation (its tracing included) is reported
                out = child(EVALUATE, [size, args.tile, repeats, photo, painting], env, 7200)
                figures["tiled"][str(size)] = {"pixels": out["size"], "tile": args.tile,
                                               "seconds_per_evaluation": round(out["times"][-1], 2),
                                               "peak_rss_gb": round(out["peak_rss_bytes"] / 1e9, 2)}
                print(f"tiled {size:5d} px {out['size'][1]}x{out['size'][0]} (tiles of {args.tile}): "
                      f"{out['times'][-1]:8.2f} s per evaluation, peak RSS {out['peak_rss_bytes'] / 1e9:5.2f} GB",
                      flush=True)
        whole = [(np.prod(v["pixels"]), v["seconds_per_evaluation"]) for v in figures["sizes"].values()]
        if len(whole) >= 2:
            k, _ = np.polyfit(np.log([p for p, _ in whole]), np.log([s for _, s in whole]), 1)
            figures["exponent"] = round(float(k), 3)
            print(f"growth: seconds ~ pixels^{k:.2f}")
        if "transfer" not in args.skip:
            from ot_style.pixels.images import load_image
            from ot_style.pixels.quality import assess_transfer

            for size in args.transfer_sizes:
                output = os.path.join(folder, f"transfer_{size}.png")
                out = child(TRANSFER, ["transfer", photo, painting, "--size", str(size), "--weights", "random",
                                       "-o", output], env, 7200)
                if out["code"] != 0:
                    raise RuntimeError(f"ot-style transfer exited with {out['code']}")
                result = load_image(output)
                quality = assess_transfer(result, load_image(photo), load_image(painting))
                figures[f"transfer_{size}_seconds"] = round(out["seconds"], 1)
                figures[f"transfer_{size}_peak_rss_gb"] = round(out["peak_rss_bytes"] / 1e9, 2)
                figures[f"transfer_{size}_quality"] = {k: round(v, 3) for k, v in quality.as_dict().items()}
                figures[f"transfer_{size}_passes"] = quality.passes()
                figures[f"transfer_{size}_size"] = list(result.shape[:2])
                print(f"ot-style transfer --size {size}: {out['seconds']:.0f} s, peak RSS "
                      f"{out['peak_rss_bytes'] / 1e9:.2f} GB, quality {figures[f'transfer_{size}_quality']}", flush=True)
                keep = os.environ.get("OT_STYLE_SCALE_KEEP")  # a folder: the results are copied there
                if keep:
                    import shutil

                    os.makedirs(keep, exist_ok=True)
                    shutil.copy(output, os.path.join(keep, f"transfer_{size}.png"))
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
