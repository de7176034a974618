"""The ``ot-style`` argument parser: every command, option and help text, defaults shown from the config.

Options are parsed with ``default=None`` and :mod:`ot_style.cli.commands` lets the library fill in what was not
given, so ``--help`` shows :func:`ot_style.config.default_config`'s values without duplicating them.
A parse error is one line naming the command's ``--help`` and exit status 2.
"""

from __future__ import annotations

import argparse

from .._version import __version__
from ..config import CONTENT_LOSSES, OPTIMIZERS, PRESETS, STYLE_LOSSES, default_config, format_steps
from ..pixels.assets import ASSETS
from .demo import DEMO_CONTENT, DEMO_FILES, DEMO_STYLE

__all__ = ["EXIT_USAGE", "EXIT_FAILED", "EXIT_INTERRUPTED", "COLOUR_METHODS", "UsageError", "build_parser"]

EXIT_FAILED = 1         # the work was done but could not be written where asked (it went elsewhere)
EXIT_USAGE = 2          # user mistakes, as argparse uses
EXIT_INTERRUPTED = 130  # 128 + SIGINT
COLOUR_METHODS = ("gaussian", "sliced")
# How a picture argument may be given besides a path (ot_style.pixels.images.picture_path).
_BUNDLED = "a bundled picture: " + ", ".join(a.name for a in ASSETS)


class UsageError(ValueError):
    """A mistake in the command line found after parsing (e.g. layer weights that do not match)."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (no usage block) naming the command's --help."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# --- argument types -------------------------------------------------------------------------------

def _whole_number(minimum: int, wording: str):
    """An argparse type: a whole number of at least ``minimum``, refused with ``wording``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {wording}, not {text!r}")
        return value

    return parse


_positive_int = _whole_number(1, "a whole number of at least 1")
_non_negative_int = _whole_number(0, "a whole number >= 0")


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, not {text!r}")
    return value


def _layer_list(text: str) -> list[str]:
    return [name for name in text.replace(",", " ").split() if name]


# --- parser ---------------------------------------------------------------------------------------

