"""Pixel-level colour transfer by optimal transport (NumPy only, works fully offline).

An image's colours are a cloud of points in RGB space, one point per pixel. Colour transfer moves the
subject's cloud onto the style's cloud while moving each point as little as possible, which is an
optimal transport problem in three dimensions. Two solutions are taught here:

- :func:`transfer_gaussian`: summarise each cloud by its mean and covariance (a Gaussian) and push the
  subject's pixels through the closed-form Monge map between the two Gaussians. Exact for the first
  two moments, blind to everything else.
- :func:`transfer_sliced`: the iterative distribution transfer of Pitie et al. (2005/2007), which is
  also the core loop of Optimal Textures (Risser et al. 2020): rotate colour space at random, match
  the 1-D histograms along each rotated axis exactly, rotate back, repeat. It matches the whole
  distribution, not only two moments.

A third, :func:`preserve_luminance`, keeps the content's colours instead (Gatys et al. 2016), and
:func:`transfer_to_gaussian` recolours towards given moments (a barycentre of palettes). Explained in
``notebooks/06_colour_texture_and_mixing.ipynb``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..maths.emd import sliced_w2
from ..maths.gaussian import gaussian_monge_map
from ..maths.histogram_matching import random_rotation  # the colour transfer's rotations
from ..maths.moments import feature_moments

__all__ = ["colour_pixels", "colour_moments", "transfer_gaussian", "transfer_sliced",
           "iterate_sliced_transfer", "match_histogram_1d", "random_rotation", "colour_sliced_w2",
           "transfer_to_gaussian", "preserve_luminance", "RGB_TO_YIQ", "DEFAULT_SLICED_ITERATIONS"]

# Pitie et al. report convergence in about 10-20 iterations in 3-D. On smooth test images the sliced
# W2 to the style colours falls by more than 90% within 3-5 iterations, but a palette made of separate
# colour clusters can plateau for ~10 iterations before it drops (tests/test_colour.py), hence 20.
DEFAULT_SLICED_ITERATIONS = 20


def colour_pixels(image, *, name: str = "image") -> np.ndarray:
    """The colours of an image as a point cloud.

    Parameters
    ----------
    image : array_like, shape (h, w, 3) or (n, 3)
        An image (or an already flattened list of colours), any real dtype.
    name : str
        How the error message calls this argument.

    Returns
    -------
    ndarray, shape (h*w, 3), float64
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or array.shape[-1] != 3:
        raise ValueError(f"The {name} must be an RGB image of shape (h, w, 3) or a list of colours "
                         f"of shape (n, 3); got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
        raise ValueError(f"The {name} must hold real numbers; got dtype {array.dtype}.")
    pixels = array.reshape(-1, 3).astype(np.float64)
    if pixels.shape[0] < 2:
        raise ValueError(f"The {name} needs at least 2 pixels to have a colour distribution.")
    if not np.all(np.isfinite(pixels)):
        raise ValueError(f"The {name} contains NaN or infinite values.")
    return pixels


def colour_moments(image):
    """Mean and covariance of an image's colours.

    .. math:: \\mu = \\frac1n \\sum_i x_i, \\qquad
              \\Sigma = \\frac{1}{n-1} \\sum_i (x_i - \\mu)(x_i - \\mu)^\\top

    (the unbiased covariance of eq. 1, as everywhere in the package).

    Parameters
    ----------
    image : array_like, shape (h, w, 3) or (n, 3)

    Returns
    -------
    ot_style.maths.moments.Moments
        ``mean`` shape (3,), ``cov`` shape (3, 3), as :func:`ot_style.maths.moments.feature_moments`.
    """
    return feature_moments(colour_pixels(image))


def _finish(pixels: np.ndarray, like: np.ndarray, clip: bool) -> np.ndarray:
    if clip:
        pixels = np.clip(pixels, 0.0, 1.0)
    return pixels.reshape(like.shape).astype(np.float32)


def transfer_gaussian(content, style, *, clip: bool = False) -> np.ndarray:
    """Give the content the style's colour mean and covariance by the Gaussian Monge map.

    Each pixel colour :math:`x` of the content is moved by the optimal transport map between the
    Gaussians :math:`\\mathcal N(\\mu_c, \\Sigma_c)` and :math:`\\mathcal N(\\mu_s, \\Sigma_s)` of the
    two images' colours:

    .. math:: T(x) = \\mu_s + A (x - \\mu_c), \\qquad
              A = \\Sigma_c^{-1/2} \\big(\\Sigma_c^{1/2} \\Sigma_s \\Sigma_c^{1/2}\\big)^{1/2}
              \\Sigma_c^{-1/2}.

    Since :math:`A \\Sigma_c A = \\Sigma_s`, the result's colour mean and covariance equal the style's
    exactly (up to float32 rounding) whenever the content's colour covariance is invertible. If the
    content's colours lie on a plane or a line (e.g. a grey image) no linear map can create the
    missing spread, and only the directions the content spans are matched.

    Parameters
    ----------
    content : array_like, shape (h, w, 3)
        The image whose colours change (values normally in [0, 1]).
    style : array_like, shape (h2, w2, 3)
        The image whose colour distribution is copied; its size may differ from the content's.
    clip : bool, default False
        Clip the result to [0, 1]. Off by default because the map is affine: a few pixels usually land
        slightly outside [0, 1], and clipping them changes the moments the map just matched. Turn it
        on (or clip yourself) before saving or displaying.

    Returns
    -------
    ndarray, shape (h, w, 3), float32
        The recoloured content, unclipped unless ``clip=True``.

    See Also
    --------
    ot_style.maths.gaussian.gaussian_monge_map : the map itself.
    transfer_sliced : matches the whole colour distribution, not only two moments.
    """
    content_pixels = colour_pixels(content, name="content image")
    style_pixels = colour_pixels(style, name="style image")
    source, target = feature_moments(content_pixels), feature_moments(style_pixels)
    monge = gaussian_monge_map(source.mean, source.cov, target.mean, target.cov)
    return _finish(np.asarray(monge(content_pixels), dtype=np.float64), np.asarray(content), clip)


def match_histogram_1d(values, reference) -> np.ndarray:
    """Move 1-D samples onto the reference distribution: exact 1-D optimal transport.

    In one dimension the optimal map is monotone: the sample of rank :math:`k` out of :math:`n` goes
    to the reference quantile at level :math:`(k + 1/2)/n`,

    .. math:: T(v_{(k)}) = F_{\\mathrm{ref}}^{-1}\\Big(\\frac{k + 1/2}{n}\\Big),

    where the reference quantile function is the piecewise-linear interpolation of its sorted
    samples at levels :math:`(j + 1/2)/m`. With equal counts (:math:`n = m`) this is exactly
    ``sorted(reference)[rank]``; with different counts it interpolates.

    Parameters
    ----------
    values : array_like, shape (n,)
    reference : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (n,), float64
    """
    values = np.asarray(values, dtype=np.float64)
    reference = np.sort(np.asarray(reference, dtype=np.float64))
    n, m = values.shape[0], reference.shape[0]
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.argsort(values, kind="stable")] = np.arange(n)
    levels = (ranks + 0.5) / n
    return np.interp(levels, (np.arange(m) + 0.5) / m, reference)


