"""The playground widgets: live style transfer (notebook 04), losses side by side (notebook 05) and
what each layer sees (notebook 07).

Each notebook cell builds its UI with one call: :func:`playground`, :func:`losses_side_by_side`,
:func:`layer_explorer`. The logic lives in plain Python (:class:`~ot_style.widgets.runner.Playground`,
:func:`compare_losses`, :func:`layer_textures`) so the tests drive it without a browser. How a run
stays responsive (a worker thread, a stop event, a frozen snapshot of the settings) is explained in
:mod:`ot_style.widgets.runner`.

Structure a browser test can find (every widget also carries a ``ot-style-*`` CSS class):
buttons described ``Run``, ``Stop``, ``Save``; sliders described ``Size (px)``, ``Steps``,
``Content weight`` and ``relu1_1`` ... ``relu5_4`` (one per layer, after an unlabelled tick box
``.ot-style-layer-toggle`` that switches the layer on); the preview, which shows the result when a run
ends, is an ``ipywidgets.Image`` (``img.ot-style-preview``), the loss curve ``img.ot-style-loss-plot``;
the status line ``.ot-style-status`` reads ``Ready.``, then ``step i/N · t s · total loss L`` and ends
with ``· done`` or ``· stopped, best image kept``; ``.ot-style-weights`` names the VGG weights in use.
"""

from __future__ import annotations

import html

from .._lazy import import_tensorflow_quietly
from ..config import CONTENT_LOSSES, OPTIMIZERS, STYLE_LOSSES, steps_per_scale
from ..layers import RELU_LAYERS, receptive_field
from ..plotting import loss_plot_png, png_bytes
from ._ui import placeholder_png
from .compare import LossComparison, compare_losses, layer_textures
from .notes import weights_html, weights_note
from .runner import Playground

__all__ = ["playground", "PlaygroundUI", "Playground", "losses_side_by_side", "layer_explorer",
           "compare_losses", "layer_textures", "LossComparison", "weights_note"]

_UPLOADED = "(uploaded)"
_NO_CONTENT = "(none: texture synthesis)"


def _escape(text: str) -> str:
    # Quotes stay as typed: they are plain text inside an element, and tests read them back.
    return html.escape(str(text), quote=False)


def _error_html(text: str) -> str:
    return f"<span style='color:#a00'>{_escape(text)}</span>"


