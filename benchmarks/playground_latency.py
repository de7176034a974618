"""How long the playground takes from Run to its first preview, cold and warm (issue 18).

Through the playground notebook 04 shows (``ot_style.widgets.playground.playground``: the widgets and
the ``Playground`` model behind them; no browser), in a fresh Python process, as a student meets it on a
cold kernel: the cell that builds the playground runs (it imports TensorFlow, as the notebook's cell
does, timed as ``shown_seconds``), then Run is pressed (``run_button.click()``) and the clock stops when
the first preview has been drawn into the preview image (the widget's own listener has run). Then,
in the same process, Run again with the sizes unchanged (warm), and once more after moving a
layer-weight slider (warm, changed weight: the traced graph takes the weights as inputs). Each run is
stopped at its first preview.

A second fresh process measures the model alone with TensorFlow not yet imported when Run is pressed
(``cold_process_seconds_to_first_preview``: the import, building the network and the first traces all
counted), the upper bound for a caller who never showed the playground.

Prints readable lines and, last, one JSON line: ``{"cold_seconds_to_first_preview": ...,
"warm_seconds_to_first_preview": ..., "warm_changed_weight_seconds_to_first_preview": ...,
"cold_process_seconds_to_first_preview": ..., "shown_seconds": ..., ...}``.

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

COMMON = r"""
import json, sys, threading, time
t_process = time.perf_counter()
size = int(sys.argv[1])

def first_preview(pg, press):
    seen = threading.Event()
    def listener(model, event):
        if event.kind == "preview" and not seen.is_set():
            seen.set()
    pg.listeners.append(listener)  # after the widget's own listener: the preview is drawn
    start = time.perf_counter()
    press()
    if not seen.wait(300):
        raise SystemExit("no preview within 300 s")
    seconds = time.perf_counter() - start
    pg.listeners.remove(listener)
    pg.stop()
    pg.join()
    return seconds
"""

CHILD_UI = COMMON + r"""
from ot_style.config import default_config
t = time.perf_counter()
from ot_style.widgets.playground import playground
ui = playground("grace_hopper.jpg", "mosaic.png", config=default_config().with_size(size), weights="random")
out = {"shown": time.perf_counter() - t}
pg = ui.model
out["cold"] = first_preview(pg, ui.run_button.click)
assert ui.preview.value, "the preview image was not drawn"
out["warm"] = first_preview(pg, ui.run_button.click)
ui.layer_sliders["relu2_1"].value = 2.5
assert pg.layer_weights["relu2_1"] == 2.5
out["warm_changed_weight"] = first_preview(pg, ui.run_button.click)
out["weights"] = pg.result.weights_source if pg.result is not None else None
print(json.dumps(out))
"""

CHILD_MODEL = COMMON + r"""
from ot_style.widgets.runner import Playground
from ot_style.config import default_config
pg = Playground("grace_hopper.jpg", "mosaic.png", config=default_config().with_size(size), weights="random")
assert "tensorflow" not in sys.modules
print(json.dumps({"cold_process": first_preview(pg, pg.run)}))
"""


def child(code: str, size: int, env: dict) -> dict:
    done = subprocess.run([sys.executable, "-c", code, str(size)], capture_output=True, text=True, env=env,
                          timeout=900)
    if done.returncode != 0:
        sys.exit(f"the playground run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="the playground's size (default 256)")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    args = parser.parse_args(argv)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", OT_STYLE_FAST="",
               TF_NUM_INTRAOP_THREADS=str(args.threads))
    ui = child(CHILD_UI, args.size, env)
    model = child(CHILD_MODEL, args.size, env)
    figures = {"size": args.size,
               "cold_seconds_to_first_preview": round(ui["cold"], 2),
               "warm_seconds_to_first_preview": round(ui["warm"], 2),
               "warm_changed_weight_seconds_to_first_preview": round(ui["warm_changed_weight"], 2),
               "cold_process_seconds_to_first_preview": round(model["cold_process"], 2),
               "shown_seconds": round(ui["shown"], 2),
               "targets": {"cold": 10.0, "warm": 2.0}, "weights": ui["weights"]}
    print(f"playground at {args.size} px: shown (its cell, TensorFlow imported) in {ui['shown']:.2f} s; Run -> first "
          f"preview drawn: cold kernel {ui['cold']:.2f} s (target 10), warm {ui['warm']:.2f} s (target 2), "
          f"warm after a weight change {ui['warm_changed_weight']:.2f} s; the model alone in a fresh process, "
          f"TensorFlow imported by Run: {model['cold_process']:.2f} s")
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