def iterate_sliced_transfer(content, style, *, seed: int = 0) -> Iterator[np.ndarray]:
    """The iterates of Pitie's iterative distribution transfer, endlessly.

    Each iteration draws a random rotation :math:`R` of colour space, projects both colour clouds on
    its three axes, replaces each content coordinate by the style's quantile of the same rank
    (:func:`match_histogram_1d`), and rotates back:

    .. math:: x \\leftarrow R \\, \\big(T_1(R^\\top x)_1, T_2(R^\\top x)_2, T_3(R^\\top x)_3\\big).

    Parameters
    ----------
    content, style : array_like, shape (h, w, 3) and (h2, w2, 3)
    seed : int
        Seeds the rotations; the same seed gives the same iterates.

    Yields
    ------
    ndarray, shape (h*w, 3), float64
        The content colours after 1, 2, 3, ... iterations (flattened, unclipped).
    """
    pixels = colour_pixels(content, name="content image")
    style_pixels = colour_pixels(style, name="style image")
    rng = np.random.default_rng(seed)
    while True:
        rotation = random_rotation(3, rng)
        projected = pixels @ rotation
        style_projected = style_pixels @ rotation
        for axis in range(3):
            projected[:, axis] = match_histogram_1d(projected[:, axis], style_projected[:, axis])
        pixels = projected @ rotation.T
        yield pixels.copy()


