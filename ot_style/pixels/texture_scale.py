r"""How large are a texture's structures? The correlation length of its luminance (NumPy only).

Notebook ``07_what_each_layer_sees.ipynb`` claims that a texture synthesised from a deeper VGG layer
keeps larger structures, because each of that layer's activations sees a larger patch of the picture
(its receptive field, :func:`ot_style.layers.receptive_field`). This module turns "larger structures"
into a number, so the notebook can measure the claim instead of asserting it.

The luminance :math:`Y` of the picture, with its mean :math:`\bar Y` removed, is compared with itself
shifted by a lag :math:`\delta = (\delta_y, \delta_x)`; the normalised autocorrelation

.. math::

    \rho(\delta) = \frac{\frac{1}{|P_\delta|}\sum_{p \in P_\delta} (Y_p - \bar Y)(Y_{p+\delta} - \bar Y)}
                        {\frac{1}{|P|}\sum_{p \in P} (Y_p - \bar Y)^2}

(:math:`P_\delta` the pixels whose shifted partner lies inside the picture: no wrap-around) is 1 at
lag 0 and falls as the lag leaves the typical structure. Averaged over the lags of each length
:math:`r = \lVert\delta\rVert` it gives the radial profile :math:`\bar\rho(r)`, and the **correlation
length** is the first radius where :math:`\bar\rho` falls below :math:`1/e`.

A check with a known answer: white noise blurred by a Gaussian of standard deviation :math:`\sigma`
has :math:`\rho(\delta) = \exp(-\lVert\delta\rVert^2 / 4\sigma^2)`, whose correlation length is
exactly :math:`2\sigma` (``tests/pixels/test_texture_scale.py``). Pixel noise has length below 1 px.

:func:`tile_shuffle` asks the converse question of a picture: cut it into :math:`b \times b` tiles and shuffle
them, which keeps every structure smaller than a tile and breaks every larger one; notebook 07 asks which
VGG layers notice (:func:`ot_style.widgets.compare.shuffle_sensitivity`).
"""

from __future__ import annotations

import numpy as np

from .quality import luminance

__all__ = ["autocorrelation", "radial_autocorrelation", "correlation_length", "tile_shuffle"]


def _plane(image, name: str = "image") -> np.ndarray:
    array = np.asarray(image, dtype=np.float64)
    if array.ndim == 3 and array.shape[2] == 3:
        array = luminance(array)
    if array.ndim != 2 or min(array.shape) < 2:
        raise ValueError(f"The {name} must be an RGB image (h, w, 3) or a grey one (h, w) with h, w >= 2; "
                         f"got shape {np.shape(image)}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The {name} contains NaN or infinite values.")
    return array


def autocorrelation(image) -> np.ndarray:
    r"""Normalised autocorrelation :math:`\rho(\delta)` of the luminance at every lag (no wrap-around).

    Computed with zero-padded FFTs (the linear, not circular, correlation), each lag divided by its
    number of overlapping pixel pairs :math:`|P_\delta|`, then by the variance (lag 0).

    Parameters
    ----------
    image : array_like, shape (h, w, 3) or (h, w)
        RGB in [0, 1] (its Rec. 601 luminance is used) or a grey image.

    Returns
    -------
    ndarray, shape (2h - 1, 2w - 1), float64
        ``rho[h - 1 + dy, w - 1 + dx]`` is :math:`\rho(dy, dx)`; the centre is 1.

    Raises
    ------
    ValueError
        For a constant picture (no variance: nothing to correlate) or a malformed array.
    """
    y = _plane(image)
    y = y - y.mean()
    variance = float(np.mean(y * y))
    if variance <= 1e-12 * max(1.0, float(np.max(np.abs(y))) ** 2):
        raise ValueError("The picture is constant, so it has no structure whose size could be measured.")
    h, w = y.shape
    shape = (2 * h - 1, 2 * w - 1)

    def correlate(a):
        spectrum = np.fft.rfft2(a, s=shape)
        return np.fft.fftshift(np.fft.irfft2(spectrum * np.conj(spectrum), s=shape))

    pairs = np.rint(correlate(np.ones_like(y)))  # |P_delta| = (h - |dy|)(w - |dx|)
    return correlate(y) / pairs / variance


