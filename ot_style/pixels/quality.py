r"""Is my result good? Measures of a stylised picture that do not use VGG (so no loss can game them).

A style transfer should keep the subject's structure, take on the style's palette and texture, and add
no pixel noise; a synthesised texture should be as close to its exemplar as two halves of the exemplar
are to each other. Each measure here looks at pixels only:

- :func:`coarse_ssim`: the structural similarity (SSIM, Wang et al. 2004) of the luminance, both
  pictures shrunk to a coarse scale (long side 64 px), where texture is averaged away and the layout
  of the subject is what is left. 1 for identical pictures.
- :func:`colour_distance`: the sliced Wasserstein-2 distance between the two colour clouds (POT, many
  fixed directions): how far one palette is from the other, whatever the pixels' positions.
- :func:`texture_distance`: a VGG-free texture descriptor, the distributions of multi-scale oriented
  filter responses of the standardised luminance (scale-normalised Gaussian derivatives in four
  directions and a Laplacian of Gaussian, at 1, 2, 4 and 8 px; in the spirit of Portilla and Simoncelli
  2000), compared filter by filter with the exact 1-D W2 between their quantile functions. It is blind
  to a change of brightness or contrast, so a recolouring does not pass for a texture.
- :func:`roughness`: the mean absolute Laplacian of the luminance, which pixel noise inflates.

:func:`assess_transfer` and :func:`assess_texture` combine them into the figures the picture-quality
harness (``benchmarks/quality.py``) reports and the targets of :data:`TARGETS`. NumPy and SciPy only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..maths.emd import sliced_w2
from .images import fit_size, resize

__all__ = ["luminance", "coarse_ssim", "coarse_structure", "colour_distance", "texture_descriptor", "texture_distance",
           "roughness", "TransferQuality", "TextureQuality", "assess_transfer", "assess_texture", "TARGETS",
           "COARSE_SIDE", "FILTER_SCALES"]

#: Long side (px) at which :func:`coarse_ssim` compares structure.
COARSE_SIDE = 64
#: Gaussian scales (px) of the texture descriptor's filters.
FILTER_SCALES = (1.0, 2.0, 4.0, 8.0)
_ORIENTATIONS = (0.0, 0.25 * np.pi, 0.5 * np.pi, 0.75 * np.pi)
_QUANTILES = (np.arange(256) + 0.5) / 256
_MAX_COLOURS = 8_000  # pixels drawn (seeded) for the colour distance: plenty for a 3-D distribution

#: What a picture that works reaches (issue 15): content kept, palette and texture gains, roughness
#: against the rougher of content and style; a texture within this factor of the exemplar's own halves.
TARGETS = {"content_ssim": 0.5, "content_structure": 0.5, "palette_gain": 0.8, "texture_gain": 0.8,
           "roughness_ratio": 1.5, "texture_factor": 1.5}


def _rgb(image, name="image") -> np.ndarray:
    array = np.asarray(image, dtype=np.float64)
    if array.ndim != 3 or array.shape[2] != 3 or min(array.shape[:2]) < 2:
        raise ValueError(f"The {name} must be an RGB image of shape (h, w, 3) with h, w >= 2; got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The {name} contains NaN or infinite values.")
    return array


def luminance(image) -> np.ndarray:
    """Rec. 601 luma ``0.299 R + 0.587 G + 0.114 B`` of an RGB image in [0, 1], shape (h, w)."""
    return _rgb(image) @ np.array([0.299, 0.587, 0.114])


def _coarse_maps(image, reference, side):
    """SSIM's local statistics of the two luminances at a long side of ``side`` px (Gaussian window,
    sigma 1.5 px), with the border the 11-px window overhangs cut off, as skimage does."""
    from scipy.ndimage import gaussian_filter

    size = fit_size(np.shape(image), side)
    x = luminance(resize(np.clip(image, 0, 1), size))
    y = luminance(resize(np.clip(reference, 0, 1), size))
    blur = lambda a: gaussian_filter(a, 1.5, mode="reflect", truncate=3.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    pad = 5 if min(x.shape) > 10 else 0
    crop = (slice(pad, x.shape[0] - pad), slice(pad, x.shape[1] - pad))
    return tuple(a[crop] for a in (mx, my, np.maximum(vx, 0), np.maximum(vy, 0), cxy))


def coarse_ssim(image, reference, *, side: int = COARSE_SIDE) -> float:
    r"""SSIM of the luminance of two pictures shrunk so their long side is ``side`` (structure kept).

    .. math::

        \operatorname{SSIM}(x, y) = \underbrace{\frac{2\mu_x\mu_y + C_1}{\mu_x^2 + \mu_y^2 + C_1}}_{l}
                                    \underbrace{\frac{2\sigma_x\sigma_y + C_2}{\sigma_x^2 + \sigma_y^2 + C_2}}_{c}
                                    \underbrace{\frac{\sigma_{xy} + C_3}{\sigma_x\sigma_y + C_3}}_{s}

    with Gaussian-weighted local statistics (:math:`\sigma = 1.5` px), :math:`C_1 = (0.01)^2`,
    :math:`C_2 = (0.03)^2`, :math:`C_3 = C_2/2` for values in [0, 1], averaged over the picture (Wang
    et al. 2004; equal to ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False, data_range=1)``, which the tests check). ``reference`` is resized to
    ``image``'s aspect first. A style that changes brightness or contrast lowers :math:`l` and
    :math:`c` whatever it does to the layout: :func:`coarse_structure` is :math:`s` alone.
    """
    mx, my, vx, vy, cxy = _coarse_maps(image, reference, side)
    c1, c2 = 0.01**2, 0.03**2
    return float(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def coarse_structure(image, reference, *, side: int = COARSE_SIDE) -> float:
    """SSIM's structure term :math:`s` alone (see :func:`coarse_ssim`): the local correlation of the two
    luminances at the coarse scale, blind to brightness and contrast, which a style may change.
    1 when the subject's layout is kept exactly, about 0 for unrelated pictures."""
    _, _, vx, vy, cxy = _coarse_maps(image, reference, side)
    c3 = 0.5 * 0.03**2
    return float(np.mean((cxy + c3) / (np.sqrt(vx * vy) + c3)))


