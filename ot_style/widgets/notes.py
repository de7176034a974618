"""The notebooks' standard notes: which VGG weights are in use, said once and styled.

Offline (the usual case for a student: the ImageNet weights are a 80 MB download) ``weights="auto"``
falls back to seeded random weights and warns. A Python warning block under every cell that builds a
network, with the installed package's file paths in it, reads like an error. So a notebook shows
:func:`weights_banner` once, near its top: it says in plain words which weights the pictures below
come from, and, having said it, silences :class:`~ot_style.network.weights.RandomWeightsWarning` for
the rest of the session. Scripts and the command line keep the warning.
"""

from __future__ import annotations

import html
import warnings

__all__ = ["weights_note", "weights_banner", "weights_html"]


def weights_note(weights="auto") -> tuple[str, bool]:
    """Which VGG weights a run with ``weights`` uses, and whether they are random (no network is built).

    The fallback warning is not raised here: whoever asks for the note shows it.
    """
    from ..network.weights import RandomWeightsWarning, resolve_weights

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RandomWeightsWarning)
            choice = resolve_weights(weights)
    except (ValueError, FileNotFoundError) as exc:
        return f"weights {weights!r}: {exc}", True
    return choice.description, bool(choice.is_random)


def weights_html(description: str, is_random: bool) -> str:
    """The note as HTML: red and marked with a warning sign for random weights, plain otherwise."""
    text = html.escape(str(description), quote=False)
    if is_random:
        if "RANDOM weights (seeded" in text:  # the fallback's own description: say it once, in words
            text = "For the ImageNet ones, run <code>ot-style weights download</code> once, while online."
        return ("<div class='ot-style-weights' style='color:#a00;font-weight:bold'>&#9888; RANDOM VGG "
                f"weights (seeded): the pictures show structure, not ImageNet style. {text}</div>")
    return f"<div class='ot-style-weights'>Network weights: {text}</div>"


def weights_banner(weights="auto"):
    """An ``ipywidgets.HTML`` saying which weights ``weights`` resolves to; display it once per notebook.

    With random weights it also silences :class:`~ot_style.network.weights.RandomWeightsWarning` for
    this session (``warnings.filterwarnings``): the banner is where the student reads it. And it imports
    TensorFlow now, quietly (:func:`ot_style._lazy.import_tensorflow_quietly`), so the cells after it
    that build a network show no C++ start-up chatter.
    """
    import ipywidgets as w

    from .._lazy import import_tensorflow_quietly
    from ..network.weights import RandomWeightsWarning

    import_tensorflow_quietly()

    description, is_random = weights_note(weights)
    if is_random:
        warnings.filterwarnings("ignore", category=RandomWeightsWarning)
    return w.HTML(value=weights_html(description, is_random))
