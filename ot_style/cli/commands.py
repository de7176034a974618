"""The ``ot-style`` commands: ``transfer``, ``texture``, ``demo``, ``colour``, ``weights``, ``classroom``.

Every default comes from :func:`ot_style.config.default_config` (options are parsed with
``default=None`` and the library fills in what was not given), so the CLI, the library and the widgets
can never disagree; ``--help`` shows those values. The optimisation reports through the engine's
callback, which drives a tqdm progress bar here.

User mistakes (a missing or broken picture, a bad option, an output that cannot be written) print one
line on stderr and exit with status 2, without a traceback. Ctrl-C during a run saves the best image so
far, says where, and exits with 130 (the shell's code for SIGINT). Library errors are turned into that
one line here, in :func:`main`; the library itself never prints or exits. The README's "Command line"
section and notebook 04 (``04_style_transfer_playground``) show the same runs from Python.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

from .._lazy import import_tensorflow_quietly
from ..config import default_config, fast_mode, format_steps, mixing_weights
from .demo import DEMO_CONTENT, DEMO_FILES, DEMO_STYLE
from .parser import COLOUR_METHODS, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, UsageError, build_parser

__all__ = ["main"]


# --- helpers --------------------------------------------------------------------------------------

def _printable(text: str, stream) -> str:
    # A path that is not valid UTF-8 reaches Python as surrogate escapes, which a strict UTF-8 terminal
    # cannot print: show them as backslash escapes instead of failing after the work is done.
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return text.encode(encoding, "backslashreplace").decode(encoding, "replace")


def _say(text: str = "") -> None:
    print(_printable(text, sys.stdout), flush=True)


def _err(text: str) -> None:
    print(_printable(text, sys.stderr), file=sys.stderr, flush=True)


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings from our library become one ``note:`` line; others keep Python's format."""
    from ..pixels.images import ImageConversionWarning

    if issubclass(category, ImageConversionWarning) or "ot_style" in str(filename):
        _err(f"note: {message}")
    else:
        _err(warnings.formatwarning(message, category, filename, lineno, line).rstrip())


def _resolve_weights(spec, cfg):
    """Say which weights the run will use, decided before the run (the engine reuses the same rule);
    returns the weights setting to run with."""
    from ..network.weights import resolve_weights

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # we print our own, louder warning below
        spec = spec if spec is not None else cfg.weights
        choice = resolve_weights(spec)
    _err(f"weights: {choice.description}")
    if choice.is_random:
        _err("WARNING: the VGG19 network has RANDOM weights, so the picture shows the mechanics only, not "
             "a painterly result. Run `ot-style weights download` once while online.")
    return spec


def _load(path, layers):
    """A picture, refused at once if it is too small for the deepest style layer."""
    from ..layers import min_image_side
    from ..pixels.images import load_image

    return load_image(path, min_size=min_image_side(layers))


def _style_kwargs(args) -> dict:
    """The options given on the command line, as ``stylize`` keywords (absent ones: the config decides)."""
    kwargs = {name: getattr(args, name, None) for name in
              ("loss", "size", "steps", "optimizer", "seed", "content_weight", "preserve_colour",
               "colour_transfer", "weights")}
    kwargs = {name: value for name, value in kwargs.items() if value is not None}
    if args.layers is not None:
        kwargs["layers"] = tuple(name for group in args.layers for name in group)
    for name in ("layer_weights", "style_weights", "scales"):
        if getattr(args, name, None) is not None:
            kwargs[name] = tuple(getattr(args, name))
    if getattr(args, "content_loss", None) is not None:
        kwargs["content_loss"] = None if args.content_loss == "none" else args.content_loss
    return kwargs


def _resolved(cfg, kwargs):
    """The settings the engine will run with (the same resolution it applies), validated now, so a bad
    option costs nothing: no picture is read, no network built."""
    settings = {key: value for key, value in kwargs.items() if key not in ("content_loss", "style_weights")}
    return cfg.with_changes(**settings)


