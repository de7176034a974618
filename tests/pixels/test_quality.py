"""The picture-quality measures on constructed cases: identical pictures, pure noise, a pure recolouring,
brightness changes, closed forms, and scikit-image's SSIM as the reference."""

import numpy as np
import pytest

from ot_style.pixels import quality
from ot_style.pixels.colour import transfer_sliced
from ot_style.pixels.images import fit_size, read_image, resize

RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def photo():
    return read_image("grace_hopper.jpg", max_size=160)


@pytest.fixture(scope="module")
def painting():
    return read_image("swirls.png", max_size=160)


def test_coarse_ssim_is_scikit_images_ssim_of_the_shrunk_luminance(photo, painting):
    from skimage.metrics import structural_similarity

    for other in (painting, np.clip(photo + RNG.normal(0, 0.1, photo.shape), 0, 1).astype(np.float32)):
        size = fit_size(photo.shape, 64)
        y = [resize(image, size) @ np.array([0.299, 0.587, 0.114]) for image in (photo, other)]
        want = structural_similarity(*y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                     data_range=1.0)
        assert quality.coarse_ssim(photo, other) == pytest.approx(want, abs=1e-6)
    assert quality.coarse_ssim(photo, photo) == pytest.approx(1.0, abs=1e-12)


def test_structure_ignores_brightness_and_contrast_but_not_layout(photo, painting):
    brighter = np.clip(0.4 * photo + 0.5, 0, 1)  # an affine change of every channel: luminance too
    assert quality.coarse_structure(brighter, photo) == pytest.approx(1.0, abs=1e-3)
    assert quality.coarse_ssim(brighter, photo) < 0.8  # full SSIM counts the change of brightness
    assert quality.coarse_structure(1.0 - photo, photo) < -0.5  # an inverted layout anti-correlates
    assert abs(quality.coarse_structure(painting, photo)) < 0.2  # unrelated pictures: about 0


def test_colour_distance_is_pots_sliced_w2_and_zero_for_the_same_palette():
    from ot_style.maths.pot import import_pot

    a, b = RNG.random((30, 40, 3)), RNG.random((20, 25, 3)) ** 2
    want = import_pot().sliced_wasserstein_distance(a.reshape(-1, 3), b.reshape(-1, 3), n_projections=64,
                                                    seed=0)
    assert quality.colour_distance(a, b) == pytest.approx(want, rel=1e-12)
    assert quality.colour_distance(a, a[::-1, ::-1]) == pytest.approx(0.0, abs=1e-12)  # moved pixels


def test_texture_distance_sees_structure_not_colour(photo, painting):
    assert quality.texture_distance(photo, photo) == 0.0
    # A recolouring that keeps the luminance (chroma rotated around the grey axis) has the same texture.
    grey = photo @ np.array([0.299, 0.587, 0.114])
    recoloured = np.clip(grey[:, :, None] + (photo - grey[:, :, None])[:, :, [1, 2, 0]], -1, 2)
    luma_kept = recoloured - (recoloured @ np.array([0.299, 0.587, 0.114]) - grey)[:, :, None]
    assert quality.texture_distance(luma_kept, photo) < 1e-6
    assert quality.texture_distance(0.5 * photo + 0.2, photo) < 1e-6  # contrast is not texture
    slightly, very = (np.clip(photo + RNG.normal(0, sd, photo.shape), 0, 1) for sd in (0.01, 0.2))
    assert quality.texture_distance(very, photo) > 5 * quality.texture_distance(slightly, photo)
    assert quality.texture_distance(painting, photo) > 5 * quality.texture_distance(slightly, photo)


def test_roughness_closed_forms():
    ramp = np.repeat(np.linspace(0, 1, 40)[None, :, None], 30, axis=0).repeat(3, axis=2)
    assert quality.roughness(ramp) == pytest.approx(0.0, abs=1e-12)  # a linear ramp has no Laplacian
    board = (np.indices((30, 40)).sum(axis=0) % 2).astype(float)[:, :, None].repeat(3, axis=2)
    assert quality.roughness(board) == pytest.approx(4.0)  # |4 v - 4 (1 - v)| = 4 at every pixel
    noise = RNG.random((30, 40, 3))
    assert quality.roughness(noise) > 10 * quality.roughness(np.full((30, 40, 3), 0.5) + 0.01 * ramp)


def test_assess_transfer_on_the_start_a_recolouring_and_noise(photo, painting):
    start = quality.assess_transfer(photo, photo, painting)
    assert start.content_ssim == pytest.approx(1.0) and start.content_structure == pytest.approx(1.0)
    assert start.palette_gain == pytest.approx(0.0) and start.texture_gain == pytest.approx(0.0)
    recoloured = transfer_sliced(photo, painting)  # the palette moves, the layout stays
    moved = quality.assess_transfer(recoloured, photo, painting)
    assert moved.palette_gain > 0.9 and moved.content_structure > 0.8
    assert not moved.passes()["texture_gain"]  # a recolouring is not a texture
    noisy = np.clip(photo + RNG.normal(0, 0.2, photo.shape), 0, 1)
    assert quality.assess_transfer(noisy, photo, painting).roughness_ratio > quality.TARGETS["roughness_ratio"]
    assert quality.assess_transfer(painting, photo, painting).texture_gain > 0.9


def test_assess_texture_is_relative_to_the_exemplars_own_halves(painting):
    same = quality.assess_texture(painting, painting)
    assert same.texture_factor == 0.0 and same.roughness_factor == 0.0 and all(same.passes().values())
    noise = RNG.random(painting.shape).astype(np.float32)
    far = quality.assess_texture(noise, painting)
    assert far.texture_factor > 3 and far.roughness_factor > 3 and not any(far.passes().values())


@pytest.mark.parametrize("bad, words", [(np.zeros((5, 5)), "RGB image"), (np.full((4, 4, 3), np.nan), "NaN")])
def test_bad_pictures_are_refused_with_a_sentence(bad, words):
    with pytest.raises(ValueError, match=words):
        quality.roughness(bad)
