"""The VGG19 layer table and what follows from it alone: sizes, minimum sides, receptive fields, FLOPs."""

import pytest

from ot_style.layers import (LAYER_INFO, RELU_LAYERS, VGG19_LAYERS, check_layers, conv_flops, deepest_layer,
                             min_image_side, receptive_field, spatial_size)


def test_the_table_has_vgg19s_sixteen_convolutions_and_four_poolings_in_order():
    assert [row.name for row in LAYER_INFO if row.kind == "conv"][:3] == ["conv1_1", "conv1_2", "conv2_1"]
    assert sum(row.kind == "conv" for row in LAYER_INFO) == 16
    assert [name for name in VGG19_LAYERS if name.startswith("pool")] == ["pool1", "pool2", "pool3", "pool4"]
    assert RELU_LAYERS == tuple(name for name in VGG19_LAYERS if name.startswith("relu"))
    assert deepest_layer(("relu3_1", "relu1_1", "pool2")) == "relu3_1"
    with pytest.raises(ValueError, match="valid layers are"):
        check_layers(("relu6_1",))


def test_min_image_side_matches_the_layer_table():
    for layers in (["relu1_1"], ["relu2_1"], ["relu1_1", "relu5_1"], ["pool4"], ["relu3_4"]):
        side = min_image_side(layers)
        deepest_ok = [spatial_size(side, side, name) for name in layers]
        deepest_small = [spatial_size(side - 1, side - 1, name) for name in layers]
        assert min(min(s) for s in deepest_ok) >= 1
        assert side == 1 or min(min(s) for s in deepest_small) == 0
    assert min_image_side(["relu1_1", "relu5_1"]) == 16


def test_receptive_fields_match_the_hand_count():
    # 3x3 convolutions add 2 strides, 2x2 poolings add 1 and double the stride.
    expected = {"relu1_1": 3, "relu1_2": 5, "relu2_1": 10, "relu3_1": 24, "relu4_1": 68,
                "relu5_1": 156, "relu5_4": 252}
    assert {name: receptive_field(name) for name in expected} == expected
    with pytest.raises(ValueError, match="relu1_1"):
        receptive_field("relu9_9")


def test_conv_flops_is_the_analytic_count():
    assert conv_flops(32, 32, "relu1_1") == 2 * 32 * 32 * 3 * 64 * 9
    expected = 2 * 9 * (32 * 32 * (3 * 64 + 64 * 64) + 16 * 16 * 64 * 128)
    assert conv_flops(32, 32, "conv2_1") == expected == conv_flops(32, 32, "pool2") - 2 * 9 * 16 * 16 * 128 ** 2
    # relu5_1 at 256 px, the benchmark's figure, block by block: 47.34 GFLOP forward
    blocks = [256 ** 2 * (3 * 64 + 64 * 64), 128 ** 2 * (64 * 128 + 128 ** 2), 64 ** 2 * (128 * 256 + 3 * 256 ** 2),
              32 ** 2 * (256 * 512 + 3 * 512 ** 2), 16 ** 2 * 512 ** 2]
    assert conv_flops(256, 256, "relu5_1") == 18 * sum(blocks) == 47_336_914_944
