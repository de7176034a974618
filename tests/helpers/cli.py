"""Command-line test helpers: a small smooth picture, the CLI run in-process, a folder check, and the
result a stand-in engine returns."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ot_style.cli import commands as cli
from ot_style.pixels.images import save_image

#: The options of a real but tiny engine run: random weights, two shallow layers, three steps.
SMALL = ["--weights", "random", "--layers", "relu1_1", "relu2_1", "--steps", "3"]


def picture(path, size=(48, 40), seed=0):
    """A smooth random picture (so VGG features are not pure noise) of size (w, h)."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([np.sin(6 * x + rng.uniform(0, 6)), np.cos(5 * y + rng.uniform(0, 6)),
                     np.sin(4 * (x + y))], axis=2)
    image = 0.5 + 0.4 * base + 0.05 * rng.normal(size=(h, w, 3))
    save_image(np.clip(image, 0, 1), path)
    return path


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def only_pictures(folder, expected=()):
    """The folder holds exactly ``expected`` besides the inputs: no temporary or partial files."""
    names = sorted(os.listdir(folder))
    assert not [n for n in names if n.startswith(".")], names
    return names


@dataclass
class EngineResult:
    """What the stand-in engine returns (the fields the CLI reads from a real result)."""

    image: np.ndarray
    history: dict = field(default_factory=lambda: {"total": [3.0, 2.0, 1.0]})
    evaluations: int = 3
    seconds_per_scale: list = field(default_factory=lambda: [0.1])
    weights_source: str = "RANDOM"
    random_weights: bool = True
    interrupted: bool = False
    config: object = None
