"""The VGG19 layer table, without TensorFlow.

Names, channel counts and spatial downsampling of every layer of VGG19's convolutional part, in the
order the seed program and the literature use (``conv1_1``, ``relu1_1``, ..., ``pool1``, ...,
``relu5_4``). The EMD cost estimate (:mod:`ot_style.emd`, notebook 03) and the TensorFlow network
(:mod:`ot_style.vgg`) both read this one table.

Pooling is 2x2 with stride 2 and ``VALID`` padding (the Keras convention the ImageNet weights were
trained with), so a layer in block ``k`` sees ``floor`` divisions of the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LayerInfo", "VGG19_LAYERS", "LAYER_INFO", "layer_info", "spatial_size", "check_layers"]

# (block, number of convolutions, channels)
_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))


@dataclass(frozen=True)
class LayerInfo:
    """One row of the table.

    Attributes
    ----------
    name : str
        ``convB_I``, ``reluB_I`` or ``poolB``.
    kind : str
        ``"conv"``, ``"relu"`` or ``"pool"``.
    block : int
        VGG block, 1 to 5.
    channels : int
        Feature channels the layer outputs.
    pools_before : int
        How many 2x2 poolings the input has passed through before this layer's output
        (a pool layer counts its own).
    """

    name: str
    kind: str
    block: int
    channels: int
    pools_before: int


def _build() -> tuple[LayerInfo, ...]:
    rows = []
    for block, n_conv, channels in _BLOCKS:
        for i in range(1, n_conv + 1):
            rows.append(LayerInfo(f"conv{block}_{i}", "conv", block, channels, block - 1))
            rows.append(LayerInfo(f"relu{block}_{i}", "relu", block, channels, block - 1))
        if block < 5:  # the seed's table ends at relu5_4; pool5 feeds only the classifier
            rows.append(LayerInfo(f"pool{block}", "pool", block, channels, block))
    return tuple(rows)


LAYER_INFO: tuple[LayerInfo, ...] = _build()
VGG19_LAYERS: tuple[str, ...] = tuple(row.name for row in LAYER_INFO)
_BY_NAME = {row.name: row for row in LAYER_INFO}


def check_layers(layers) -> tuple[str, ...]:
    """Return ``layers`` as a tuple of names, or raise ``ValueError`` naming the valid ones."""
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    if not layers:
        raise ValueError("At least one VGG19 layer is needed.")
    unknown = [name for name in layers if name not in _BY_NAME]
    if unknown:
        raise ValueError(
            f"Unknown VGG19 layer {unknown[0]!r}; valid layers are: {', '.join(VGG19_LAYERS)}."
        )
    return layers


def layer_info(name: str) -> LayerInfo:
    """The table row of layer ``name`` (``ValueError`` listing the valid names otherwise)."""
    check_layers((name,))
    return _BY_NAME[name]


def spatial_size(height: int, width: int, layer: str) -> tuple[int, int]:
    """Height and width of ``layer``'s activations for an input image of ``height`` x ``width``.

    Each 2x2 ``VALID`` pooling floors the size by half; convolutions keep it (``SAME`` padding).
    """
    pools = layer_info(layer).pools_before
    h, w = int(height), int(width)
    for _ in range(pools):
        h, w = h // 2, w // 2
    return h, w