class PlaygroundUI:
    """The widgets of :func:`playground`, bound to a :class:`Playground` model (``.model``).

    ``.widget`` is the box to display; the controls are attributes so tests can set them.
    """

    def __init__(self, model: Playground, *, content_name=None, style_name=None, max_size: int = 512):
        import ipywidgets as w
        from ..pixels.assets import list_assets

        self.model = model
        self._w = w
        # Descriptions wide enough for "Content weight" (ipywidgets' default cuts it to "Content l...").
        label = {"description_width": "110px"}
        contents = [a.name for a in list_assets("content")]
        styles = [a.name for a in list_assets("style")]
        if model.content is None:
            content_name = _NO_CONTENT
        self.content_choice = w.Dropdown(style=label, description="Content",
                                         options=[_NO_CONTENT] + contents + [_UPLOADED],
                                         value=content_name if content_name in contents + [_NO_CONTENT]
                                         else _UPLOADED)
        self.style_choice = w.Dropdown(style=label, description="Style", options=styles + [_UPLOADED],
                                       value=style_name if style_name in styles else _UPLOADED)
        self.content_upload = w.FileUpload(description="Upload content", accept="image/*", multiple=False,
                                           layout=w.Layout(width="auto"))
        self.style_upload = w.FileUpload(description="Upload style", accept="image/*", multiple=False,
                                         layout=w.Layout(width="auto"))
        self.loss = w.Dropdown(style=label, description="Loss", options=list(STYLE_LOSSES), value=model.loss)
        self.optimizer = w.Dropdown(style=label, description="Optimiser", options=list(OPTIMIZERS),
                                    value=model.optimizer)
        self.content_loss = w.Dropdown(style=label, description="Content loss", value=model.content_loss,
                                       options=[("none" if c is None else c, c) for c in CONTENT_LOSSES])
        self.content_weight = w.FloatLogSlider(style=label, description="Content weight",
                                               value=model.content_weight,
                                               base=10, min=-3, max=3, step=0.1)
        self.size = w.IntSlider(style=label, description="Size (px)", value=model.size, min=32,
                                max=max(max_size, model.size), step=16)
        finest = steps_per_scale(model.steps, len(model.base_config.scales))[-1]
        self.steps = w.IntSlider(style=label, description="Steps", value=finest, min=1,
                                 max=max(500, 5 * finest),
                                 tooltip="evaluations at every scale (the default spends more at the coarse one)")
        self.layer_toggles, self.layer_sliders, rows = {}, {}, []
        for name in RELU_LAYERS:
            # The slider carries the layer's name; the tick box has only a tooltip, so a label
            # "relu1_1" finds exactly one control (the browser tests look sliders up by label).
            toggle = w.Checkbox(description="", value=model.layer_enabled[name], indent=False,
                                tooltip=f"use {name} in the style loss", layout=w.Layout(width="28px"))
            slider = w.FloatSlider(description=name, value=model.layer_weights[name], min=0.0, max=5.0,
                                   step=0.1, disabled=not toggle.value)
            toggle.add_class("ot-style-layer-toggle")
            slider.add_class("ot-style-layer-weight")
            self.layer_toggles[name], self.layer_sliders[name] = toggle, slider
            rows.append(w.HBox([toggle, slider]))
        self.run_button = w.Button(description="Run", button_style="success", icon="play",
                                   tooltip="Start a style transfer with the settings above")
        self.stop_button = w.Button(description="Stop", button_style="danger", icon="stop", disabled=True,
                                    tooltip="Stop the run and keep the best image so far")
        self.save_path = w.Text(description="Save to", value="stylized.png")
        self.save_button = w.Button(description="Save", icon="save", tooltip="Write the best image")
        self.progress = w.IntProgress(description="Progress", value=0, min=0, max=1)
        self.status = w.HTML(value="Ready.")
        self.note = w.HTML(value="")
        self.message = w.HTML(value="")
        self.weights = w.HTML(value=weights_html(*weights_note(model.weights)))
        self.preview = w.Image(value=placeholder_png("The picture appears here\nwhen you press Run."),
                               format="png", layout=w.Layout(width="320px"))
        self.loss_plot = w.Image(value=placeholder_png("The loss curves appear here.", 336, 240),
                                 format="png", layout=w.Layout(width="336px"))
        for widget, css in [(self.run_button, "run"), (self.stop_button, "stop"), (self.save_button, "save"),
                            (self.progress, "progress"), (self.status, "status"), (self.note, "note"),
                            (self.message, "message"), (self.weights, "weights"), (self.preview, "preview"),
                            (self.loss_plot, "loss-plot")]:
            widget.add_class(f"ot-style-{css}")
        self._bind()
        self._sync_enabled()
        layers = w.Accordion(children=[w.VBox(rows)], titles=("Layer weights (tick a layer to use it)",))
        layers.selected_index = 0
        self.widget = w.VBox([
            w.HBox([w.VBox([self.content_choice, self.content_upload]),
                    w.VBox([self.style_choice, self.style_upload])]),
            w.HBox([w.VBox([self.loss, self.optimizer, self.content_loss, self.content_weight]),
                    w.VBox([self.size, self.steps])]),
            layers,
            w.HBox([self.run_button, self.stop_button, self.save_path, self.save_button]),
            w.HBox([self.progress, self.status]), self.note, self.message, self.weights,
            w.HBox([self.preview, self.loss_plot]),
        ])
        self.widget.add_class("ot-style-playground")
        model.listeners.append(self._on_event)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    # -------------------------------------------------------------- control -> model
    def _bind(self):
        model = self.model

        def setter(attr, convert):
            def on_change(change):
                setattr(model, attr, convert(change["new"]))
                self._changed()
            return on_change

        self.loss.observe(setter("loss", str), "value")
        self.optimizer.observe(setter("optimizer", str), "value")
        self.content_loss.observe(setter("content_loss", lambda v: v), "value")
        self.content_weight.observe(setter("content_weight", float), "value")
        self.size.observe(setter("size", int), "value")
        self.steps.observe(setter("steps", int), "value")
        for name in RELU_LAYERS:
            self.layer_toggles[name].observe(self._layer_setter(model.layer_enabled, name, bool), "value")
            self.layer_sliders[name].observe(self._layer_setter(model.layer_weights, name, float), "value")
        self.content_choice.observe(lambda c: self._choose("content", c["new"]), "value")
        self.style_choice.observe(lambda c: self._choose("style", c["new"]), "value")
        self.content_upload.observe(lambda c: self._upload("content", c["new"]), "value")
        self.style_upload.observe(lambda c: self._upload("style", c["new"]), "value")
        self.run_button.on_click(lambda _: self.run())
        self.stop_button.on_click(lambda _: self.model.stop())
        self.save_button.on_click(lambda _: self.save())

    def _layer_setter(self, table, name, convert):
        def on_change(change):
            table[name] = convert(change["new"])
            self._changed()
        return on_change

    def _changed(self):
        self._sync_enabled()
        if self.model.running:
            self.note.value = ("<i>A run is going with the settings from when you pressed Run; "
                               "your changes apply to the next run.</i>")

    def _sync_enabled(self):
        # STROTSS has a content term of its own, weighted by the same alpha (ot_style.losses.strotss).
        self.content_weight.disabled = self.model.content_loss is None and self.model.loss != "strotss"
        for name in RELU_LAYERS:
            self.layer_sliders[name].disabled = not self.model.layer_enabled[name]

    def _choose(self, kind, value):
        if value == _UPLOADED:
            return
        try:
            self.model.set_image(kind, None if value == _NO_CONTENT else value)
            self.message.value = ""
        except (ValueError, FileNotFoundError) as exc:
            self.message.value = _error_html(str(exc))

    def _upload(self, kind, value):
        if not value:
            return
        item = value[-1]
        text = self.model.load_upload(kind, item["name"], item["content"])
        ok = text.startswith("Loaded")
        self.message.value = _escape(text) if ok else _error_html(text)
        if ok:
            (self.content_choice if kind == "content" else self.style_choice).value = _UPLOADED

    # ---------------------------------------------------------------- buttons
    def run(self):
        """What the Run button does: start a background run, or show why it cannot start."""
        try:
            self.model.run()
        except ValueError as exc:
            self.message.value = _error_html(str(exc))
        else:
            self.message.value = ""

    def save(self):
        """What the Save button does: write the best image to the path in the text box."""
        try:
            path = self.model.save(self.save_path.value)
        except (ValueError, OSError) as exc:
            self.message.value = _error_html(str(exc))
        else:
            self.message.value = f"Saved the best image to {_escape(path)}."

    # ---------------------------------------------------------- model -> widgets
    def _on_event(self, model: Playground, event):
        # Called from the worker thread: only set widget values (sent over the comm channel).
        if event.kind == "start":
            self.progress.max = max(1, model.total_steps)
            self.progress.value = 0
            self.run_button.disabled, self.stop_button.disabled = True, False
            self.note.value = ""
            return
        self.progress.value = min(event.step, self.progress.max)
        total = model.history.get("total", [float("nan")])
        last = total[-1] if total else float("nan")
        self.status.value = (f"step {event.step}/{self.progress.max} &middot; {event.elapsed:.1f} s "
                             f"&middot; total loss {last:.4g}")
        if event.kind in ("preview", "done") and model.preview is not None:
            self.preview.value = png_bytes(model.preview)
            self.loss_plot.value = loss_plot_png(model.history)
        if event.kind == "done":
            self.run_button.disabled, self.stop_button.disabled = False, True
            self.note.value = ""
            if model.error:
                self.message.value = _error_html(model.error)
            elif model.result is not None:
                r = model.result
                if not r.interrupted:  # L-BFGS may converge in fewer steps than asked for
                    self.progress.value = self.progress.max
                self.status.value += " &middot; stopped, best image kept" if r.interrupted else " &middot; done"
                self.weights.value = weights_html(r.weights_source, r.random_weights)


