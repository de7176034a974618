"""The plan of a run: every scale's sizes and budget, and never a scale the network cannot take."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ot_style.config import DEFAULT
from ot_style.engine.plan import plan_run
from ot_style.layers import spatial_size

LAYERS = DEFAULT.layers  # relu5_1 is behind four poolings: 16 px per side at least


def test_the_default_plan_is_the_configs_schedule():
    plan = plan_run(DEFAULT.replace(size=256, scales=(128, 256), steps=(30, 12)), (600, 512, 3), [(512, 512, 3)],
                    LAYERS)
    assert [s.long_side for s in plan.scales] == [128, 256] and [s.budget for s in plan.scales] == [30, 12]
    assert plan.output_size == (256, 218) and plan.scales[0].size == (128, 109)
    assert plan.scales[-1].style_sizes == ((256, 256),) and plan.scales[0].style_sizes == ((128, 128),)
    assert plan.total_steps == 42
    default = plan_run(DEFAULT, (600, 512, 3), [(512, 512, 3)], LAYERS)
    assert [s.long_side for s in default.scales] == list(DEFAULT.scales)


def test_a_style_is_never_enlarged_and_a_small_size_drops_the_coarse_scales():
    plan = plan_run(DEFAULT.with_size(64), (480, 640, 3), [(20, 40, 3)], LAYERS)
    # 64 px: the schedule in proportion is (16, 32, 64); at 16 px the 4:3 output would be 12x16, too small
    assert [s.long_side for s in plan.scales] == [32, 64]
    assert plan.output_size == (48, 64) and plan.scales[-1].style_sizes == ((20, 40),)  # not enlarged
    assert plan.scales[0].style_sizes == ((16, 32),)
    assert [s.budget for s in plan.scales] == list(DEFAULT.steps[-2:])  # the finest scales' budgets
    # 32 px with a normal style: only the finest scale is left, and it runs (issue 15).
    small = plan_run(DEFAULT.with_size(32), (480, 640, 3), [(512, 512, 3)], LAYERS)
    assert [s.long_side for s in small.scales] == [32] and small.output_size == (24, 32)


def test_a_final_size_the_network_cannot_take_is_refused_with_the_layer_named():
    with pytest.raises(ValueError, match="too small for layer relu5_1: it needs at least 16 pixels"):
        plan_run(DEFAULT.with_size(20), (480, 640, 3), [(512, 512, 3)], LAYERS)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(16, 600), height=st.integers(16, 900), width=st.integers(16, 900),
       style=st.tuples(st.integers(16, 700), st.integers(16, 700)))
def test_no_planned_scale_is_below_the_networks_minimum(size, height, width, style):
    # A picture whose short side is too small at the final size is refused; otherwise every scale the
    # plan keeps gives every image at least two activations at the deepest layer (a covariance).
    config = DEFAULT.with_size(size)
    try:
        plan = plan_run(config, (height, width, 3), [(*style, 3)], LAYERS)
    except ValueError as error:
        assert "too small" in str(error)
        return
    assert plan.scales[-1].long_side == size
    for scale in plan.scales:
        for h, w in (scale.size, *scale.style_sizes):
            rows, columns = spatial_size(h, w, "relu5_1")
            assert rows >= 1 and columns >= 1 and rows * columns >= 2


def _named_size(error) -> int:
    return int(str(error.value).rsplit("about ", 1)[1].split(" ")[0])


def test_a_picture_too_large_to_evaluate_whole_is_tiled_and_one_too_large_even_tiled_is_refused():
    from ot_style.engine.plan import memory_needed, plan_tiles, tiled_memory_needed

    small = plan_run(DEFAULT, (480, 640, 3), [(512, 512, 3)], LAYERS)
    large = plan_run(DEFAULT.with_size(4096), (480, 640, 3), [(512, 512, 3)], LAYERS)
    assert memory_needed(large, LAYERS) > 100 * (memory_needed(small, LAYERS) - 1.1e9)  # activations ~ size^2
    assert all(scale.tile is None for scale in plan_tiles(small, LAYERS, available=24e9).scales)
    tiled = plan_tiles(large, LAYERS, available=8e9, content_layer="relu3_2")
    final = tiled.scales[-1]
    assert memory_needed(large, LAYERS) > 8e9 and final.tile is not None and final.tile % 16 == 0
    assert tiled_memory_needed(final.size, LAYERS, final.tile, "adam", "relu3_2") <= 8e9
    assert all(s.tile is None for s in tiled.scales if memory_needed(type(large)((s,)), LAYERS) <= 8e9)
    # Forced: every scale larger than one tile; 0: never.
    forced = plan_tiles(small, LAYERS, tile=64, available=24e9)
    assert [s.tile for s in forced.scales] == [None if max(s.size) <= 64 else 64 for s in small.scales]
    assert all(s.tile is None for s in plan_tiles(large, LAYERS, tile=0, available=8e9).scales)

    huge = plan_run(DEFAULT.with_size(30000), (480, 640, 3), [(512, 512, 3)], LAYERS)
    with pytest.raises(ValueError, match=r"^A 30000-px picture needs about .* GB of memory even tile by tile, "
                                         r"but this machine has 8.0 GB available; the largest size that fits "
                                         r"is about \d+ px.$") as info:
        plan_tiles(huge, LAYERS, available=8e9)
    fits = _named_size(info)
    plan_tiles(plan_run(DEFAULT.with_size(fits), (480, 640, 3), [(512, 512, 3)], LAYERS), LAYERS, available=8e9)
    with pytest.raises(ValueError):
        plan_tiles(plan_run(DEFAULT.with_size(fits + 512), (480, 640, 3), [(512, 512, 3)], LAYERS), LAYERS,
                   available=8e9)


def test_a_loss_that_cannot_be_tiled_is_refused_when_the_picture_does_not_fit_whole():
    from ot_style.engine.plan import plan_tiles, tiling_refusal

    large = plan_run(DEFAULT.with_size(4096), (480, 640, 3), [(512, 512, 3)], LAYERS)
    refusal = tiling_refusal("sliced", "features")
    assert "'sliced' style loss cannot be computed tile by tile" in refusal
    assert tiling_refusal("w2", "self_similarity").startswith("the 'self_similarity' content term")
    assert tiling_refusal("w2", "features") is None and tiling_refusal("gram", None) is None
    with pytest.raises(ValueError, match=r"^A 4096-px picture needs about .* GB of memory whole, more than the "
                                         r"8.0 GB available, and the 'sliced' style loss cannot be computed tile "
                                         r"by tile .*, or a size of about \d+ px.$") as info:
        plan_tiles(large, LAYERS, refusal=refusal, available=8e9)
    fits = _named_size(info)
    plan_tiles(plan_run(DEFAULT.with_size(fits), (480, 640, 3), [(512, 512, 3)], LAYERS), LAYERS,
               refusal=refusal, available=8e9)  # the size it names fits whole
    with pytest.raises(ValueError):
        plan_tiles(plan_run(DEFAULT.with_size(fits + 128), (480, 640, 3), [(512, 512, 3)], LAYERS), LAYERS,
                   refusal=refusal, available=8e9)


def test_the_tileable_names_agree_with_the_loss_classes():
    pytest.importorskip("tensorflow")
    from ot_style.engine.plan import TILEABLE_CONTENT_LOSSES, TILEABLE_LOSSES
    from ot_style.losses.content import FeatureContentLoss, SelfSimilarityLoss
    from ot_style.losses.registry import STYLE_LOSS_CLASSES

    for name, cls in STYLE_LOSS_CLASSES.items():
        assert cls.tileable == (name in TILEABLE_LOSSES), name
    assert FeatureContentLoss.tileable and "features" in TILEABLE_CONTENT_LOSSES
    assert not getattr(SelfSimilarityLoss, "tileable", False) and "self_similarity" not in TILEABLE_CONTENT_LOSSES


def test_a_large_size_keeps_the_default_coarse_scales_and_doubles_up_with_small_budgets():
    from ot_style.config import LARGE_SIZE

    small = DEFAULT.with_size(512)
    assert small.scales == (128, 256, 512) and small.steps == DEFAULT.steps  # kept in proportion
    for size in (LARGE_SIZE, 1920, 3840):
        cfg = DEFAULT.with_size(size)
        n = len(DEFAULT.scales)
        assert cfg.scales[:n] == DEFAULT.scales and cfg.steps[:n - 1] == DEFAULT.steps[:-1]
        assert cfg.scales[-1] == size
        finer = cfg.scales[n - 1:]
        for coarse, fine in zip(finer, finer[1:]):
            assert fine % 16 == 0 or fine == size
            assert 1.8 < fine / coarse <= 2.2
        # Fewer steps where a step costs more: budgets never grow towards the fine scales.
        assert all(a >= b for a, b in zip(cfg.steps, cfg.steps[1:]))
        # The budget of a scale depends on its side alone (what a step there costs), not on the size.
        budget = dict(zip(cfg.scales, cfg.steps))
        assert budget[256] == 24 and all(budget[s] == (24 if s <= 512 else 18 if s <= 1024 else 4)
                                         for s in cfg.scales[n - 1:])
    assert DEFAULT.with_size(1920).scales == (64, 128, 256, 480, 960, 1920)
    assert DEFAULT.with_size(1920).steps == (40, 24, 24, 24, 18, 4)
    assert DEFAULT.with_size(3840).steps == (40, 24, 24, 24, 18, 4, 4)
    custom = DEFAULT.replace(scales=(100, 200), steps=(5, 5), size=200).with_size(2000)
    assert custom.scales == (1000, 2000) and custom.steps == (5, 5)  # a user's schedule is theirs


def test_a_scale_with_a_single_deepest_activation_is_dropped():
    # A square 64-px texture: its 16-px scale has one relu5_1 activation, and a covariance needs two.
    cfg = DEFAULT.with_size(64)
    assert cfg.scales[0] == 16
    plan = plan_run(cfg, (300, 300, 3), [(300, 300, 3)], LAYERS)
    assert [scale.long_side for scale in plan.scales] == [32, 64]
    for scale in plan.scales:
        for hw in (scale.size, *scale.style_sizes):
            assert spatial_size(*hw, "relu5_1")[0] * spatial_size(*hw, "relu5_1")[1] >= 2
    with pytest.raises(ValueError, match="two activations there"):
        plan_run(DEFAULT.replace(size=16, scales=(16,)), (300, 300, 3), [(300, 300, 3)], LAYERS)
