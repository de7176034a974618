"""How long the playground takes from Run to its first preview, cold and warm (issue 18).

Through the ``Playground`` model the notebook's widgets drive (no browser): a fresh Python process
(TensorFlow not yet imported, no network built, nothing traced) presses Run and waits for the first
preview; then, in the same process, Run again with the sizes unchanged (warm), and once more after
moving a layer-weight slider (warm, changed weight: the traced graph takes the weights as inputs).
Each run is stopped at its first preview. Prints readable lines and, last, one JSON line:
``{"cold_seconds_to_first_preview": ..., "warm_seconds_to_first_preview": ...,
"warm_changed_weight_seconds_to_first_preview": ..., ...}``.

    python benchmarks/playground_latency.py            # the defaults (256 px), bundled pictures
    python benchmarks/playground_latency.py --size 512
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _common

CHILD = r"""
import json, sys, threading, time
t_process = time.perf_counter()
from ot_style.widgets.runner import Playground
from ot_style.config import default_config
size = int(sys.argv[1])
pg = Playground("grace_hopper.jpg", "mosaic.png", config=default_config().with_size(size), weights="random")

def first_preview():
    seen = threading.Event()
    def listener(model, event):
        if event.kind == "preview" and not seen.is_set():
            seen.set()
    pg.listeners[:] = [listener]
    start = time.perf_counter()
    pg.run()
    seen.wait(300)
    seconds = time.perf_counter() - start
    pg.stop()
    pg.join()
    return seconds

out = {"cold": first_preview()}
out["warm"] = first_preview()
pg.layer_weights["relu2_1"] = 2.5
out["warm_changed_weight"] = first_preview()
out["weights"] = pg.result.weights_source if pg.result is not None else None
print(json.dumps(out))
"""


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="the playground's size (default 256)")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    args = parser.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", OT_STYLE_FAST="",
               TF_NUM_INTRAOP_THREADS=str(args.threads))
    done = subprocess.run([sys.executable, "-c", CHILD, str(args.size)], capture_output=True, text=True,
                          env=env, timeout=900)
    if done.returncode != 0:
        sys.exit(f"the playground run failed:\n{done.stderr[-3000:]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    figures = {"size": args.size,
               "cold_seconds_to_first_preview": round(child["cold"], 2),
               "warm_seconds_to_first_preview": round(child["warm"], 2),
               "warm_changed_weight_seconds_to_first_preview": round(child["warm_changed_weight"], 2),
               "targets": {"cold": 10.0, "warm": 2.0}, "weights": child["weights"]}
    print(f"playground at {args.size} px, Run -> first preview: cold {child['cold']:.2f} s (target 10), "
          f"warm {child['warm']:.2f} s (target 2), warm after a weight change {child['warm_changed_weight']:.2f} s")
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
