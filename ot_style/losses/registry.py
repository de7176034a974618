"""Losses by name: the one registry the engine, the CLI and the widgets build their losses from.

The names are :data:`ot_style.config.STYLE_LOSSES` and :data:`ot_style.config.CONTENT_LOSSES` (the
rulebook that :meth:`ot_style.config.StyleConfig.validate` checks); every setting a loss takes comes from
the :class:`~ot_style.config.StyleConfig` it is built with.
"""

from __future__ import annotations

from ..config import CONTENT_LOSSES, STYLE_LOSSES, check_weights, default_config
from .base import ContentLoss, StyleLoss
from .content import FeatureContentLoss, SelfSimilarityLoss
from .gram import GramLoss
from .moments import MomentsLoss
from .sliced import SlicedLoss
from .strotss import StrotssLoss
from .w2 import W2Loss

__all__ = ["make_style_loss", "make_content_loss", "build_losses", "STYLE_LOSS_CLASSES"]

#: Style loss name -> class (its keys are exactly ``config.STYLE_LOSSES``).
STYLE_LOSS_CLASSES = {"w2": W2Loss, "gram": GramLoss, "moments": MomentsLoss, "sliced": SlicedLoss,
                      "strotss": StrotssLoss}


def make_style_loss(name_or_obj, layers=None, layer_weights=None, config=None) -> StyleLoss:
    """Build a style loss by name (``config.STYLE_LOSSES``); a loss object is returned as it is.

    ``layers`` / ``layer_weights`` None are taken from ``config`` (default
    :func:`ot_style.config.default_config`; other layers without weights get equal weights), and so is
    every other setting: ``sliced_projections``
    (the sliced loss's directions), ``strotss_samples`` and ``content_weight`` (alpha, STROTSS),
    ``gram_normalisation`` (Gram) and ``w2_compute_dtype`` (W2's eigendecomposition; ``"float32"`` is
    faster but inexact at rank-deficient layers, see :func:`ot_style.losses.w2.w2_squared_to_target`).
    """
    if not isinstance(name_or_obj, str):  # a loss object (e.g. a guided loss): used as it is
        return name_or_obj
    config = default_config() if config is None else config
    if name_or_obj not in STYLE_LOSS_CLASSES:
        raise ValueError(f"Unknown style loss {name_or_obj!r}; choose one of: {', '.join(STYLE_LOSSES)}.")
    if layer_weights is None and (layers is None or tuple(layers) == tuple(config.layers)):
        layer_weights = config.layer_weights  # the config's weights belong to its layers
    layers = config.layers if layers is None else layers
    normalise = {"normalise": config.normalise_losses}
    options = {"strotss": {"alpha": config.content_weight, "samples": config.strotss_samples},
               "sliced": {"n_projections": config.sliced_projections, **normalise},
               "gram": {"normalisation": config.gram_normalisation, **normalise},
               "moments": normalise,
               "w2": {"compute_dtype": config.w2_compute_dtype, **normalise}}[name_or_obj]
    return STYLE_LOSS_CLASSES[name_or_obj](layers, layer_weights, **options)


def make_content_loss(name, layer=None, weight=None, config=None) -> ContentLoss | None:
    """Build a content loss by name (``config.CONTENT_LOSSES``); None means no content term.

    ``layer`` / ``weight`` None are taken from ``config``. With ``config.loss == "strotss"``,
    ``"self_similarity"`` is STROTSS's own content term: hypercolumns of ``config.layers`` and the
    weight :math:`\\alpha / (2 + \\alpha + 1/\\alpha)` with :math:`\\alpha` = ``weight``.
    """
    config = default_config() if config is None else config
    if name not in CONTENT_LOSSES:
        choices = ", ".join(repr(c) for c in CONTENT_LOSSES)
        raise ValueError(f"Unknown content loss {name!r}; choose one of: {choices}.")
    if name is None:
        return None
    layer = config.content_layer if layer is None else layer
    weight = check_weights((config.content_weight if weight is None else weight,), "The content weight")[0]
    if name == "features":
        return FeatureContentLoss(layer, weight, normalise=config.normalise_losses)
    if config.loss == "strotss":
        alpha = weight
        if alpha <= 0:
            raise ValueError("STROTSS needs a positive content weight alpha.")
        return SelfSimilarityLoss(config.layers, alpha / (2.0 + alpha + 1.0 / alpha),
                                  samples=config.strotss_samples)
    return SelfSimilarityLoss((layer,), weight, samples=config.strotss_samples)


def build_losses(config, loss=None, content_loss="config", *, has_content: bool = True):
    """The style loss and the content term (or None) of a run, from a validated ``config``.

    ``loss`` is None (``config.loss``) or a loss object (e.g. a guided loss); ``content_loss`` is
    ``"config"`` (``config.content_loss``, dropped for texture synthesis), None, a name or a
    :class:`ContentLoss` object.

    Returns
    -------
    (StyleLoss, ContentLoss or None)
    """
    style_loss = make_style_loss(config.loss if loss is None else loss, config=config)
    if not (callable(style_loss) and hasattr(style_loss, "prepare") and hasattr(style_loss, "layers")):
        raise ValueError("loss must be a name from ot_style.config.STYLE_LOSSES or a StyleLoss object.")
    if content_loss == "config":
        content_loss = config.content_loss if has_content else None
    if content_loss is not None and not has_content:
        raise ValueError("A content loss needs a content image; use content_loss=None for texture synthesis.")
    if content_loss is None or isinstance(content_loss, str):
        return style_loss, make_content_loss(content_loss, config=config)
    if not (callable(content_loss) and hasattr(content_loss, "prepare") and hasattr(content_loss, "layers")):
        raise ValueError("content_loss must be None, a name from ot_style.config.CONTENT_LOSSES or a "
                         "ContentLoss object.")
    return style_loss, content_loss
