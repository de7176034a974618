"""The playground's model: settings, a background run, live state; no widgets (notebook 04).

:class:`Playground` is plain Python, so tests drive it without a browser (as iminuit's widget tests
do): set attributes, call :meth:`Playground.run`, check :attr:`Playground.result` and
:attr:`Playground.history`. :func:`ot_style.widgets.playground.playground` binds widgets to it.

How a run keeps the notebook responsive
---------------------------------------
L-BFGS holds the Python thread it runs on for the whole optimisation. If it ran in the cell, the
kernel could not read the next message from the browser, so the Stop button would be dead until the
end. Instead :meth:`Playground.run` starts :func:`ot_style.stylize` in a ``threading.Thread`` and
returns at once; the cell finishes, and the kernel's main thread goes back to its event loop, where it
handles button clicks and slider moves as usual. (TensorFlow and NumPy release the GIL inside their
kernels, so both threads make progress.)

- *Stop* sets a ``threading.Event``. The engine calls our callback once per step; the callback returns
  ``False`` when the event is set, and the engine stops and hands back the best image so far with
  ``interrupted=True``.
- *Live preview*: the callback (in the worker thread) records the losses of every step and, at most
  every ``preview_every`` steps **and** every ``min_preview_interval`` seconds, asks the iterate for its
  image and tells the listeners (the widgets). Drawing the preview and the loss curve costs time the
  optimiser waits for (a matplotlib figure can take most of a second on a busy laptop), so the pause after a
  preview is also at least ``_PREVIEW_SHARE_INVERSE`` times what that preview cost: the previews take
  at most about 1/5 of the run's time, however slow the drawing. A widget whose value is set from a thread sends the
  change over the kernel's comm channel (ipykernel's IOPub socket is thread-safe), so the browser
  updates while the cell is long finished. We only set ``Image``/``HTML``/``IntProgress`` values from
  the thread, never print or capture output (an ``Output`` widget routes prints by the *main* thread's
  current cell, so prints from a thread could land in the wrong place).
- *Snapshot*: at Run time the settings are frozen into a :class:`~ot_style.config.StyleConfig` (itself a
  frozen dataclass) and the images are copied. Moving a slider mid-run changes only the model's
  attributes, which the next run reads; :attr:`Playground.running_config` is what the current run uses.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass

import numpy as np

from .._lazy import import_tensorflow_quietly
from ..config import StyleConfig, default_config, steps_per_scale
from ..layers import RELU_LAYERS
from ..pixels.images import read_image

__all__ = ["Playground", "RELU_LAYERS", "PreviewEvent", "load_source"]

# Largest side an uploaded or bundled picture is kept at; ``stylize`` resizes to the run's size.
_MAX_SOURCE_SIZE = 1024
#: Largest upload the playground reads (a browser sends it over the kernel's websocket).
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
# After a preview that took t seconds to produce and draw, wait at least this many times t before
# the next one, so previews use at most about 1/(1 + this) of the run's time.
_PREVIEW_SHARE_INVERSE = 4.0


@dataclass(frozen=True)
class PreviewEvent:
    """What a listener is told: ``kind`` is ``"start"``, ``"step"``, ``"preview"`` or ``"done"``."""

    kind: str
    step: int
    elapsed: float


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load_source(source) -> np.ndarray:
    """An image from an array, a file path or a bundled asset name, as float32 ``(h, w, 3)`` in [0, 1],
    at most :data:`_MAX_SOURCE_SIZE` on its long side (:func:`ot_style.pixels.images.read_image`)."""
    return read_image(source, max_size=_MAX_SOURCE_SIZE)


def _quiet_weights(config: StyleConfig) -> StyleConfig:
    """``weights="auto"`` resolved here, in the notebook's thread: the playground shows which weights it
    uses in its own note, so the run's thread must not print the fallback warning again."""
    if config.weights != "auto":
        return config
    import warnings

    from ..network.weights import RandomWeightsWarning, resolve_weights

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RandomWeightsWarning)
            choice = resolve_weights("auto")
    except (ValueError, FileNotFoundError):  # a bad $OT_STYLE_WEIGHTS: the run reports it
        return config
    return config.replace(weights="random") if choice.is_random else config