def _add_style_options(p: argparse.ArgumentParser, cfg, *, content: bool) -> None:
    """The options shared by ``transfer`` and ``texture`` (help shows the config's defaults)."""
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="where to write the result (.png, .jpg, .tif, .bmp, .webp)")
    p.add_argument("--preset", choices=tuple(PRESETS),
                   help="start from a named configuration; the other options change it (default: default)")
    p.add_argument("--loss", choices=STYLE_LOSSES, help=f"style loss (default: {cfg.loss})")
    p.add_argument("--size", type=_positive_int, metavar="N",
                   help=f"long side of the result in pixels (default: {cfg.size})")
    p.add_argument("--scales", type=_positive_int, nargs="+", metavar="N",
                   help="coarse-to-fine long sides, the last equal to --size (default: "
                        f"{' '.join(map(str, cfg.scales))} with the default size)")
    p.add_argument("--steps", type=_positive_int, metavar="N",
                   help=f"optimiser steps at every scale (default: {format_steps(cfg.steps)} per scale, "
                        "coarse to fine)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help=f"optimiser (default: {cfg.optimizer})")
    p.add_argument("--layers", type=_layer_list, nargs="+", metavar="LAYER",
                   help=f"VGG19 style layers, e.g. relu1_1 relu2_1 (default: {' '.join(cfg.layers)})")
    p.add_argument("--layer-weights", type=_non_negative_float, nargs="+", metavar="W",
                   help="one weight per style layer (default: equal weights)")
    if content:
        names = [name or "none" for name in CONTENT_LOSSES]
        p.add_argument("--content-loss", choices=names,
                       help=f"content term added to the style loss (default: {cfg.content_loss or 'none'})")
        p.add_argument("--content-weight", type=_non_negative_float, metavar="X",
                       help=f"weight of the content term (default: {cfg.content_weight})")
        p.add_argument("--preserve-colour", action="store_true", default=None,
                       help=f"keep the content's colours (default: {'on' if cfg.preserve_colour else 'off'})")
        p.add_argument("--colour-transfer", choices=COLOUR_METHODS,
                       help="first give the content the style's colours by optimal transport "
                            "(default: off)")
    p.add_argument("--style-weights", type=_non_negative_float, nargs="+", metavar="W",
                   help="mixing weights when several STYLE images are given (default: equal)")
    p.add_argument("--weights", metavar="auto|imagenet|random|PATH",
                   help=f"VGG19 weights (default: {cfg.weights}; `ot-style weights info` says what auto finds)")
    p.add_argument("--seed", type=_non_negative_int, metavar="N", help=f"random seed (default: {cfg.seed})")
    p.add_argument("--tile", type=_non_negative_int, metavar="N",
                   help="evaluate the picture exactly tile by tile with N-px tiles (a multiple of 16; 0: never); "
                        "by default only a picture too large for memory is tiled")
    p.add_argument("--memory-limit", type=_non_negative_float, metavar="GB",
                   help="the memory the run may use; larger pictures are tiled (default: what is available)")


def build_parser() -> argparse.ArgumentParser:
    """The ``ot-style`` argument parser (its defaults shown in ``--help`` come from the config)."""
    cfg = default_config()
    parser = _Parser(prog="ot-style", description="Style transfer as optimal transport, on the command "
                     "line. Run `ot-style COMMAND --help` for a command's options and defaults.",
                     epilog="Defaults come from ot_style.config (the same values the library and the "
                            "notebooks use); OT_STYLE_FAST=1 selects the small, quick settings. Start with "
                            "`ot-style demo`.")
    parser.add_argument("--version", action="version", version=f"ot-style {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("transfer", help="paint CONTENT in the style of STYLE",
                       description="Optimise the pixels of CONTENT so its VGG19 feature statistics match "
                                   "those of STYLE (several STYLE images are mixed).")
    p.add_argument("content", metavar="CONTENT", help=f"the picture to repaint (a file, or {_BUNDLED})")
    p.add_argument("style", metavar="STYLE", nargs="+", help=f"the style picture(s) (files, or {_BUNDLED})")
    _add_style_options(p, cfg, content=True)

    p = sub.add_parser("texture", help="synthesise a texture from STYLE (no content image)",
                       description="Start from noise and optimise until the VGG19 statistics match STYLE; "
                                   "--size may be larger than the style picture.")
    p.add_argument("style", metavar="STYLE", nargs="+", help=f"the texture exemplar(s) (files, or {_BUNDLED})")
    _add_style_options(p, cfg, content=False)

    p = sub.add_parser("demo", help="a complete transfer on the bundled pictures (works offline)",
                       description=f"Transfer the style of the bundled {DEMO_STYLE} onto {DEMO_CONTENT} with "
                                   f"the default settings and write {', '.join(DEMO_FILES)}.")
    p.add_argument("-o", "--output", default="ot-style-demo", metavar="DIR",
                   help="folder for the three pictures (default: ot-style-demo)")
    p.add_argument("--weights", metavar="auto|imagenet|random|PATH", help=f"VGG19 weights (default: {cfg.weights})")
    p.add_argument("--steps", type=_positive_int, metavar="N",
                   help=f"steps at every scale (default: {format_steps(cfg.steps)} per scale, coarse to fine)")
    p.add_argument("--seed", type=_non_negative_int, metavar="N", help=f"random seed (default: {cfg.seed})")
    p.add_argument("--tile", type=_non_negative_int, metavar="N",
                   help="evaluate the picture exactly tile by tile with N-px tiles (a multiple of 16; 0: never); "
                        "by default only a picture too large for memory is tiled")
    p.add_argument("--memory-limit", type=_non_negative_float, metavar="GB",
                   help="the memory the run may use; larger pictures are tiled (default: what is available)")

    p = sub.add_parser("colour", aliases=["color"], help="give CONTENT the colours of STYLE (no network)",
                       description="Pixel-level optimal-transport colour transfer (notebook 06).")
    p.add_argument("content", metavar="CONTENT", help=f"a picture file, or {_BUNDLED}")
    p.add_argument("style", metavar="STYLE", help=f"a picture file, or {_BUNDLED}")
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--method", choices=COLOUR_METHODS,
                   help="gaussian: match colour mean and covariance (Monge map); sliced: match the whole "
                        "colour distribution by random rotations (default: gaussian)")
    from ..pixels.colour import DEFAULT_SLICED_ITERATIONS
    p.add_argument("--iterations", type=_non_negative_int, metavar="N",
                   help=f"rotations of the sliced method (default: {DEFAULT_SLICED_ITERATIONS})")
    p.add_argument("--seed", type=_non_negative_int, metavar="N", help=f"seed of the sliced method (default: {cfg.seed})")
    p.add_argument("--max-size", type=_positive_int, metavar="N",
                   help="shrink pictures whose long side is larger (default: keep the size)")

    p = sub.add_parser("weights", help="download or inspect the VGG19 ImageNet weights")
    wsub = p.add_subparsers(dest="weights_command", metavar="ACTION", required=True, parser_class=_Parser)
    wsub.add_parser("download", help="fetch the Keras VGG19 weights into the Keras cache (needs the internet)")
    wsub.add_parser("info", help="say which weights `auto` would use (never touches the network)")

    p = sub.add_parser("classroom", help="serve the playground as an app without code cells (Voila)")
    p.add_argument("--port", type=_positive_int, metavar="N", help="port (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--notebook", metavar="PATH", help="serve this notebook instead of the playground")
    p.add_argument("--max-kernels", type=_positive_int, metavar="N",
                   help="most pages open at once, each a kernel of about 1 GB (default: what this "
                        "machine's available memory holds)")
    return parser
