"""From an opened picture file to float RGB in [0, 1]: formats, sizes, colour profiles, bit depths.

:func:`ot_style.pixels.images.load_image` opens a file and calls :func:`decode`, which

- refuses more than :data:`MAX_PIXELS` pixels before decoding anything (a 300 KB PNG can hold 89
  megapixels, which Pillow allows, and as float RGB that is 1 GB), and decodes at a reduced size when the
  caller wants a smaller picture (JPEG's ``draft``, an integer ``reduce`` otherwise);
- converts an embedded ICC profile (Adobe RGB, Display P3, CMYK) to sRGB with Pillow's ``ImageCms``;
- maps each pixel format to [0, 1]: 8-bit, 16-bit and 32-bit integers by their range, floats in [0, 1]
  as they are and in [0, 255] scaled, and refuses NaN, infinities and negative or out-of-range values
  with a sentence instead of clipping them silently;
- composites transparency on white and uses the first frame of an animation, saying so (and says
  when a 48-bit colour PNG is read at 8 bits per channel: Pillow keeps 16 bits for grey levels only).

Only the formats in :data:`READ_FORMATS` are opened: no EPS (which runs Ghostscript) or other decoders.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

__all__ = ["READ_FORMATS", "MAX_PIXELS", "ImageConversionWarning", "decode"]

#: Pillow formats the package opens (JPEG includes the multi-picture MPO files many phones write).
READ_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "WEBP", "GIF")
#: The most pixels a picture may have (a 50-megapixel photograph is 8660 x 5770).
MAX_PIXELS = 50_000_000


class ImageConversionWarning(UserWarning):
    """Something was done to a picture on loading that the user should know (e.g. transparency
    composited on white). The command line prints these as one ``note:`` line each."""


def _note(text: str) -> None:
    warnings.warn(text, ImageConversionWarning, stacklevel=4)


def _reduce(im, max_size):
    """Decode at (at least) the size asked for, not at full size, when the picture is much larger."""
    if max_size is None:
        im.load()
        return im
    # Down to twice the size asked for at most: the final Lanczos shrink still has room to antialias.
    factor = max(im.size) // (2 * int(max_size))
    if factor < 2:
        im.load()
        return im
    if im.format in ("JPEG", "MPO"):
        im.draft("RGB", (im.size[0] // factor, im.size[1] // factor))  # DCT scaling: never below the ask
        im.load()
        return im
    im.load()
    return im.reduce(factor)


def _to_srgb(im, name: str):
    """Convert an embedded ICC profile to sRGB (unchanged when there is none or it is sRGB already)."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK", "L", "LA"):
        return im
    from PIL import ImageCms

    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (ImageCms.getProfileDescription(source) or "").strip()
        if "srgb" in description.lower():
            return im
        mode = {"RGBA": "RGBA", "LA": "LA", "L": "L"}.get(im.mode, "RGB")
        if im.mode in ("L", "LA"):
            return im  # a grey profile changes only the tone curve; kept as stored
        converted = ImageCms.profileToProfile(im, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        _note(f"{name}'s colour profile could not be read ({error}); its values were used as sRGB.")
        return im
    _note(f"{name} has a {description or 'non-sRGB'} colour profile; it was converted to sRGB.")
    return converted


def _grey_to_float(values: np.ndarray, name: str, mode: str) -> np.ndarray:
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise ValueError("it contains NaN or infinite pixel values")
    low, high = float(values.min()), float(values.max())
    if mode == "F":
        if low >= 0 and high <= 1:
            return values
        if low >= 0 and high <= 255:
            _note(f"{name} holds floating-point values from 0 to 255; they were divided by 255.")
            return values / 255.0
        raise ValueError(f"its floating-point values run from {low:g} to {high:g}, outside [0, 1] and [0, 255]")
    if low < 0:
        raise ValueError(f"it holds negative pixel values (down to {low:g}), which are not brightnesses")
    if high <= 65535:  # 16-bit data (Pillow reports some 16-bit files as 32-bit "I")
        return values / 65535.0
    if high <= 2**32 - 1:
        _note(f"{name} holds 32-bit integer values; they were divided by 2^32 - 1.")
        return values / (2**32 - 1)
    raise ValueError(f"its pixel values reach {high:g}, beyond 32 bits")


def _pixels_to_float(im, name: str) -> np.ndarray:
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        gray = _grey_to_float(np.asarray(im), name, mode).astype(np.float32)
        return np.repeat(gray[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        mode in ("P", "L", "RGB") and "transparency" in im.info)
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[:, :, 3:4]
        if float(alpha.min()) < 1.0:
            _note(f"{name} has transparent pixels; they were composited on a white background.")
        return rgba[:, :, :3] * alpha + (1.0 - alpha)
    if mode != "RGB":  # L, 1, P, CMYK, YCbCr, LAB, HSV, ...
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / 255.0


def decode(im, name: str, *, max_size: int | None = None) -> np.ndarray:
    """An opened Pillow picture as float32 ``(h, w, 3)`` in [0, 1] (see the module docstring).

    Raises ``ValueError`` with the reason (to be prefixed with the file's name) for a picture with too
    many pixels or values that are not brightnesses.
    """
    from PIL import ImageOps

    width, height = im.size
    if width * height > MAX_PIXELS:
        raise ValueError(f"it has {width}x{height} = {width * height / 1e6:.0f} million pixels, more than the "
                         f"{MAX_PIXELS / 1e6:.0f} million ot-style reads; shrink it first")
    if getattr(im, "n_frames", 1) > 1:
        _note(f"{name} has {im.n_frames} frames; the first one was used.")
    raw = im.tile[0][3] if im.tile and len(im.tile[0]) > 3 else ""
    raw = raw[0] if isinstance(raw, tuple) and raw else raw
    if im.mode in ("RGB", "RGBA") and isinstance(raw, str) and ";16" in raw:
        _note(f"{name} has 16 bits per colour channel; Pillow reads colour pictures at 8 bits, so it "
              "was read at 8 bits (grey-level pictures keep their 16 bits).")
    im = _reduce(im, max_size)
    im = ImageOps.exif_transpose(im)
    im = _to_srgb(im, name)
    return _pixels_to_float(im, name)
