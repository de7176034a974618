"""Picture quality: the defaults run as a user runs them, judged by measures that do not use VGG.

A loss that falls is not a picture that works. This harness runs ``ot_style.stylize`` with the default
configuration (and any named preset) on a fixed set of content/style pairs and texture exemplars, then
scores every result with ``ot_style.pixels.quality`` (content structure kept, palette and texture of the
style reached, pixel noise; a texture against its own exemplar's halves). It also runs ``ot-style demo``
through the command line, as a new user does. It prints a table, writes a contact sheet (content | style
| result, with the figures) to open and look at, and prints one JSON object as its last line:
``{"pairs": {name: {measure: value}}, "textures": {...}, "seconds": {...}, ...}``.

The pictures (provenance and licence of each in ``PICTURES`` below): the package's bundled assets and
scikit-image's bundled data (``skimage.data``, public domain or CC0, shipped inside the scikit-image
wheel, so nothing is downloaded). scikit-image is a benchmark-only dependency
(``pip install -e ".[bench]"``).

    python benchmarks/quality.py                       # the defaults: 8 pairs, 4 textures (~6 min)
    python benchmarks/quality.py --preset fast         # a named preset from ot_style.config.PRESETS
    python benchmarks/quality.py --quick               # smoke run: 2 pairs, 1 texture, 64 px
    python benchmarks/quality.py --sheet out.png       # where the contact sheet goes
    python benchmarks/quality.py --sheet docs/gallery/quality.jpg --json docs/gallery/quality.json
                                                       # the site's gallery (commit both)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import _common

# name -> (where it comes from, licence)
PICTURES = {
    "grace_hopper.jpg": ("ot_style bundled asset: U.S. Navy portrait of Grace Hopper (via matplotlib)",
                         "public domain"),
    "houses.png": ("ot_style bundled asset, drawn by assets/make_assets.py", "CC0 1.0"),
    "swirls.png": ("ot_style bundled asset, drawn by assets/make_assets.py (painting-like brush strokes)",
                   "CC0 1.0"),
    "mosaic.png": ("ot_style bundled asset, drawn by assets/make_assets.py", "CC0 1.0"),
    "glyph_rain.png": ("ot_style bundled asset, drawn by assets/make_assets.py (dark background)", "CC0 1.0"),
    "chelsea": ("skimage.data.chelsea: photograph of a cat by Stefan van der Walt", "CC0"),
    "coffee": ("skimage.data.coffee: photograph of a coffee cup by Rachel Michetti", "CC0"),
    "rocket": ("skimage.data.rocket: SpaceX Falcon 9 launch photograph", "public domain"),
    "astronaut": ("skimage.data.astronaut: NASA portrait of Eileen Collins", "public domain"),
    "hubble_deep_field": ("skimage.data.hubble_deep_field: NASA/ESA Hubble image (dark background)",
                          "public domain"),
    "immunohistochemistry": ("skimage.data.immunohistochemistry: stained tissue micrograph",
                             "no known copyright restrictions"),
    "brick": ("skimage.data.brick: CC0Textures Bricks25 (grey-level texture)", "CC0"),
}
# content, style: photographs of several sizes and aspects, a grey-level style, dark-background styles,
# a painting-like style.
PAIRS = (("grace_hopper.jpg", "mosaic.png"), ("grace_hopper.jpg", "swirls.png"), ("chelsea", "mosaic.png"),
         ("coffee", "glyph_rain.png"),
         ("rocket", "immunohistochemistry"), ("astronaut", "hubble_deep_field"), ("houses.png", "swirls.png"),
         ("coffee", "brick"))
TEXTURES = ("brick", "swirls.png", "mosaic.png", "immunohistochemistry")


def picture(name: str) -> np.ndarray:
    """A picture of the set as float32 RGB in [0, 1]."""
    if name.endswith((".png", ".jpg")):
        from ot_style.pixels.images import read_image

        return read_image(name)
    import skimage.data

    array = getattr(skimage.data, name)()
    if array.ndim == 2:
        array = np.repeat(array[:, :, None], 3, axis=2)
    return (array[:, :, :3].astype(np.float32) / 255.0).astype(np.float32)


def short(name: str) -> str:
    return name.rsplit(".", 1)[0]


def run_cli_demo(folder: str, env: dict) -> tuple[float, str]:
    """``ot-style demo`` in a subprocess, as a user runs it; returns its seconds and the result's path."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ot_style", "demo", "-o", folder], env=env,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"ot-style demo failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - start, os.path.join(folder, "result.png")