class Playground:
    """Settings and live state of one interactive style transfer (notebook 04).

    Parameters
    ----------
    content, style : ndarray (h, w, 3) or str or None
        Images, file paths or bundled asset names (:func:`ot_style.pixels.assets.list_assets`). ``content``
        None means texture synthesis.
    config : StyleConfig, optional
        Where every default comes from (:func:`ot_style.config.default_config` if None).
    weights : str, optional
        ``"auto"``, ``"imagenet"``, ``"random"`` or a path (see :func:`ot_style.network.weights.resolve_weights`).
    min_preview_interval : float
        Fewest seconds between two previews (more when drawing is slow, see the module docstring).

    Attributes
    ----------
    loss, optimizer, content_loss : str
    size, seed : int
    steps : int or tuple of int
        Evaluations per scale: the config's until the Steps slider sets one number for every scale.
    content_weight : float
    layer_enabled, layer_weights : dict of str
        One entry per VGG19 ReLU layer (:data:`RELU_LAYERS`); a layer is used when enabled with weight > 0.
    history : dict of str to list of float
        Loss per term per step of the current or last run (``"total"`` always there).
    preview : ndarray (h, w, 3) or None
        The latest preview image.
    result : StyleResult or None
        The last finished run.
    """

    def __init__(self, content=None, style=None, *, config: StyleConfig | None = None,
                 weights: str | None = None, min_preview_interval: float = 0.5, max_size: int = 1024,
                 max_steps: int = 1000, folder=None):
        base = config if config is not None else default_config()
        self.base_config = base
        # The model's own limits: a page can set a widget's value (or its max) to anything, so what
        # the sliders allow is enforced here, not only in the browser (classroom mode).
        self.max_size, self.max_steps = int(max_size), int(max_steps)
        self.folder = folder
        self.content = None if content is None else load_source(content)
        self.style = None if style is None else load_source(style)
        self.loss = base.loss
        self.optimizer = base.optimizer
        self.content_loss = base.content_loss
        self.content_weight = float(base.content_weight)
        self.size = int(base.size)
        # The config's budget (one number, or one per scale) until the Steps slider sets every scale.
        self.steps = base.steps
        self.seed = int(base.seed)
        self.weights = base.weights if weights is None else weights
        self.preview_every = int(base.preview_every)
        self.min_preview_interval = float(min_preview_interval)
        default_weights = base.layer_weights or (1.0,) * len(base.layers)
        chosen = dict(zip(base.layers, default_weights))
        self.layer_enabled = {name: name in chosen for name in RELU_LAYERS}
        self.layer_weights = {name: float(chosen.get(name, 1.0)) for name in RELU_LAYERS}
        # live state
        self.history: dict[str, list[float]] = {}
        self.preview: np.ndarray | None = None
        self.result = None
        self.error: str | None = None
        self.step = 0
        self.elapsed = 0.0
        self.running_config: StyleConfig | None = None
        self.listeners: list = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- settings
    def set_image(self, kind: str, source) -> None:
        """Set ``kind`` (``"content"`` or ``"style"``) from an array, path, asset name or None."""
        if kind not in ("content", "style"):
            raise ValueError(f"kind must be 'content' or 'style', not {kind!r}.")
        if source is None and kind == "style":
            raise ValueError("A style image is needed; only the content may be None (texture synthesis).")
        setattr(self, kind, None if source is None else load_source(source))

    def load_upload(self, kind: str, name: str, data: bytes) -> str:
        """Read uploaded bytes as the ``kind`` image; return a one-line message for the UI.

        A file that is not a readable image leaves the current image unchanged and the message says
        why; nothing is raised, so the notebook never shows a traceback for a bad upload.
        """
        # Keep the uploaded file's own name so messages speak of it, not of a temporary path.
        safe_name = os.path.basename(str(name)) or "upload.png"
        if len(data) > MAX_UPLOAD_BYTES:
            return (f"Could not use {safe_name!r} as the {kind} image: it is {len(data) / 1e6:.1f} MB, and "
                    f"uploads are limited to {MAX_UPLOAD_BYTES / 1e6:.1f} MB here; send a smaller picture.")
        with tempfile.TemporaryDirectory(prefix="ot-style-upload-") as folder:
            path = os.path.join(folder, safe_name)
            try:
                with open(path, "wb") as stream:
                    stream.write(bytes(data))
                image = load_source(path)
            except (ValueError, OSError) as exc:
                reason = _one_line(exc).split("as an image: ", 1)[-1]
                return f"Could not use {safe_name!r} as the {kind} image: {reason}"
        setattr(self, kind, image)
        return f"Loaded {name!r} as the {kind} image ({image.shape[1]}x{image.shape[0]} px)."

    def active_layers(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        """The layers that are switched on with a positive weight, and their weights."""
        names = tuple(n for n in RELU_LAYERS if self.layer_enabled[n] and self.layer_weights[n] > 0)
        return names, tuple(float(self.layer_weights[n]) for n in names)

    def snapshot(self) -> StyleConfig:
        """The settings frozen into a validated :class:`StyleConfig` (what :meth:`run` hands to the engine)."""
        layers, weights = self.active_layers()
        if not layers:
            raise ValueError("Switch on at least one layer with a weight above 0 before running.")
        if int(self.size) > self.max_size:
            raise ValueError(f"The size is at most {self.max_size} px here, not {int(self.size)}.")
        budget = self.steps if isinstance(self.steps, (tuple, list)) else (self.steps,)
        if max(int(b) for b in budget) > self.max_steps:
            raise ValueError(f"At most {self.max_steps} steps per scale here, not {max(budget)}.")
        return self.base_config.replace(content_loss=self.content_loss).with_changes(
            loss=self.loss, optimizer=self.optimizer, content_weight=float(self.content_weight),
            size=int(self.size), steps=self.steps, seed=int(self.seed), weights=self.weights,
            layers=layers, layer_weights=weights, preview_every=max(1, int(self.preview_every)))

    # ---------------------------------------------------------------------- run
    @property
    def running(self) -> bool:
        """True while a run's thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def run(self, *, block: bool = False) -> "Playground":
        """Start a run on a snapshot of the settings; with ``block=True`` wait for it to finish.

        Raises ``ValueError`` if a run is already going or the settings are not usable.
        """
        if self.running:
            raise ValueError("A run is already going; press Stop first or wait for it to finish.")
        if self.style is None:
            raise ValueError("Choose a style image first.")
        config = _quiet_weights(self.snapshot())
        import_tensorflow_quietly()  # here, not in the run's thread, whose chatter would land under a cell
        content = None if self.content is None else self.content.copy()
        style = self.style.copy()
        self.running_config = config
        self.history, self.preview, self.error = {}, None, None
        self.step, self.elapsed = 0, 0.0
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, args=(content, style, config),
                                        name="ot-style-playground", daemon=True)
        self._notify(PreviewEvent("start", 0, 0.0))
        self._thread.start()
        if block:
            self.join()
        return self

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the run to finish; return True if it has finished."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def stop(self) -> None:
        """Ask the run to stop; the engine returns the best image so far (``interrupted=True``)."""
        self._stop.set()

    def save(self, name, *, replace: bool = False) -> str:
        """Write the last result's best image atomically as ``name`` in :attr:`folder` (default: the
        working folder); return the path written.

        ``name`` is a plain file name (``stylized.png``), never a path: a page can type anything into the
        Save box, and nothing outside the working folder may be written. An existing file is kept
        unless ``replace``.
        """
        from ..pixels.images import save_image

        if self.result is None:
            raise ValueError("There is no image to save yet; press Run first.")
        name = str(name).strip()
        if not name or name in (".", "..") or os.path.basename(name) != name or "\\" in name or os.path.isabs(name):
            raise ValueError(f"Save takes a file name such as stylized.png, not {name!r}: the picture goes into "
                             "the folder the notebook runs in.")
        path = os.path.join(self.folder or os.getcwd(), name)
        if os.path.lexists(path) and not replace:
            raise ValueError(f"{name} already exists there; choose another name (nothing was replaced).")
        save_image(self.result.image, path)
        return path

    @property
    def total_steps(self) -> int:
        """Steps the current (or next) run takes over all its scales (the engine's plan, when the
        images are set)."""
        from ..engine.plan import plan_run

        config = self.running_config or self.snapshot()
        if self.style is None:
            return sum(steps_per_scale(config.steps, len(config.scales)))
        reference = self.content if self.content is not None else self.style
        try:
            return plan_run(config, reference.shape, [self.style.shape], config.layers).total_steps
        except ValueError:  # sizes the run will refuse with its own message
            return sum(steps_per_scale(config.steps, len(config.scales)))

    # ------------------------------------------------------------------ worker
    def _notify(self, event: PreviewEvent) -> None:
        for listener in list(self.listeners):
            listener(self, event)

    def _work(self, content, style, config: StyleConfig) -> None:
        from ..engine.synthesis import stylize

        start = time.perf_counter()
        state = {"count": 0, "last_step": -10**9, "next_time": -1e9}

        def callback(iterate) -> bool:
            state["count"] += 1
            for term, value in iterate.losses.items():
                self.history.setdefault(term, []).append(float(value))
            self.step = state["count"]
            self.elapsed = time.perf_counter() - start
            now = time.perf_counter()
            if self.step - state["last_step"] >= config.preview_every and now >= state["next_time"]:
                self.preview = np.asarray(iterate.image(), dtype=np.float32)
                self._notify(PreviewEvent("preview", self.step, self.elapsed))
                done = time.perf_counter()
                state["last_step"] = self.step
                state["next_time"] = done + max(self.min_preview_interval,
                                                _PREVIEW_SHARE_INVERSE * (done - now))
            else:
                self._notify(PreviewEvent("step", self.step, self.elapsed))
            return not self._stop.is_set()

        try:
            result = stylize(content, style, config=config, callback=callback)
        except Exception as exc:  # shown in the UI as one line; the run thread must not die silently
            self.error = f"The run failed: {_one_line(exc)}"
        else:
            self.result = result
            self.history = {term: list(values) for term, values in result.history.items()}
            self.preview = result.image
        self.elapsed = time.perf_counter() - start
        self._notify(PreviewEvent("done", self.step, self.elapsed))
