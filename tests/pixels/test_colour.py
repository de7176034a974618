"""Pixel-level colour transfer (ot_style.pixels.colour): exact moments, exact 1-D OT, the sliced W2 drop."""

import numpy as np
import pytest

from ot_style.pixels import colour
from ot_style.pixels.colour import (colour_moments, colour_sliced_w2, match_histogram_1d, random_rotation,
                             transfer_gaussian, transfer_sliced)


def smooth_image(seed, shape=(24, 32), palette_shift=0.0):
    """A natural-looking test image: smooth colour gradients plus noise, full-rank colour covariance."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    channels = []
    for _ in range(3):
        a, b, c = rng.uniform(-1, 1, 3)
        channels.append(0.5 + 0.3 * np.sin(3 * a * xx + 2 * b * yy + c))
    image = np.stack(channels, axis=-1) + palette_shift + 0.08 * rng.standard_normal((h, w, 3))
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def two_blob_image(seed, shape=(20, 30)):
    """A style whose colours form two clusters: far from Gaussian, so only the sliced transfer fits it."""
    rng = np.random.default_rng(seed)
    n = shape[0] * shape[1]
    centres = np.array([[0.85, 0.35, 0.15], [0.15, 0.3, 0.75]])
    labels = rng.integers(0, 2, n)
    pixels = centres[labels] + 0.05 * rng.standard_normal((n, 3))
    return np.clip(pixels, 0, 1).reshape(*shape, 3).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_gaussian_transfer_gives_the_style_colour_moments(seed):
    content = smooth_image(seed)
    style = smooth_image(seed + 100, shape=(17, 21), palette_shift=0.1)
    result = transfer_gaussian(content, style)
    assert result.shape == content.shape and result.dtype == np.float32
    got, want = colour_moments(result), colour_moments(style)
    np.testing.assert_allclose(got.mean, want.mean, atol=1e-3)
    np.testing.assert_allclose(got.cov, want.cov, atol=1e-3)
    # and far tighter than 1e-3 in relative terms: only float32 rounding separates them
    np.testing.assert_allclose(got.cov, want.cov, rtol=1e-3, atol=1e-6)


def test_gaussian_transfer_agrees_with_pot_linear_map():
    import ot

    content, style = smooth_image(5), two_blob_image(6)
    xs = content.reshape(-1, 3).astype(np.float64)
    xt = style.reshape(-1, 3).astype(np.float64)
    # POT's empirical mapping uses the biased (1/n) covariance; eq. 1 (and feature_moments) divides by
    # n - 1, so hand POT the unbiased moments and let it build the map from them.
    A, b = ot.gaussian.bures_wasserstein_mapping(xs.mean(0), xt.mean(0), np.cov(xs.T), np.cov(xt.T))
    expected = xs @ A + b
    np.testing.assert_allclose(transfer_gaussian(content, style).reshape(-1, 3), expected, atol=2e-5)


def test_gaussian_transfer_of_an_image_onto_itself_is_the_identity():
    content = smooth_image(7)
    np.testing.assert_allclose(transfer_gaussian(content, content), content, atol=2e-5)


def test_gaussian_transfer_is_idempotent():
    content, style = smooth_image(8), smooth_image(9, palette_shift=-0.2)
    once = transfer_gaussian(content, style)
    np.testing.assert_allclose(transfer_gaussian(once, style), once, atol=5e-5)


def test_gaussian_transfer_clip_keyword_is_honest():
    # A strong shift pushes some pixels outside [0, 1]: unclipped keeps the exact moments,
    # clip=True keeps the range and (only) then departs from them.
    content = smooth_image(10)
    style = np.clip(smooth_image(11) * 1.6 - 0.3, 0, 1)
    raw = transfer_gaussian(content, style)
    clipped = transfer_gaussian(content, style, clip=True)
    assert raw.min() < 0 or raw.max() > 1
    np.testing.assert_array_equal(clipped, np.clip(raw, 0, 1))
    assert clipped.min() >= 0 and clipped.max() <= 1
    np.testing.assert_allclose(colour_moments(raw).cov, colour_moments(style).cov, atol=1e-3)


def test_match_histogram_1d_equal_counts_is_exact_1d_optimal_transport():
    import ot

    rng = np.random.default_rng(0)
    values, reference = rng.normal(size=300), rng.gamma(2.0, size=300)
    matched = match_histogram_1d(values, reference)
    # the matched samples ARE the reference samples, in the order of the values' ranks
    np.testing.assert_array_equal(np.sort(matched), np.sort(reference))
    assert np.all(np.diff(matched[np.argsort(values)]) >= 0)  # monotone map
    # and the cost of this assignment is the exact 1-D OT cost computed by POT
    cost = np.mean((values - matched) ** 2)
    np.testing.assert_allclose(cost, ot.emd2_1d(values, reference, metric="sqeuclidean"), rtol=1e-10)


def test_match_histogram_1d_different_counts_interpolates_quantiles():
    import ot

    rng = np.random.default_rng(1)
    values, reference = rng.normal(size=1000), rng.uniform(2, 5, size=333)
    matched = match_histogram_1d(values, reference)
    assert matched.min() >= reference.min() and matched.max() <= reference.max()
    # the result's distribution is within a small 1-D W2 of the reference (interpolation error only)
    assert ot.wasserstein_1d(matched, reference, p=2) < 0.02
    assert ot.wasserstein_1d(values, reference, p=2) > 2.0


def test_random_rotation_is_a_seeded_rotation():
    r = random_rotation(3, np.random.default_rng(4))
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)
    np.testing.assert_array_equal(r, random_rotation(3, np.random.default_rng(4)))


def test_random_rotation_is_uniform_on_average():
    # For Haar-distributed rotations E[R] = 0 and E[R_ij^2] = 1/3.
    rng = np.random.default_rng(0)
    rs = np.stack([random_rotation(3, rng) for _ in range(4000)])
    np.testing.assert_allclose(rs.mean(axis=0), 0.0, atol=0.04)
    np.testing.assert_allclose((rs ** 2).mean(axis=0), 1 / 3, atol=0.03)


def _sliced_history(content, style, iterations, seed):
    steps = colour.iterate_sliced_transfer(content, style, seed=seed)
    history = [colour_sliced_w2(content, style, n_projections=300)]
    for _ in range(iterations):
        history.append(colour_sliced_w2(next(steps), style, n_projections=300))
    return np.array(history)


@pytest.mark.parametrize("seed", range(4))
def test_sliced_transfer_drops_sliced_w2_by_90_percent_in_5_iterations(seed):
    content = smooth_image(seed, shape=(32, 32))
    style = smooth_image(seed + 50, shape=(24, 40), palette_shift=0.15)
    before = colour_sliced_w2(content, style, n_projections=300)
    after = colour_sliced_w2(transfer_sliced(content, style, iterations=5, clip=False, seed=seed),
                             style, n_projections=300)
    assert after <= 0.1 * before


@pytest.mark.parametrize("seed", range(4))
def test_sliced_transfer_to_a_clustered_palette_drops_90_percent_within_the_default(seed):
    # Two colour clusters are the hard case: some rotation sequences split the content's mass badly
    # and plateau for a while (about 20% of the start for ~10 iterations), so the default of 20
    # iterations leaves room for them.
    content, style = smooth_image(seed, shape=(32, 32)), two_blob_image(seed + 50, shape=(24, 40))
    before = colour_sliced_w2(content, style, n_projections=300)
    after = colour_sliced_w2(transfer_sliced(content, style, clip=False, seed=seed), style,
                             n_projections=300)
    assert after <= 0.1 * before


@pytest.mark.parametrize("style_kind", ["smooth", "clustered"])
def test_sliced_transfer_decreases_monotonically_on_average_over_seeds(style_kind):
    content = smooth_image(30, shape=(24, 24))
    style = (smooth_image(31, shape=(24, 24), palette_shift=-0.15) if style_kind == "smooth"
             else two_blob_image(31, shape=(24, 24)))
    histories = np.stack([_sliced_history(content, style, 8, seed) for seed in range(8)])
    mean = histories.mean(axis=0)
    assert np.all(np.diff(mean) < 0), mean


def test_sliced_transfer_matches_a_non_gaussian_style_better_than_the_gaussian_map():
    content, style = smooth_image(40), two_blob_image(41)
    sliced = colour_sliced_w2(transfer_sliced(content, style, iterations=15, clip=False), style)
    gaussian = colour_sliced_w2(transfer_gaussian(content, style), style)
    assert sliced < 0.5 * gaussian


def test_sliced_transfer_is_seeded_and_deterministic():
    content, style = smooth_image(50), two_blob_image(51)
    a = transfer_sliced(content, style, iterations=3, seed=7)
    np.testing.assert_array_equal(a, transfer_sliced(content, style, iterations=3, seed=7))
    assert not np.allclose(a, transfer_sliced(content, style, iterations=3, seed=8))


def test_sliced_transfer_shapes_range_and_zero_iterations():
    content, style = smooth_image(60, shape=(10, 14)), two_blob_image(61, shape=(30, 9))
    out = transfer_sliced(content, style, iterations=4)
    assert out.shape == content.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(transfer_sliced(content, style, iterations=0), content)


def test_sliced_transfer_with_equal_counts_reaches_the_style_colours():
    # With as many pixels as the style, repeated exact matching converges to a permutation-like
    # reassignment: the sorted marginals along the RGB axes approach the style's.
    content, style = smooth_image(70, shape=(16, 16)), two_blob_image(71, shape=(16, 16))
    out = transfer_sliced(content, style, iterations=40, clip=False).reshape(-1, 3)
    ref = style.reshape(-1, 3)
    for axis in range(3):
        np.testing.assert_allclose(np.sort(out[:, axis]), np.sort(ref[:, axis]), atol=0.03)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((4, 4)), "shape"),
    (np.zeros((4, 4, 4)), "shape"),
    (np.zeros((1, 1, 3)), "at least 2 pixels"),
    (np.full((3, 3, 3), np.nan), "NaN"),
    (np.full((3, 3, 3), "a"), "real numbers"),
])
def test_bad_images_raise_clear_value_errors(bad, message):
    good = smooth_image(0, shape=(4, 4))
    with pytest.raises(ValueError, match=message):
        transfer_gaussian(bad, good)
    with pytest.raises(ValueError, match=message):
        transfer_sliced(good, bad, iterations=1)


@pytest.mark.parametrize("iterations", [-1, 1.5, True, "3"])
def test_bad_iterations_raise(iterations):
    image = smooth_image(0, shape=(4, 4))
    with pytest.raises(ValueError, match="iterations"):
        transfer_sliced(image, image, iterations=iterations)


# --- notebook 06 widget logic (ot_style.widgets.colour), driven without a browser -------------------

def test_explorer_goes_both_ways_and_caches_iterates():
    from ot_style.widgets.colour import ColourTransferExplorer

    first, second = smooth_image(11), smooth_image(12, shape=(20, 28), palette_shift=0.15)
    explorer = ColourTransferExplorer(first, second, seed=3)
    np.testing.assert_array_equal(explorer.sliced(7, 0), transfer_sliced(first, second, iterations=7, seed=3))
    np.testing.assert_array_equal(explorer.sliced(4, 1), transfer_sliced(second, first, iterations=4, seed=3))
    np.testing.assert_array_equal(explorer.sliced(0, 1), second)
    np.testing.assert_array_equal(explorer.gaussian(1), transfer_gaussian(second, first))
    for direction, content, style in ((0, first, second), (1, second, first)):
        curve = explorer.sliced_w2_curve(8, direction)
        assert curve.shape == (9,)
        assert curve[0] == pytest.approx(colour_sliced_w2(content, style, seed=1))
        assert curve[-1] <= 0.1 * curve[0]
    with pytest.raises(ValueError, match="direction"):
        explorer.sliced(1, 2)


def test_colour_widget_builds_and_its_slider_updates_the_numbers():
    pytest.importorskip("ipywidgets")
    from ot_style.widgets.colour import colour_transfer_widget

    box = colour_transfer_widget(smooth_image(1), smooth_image(2, palette_shift=0.2), max_iterations=6)
    controls, label, picture = box.children
    direction, slider = controls.children
    assert picture.value[:4] == b"\x89PNG"
    slider.value = 6
    curve = box.explorer.sliced_w2_curve(6, 0)
    assert f"{curve[-1]:.4f} after 6 iterations" in label.value
    direction.value = 1
    assert f"{box.explorer.sliced_w2_curve(6, 1)[-1]:.4f} after 6" in label.value


def test_colour_clouds_subsample_is_seeded_and_bounded():
    from ot_style.widgets.colour import colour_clouds_figure, subsample_colours

    image = smooth_image(4, shape=(50, 60))
    a, b = subsample_colours(image, 500, seed=2), subsample_colours(image, 500, seed=2)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (500, 3)
    assert subsample_colours(image, 10**6).shape == (3000, 3)
    fig = colour_clouds_figure([("a", image), ("b", image)], n_points=200)
    assert len(fig.axes) == 4 and fig.axes[1].name == "3d"