def _run(content, styles, *, cfg, scale_of_step=None, **kwargs):
    """One optimisation with a progress bar; returns the result (``interrupted`` set on Ctrl-C).
    ``scale_of_step``, a list, receives the scale index of every evaluation."""
    from tqdm import tqdm

    from ..engine.plan import memory_budget, plan_run, plan_tiles, tiling_refusal

    resolved = _resolved(cfg, kwargs)
    reference = content if content is not None else styles[0]
    content_loss = resolved.content_loss if content is not None else None
    layers = resolved.layers + ((resolved.content_layer,) if content_loss else ())
    plan = plan_run(resolved, reference.shape, [s.shape for s in styles], layers)
    # Before the bar and the network: too large even tile by tile, or too large for a loss that cannot
    # be tiled, is one sentence now.
    plan = plan_tiles(plan, layers, refusal=tiling_refusal(resolved.loss, content_loss),
                      optimizer=resolved.optimizer, content_layer=resolved.content_layer if content_loss else None,
                      tile=resolved.tile_size, available=memory_budget(resolved))
    total = plan.total_steps
    _resolve_weights(kwargs.get("weights"), cfg)
    import_tensorflow_quietly()
    from ..engine.synthesis import stylize

    # The bar counts work, not steps: a step at a scale costs in proportion to its pixels (twice for a
    # tiled one), so its time estimate holds when the fine scales come (a step count would promise the
    # coarse scales' pace).
    costs = [scale.cost / plan.scales[-1].cost for scale in plan.scales]
    work = sum(cost * scale.budget for cost, scale in zip(costs, plan.scales))
    bar = tqdm(total=work, file=sys.stderr, dynamic_ncols=True, desc="optimising",
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}{postfix}")
    done = {"steps": 0}

    def callback(iterate):
        done["steps"] += 1
        losses = iterate.losses
        total_loss = losses.get("total", sum(float(v) for v in losses.values()))
        scale = plan.scales[min(iterate.scale, len(plan.scales) - 1)]
        bar.set_postfix_str(f"scale {iterate.scale + 1}/{len(plan.scales)} {iterate.size[1]}x{iterate.size[0]}"
                            f"{' tiled' if scale.tile else ''}, step {done['steps']}/{total}, "
                            f"loss {float(total_loss):.4g}", refresh=False)
        bar.update(min(costs[min(iterate.scale, len(costs) - 1)], max(bar.total - bar.n, 0)))
        if scale_of_step is not None:
            scale_of_step.append(iterate.scale)

    style = styles[0] if len(styles) == 1 else list(styles)
    try:
        result = stylize(content, style, callback=callback, config=cfg, **kwargs)
    finally:
        bar.close()
    return result


def _save_result(image, output: Path) -> tuple[Path, str | None]:
    """Write the result; if that fails at the end of a run (the folder was removed, the disk is full),
    keep the work: write it into the temporary folder instead. Returns (where it went, why not there)."""
    from ..pixels.images import save_image

    try:
        return save_image(image, output), None
    except (OSError, ValueError) as error:
        reason = str(error) or type(error).__name__
        rescue = Path(tempfile.gettempdir()) / f"ot-style-rescued-{time.strftime('%Y%m%d-%H%M%S')}{output.suffix}"
        return save_image(image, rescue), reason


def _finish_run(result, output: Path) -> int:
    if result.interrupted and result.evaluations == 0:
        _err("Interrupted before the first evaluation: there is no result yet, so nothing was written.")
        return EXIT_INTERRUPTED
    written, failure = _save_result(result.image, output)
    if failure is not None:
        _err(f"Could not write {output} ({failure}); the result was saved to {written} instead.")
        return EXIT_FAILED
    if result.interrupted:
        _err(f"Interrupted: the best image so far was saved to {output}")
        return EXIT_INTERRUPTED
    best = min(result.history.get("total") or [float("nan")])
    _say(f"wrote {output}  (best loss {best:.4g}, {result.evaluations} evaluations, "
         f"{sum(result.seconds_per_scale):.1f} s)")
    return 0


# --- commands -------------------------------------------------------------------------------------

def _cmd_transfer(args, cfg) -> int:
    from ..pixels.images import check_writable, picture_path

    # The files each argument names (a bundled picture's name resolved once, here).
    content = picture_path(args.content) if args.command == "transfer" else None
    styles = [picture_path(path) for path in args.style]
    output = check_writable(args.output, inputs=([content] if content is not None else []) + styles)
    kwargs = _style_kwargs(args)
    if args.tile is not None or args.memory_limit is not None:
        cfg = cfg.replace(tile_size=cfg.tile_size if args.tile is None else args.tile,
                          memory_limit_gb=cfg.memory_limit_gb if args.memory_limit is None else args.memory_limit)
        cfg.validate()
    layers = _resolved(cfg, kwargs).layers
    if "style_weights" in kwargs:
        mixing_weights(kwargs["style_weights"], len(args.style))
    content = _load(content, layers) if content is not None else None
    styles = [_load(path, layers) for path in styles]
    return _finish_run(_run(content, styles, cfg=cfg, **kwargs), output)