def colour_distance(image, reference, *, n_projections: int = 64, seed: int = 0) -> float:
    """Sliced W2 between the colour clouds of two pictures (any sizes), on at most 8,000 seeded pixels each."""
    rng = np.random.default_rng(seed)

    def cloud(picture, name):
        pixels = _rgb(picture, name).reshape(-1, 3)
        if pixels.shape[0] > _MAX_COLOURS:
            pixels = pixels[rng.choice(pixels.shape[0], _MAX_COLOURS, replace=False)]
        return pixels

    return sliced_w2(cloud(image, "image"), cloud(reference, "reference"), n_projections=n_projections,
                     seed=seed)


def texture_descriptor(image) -> np.ndarray:
    """The quantile functions (256 levels) of the descriptor's 20 filter responses to the standardised
    luminance (zero mean, unit standard deviation), shape (20, 256)."""
    from scipy.ndimage import gaussian_filter

    y = luminance(image)
    # Relative to the picture's own contrast, so that a recolouring (which also stretches the
    # luminance) is not mistaken for a texture: what is left is how the contrast is spread over
    # scales and orientations, and how sparse it is.
    y = (y - y.mean()) / max(float(y.std()), 1e-6)
    rows = []
    for sigma in FILTER_SCALES:
        dy = sigma * gaussian_filter(y, sigma, order=(1, 0), mode="reflect")
        dx = sigma * gaussian_filter(y, sigma, order=(0, 1), mode="reflect")
        for theta in _ORIENTATIONS:
            rows.append(np.cos(theta) * dx + np.sin(theta) * dy)
        laplacian = sigma**2 * (gaussian_filter(y, sigma, order=(2, 0), mode="reflect")
                                + gaussian_filter(y, sigma, order=(0, 2), mode="reflect"))
        rows.append(laplacian)
    return np.stack([np.quantile(r.ravel(), _QUANTILES) for r in rows])


def texture_distance(image, reference) -> float:
    r"""Root mean square over the filters of the 1-D W2 between the two pictures' filter responses,

    .. math:: D = \Big(\frac{1}{F}\sum_{f=1}^{F} \int_0^1 \big(Q^{x}_f(t) - Q^{y}_f(t)\big)^2\,dt\Big)^{1/2}

    (quantile functions :math:`Q` at 256 levels). 0 for pictures with the same response distributions.
    """
    return float(np.sqrt(np.mean((texture_descriptor(image) - texture_descriptor(reference)) ** 2)))


def roughness(image) -> float:
    """Mean absolute 4-neighbour Laplacian of the luminance (interior pixels): pixel noise inflates it."""
    y = luminance(image)
    lap = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    return float(np.mean(np.abs(lap)))


def _gain(result_distance: float, start_distance: float) -> float:
    # 1: the result reached the style; 0: no closer than the content was; negative: further.
    return 1.0 - result_distance / start_distance if start_distance > 0 else 0.0


