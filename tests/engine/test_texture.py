"""Texture synthesis (no content image) with every style loss, style mixing, and the CLI texture command.

Random VGG weights (no download) and tiny images: these tests check that the pipeline runs and lowers
its objective, not what the textures look like.
"""

import numpy as np
import pytest

from ot_style import stylize
from ot_style.config import STYLE_LOSSES


def stripes(seed, shape=(32, 32)):
    """A small style exemplar: coloured diagonal stripes with noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    wave = 0.5 + 0.4 * np.sin((xx + yy) * rng.uniform(0.3, 0.8))
    colour = rng.uniform(0.2, 0.9, 3)
    image = wave[..., None] * colour + 0.05 * rng.standard_normal((*shape, 3))
    return np.clip(image, 0, 1).astype(np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("loss", STYLE_LOSSES)
def test_texture_synthesis_with_every_loss_lowers_it_and_may_exceed_the_style_size(loss):
    style = stripes(0)  # 32 x 32
    result = stylize(None, style, loss=loss, weights="random", size=48, scales=(48,), steps=4,
                     optimizer="adam", seed=0)
    assert result.image.shape == (48, 48, 3)  # larger than the style image
    assert result.image.dtype == np.float32 and 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert result.random_weights
    total = result.history["total"]
    assert len(total) >= 4 and np.all(np.isfinite(total))
    assert min(total[1:]) < total[0]


@pytest.mark.slow
def test_texture_from_two_styles_with_weight_one_is_the_first_style_texture():
    # Weight (1, 0): the barycentre target is the first style's Gaussian exactly, and the noise start
    # depends on the first style only, so the run is the single-style run.
    a, b = stripes(1), stripes(2)
    options = dict(loss="w2", weights="random", size=32, scales=(32,), steps=3, optimizer="adam", seed=3)
    mixed = stylize(None, [a, b], style_weights=[1.0, 0.0], **options)
    single = stylize(None, a, **options)
    np.testing.assert_allclose(mixed.image, single.image, atol=1e-5)
    half = stylize(None, [a, b], style_weights=[0.5, 0.5], **options)
    assert np.abs(half.image - single.image).max() > 1e-3


@pytest.mark.slow
def test_texture_mixer_caches_and_matches_stylize():
    from ot_style.config import default_config
    from ot_style.widgets.colour import TextureMixer

    a, b = stripes(1), stripes(2)
    config = default_config().replace(optimizer="adam", scales=(32,))
    mixer = TextureMixer(a, b, weights="random", size=32, steps=3, seed=3, config=config)
    first = mixer.texture(0.0)
    assert mixer.texture(0.0) is first  # cached: the slider coming back costs nothing
    with pytest.raises(ValueError, match="between 0 and 1"):
        mixer.texture(1.5)
    assert first.image.shape == (32, 32, 3)
    assert min(first.history["total"][1:]) < first.history["total"][0]
    # t = 0 is the first style alone: the same run as stylize with that style
    single = stylize(None, a, loss="w2", weights="random", size=32, steps=3, seed=3, config=config)
    np.testing.assert_allclose(first.image, single.image, atol=1e-5)


def test_cli_texture_mixes_two_styles(tmp_path):
    from ot_style.cli import main
    from ot_style.pixels.images import load_image, save_image

    paths = []
    for seed in (4, 5):
        paths.append(tmp_path / f"style{seed}.png")
        save_image(stripes(seed), paths[-1])
    out = tmp_path / "texture.png"
    code = main(["texture", str(paths[0]), str(paths[1]), "--style-weights", "0.3", "0.7", "-o", str(out),
                 "--size", "40", "--scales", "40", "--steps", "3", "--weights", "random",
                 "--layers", "relu1_1", "relu2_1", "relu3_1"])
    assert code == 0
    assert load_image(out).shape == (40, 40, 3)