def transfer_sliced(content, style, *, iterations: int = DEFAULT_SLICED_ITERATIONS, seed: int = 0,
                    clip: bool = True) -> np.ndarray:
    """Give the content the style's colour distribution by iterative 1-D histogram matching.

    Pitie et al.'s iterative distribution transfer, the core loop of Optimal Textures (Risser et al.
    2020) applied to pixels instead of VGG features; see :func:`iterate_sliced_transfer` for one
    iteration. Every iteration lowers the sliced Wasserstein distance to the style's colours on
    average; for smooth, one-lump colour distributions a handful of iterations bring it down by more
    than 90%, while a style made of separate colour clusters can need 10-20.

    Parameters
    ----------
    content : array_like, shape (h, w, 3)
    style : array_like, shape (h2, w2, 3)
        Sizes may differ: quantiles are interpolated.
    iterations : int, default 20
        Number of random rotations; 0 returns the content unchanged. Each costs six sorts of the
        pixel list, so time grows like :math:`n \\log n` in the pixel count.
    seed : int, default 0
        Seeds the rotations (same seed, same result).
    clip : bool, default True
        Clip to [0, 1]. Every value is a convex combination of style values along each rotated axis,
        but rotating back can step slightly outside the RGB cube; clipping moves only those pixels.

    Returns
    -------
    ndarray, shape (h, w, 3), float32

    See Also
    --------
    transfer_gaussian : the closed-form transfer of the first two moments.
    colour_sliced_w2 : the sliced W2 that this iteration drives down.
    """
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValueError(f"iterations must be a whole number >= 0; got {iterations!r}.")
    content_array = np.asarray(content)
    pixels = colour_pixels(content_array, name="content image")
    steps = iterate_sliced_transfer(content_array, style, seed=seed)
    for _ in range(int(iterations)):
        pixels = next(steps)
    return _finish(pixels, content_array, clip)


def colour_sliced_w2(image, style, *, n_projections: int = 200, seed: int = 0) -> float:
    """Sliced Wasserstein-2 distance between two images' colour clouds (POT, via
    :func:`ot_style.maths.emd.sliced_w2`), the yardstick for :func:`transfer_sliced`.

    .. math:: SW_2(\\mu, \\nu) = \\Big(\\mathbb E_{\\theta \\sim S^2}\\,
              W_2^2(\\theta_\\# \\mu, \\theta_\\# \\nu)\\Big)^{1/2}

    Parameters
    ----------
    image, style : array_like, shape (h, w, 3) / (n, 3)
    n_projections : int
        Directions drawn (Monte Carlo estimate of the expectation).
    seed : int
        Seeds the directions, so that two calls compare like with like.

    Returns
    -------
    float
    """
    return float(sliced_w2(colour_pixels(image), colour_pixels(style, name="style image"),
                           n_projections=n_projections, seed=seed))


def transfer_to_gaussian(content, mean, cov) -> np.ndarray:
    """Recolour ``content`` so that its colour mean and covariance become ``mean`` and ``cov``.

    The Gaussian Monge map of :func:`transfer_gaussian`, towards given moments (e.g. a barycentre of
    palettes, notebook 06) instead of an image's. Unclipped float32 (h, w, 3).
    """
    pixels = colour_pixels(content, name="content image")
    source = feature_moments(pixels)
    monge = gaussian_monge_map(source.mean, source.cov, mean, cov)
    return monge(pixels).reshape(np.shape(content)).astype(np.float32)


#: RGB -> YIQ (NTSC 1953), the luminance/chroma split of Gatys et al. 2016, "Preserving colour".
RGB_TO_YIQ = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)


def preserve_luminance(result, content) -> np.ndarray:
    """Keep the content's colours: the result's luminance with the content's chroma.

    The luminance-only transfer of Gatys, Bethge, Hertzmann and Shechtman (2016, "Preserving colour in
    neural artistic style transfer"), applied as a post-processing step in YIQ:

    .. math:: (Y, I, Q)_{out} = (Y_{result}, I_{content}, Q_{content})

    Departure from the paper: they also optimise on luminance images only, with the style's luminance
    matched to the content's; here the optimisation stays in RGB and only the chroma is swapped, which
    keeps the content's hues exactly at no cost.

    Parameters
    ----------
    result, content : ndarray, shape (h, w, 3), float in [0, 1]

    Returns
    -------
    ndarray, shape (h, w, 3), float32, clipped to [0, 1]
    """
    out = np.asarray(result, np.float64) @ RGB_TO_YIQ.T
    out[..., 1:] = (np.asarray(content, np.float64) @ RGB_TO_YIQ.T)[..., 1:]
    return np.clip(out @ _YIQ_TO_RGB.T, 0.0, 1.0).astype(np.float32)