def _cmd_demo(args, cfg) -> int:
    from ..pixels.images import check_writable, read_image
    from .demo import write_demo_figures

    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"Cannot write the demo into {str(folder)!r}: it is a file, not a folder.")
    folder.mkdir(parents=True, exist_ok=True)
    paths = [check_writable(folder / name) for name in DEMO_FILES]
    content, style = read_image(DEMO_CONTENT), read_image(DEMO_STYLE)
    kwargs = {name: getattr(args, name) for name in ("steps", "seed", "weights") if getattr(args, name) is not None}
    settings = _resolved(cfg, kwargs)
    _say(f"demo: {DEMO_CONTENT} in the style of {DEMO_STYLE}, loss {settings.loss}, {settings.size} px, "
         f"{format_steps(settings.steps)} steps per scale{' (fast mode: OT_STYLE_FAST=1)' if fast_mode() else ''}")
    scale_of_step = []
    result = _run(content, [style], cfg=cfg, scale_of_step=scale_of_step, **kwargs)
    if result.interrupted or result.evaluations == 0:
        return _finish_run(result, paths[0])
    saved, failure = _save_result(result.image, paths[0])
    if failure is not None:
        _err(f"Could not write {paths[0]} ({failure}); the result was saved to {saved} instead.")
        return EXIT_FAILED
    written = [paths[0]] + write_demo_figures(content, style, result, folder, scale_of_step)
    labels = ("result", "side by side", "loss curve")
    for label, path in zip(labels, written):
        _say(f"{label:>13}: {path}")
    return 0


def _cmd_colour(args, cfg) -> int:
    from ..pixels import colour
    from ..pixels.images import check_writable, load_image, picture_path, save_image

    content_path, style_path = picture_path(args.content), picture_path(args.style)
    output = check_writable(args.output, inputs=(content_path, style_path))
    content = load_image(content_path, max_size=args.max_size)
    style = load_image(style_path, max_size=args.max_size)
    method = args.method or COLOUR_METHODS[0]
    if method == "gaussian":
        recoloured = colour.transfer_gaussian(content, style, clip=True)
    else:
        options = {"seed": cfg.seed if args.seed is None else args.seed}
        if args.iterations is not None:
            options["iterations"] = args.iterations
        recoloured = colour.transfer_sliced(content, style, **options)
    save_image(recoloured, output)
    _say(f"wrote {output}  ({method} colour transfer)")
    return 0


def _cmd_weights(args, cfg) -> int:
    from ..network import weights

    if args.weights_command == "info":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            choice = weights.resolve_weights("auto")
        _say(f"auto uses: {choice.description}")
        _say(f"Keras cache: {weights.keras_cache_path()} "
             f"({'present' if weights.keras_cache_path().is_file() else 'absent'})")
        env = os.environ.get(weights.ENV_VAR, "").strip()
        _say(f"${weights.ENV_VAR}: {env or '(not set)'}")
        return 0
    _say(f"downloading {weights.KERAS_URL}\n  into {weights.keras_cache_path()} ...")
    try:
        path = weights.download_imagenet_weights()
    except Exception as error:  # no network, proxy, disk full: say it in one line
        raise UsageError(f"The download failed: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
    _say(f"saved {path}; `auto` now uses these ImageNet weights.")
    return 0


def _cmd_classroom(args, cfg) -> int:
    try:
        from .classroom import serve

        return int(serve(args.notebook, port=args.port, open_browser=not args.no_browser,
                         max_kernels=args.max_kernels) or 0)
    except ModuleNotFoundError as error:  # Voila is an optional dependency
        if (error.name or "").split(".")[0] == "voila":
            raise UsageError("Classroom mode needs Voila: pip install 'ot-style[classroom]'.") from None
        raise


_COMMANDS = {"transfer": _cmd_transfer, "texture": _cmd_transfer, "demo": _cmd_demo,
             "colour": _cmd_colour, "color": _cmd_colour, "weights": _cmd_weights,
             "classroom": _cmd_classroom}


def main(argv=None) -> int:
    """Run ``ot-style`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a parse error already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help()
        return 0
    cfg = default_config()
    if getattr(args, "preset", None) is not None:
        from ..config import preset

        cfg = preset(args.preset)
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            # _resolve_weights has already said loudly when the weights are random.
            warnings.filterwarnings("ignore", message="No VGG19 ImageNet weights found")
            return _COMMANDS[args.command](args, cfg)
    except KeyboardInterrupt:
        # Ctrl-C outside the optimisation (loading, building the network, saving): save_image is atomic,
        # so nothing half-written is left behind.
        _err(f"Interrupted after {time.perf_counter() - started:.0f} s; no file was left half-written.")
        return EXIT_INTERRUPTED
    except MemoryError:
        _err(f"ot-style {args.command}: error: the machine ran out of memory; use a smaller --size.")
        return EXIT_USAGE
    except (ValueError, FileNotFoundError, OSError) as error:
        message = str(error) or type(error).__name__
        if isinstance(error, OSError) and error.filename and str(error.filename) not in message:
            message += f": {error.filename}"
        _err(f"ot-style {args.command}: error: {message}")
        return EXIT_USAGE
    except Exception as error:
        if type(error).__name__ != "ResourceExhaustedError":  # TensorFlow's out-of-memory, not imported here
            raise
        _err(f"ot-style {args.command}: error: TensorFlow ran out of memory; use a smaller --size.")
        return EXIT_USAGE