@dataclass(frozen=True)
class TransferQuality:
    """The measures of one style transfer (see the module docstring), and whether each meets its target.

    Attributes
    ----------
    content_ssim : float
        :func:`coarse_ssim` of the result against the content (1: the luminance fully kept).
    content_structure : float
        :func:`coarse_structure` of the result against the content (1: the layout fully kept, whatever
        the brightness and contrast).
    palette_gain, texture_gain : float
        ``1 - d(result, style) / d(content, style)`` for :func:`colour_distance` and
        :func:`texture_distance`: 1 when the result has the style's palette (texture), 0 when it is no
        closer than the content was.
    roughness_ratio : float
        :func:`roughness` of the result over that of the rougher of content and style.
    """

    content_ssim: float
    content_structure: float
    palette_gain: float
    texture_gain: float
    roughness_ratio: float

    def passes(self) -> dict:
        """Each measure against :data:`TARGETS`: ``{"content_ssim": True, ...}``."""
        return {"content_ssim": self.content_ssim >= TARGETS["content_ssim"],
                "content_structure": self.content_structure >= TARGETS["content_structure"],
                "palette_gain": self.palette_gain >= TARGETS["palette_gain"],
                "texture_gain": self.texture_gain >= TARGETS["texture_gain"],
                "roughness_ratio": self.roughness_ratio <= TARGETS["roughness_ratio"]}

    def as_dict(self) -> dict:
        return {key: round(float(value), 4) for key, value in asdict(self).items()}


@dataclass(frozen=True)
class TextureQuality:
    """A synthesised texture against its exemplar, each distance over that between the exemplar's halves.

    Attributes
    ----------
    texture_factor, colour_factor, roughness_factor : float
        :func:`texture_distance`, :func:`colour_distance` and the relative roughness difference of the
        result to the exemplar, each divided by the same distance between the exemplar's left and right
        halves (the roughness one floored at 0.05, since two halves can agree by chance). Within
        :data:`TARGETS` ``["texture_factor"]`` of 1, the texture is as close to the exemplar as the
        exemplar is to itself.
    """

    texture_factor: float
    colour_factor: float
    roughness_factor: float

    def passes(self) -> dict:
        limit = TARGETS["texture_factor"]
        return {name: value <= limit for name, value in asdict(self).items()}

    def as_dict(self) -> dict:
        return {key: round(float(value), 4) for key, value in asdict(self).items()}


def _as_used(image, long_side) -> np.ndarray:
    """A picture at the size a run of that long side uses it (shrunk, never enlarged)."""
    image = np.asarray(image, dtype=np.float32)
    return resize(image, fit_size(image.shape, min(long_side, max(image.shape[:2]))))


def assess_transfer(result, content, style) -> TransferQuality:
    """The measures of a style transfer: ``result`` against ``content`` and ``style`` (any sizes).

    The content is resized to the result; the style is used at the size the engine uses it (long side
    the result's, never enlarged), so texture and roughness compare like with like.
    """
    result = _rgb(result, "result").astype(np.float32)
    content = resize(_rgb(content, "content image").astype(np.float32), result.shape[:2])
    style = _as_used(_rgb(style, "style image"), max(result.shape[:2]))
    return TransferQuality(
        content_ssim=coarse_ssim(result, content),
        content_structure=coarse_structure(result, content),
        palette_gain=_gain(colour_distance(result, style), colour_distance(content, style)),
        texture_gain=_gain(texture_distance(result, style), texture_distance(content, style)),
        roughness_ratio=roughness(result) / max(roughness(content), roughness(style), 1e-12))


def _relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(0.5 * (a + b), 1e-12)


def assess_texture(result, exemplar) -> TextureQuality:
    """A synthesised texture against its exemplar (used at the run's size), relative to the exemplar's
    left half against its right half."""
    result = _rgb(result, "result").astype(np.float32)
    exemplar = _as_used(_rgb(exemplar, "exemplar"), max(result.shape[:2]))
    half = exemplar.shape[1] // 2
    left, right = exemplar[:, :half], exemplar[:, half:2 * half]
    own_rough = max(_relative_difference(roughness(left), roughness(right)), 0.05)
    return TextureQuality(
        texture_factor=texture_distance(result, exemplar) / max(texture_distance(left, right), 1e-12),
        colour_factor=colour_distance(result, exemplar) / max(colour_distance(left, right), 1e-12),
        roughness_factor=_relative_difference(roughness(result), roughness(exemplar)) / own_rough)