def playground(content="houses.png", style="swirls.png", *, config=None, weights=None,
               max_size: int = 512) -> PlaygroundUI:
    """The live style-transfer UI of notebook 04 in one call; ``.model`` is the :class:`Playground`.

    ``content``/``style`` are arrays, paths or bundled asset names (``content=None``: texture).
    """
    import_tensorflow_quietly()
    model = Playground(content, style, config=config, weights=weights, max_size=max_size)
    return PlaygroundUI(model, content_name=content if isinstance(content, str) else None,
                        style_name=style if isinstance(style, str) else None, max_size=max_size)


class _Shown:
    """A built UI: ``.widget`` to display plus the data behind it; displays as its widget."""

    def __init__(self, widget, **data):
        self.widget = widget
        self.__dict__.update(data)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


def losses_side_by_side(content="houses.png", style="swirls.png", *, comparison: LossComparison | None = None,
                        **options):
    """Notebook 05 in one call: every loss's image with its time, and the table of cross-measures.

    ``options`` go to :func:`compare_losses` (``losses``, ``config``, ``weights``, ``steps``, ``size``);
    pass a ready ``comparison`` to only draw it. Returns an object with ``.widget`` and ``.comparison``.
    """
    import ipywidgets as w

    comparison = comparison if comparison is not None else compare_losses(content, style, **options)
    tiles = []
    for name, image in comparison.images.items():
        picture = w.Image(value=png_bytes(image), format="png", layout=w.Layout(width="150px"))
        picture.add_class("ot-style-tile")
        secs = comparison.seconds.get(name)
        caption = f"<b>{name}</b> &middot; {secs:.1f} s" if secs is not None else f"<b>{name}</b> (content)"
        tiles.append(w.VBox([picture, w.HTML(caption)]))
    random = "RANDOM" in comparison.weights_source.upper()
    table = w.HTML(comparison.table_html())
    table.add_class("ot-style-measures")
    box = w.VBox([w.HBox(tiles), w.HTML(weights_html(comparison.weights_source, random)), table])
    box.add_class("ot-style-losses-side-by-side")
    return _Shown(box, comparison=comparison)


