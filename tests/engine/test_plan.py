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
    plan = plan_run(DEFAULT.with_size(32), (480, 640, 3), [(20, 30, 3)], LAYERS)
    # 32 px: the schedule in proportion is (8, 16, 32); at 16 px the 4:3 output would be 12x16, too small
    assert [s.long_side for s in plan.scales] == [32]
    assert plan.output_size == (24, 32) and plan.scales[0].style_sizes == ((20, 30),)
    assert plan.scales[0].budget == DEFAULT.steps[-1]  # the finest scale's budget


def test_a_final_size_the_network_cannot_take_is_refused_with_the_layer_named():
    with pytest.raises(ValueError, match="too small for layer relu5_1: it needs at least 16 pixels"):
        plan_run(DEFAULT.with_size(20), (480, 640, 3), [(512, 512, 3)], LAYERS)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(16, 600), height=st.integers(16, 900), width=st.integers(16, 900),
       style=st.tuples(st.integers(16, 700), st.integers(16, 700)))
def test_no_planned_scale_is_below_the_networks_minimum(size, height, width, style):
    # A picture whose short side is too small at the final size is refused; otherwise every scale the
    # plan keeps gives every image at least one activation at the deepest layer.
    config = DEFAULT.with_size(size)
    try:
        plan = plan_run(config, (height, width, 3), [(*style, 3)], LAYERS)
    except ValueError as error:
        assert "too small" in str(error)
        return
    assert plan.scales[-1].long_side == size
    for scale in plan.scales:
        for h, w in (scale.size, *scale.style_sizes):
            assert min(spatial_size(h, w, "relu5_1")) >= 1


def test_a_size_that_cannot_fit_is_refused_naming_the_largest_that_does():
    from ot_style.engine.plan import check_memory, memory_needed

    small = plan_run(DEFAULT, (480, 640, 3), [(512, 512, 3)], LAYERS)
    large = plan_run(DEFAULT.with_size(4096), (480, 640, 3), [(512, 512, 3)], LAYERS)
    assert memory_needed(large, LAYERS) > 100 * (memory_needed(small, LAYERS) - 1.1e9)  # activations ~ size^2
    check_memory(small, LAYERS, available=24e9)  # 256 px fits anywhere
    with pytest.raises(ValueError, match=r"A 4096-px picture needs about .* GB of memory, but this machine has "
                                         r"8.0 GB available; the largest size that fits is about (\d+) px") as info:
        check_memory(large, LAYERS, available=8e9)
    fits = int(str(info.value).rsplit("about ", 1)[1].split(" ")[0])
    suggested = plan_run(DEFAULT.with_size(fits), (480, 640, 3), [(512, 512, 3)], LAYERS)
    check_memory(suggested, LAYERS, available=8e9)  # the size it names does fit
    bigger = plan_run(DEFAULT.with_size(fits + 128), (480, 640, 3), [(512, 512, 3)], LAYERS)
    with pytest.raises(ValueError):
        check_memory(bigger, LAYERS, available=8e9)  # and not much more