def contact_sheet(rows, path: str, title: str) -> None:
    """One row per result: content (or nothing) | style | result, the figures beside the result."""
    from ot_style.plotting import new_figure, save_figure

    height = 2.5 * len(rows) + 0.8
    fig = new_figure(11.0, height, dpi=80)
    # The title gets its own band above the first row's titles (0.8 in of the height).
    grid = fig.add_gridspec(len(rows), 4, width_ratios=[1, 1, 1, 0.9], hspace=0.25, wspace=0.05,
                            left=0.01, right=0.99, bottom=0.01, top=1 - 0.75 / height)
    for index, (label, content, style, result, text, ok) in enumerate(rows):
        for column, (image, head) in enumerate(zip((content, style, result), ("content", "style", label))):
            ax = fig.add_subplot(grid[index, column])
            ax.set_axis_off()
            if image is not None:
                ax.imshow(np.clip(image, 0, 1))
                ax.set_title(head, fontsize=8)
        ax = fig.add_subplot(grid[index, 3])
        ax.set_axis_off()
        ax.text(0.02, 0.5, text, transform=ax.transAxes, fontsize=8, va="center", family="monospace",
                color="black" if ok else "darkred")
    fig.suptitle(title, fontsize=9, y=1 - 0.12 / height, va="top", wrap=True)
    save_figure(fig, path)  # PNG
    if not path.lower().endswith(".png"):  # e.g. the site's JPEG: a fifth of the bytes
        from ot_style.pixels.images import read_image, save_image

        save_image(read_image(path), path)