def layer_explorer(style="swirls.png", layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), *,
                   textures: dict | None = None, **options):
    """Notebook 07 in one call: a ``Layer`` slider over textures synthesised from one layer each.

    The textures are computed first (``options`` go to :func:`layer_textures`), so moving the slider
    is instant. Returns an object with ``.widget``, ``.slider``, ``.image``, ``.caption``, ``.textures``
    and ``.show(layer)`` (what the slider calls).
    """
    import ipywidgets as w

    textures = textures if textures is not None else layer_textures(style, layers, **options)
    names = list(textures)
    slider = w.SelectionSlider(description="Layer", options=names, value=names[0],
                               layout=w.Layout(width="420px"))
    image = w.Image(format="png", layout=w.Layout(width="256px"))
    caption = w.HTML()
    image.add_class("ot-style-layer-texture")

    def show(layer):
        picture, secs = textures[layer][:2]
        image.value = png_bytes(picture)
        side = receptive_field(layer)
        caption.value = (f"<b>{layer}</b>: each activation sees a {side}x{side} px patch of the picture "
                         f"(texture in {secs:.1f} s)")

    slider.observe(lambda change: show(change["new"]), "value")
    show(names[0])
    box = w.VBox([slider, image, caption])
    box.add_class("ot-style-layer-explorer")
    return _Shown(box, slider=slider, image=image, caption=caption, textures=textures, show=show)
