"""Reading and writing pictures: what people actually have in, a clean float RGB array out.

:func:`load_image` turns any picture Pillow can read (JPEG, 8- and 16-bit PNG, grayscale, palette,
RGBA, CMYK, EXIF-rotated phone photos) into a ``float32`` array of shape ``(h, w, 3)`` in ``[0, 1]``
and refuses, with one sentence naming the file, what cannot be a picture: a missing file, a folder, an
empty or truncated file, a non-image, a picture too small for the VGG layers asked for, and a
decompression bomb. :func:`save_image` writes atomically (a temporary file in the same folder, then
``os.replace``), and :func:`check_writable` refuses an unusable destination *before* a long run starts.

The bundled pictures (``ot_style/assets/``, provenance in ``assets/README.md``) are found with
:func:`asset_path` and listed with :func:`list_assets`; they ship inside the package, so an installed
copy finds them too. Notebook 04 (``04_style_transfer_playground``) and the ``ot-style`` command line
use this module.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

__all__ = ["load_image", "save_image", "check_writable", "min_size_for_layers", "asset_path",
           "list_assets", "Asset", "ASSETS", "ImageConversionWarning", "SAVE_FORMATS"]

# Extension -> Pillow format name for the files :func:`save_image` writes.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                ".bmp": "BMP", ".webp": "WEBP"}


class ImageConversionWarning(UserWarning):
    """Something was done to a picture on loading that the user should know (e.g. transparency
    composited on white). The command line prints these as one ``note:`` line each."""


def _refuse(path: Path, reason: str) -> ValueError:
    return ValueError(f"Cannot use {str(path)!r} as an image: {reason}.")


def min_size_for_layers(layers) -> int:
    """Smallest image side (pixels) that still gives a 1x1 activation at the deepest of ``layers``.

    Each 2x2 pooling with ``VALID`` padding halves the size (rounding down), so a layer behind
    ``p`` poolings needs

    .. math:: s_{\\min} = 2^{p}.

    Parameters
    ----------
    layers : str or sequence of str
        VGG19 layer names (see :data:`ot_style.layer_table.VGG19_LAYERS`).

    Returns
    -------
    int
    """
    from .layer_table import check_layers, layer_info

    return 2 ** max(layer_info(name).pools_before for name in check_layers(layers))


def _pixels_to_float(im, name: str) -> np.ndarray:
    """A loaded Pillow image of any mode -> float32 (h, w, 3) in [0, 1] (transparency on white)."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grayscale (PNG, TIFF). Pillow reports some 16-bit files as 32-bit "I"; both hold
        # values in [0, 65535].
        gray = np.asarray(im, dtype=np.float64).astype(np.float32)
        gray = np.clip(gray / 65535.0, 0.0, 1.0)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":  # float TIFF: taken as already in [0, 1]
        gray = np.clip(np.asarray(im, dtype=np.float32), 0.0, 1.0)
        return np.repeat(gray[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        mode in ("P", "L", "RGB") and "transparency" in im.info)
    if has_alpha:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255.0
        alpha = rgba[:, :, 3:4]
        if float(alpha.min()) < 1.0:
            warnings.warn(
                f"{name} has transparent pixels; "
                "they were composited on a white background.",
                ImageConversionWarning, stacklevel=3)
        return rgba[:, :, :3] * alpha + (1.0 - alpha)
    if mode != "RGB":  # L, 1, P, CMYK, YCbCr, LAB, HSV, ...
        im = im.convert("RGB")
    return np.asarray(im, dtype=np.float32) / 255.0


def _resize_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Lanczos resize of a float (h, w, 3) image so that its long side is ``long_side``."""
    from PIL import Image

    h, w = image.shape[:2]
    scale = long_side / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    # Per channel in 32-bit float ("F" mode) so 16-bit inputs keep their precision.
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c], dtype=np.float32))
                           .resize((new_w, new_h), Image.Resampling.LANCZOS))
                for c in range(image.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


def load_image(path, *, max_size: int | None = None, min_size: int | None = None) -> np.ndarray:
    """Read a picture as float32 RGB in ``[0, 1]``.

    Accepts JPEG, PNG (8- and 16-bit), grayscale, palette, CMYK and anything else Pillow reads;
    applies the EXIF orientation (phone photos); composites transparency on white and says so with
    an :class:`ImageConversionWarning`.

    Parameters
    ----------
    path : str or os.PathLike
        The picture file.
    max_size : int, optional
        If given and the long side is larger, shrink (Lanczos) so the long side is ``max_size``.
        Smaller pictures are never enlarged here.
    min_size : int, optional
        Refuse a picture whose short side (after ``max_size``) is below this, e.g.
        ``min_size_for_layers(layers)``.

    Returns
    -------
    image : ndarray of float32, shape (h, w, 3)
        Values in ``[0, 1]``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    ValueError
        A folder, an empty, truncated or non-image file, a decompression bomb, or a picture smaller
        than ``min_size``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Image file {str(path)!r} does not exist.")
    if path.is_dir():
        raise _refuse(path, "it is a folder, not a file")
    if path.stat().st_size == 0:
        raise _refuse(path, "the file is empty")
    if max_size is not None and int(max_size) < 1:
        raise ValueError(f"max_size must be a positive number of pixels, got {max_size!r}.")
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; both mean "a picture
            # this large would exhaust memory", so both become the same clear error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                im = ImageOps.exif_transpose(im)
                image = _pixels_to_float(im, path.name)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(path, f"it has more pixels than Pillow's safety limit of "
                            f"{Image.MAX_IMAGE_PIXELS} (a possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise _refuse(path, "it is not a picture Pillow can read (JPEG, PNG, TIFF, ...)") from None
    except (OSError, SyntaxError) as error:  # truncated or corrupt data ("image file is truncated")
        raise _refuse(path, f"the file is truncated or damaged ({error})") from None
    if max_size is not None and max(image.shape[:2]) > max_size:
        image = _resize_long_side(image, int(max_size))
    if min_size is not None and min(image.shape[:2]) < min_size:
        h, w = image.shape[:2]
        raise _refuse(path, f"it is {w}x{h} pixels but the chosen VGG layers need at least "
                            f"{min_size} pixels on each side")
    return image


def check_writable(path) -> Path:
    """Refuse a destination :func:`save_image` could not write, before any work is done.

    Checks that the extension is one of :data:`SAVE_FORMATS`, that ``path`` is not a folder, and
    that its folder exists and accepts a new file (by creating and removing a probe file, which is
    the only test that also holds on read-only mounts and for the superuser).

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    ValueError
        With one sentence naming the problem.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"Cannot write to {str(path)!r}: it is a folder; give a file name such as "
                         f"{str(path / 'result.png')!r}.")
    if path.suffix.lower() not in SAVE_FORMATS:
        raise ValueError(f"Cannot write {str(path)!r}: unsupported extension {path.suffix!r}; use one "
                         f"of {', '.join(sorted(SAVE_FORMATS))}.")
    folder = path.parent
    if not folder.exists():
        raise ValueError(f"Cannot write {str(path)!r}: the folder {str(folder)!r} does not exist.")
    if not folder.is_dir():
        raise ValueError(f"Cannot write {str(path)!r}: {str(folder)!r} is not a folder.")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".probe")
    except OSError as error:
        raise ValueError(f"Cannot write {str(path)!r}: the folder {str(folder)!r} does not accept new "
                         f"files ({error.strerror or error}).") from None
    os.close(fd)
    os.unlink(probe)
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"Cannot write {str(path)!r}: the existing file is read-only.")
    return path


def _to_uint8(image) -> np.ndarray:
    array = np.asarray(image, dtype=np.float32)
    if array.ndim == 4 and array.shape[0] == 1:  # a batch of one, as TensorFlow returns it
        array = array[0]
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"An image must have shape (h, w), (h, w, 3) or (h, w, 4); got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("The image contains NaN or infinite values; nothing was written.")
    return np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(image, path) -> Path:
    """Write a float image in ``[0, 1]`` atomically (temporary file in the same folder, then rename).

    A failure or an interrupt (``KeyboardInterrupt``) while writing leaves neither a half-written
    destination nor the temporary file; an existing destination is replaced only once the new file
    is complete.

    Parameters
    ----------
    image : array_like, shape (h, w, 3), (h, w) or (1, h, w, 3)
        Values are clipped to ``[0, 1]`` and rounded to 8 bits.
    path : str or os.PathLike
        Destination; the format follows the extension (:data:`SAVE_FORMATS`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from PIL import Image

    path = check_writable(path)
    pixels = _to_uint8(image)
    fmt = SAVE_FORMATS[path.suffix.lower()]
    if fmt == "JPEG" and pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            # Pillow's JPEG default (quality 75) visibly blurs fine brush strokes; 95 keeps them.
            options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
            Image.fromarray(pixels).save(handle, format=fmt, **options)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file readable by its owner only; give it the usual permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_name, 0o666 & ~umask)
        os.replace(tmp_name, path)
    except BaseException:
        # Also on KeyboardInterrupt: never leave the temporary file behind.
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    return path


# --- bundled pictures -------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """A bundled picture: file name, role (``"content"`` or ``"style"``), what it shows, licence."""

    name: str
    role: str
    description: str
    licence: str


# One line per picture; assets/README.md gives the full provenance, assets/make_assets.py makes them.
ASSETS = (
    Asset("grace_hopper.jpg", "content",
          "Commodore Grace M. Hopper, official U.S. Navy portrait (1984), as shipped by matplotlib",
          "public domain (work of the U.S. federal government)"),
    Asset("houses.png", "content", "generated street of houses under a sky (no photograph)",
          "CC0 1.0 (generated by assets/make_assets.py)"),
    Asset("swirls.png", "style", "generated brush-stroke swirls",
          "CC0 1.0 (generated by assets/make_assets.py)"),
    Asset("mosaic.png", "style", "generated Voronoi tile mosaic with grout lines",
          "CC0 1.0 (generated by assets/make_assets.py)"),
    Asset("glyph_rain.png", "style", "generated falling-glyph 'rain' on a dark background",
          "CC0 1.0 (generated by assets/make_assets.py)"),
)
_ASSETS_BY_NAME = {asset.name: asset for asset in ASSETS}


def list_assets(role: str | None = None) -> tuple[Asset, ...]:
    """The bundled pictures, optionally only those of one ``role`` (``"content"`` or ``"style"``)."""
    if role not in (None, "content", "style"):
        raise ValueError(f"role must be 'content', 'style' or None, got {role!r}.")
    return tuple(asset for asset in ASSETS if role is None or asset.role == role)


def asset_path(name: str) -> Path:
    """Path of a bundled picture, e.g. ``asset_path("swirls.png")``.

    The pictures are package data (``ot_style/assets/``), so this works from a source checkout, an
    editable install and a normal (wheel) install alike.
    """
    if name not in _ASSETS_BY_NAME:
        raise ValueError(f"Unknown bundled image {name!r}; available: {', '.join(_ASSETS_BY_NAME)}.")
    path = Path(str(resources.files("ot_style") / "assets" / name))
    if not path.is_file():
        raise FileNotFoundError(f"The bundled image {name!r} is missing from {str(path.parent)!r}; "
                                "run `python assets/make_assets.py` in a source checkout.")
    return path