def _figures_text(measures: dict, passes: dict) -> str:
    return "\n".join(f"{'ok ' if passes[name] else 'NO '}{name} {value:.3f}" for name, value in measures.items())


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=os.path.dirname(os.path.abspath(__file__)), timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=None, help="a name from ot_style.config.PRESETS (default: the defaults)")
    parser.add_argument("--size", type=int, default=None, help="output long side (default: the config's)")
    parser.add_argument("--pairs", type=int, default=None, help="run only the first N pairs")
    parser.add_argument("--textures", type=int, default=None, help="run only the first N textures")
    parser.add_argument("--no-cli", action="store_true", help="skip the `ot-style demo` run")
    parser.add_argument("--sheet", default=os.path.join(tempfile.gettempdir(), "ot-style-quality.png"),
                        help="contact sheet path (default: in the temporary folder)")
    parser.add_argument("--demo-sheet", default=None,
                        help="also write the CLI demo's row alone here (the README's picture)")
    parser.add_argument("--json", default=None,
                        help="also write the figures here (the site's gallery reads docs/gallery/quality.json)")
    parser.add_argument("--threads", type=int, default=_common.physical_cores(), help="TF intra-op threads")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 pairs, 1 texture, 64 px")
    args = parser.parse_args(argv)
    if args.quick:
        args.pairs, args.textures, args.size = 2, 1, args.size or 64

    _common.setup_tensorflow(args.threads)
    import warnings

    warnings.filterwarnings("ignore", message="No VGG19 ImageNet weights found")  # said once in the JSON
    import ot_style
    from ot_style.config import default_config, preset
    from ot_style.pixels.quality import assess_texture, assess_transfer

    config = preset(args.preset) if args.preset else default_config()
    if args.size:
        config = config.with_size(args.size)
    label = args.preset or "defaults"
    pairs, textures = PAIRS[: args.pairs], TEXTURES[: args.textures]
    figures = {"pairs": {}, "textures": {}, "seconds": {}, "config": label, "size": config.size,
               "steps": config.steps, "optimizer": config.optimizer}
    rows = []
    print(f"{label}: {config.size} px, scales {config.scales}, steps {config.steps}, {config.optimizer}, "
          f"loss {config.loss}, layers {' '.join(config.layers)}")
    print(f"{'pair':34s} {'ssim':>6s} {'struct':>6s} {'palette':>8s} {'texture':>8s} {'rough':>6s} {'s':>6s}")
    for content_name, style_name in pairs:
        content, style = picture(content_name), picture(style_name)
        start = time.perf_counter()
        result = ot_style.stylize(content, style, config=config)
        seconds = time.perf_counter() - start
        quality = assess_transfer(result.image, content, style)
        name = f"{short(content_name)}+{short(style_name)}"
        figures["pairs"][name], figures["seconds"][name] = quality.as_dict(), round(seconds, 2)
        passes = quality.passes()
        m = quality.as_dict()
        print(f"{name:34s} {m['content_ssim']:6.3f} {m['content_structure']:6.3f} {m['palette_gain']:8.3f} "
              f"{m['texture_gain']:8.3f} "
              f"{m['roughness_ratio']:6.2f} {seconds:6.1f}" + ("" if all(passes.values()) else "  <- misses"))
        rows.append((name, content, style, result.image, _figures_text(m, passes), all(passes.values())))
    print(f"{'texture':34s} {'descr':>6s} {'colour':>8s} {'rough':>8s}")
    for style_name in textures:
        style = picture(style_name)
        start = time.perf_counter()
        result = ot_style.stylize(None, style, config=config)
        seconds = time.perf_counter() - start
        quality = assess_texture(result.image, style)
        name = f"texture:{short(style_name)}"
        figures["textures"][short(style_name)], figures["seconds"][name] = quality.as_dict(), round(seconds, 2)
        passes = quality.passes()
        m = quality.as_dict()
        print(f"{name:34s} {m['texture_factor']:6.2f} {m['colour_factor']:8.2f} {m['roughness_factor']:8.2f} "
              f"{seconds:6.1f}" + ("" if all(passes.values()) else "  <- misses"))
        rows.append((name, None, style, result.image, _figures_text(m, passes), all(passes.values())))
    if not args.no_cli and not args.preset:
        from ot_style.cli.demo import DEMO_CONTENT, DEMO_STYLE
        from ot_style.pixels.images import load_image

        with tempfile.TemporaryDirectory() as folder:
            env = dict(os.environ, OT_STYLE_FAST="1" if args.quick else os.environ.get("OT_STYLE_FAST", ""))
            seconds, path = run_cli_demo(folder, env)
            demo_result = load_image(path)
            quality = assess_transfer(demo_result, picture(DEMO_CONTENT), picture(DEMO_STYLE))
        figures["cli_demo"], figures["seconds"]["cli_demo"] = quality.as_dict(), round(seconds, 2)
        if args.demo_sheet:
            passes = quality.passes()
            contact_sheet([("ot-style demo", picture(DEMO_CONTENT), picture(DEMO_STYLE), demo_result,
                            _figures_text(quality.as_dict(), passes), all(passes.values()))], args.demo_sheet,
                          f"ot-style demo: defaults, {config.size} px, {config.optimizer}, "
                          f"content weight {config.content_weight}, layer weights {config.layer_weights}, "
                          f"RANDOM VGG19 weights (offline)")
        print(f"{'ot-style demo (CLI)':34s} {quality.content_ssim:6.3f} {quality.content_structure:6.3f} "
              f"{quality.palette_gain:8.3f} "
              f"{quality.texture_gain:8.3f} {quality.roughness_ratio:6.2f} {seconds:6.1f}")
    weights = result.weights_source
    figures["weights"] = weights
    contact_sheet(rows, args.sheet, f"ot-style {label} ({config.size} px, {config.optimizer}), {weights}")
    figures["sheet"] = os.path.basename(args.sheet)
    figures["date"] = time.strftime("%Y-%m-%d")
    figures["commit"] = _git_commit()
    figures["cores"] = args.threads
    used = {name for pair in pairs for name in pair} | set(textures)
    figures["pictures"] = {name: {"source": PICTURES[name][0], "licence": PICTURES[name][1]}
                           for name in sorted(used)}
    print(f"contact sheet: {args.sheet}")
    if args.json:
        import json

        partial = args.json + ".partial"
        with open(partial, "w") as handle:
            json.dump(figures, handle, indent=1)
        os.replace(partial, args.json)
    _common.print_json(figures)
    return figures


if __name__ == "__main__":
    main()