def radial_autocorrelation(image, max_radius: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The autocorrelation averaged over lags of the same length: :math:`\bar\rho(r)`, r = 0, 1, 2, ...

    Each lag :math:`\delta` counts for the radius :math:`\operatorname{round}\lVert\delta\rVert`.

    Parameters
    ----------
    image : array_like, shape (h, w, 3) or (h, w)
    max_radius : int, optional
        Largest radius returned; default ``min(h, w) // 2``, where every lag still overlaps at least
        half of the picture (longer lags average few pixel pairs and are noisy).

    Returns
    -------
    radii : ndarray, shape (R + 1,), int
    profile : ndarray, shape (R + 1,), float64
        ``profile[0] == 1``.
    """
    rho = autocorrelation(image)
    h, w = (rho.shape[0] + 1) // 2, (rho.shape[1] + 1) // 2
    limit = min(h, w) // 2 if max_radius is None else int(max_radius)
    if limit < 1:
        raise ValueError(f"max_radius must be at least 1; got {max_radius!r}.")
    dy, dx = np.meshgrid(np.arange(-(h - 1), h), np.arange(-(w - 1), w), indexing="ij")
    radius = np.rint(np.hypot(dy, dx)).astype(np.int64)
    inside = radius <= limit
    sums = np.bincount(radius[inside], weights=rho[inside], minlength=limit + 1)
    counts = np.bincount(radius[inside], minlength=limit + 1)
    return np.arange(limit + 1), sums / counts


def correlation_length(image, *, level: float = float(np.exp(-1.0)), max_radius: int | None = None) -> float:
    r"""Radius in pixels where the luminance's radial autocorrelation first falls below ``level``.

    .. math:: \ell = \min\{\, r : \bar\rho(r) < 1/e \,\}

    linearly interpolated between the two integer radii around the crossing, so the value moves
    smoothly with the picture. A measure of the size of a texture's structures (notebook
    ``07_what_each_layer_sees.ipynb``): about :math:`2\sigma` for noise blurred by a Gaussian of
    standard deviation :math:`\sigma`, below 1 px for pixel noise.

    Parameters
    ----------
    image : array_like, shape (h, w, 3) or (h, w)
    level : float, default 1/e
        The threshold, between 0 and 1.
    max_radius : int, optional
        Passed to :func:`radial_autocorrelation`.

    Returns
    -------
    float
        The correlation length in pixels; ``inf`` if the profile stays above ``level`` up to
        ``max_radius`` (structures as large as the picture).
    """
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1; got {level!r}.")
    radii, profile = radial_autocorrelation(image, max_radius)
    below = np.flatnonzero(profile < level)
    if below.size == 0:
        return float("inf")
    k = int(below[0])  # k >= 1, since profile[0] == 1
    a, b = profile[k - 1], profile[k]
    return float(radii[k - 1] + (a - level) / (a - b))


def tile_shuffle(image, block: int, *, seed: int = 0) -> np.ndarray:
    """The picture cut into ``block`` x ``block`` tiles, the tiles put back in a random order.

    Every structure inside a tile survives; structures larger than a tile are cut at the seams. ``block=1``
    shuffles single pixels (the colours stay, all structure goes); a block as large as the picture changes
    nothing. A picture whose sides are not multiples of ``block`` is first cropped to the largest ones that
    are (from the top-left corner).

    Parameters
    ----------
    image : array_like, shape (h, w) or (h, w, c)
    block : int
        Side of a tile in pixels, at least 1 and at most ``min(h, w)``.
    seed : int
        Seeds the order of the tiles.

    Returns
    -------
    ndarray, shape (block * (h // block), block * (w // block), ...), the dtype of ``image``
    """
    array = np.asarray(image)
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise ValueError(f"The image must have shape (h, w) or (h, w, c); got {array.shape}.")
    if isinstance(block, bool) or int(block) != block or not 1 <= block <= min(array.shape[:2]):
        raise ValueError(f"block must be a whole number from 1 to {min(array.shape[:2])} (the shorter side); "
                         f"got {block!r}.")
    b = int(block)
    rows, cols = array.shape[0] // b, array.shape[1] // b
    tiles = array[: rows * b, : cols * b].reshape(rows, b, cols, b, *array.shape[2:]).swapaxes(1, 2)
    tiles = tiles.reshape(rows * cols, b, b, *array.shape[2:])
    tiles = tiles[np.random.default_rng(seed).permutation(rows * cols)]
    return tiles.reshape(rows, cols, b, b, *array.shape[2:]).swapaxes(1, 2).reshape(rows * b, cols * b,
                                                                                      *array.shape[2:])
