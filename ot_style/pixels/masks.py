"""Masks on a picture: resizing a weight map, following it down the network, and a ready-made pair.

Spatial guidance (:mod:`ot_style.losses.guided`) gives each region of the subject its own style. At
every VGG layer a mask is brought to the feature map's size the way the network brings the image there
(:func:`mask_for_layer`: box-resize to the image, then one 2x2 average pool per max pool).
:func:`sky_ground_masks` makes the two masks of notebook 06's example. NumPy and Pillow only.
"""

from __future__ import annotations

import numpy as np

from ..layers import layer_info

__all__ = ["box_resize", "mask_for_layer", "sky_ground_masks"]


def box_resize(mask, size) -> np.ndarray:
    """Resize a weight map to ``size = (h, w)`` by averaging over the pixels each output pixel covers.

    Pillow's BOX filter on a float image: on an exact integer shrink it is block averaging, so a
    0/1 mask becomes the fraction of each block inside the region.

    Returns
    -------
    ndarray, shape (h, w), float64
    """
    from PIL import Image

    m = np.asarray(mask, dtype=np.float64)
    h, w = int(size[0]), int(size[1])
    if m.shape == (h, w):
        return m.copy()
    image = Image.fromarray(m.astype(np.float32), mode="F")
    return np.asarray(image.resize((w, h), Image.Resampling.BOX), dtype=np.float64)


def mask_for_layer(mask, image_size, layer: str, feature_size=None) -> np.ndarray:
    """A mask on an image, brought to the feature map of ``layer`` the way the network shrinks the image.

    Box-resize to ``image_size``, then one 2x2 stride-2 average pool (``VALID``, like the network's
    pools) for each pooling layer before ``layer``. If the result does not have ``feature_size`` (an
    unusual network), it is box-resized to it.

    Parameters
    ----------
    mask : array_like, shape (h0, w0)
    image_size : (int, int)
    layer : str
        A VGG19 layer name.
    feature_size : (int, int), optional

    Returns
    -------
    ndarray, shape (h_l, w_l), float64 in [min(mask), max(mask)]
    """
    m = box_resize(mask, image_size)
    for _ in range(layer_info(layer).pools_before):
        h, w = m.shape[0] // 2, m.shape[1] // 2
        m = m[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))
    if feature_size is not None and m.shape != tuple(feature_size):
        m = box_resize(m, feature_size)
    return m


def sky_ground_masks(shape, horizon: float = 0.45, softness: float = 0.0):
    """Two complementary masks: the top ``horizon`` of the picture (sky) and the rest (ground).

    Parameters
    ----------
    shape : (int, int)
        ``(h, w)`` of the content image.
    horizon : float
        Fraction of the height above the horizon, in (0, 1).
    softness : float
        Width of a linear blend around the horizon as a fraction of the height (0: a hard edge).

    Returns
    -------
    (ndarray (h, w), ndarray (h, w))
        float32 weights in [0, 1] that sum to 1 at every pixel.
    """
    h, w = int(shape[0]), int(shape[1])
    if not 0.0 < horizon < 1.0:
        raise ValueError(f"horizon must be a fraction of the height strictly between 0 and 1; got {horizon!r}.")
    rows = (np.arange(h) + 0.5) / h
    if softness > 0:
        sky = np.clip((horizon + softness / 2 - rows) / softness, 0.0, 1.0)
    else:
        sky = (rows < horizon).astype(np.float64)
    sky = np.repeat(sky[:, None], w, axis=1).astype(np.float32)
    return sky, (1.0 - sky).astype(np.float32)
