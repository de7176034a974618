"""The correlation length on pictures whose answer is known: blurred noise (2 sigma), pixel noise, brute-force
autocorrelations, stripes of a known period, and the invariances a measure of structure size must have."""

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter, zoom

from ot_style.pixels.texture_scale import autocorrelation, correlation_length, radial_autocorrelation


def _blurred_noise(sigma, size=256, seed=0):
    noise = np.random.default_rng(seed).normal(size=(size, size))
    return gaussian_filter(noise, sigma, mode="wrap") if sigma else noise


def _brute_force(y, dy, dx):
    # the definition, one lag at a time: mean of products over the overlapping pairs, over the variance
    y = y - y.mean()
    h, w = y.shape
    a = y[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)]
    b = y[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
    return float(np.mean(a * b) / np.mean(y * y))


def test_autocorrelation_is_the_definition_at_every_lag():
    y = np.random.default_rng(1).normal(size=(7, 9)) + np.arange(9) * 0.3  # not centred, not square
    rho = autocorrelation(y)
    assert rho.shape == (13, 17)
    for dy in range(-6, 7):
        for dx in range(-8, 9):
            assert rho[6 + dy, 8 + dx] == pytest.approx(_brute_force(y, dy, dx), abs=1e-10)


def test_rgb_pictures_are_measured_on_their_rec601_luminance():
    rgb = np.random.default_rng(2).uniform(size=(12, 10, 3))
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(autocorrelation(rgb), autocorrelation(luma), atol=1e-12)


@pytest.mark.parametrize("sigma", [2.0, 4.0, 8.0])
def test_blurred_noise_has_correlation_length_two_sigma(sigma):
    # rho(r) = exp(-r^2 / (4 sigma^2)) for white noise blurred by a Gaussian of standard deviation sigma,
    # which is 1/e at r = 2 sigma; three noise draws, averaged, within 5 %
    lengths = [correlation_length(_blurred_noise(sigma, seed=seed)) for seed in range(3)]
    assert np.mean(lengths) == pytest.approx(2 * sigma, rel=0.05)


def test_the_radial_profile_of_blurred_noise_is_the_gaussian_closed_form():
    sigma = 3.0
    radii, profile = radial_autocorrelation(_blurred_noise(sigma, size=384), max_radius=12)
    np.testing.assert_array_equal(radii, np.arange(13))
    assert profile[0] == pytest.approx(1.0)
    np.testing.assert_allclose(profile, np.exp(-radii**2 / (4 * sigma**2)), atol=0.05)


def test_pixel_noise_is_below_one_pixel_and_blurring_only_lengthens():
    assert correlation_length(_blurred_noise(0)) < 1.0
    lengths = [correlation_length(_blurred_noise(s)) for s in (0, 1, 2, 4)]
    assert lengths == sorted(lengths) and len(set(lengths)) == 4


def test_stripes_decorrelate_at_a_quarter_period():
    # cos(2 pi x / P) along x: rho = cos(2 pi d / P) along x and 1 along y; the radial average first falls
    # below 1/e somewhere past a sixth of the period and before half of it
    period = 24
    stripes = np.tile(np.cos(2 * np.pi * np.arange(192) / period), (192, 1))
    length = correlation_length(stripes)
    assert period / 6 < length < period / 2


def test_length_ignores_brightness_and_contrast_and_doubles_with_the_picture():
    y = _blurred_noise(3.0, size=128)
    picture = 0.5 + 0.1 * y
    base = correlation_length(picture)
    assert correlation_length(0.2 * picture + 0.3) == pytest.approx(base, rel=1e-9)
    assert correlation_length(1.0 - picture) == pytest.approx(base, rel=1e-9)
    assert correlation_length(zoom(picture, 2, order=1)) == pytest.approx(2 * base, rel=0.1)


def test_length_is_inf_when_the_picture_is_one_structure():
    ramp = np.add.outer(np.arange(32.0), np.arange(32.0))  # one gradient across the whole picture
    assert correlation_length(ramp, max_radius=4) == float("inf")


def test_bad_pictures_and_levels_are_refused():
    with pytest.raises(ValueError, match="constant"):
        correlation_length(np.full((8, 8, 3), 0.5))
    with pytest.raises(ValueError, match="shape"):
        correlation_length(np.zeros((8, 8, 4)))
    with pytest.raises(ValueError, match="NaN"):
        correlation_length(np.full((8, 8), np.nan))
    with pytest.raises(ValueError, match="level"):
        correlation_length(_blurred_noise(1.0, size=16), level=1.0)
    with pytest.raises(ValueError, match="max_radius"):
        radial_autocorrelation(_blurred_noise(1.0, size=16), max_radius=0)


# ------------------------------------------------------------------ tile_shuffle (notebook 07)
from ot_style.pixels.texture_scale import tile_shuffle  # noqa: E402


def _tiles(array, b):
    return sorted(array[i:i + b, j:j + b].tobytes() for i in range(0, array.shape[0], b)
                  for j in range(0, array.shape[1], b))


def test_tile_shuffle_moves_whole_tiles_and_keeps_every_one():
    picture = np.arange(12 * 16 * 3).reshape(12, 16, 3)  # every pixel different
    for b in (1, 2, 4):
        shuffled = tile_shuffle(picture, b, seed=3)
        assert shuffled.shape == picture.shape and shuffled.dtype == picture.dtype
        assert _tiles(shuffled, b) == _tiles(picture, b)  # the same tiles, each one intact
        assert not np.array_equal(shuffled, picture)      # in another order
    np.testing.assert_array_equal(tile_shuffle(picture[:, :12], 12), picture[:, :12])  # one tile: no move


def test_tile_shuffle_crops_to_whole_tiles_and_is_seeded():
    picture = np.random.default_rng(0).random((10, 13))
    shuffled = tile_shuffle(picture, 3, seed=1)
    assert shuffled.shape == (9, 12)
    assert _tiles(shuffled, 3) == _tiles(picture[:9, :12], 3)
    np.testing.assert_array_equal(tile_shuffle(picture, 3, seed=1), shuffled)
    assert not np.array_equal(tile_shuffle(picture, 3, seed=2), shuffled)


def test_tile_shuffle_refuses_impossible_blocks():
    for block in (0, 11, 2.5, True):
        with pytest.raises(ValueError, match="block"):
            tile_shuffle(np.zeros((10, 12, 3)), block)
    with pytest.raises(ValueError, match="shape"):
        tile_shuffle(np.zeros(5), 1)
