"""The VGG19 layer table, without TensorFlow: names, channels, receptive fields, minimum image sizes.

Names, channel counts and spatial downsampling of every layer of VGG19's convolutional part, in the
order the seed program and the literature use (``conv1_1``, ``relu1_1``, ..., ``pool1``, ...,
``relu5_4``). Everything that depends only on this table lives here, once: the smallest image a set of
layers can take (:func:`min_image_side`), the patch one activation sees (:func:`receptive_field`,
notebook 07) and the convolutions' operation count (:func:`conv_flops`). The EMD cost estimate
(:mod:`ot_style.maths.emd`, notebook 03), the network (:mod:`ot_style.network.vgg`), the image loader
and the engine's plan all read it.

Pooling is 2x2 with stride 2 and ``VALID`` padding (the Keras convention the ImageNet weights were
trained with), so a layer in block ``k`` sees ``floor`` divisions of the image size.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LayerInfo", "VGG19_LAYERS", "LAYER_INFO", "RELU_LAYERS", "layer_info", "spatial_size", "check_layers",
           "deepest_layer", "min_image_side", "receptive_field", "conv_flops"]

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
#: Every ReLU layer, in network order: the layers a style loss usually reads (the playground's sliders).
RELU_LAYERS: tuple[str, ...] = tuple(row.name for row in LAYER_INFO if row.kind == "relu")


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


def deepest_layer(layers) -> str:
    """The layer of ``layers`` that comes last in the network (the network must run up to it)."""
    return max(check_layers(layers), key=VGG19_LAYERS.index)


def min_image_side(layers) -> int:
    """Smallest image side (pixels) that still gives a 1x1 activation at the deepest of ``layers``.

    Each 2x2 pooling with ``VALID`` padding halves the size (rounding down), so a layer behind
    ``p`` poolings needs

    .. math:: s_{\\min} = 2^{p}.

    The one rule for it: the image loader, the network and the engine's plan all call this.

    Parameters
    ----------
    layers : str or sequence of str
        VGG19 layer names (see :data:`VGG19_LAYERS`).

    Returns
    -------
    int
    """
    return 2 ** layer_info(deepest_layer(layers)).pools_before


def receptive_field(layer: str) -> int:
    """Side in pixels of the input patch one activation of ``layer`` depends on.

    Every 3x3 convolution widens the patch by 2 steps of the current stride, every 2x2 pooling by 1
    step and doubles the stride: ``relu1_1`` sees 3 px, ``relu3_1`` 24 px, ``relu5_1`` 156 px.
    Notebook ``07_what_each_layer_sees`` measures it on the network.
    """
    layer_info(layer)  # ValueError naming the valid layers
    field_side, stride = 1, 1
    for row in LAYER_INFO:
        if row.kind == "conv":
            field_side += 2 * stride
        elif row.kind == "pool":
            field_side += stride
            stride *= 2
        if row.name == layer:
            return field_side
    raise AssertionError("unreachable: layer_info accepted the name")


def conv_flops(height: int, width: int, layer: str) -> int:
    """Floating-point operations of VGG19's convolutions from the image up to ``layer`` (forward pass).

    .. math:: \\sum_{\\text{conv } \\ell} 2 \\, H_\\ell W_\\ell \\, C^{in}_\\ell C^{out}_\\ell \\cdot 9

    (a multiply and an add per kernel tap). Bias, ReLU and pooling are not counted.
    """
    deepest = VGG19_LAYERS.index(check_layers((layer,))[0])
    total, c_in = 0, 3
    for row in LAYER_INFO[: deepest + 1]:
        if row.kind == "conv":
            h, w = spatial_size(height, width, row.name)
            total += 2 * h * w * c_in * row.channels * 9
            c_in = row.channels
    return total
