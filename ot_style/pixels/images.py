"""Reading and writing pictures: what people actually have in, a clean float RGB array out.

:func:`load_image` turns any picture Pillow can read (JPEG, 8- and 16-bit PNG, grayscale, palette,
RGBA, CMYK, EXIF-rotated phone photos) into a ``float32`` array of shape ``(h, w, 3)`` in ``[0, 1]``
and refuses, with one sentence naming the file, what cannot be a picture: a missing file, a folder, an
empty or truncated file, a non-image, a picture too small for the VGG layers asked for, and a
decompression bomb. :func:`read_image` is the one door for every caller that takes "an image": an
array, a path or a bundled picture's name (:mod:`ot_style.pixels.assets`).

There is one of each helper, used by the whole package: :func:`fit_size` (the size with a given long
side), :func:`resize` (Lanczos, in float), :func:`atomic_write` (a temporary file in the same folder,
then ``os.replace``: figures and pictures alike), :func:`save_image` on top of it, and
:func:`check_writable`, which refuses an unusable destination *before* a long run starts. Notebook 04
(``04_style_transfer_playground``) and the ``ot-style`` command line use this module.
"""

from __future__ import annotations

import os
import struct
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .decode import READ_FORMATS, ImageConversionWarning, decode

__all__ = ["load_image", "read_image", "picture_path", "save_image", "atomic_write", "check_writable",
           "can_encode", "fit_size", "resize", "to_uint8", "ImageConversionWarning", "SAVE_FORMATS"]

# Extension -> Pillow format name for the files :func:`save_image` writes.
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF",
                ".bmp": "BMP", ".webp": "WEBP"}


# What Pillow's decoders raise on damaged data: OSError ("image file is truncated") and SyntaxError
# (bad headers) by design, and the others from parsers reading past a cut block (a GIF's block size
# byte, a TIFF tag's offset), a header without dimensions, or a zero field divided by. The others
# count as damage only when Pillow raised them; from ot-style's own code they are bugs and propagate.
_DAMAGED = (OSError, SyntaxError)
_PARSER_SLIPS = (EOFError, IndexError, KeyError, TypeError, ZeroDivisionError, struct.error)


def _raised_by_pillow(error: BaseException) -> bool:
    import PIL

    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    return frame is not None and Path(frame.tb_frame.f_code.co_filename).is_relative_to(Path(PIL.__file__).parent)


def _refuse(path: Path, reason: str) -> ValueError:
    return ValueError(f"Cannot use {str(path)!r} as an image: {reason}.")


def fit_size(shape, long_side: int) -> tuple[int, int]:
    """``(h, w)`` with the aspect of ``shape`` (``(h, w, ...)``) and the long side ``long_side``."""
    h, w = shape[:2]
    factor = long_side / max(h, w)
    return max(1, round(h * factor)), max(1, round(w * factor))


def resize(image, size) -> np.ndarray:
    """Lanczos resize of a float image ``(h, w, c)`` to ``size = (height, width)``, clipped to [0, 1].

    Per channel in 32-bit float (Pillow's ``"F"`` mode), so 16-bit inputs keep their precision; the
    same filter shrinks (antialiased) and enlarges. The one resize of the package: the loader, the
    engine's scales and the widgets all use it.
    """
    from PIL import Image

    image = np.asarray(image, dtype=np.float32)
    new_h, new_w = int(size[0]), int(size[1])
    if image.shape[:2] == (new_h, new_w):
        return image.copy()
    channels = [np.asarray(Image.fromarray(np.ascontiguousarray(image[:, :, c]))
                           .resize((new_w, new_h), Image.Resampling.LANCZOS))
                for c in range(image.shape[2])]
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0).astype(np.float32)


def load_image(path, *, max_size: int | None = None, min_size: int | None = None) -> np.ndarray:
    """Read a picture as float32 RGB in ``[0, 1]``.

    Accepts PNG, JPEG, TIFF, BMP, WebP and GIF (:data:`ot_style.pixels.decode.READ_FORMATS`) in 8, 16
    and 32 bits, floating point, grayscale, palette and CMYK; applies the EXIF orientation (phone
    photos) and converts an embedded colour profile to sRGB; composites transparency on white and uses
    an animation's first frame, and says so with an :class:`ImageConversionWarning`. A picture larger
    than ``max_size`` is decoded at a reduced size before it is resized (see
    :mod:`ot_style.pixels.decode`).

    Parameters
    ----------
    path : str or os.PathLike
        The picture file.
    max_size : int, optional
        If given and the long side is larger, shrink (Lanczos) so the long side is ``max_size``.
        Smaller pictures are never enlarged here.
    min_size : int, optional
        Refuse a picture whose short side (after ``max_size``) is below this, e.g.
        ``ot_style.layers.min_image_side(layers)``.

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
    from PIL import Image, UnidentifiedImageError

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
            with Image.open(path, formats=READ_FORMATS) as im:
                image = decode(im, path.name, max_size=max_size)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(path, f"it has more pixels than Pillow's safety limit of "
                            f"{Image.MAX_IMAGE_PIXELS} (a possible decompression bomb)") from None
    except UnidentifiedImageError:
        raise _refuse(path, "it is not a picture in a format ot-style reads (PNG, JPEG, TIFF, BMP, WebP, "
                            "GIF)") from None
    except ValueError as error:  # decode's reason: too many pixels, values that are not brightnesses
        raise _refuse(path, str(error)) from None
    except _DAMAGED as error:  # truncated or corrupt data ("image file is truncated")
        raise _refuse(path, f"the file is truncated or damaged ({error})") from None
    except _PARSER_SLIPS as error:  # a cut GIF block, a TIFF without dimensions
        if not _raised_by_pillow(error):
            raise
        raise _refuse(path, f"the file is truncated or damaged ({type(error).__name__}: {error})") from None
    if max_size is not None and max(image.shape[:2]) > max_size:
        image = resize(image, fit_size(image.shape, int(max_size)))
    if min_size is not None and min(image.shape[:2]) < min_size:
        h, w = image.shape[:2]
        raise _refuse(path, f"it is {w}x{h} pixels but the chosen VGG layers need at least "
                            f"{min_size} pixels on each side")
    return image


def picture_path(source) -> Path:
    """The file a picture argument names: ``source`` itself if it exists, else the bundled picture of that
    name (``"swirls.png"``, see :func:`ot_style.pixels.assets.list_assets`), else ``source`` unchanged
    (so that reading it says the file does not exist). A file of the user's always wins over a bundled
    picture of the same name."""
    path = Path(source)
    if not path.exists() and isinstance(source, str) and os.sep not in source:
        from .assets import ASSETS, asset_path

        if source in {asset.name for asset in ASSETS}:
            return asset_path(source)
    return path


def read_image(source, *, max_size: int | None = None, what: str = "image") -> np.ndarray:
    """An image from an array, a file path or a bundled picture's name, as float32 ``(h, w, 3)`` in [0, 1].

    Parameters
    ----------
    source : ndarray (h, w, 3) of uint8 or floats in [0, 1], str or os.PathLike
        A path that exists is read with :func:`load_image`; otherwise a name from
        :func:`ot_style.pixels.assets.list_assets` (e.g. ``"swirls.png"``).
    max_size : int, optional
        Shrink (Lanczos) so the long side is at most this; smaller images are never enlarged.
    what : str
        How error messages name the argument ("content image", "style image 2", ...).

    Returns
    -------
    ndarray of float32, shape (h, w, 3)
        A new array (never a view of ``source``).
    """
    if isinstance(source, (str, os.PathLike)):
        path = picture_path(source)
        if not path.exists() and isinstance(source, str) and os.sep not in source:
            from .assets import ASSETS

            raise FileNotFoundError(f"There is no image file or bundled picture called {source!r}; the "
                                    f"bundled pictures are: {', '.join(a.name for a in ASSETS)}.")
        return load_image(path, max_size=max_size)
    array = np.asarray(source)
    if array.dtype == np.uint8:
        array = array.astype(np.float32) / 255.0
    if array.ndim != 3 or array.shape[2] != 3 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"The {what} must be an RGB array of shape (height, width, 3); got shape "
                         f"{array.shape}.")
    array = np.array(array, dtype=np.float32)
    if not np.all(np.isfinite(array)) or array.min() < -1e-6 or array.max() > 1 + 1e-6:
        raise ValueError(f"The {what} must have finite values in [0, 1] (or be uint8).")
    array = np.clip(array, 0.0, 1.0)
    if max_size is not None and max(array.shape[:2]) > int(max_size):
        array = resize(array, fit_size(array.shape, int(max_size)))
    return array


def check_writable(path, *, inputs=()) -> Path:
    """Refuse a destination :func:`save_image` could not write, before any work is done.

    Checks that the extension is one of :data:`SAVE_FORMATS` and that this Pillow can encode it (a
    Pillow built without WebP refuses ``.webp`` here, not after the run), that ``path`` is not a folder
    and not one of the ``inputs`` (the same file under any name: links included), and that its folder
    exists and accepts a new file (by creating and removing a probe file, which is the only test that
    also holds on read-only mounts and for the superuser).

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
    if not can_encode(SAVE_FORMATS[path.suffix.lower()]):
        raise ValueError(f"Cannot write {str(path)!r}: this Pillow cannot encode {path.suffix} files; use .png.")
    for source in inputs:
        if path.exists() and Path(source).exists() and os.path.samefile(path, source):
            raise ValueError(f"Cannot write {str(path)!r}: it is the input picture {str(source)!r}, which "
                             "would be lost; choose another output name.")
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


def can_encode(fmt: str) -> bool:
    """Whether this Pillow can write ``fmt`` (a name from :data:`SAVE_FORMATS`' values)."""
    from PIL import Image, features

    Image.init()
    needs = {"WEBP": "webp", "JPEG": "jpg", "PNG": "zlib"}
    library = needs.get(fmt)
    if library is not None:
        available = features.check_module(library) if library == "webp" else features.check_codec(library)
        if not available:
            return False
    return fmt in Image.SAVE


def to_uint8(image) -> np.ndarray:
    """A float image in [0, 1] as 8-bit pixels (rounded; clipped), refusing NaN and odd shapes.

    An 8-bit array (``uint8``, what Pillow and scikit-image give) is taken as pixels 0-255, as
    :func:`read_image` takes it: clipped to [0, 1] as floats, it would be written white."""
    if np.asarray(image).dtype == np.uint8:
        image = np.asarray(image, dtype=np.float32) / 255.0
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


def atomic_write(path, write) -> Path:
    """Write a file all at once: ``write(handle)`` fills a temporary file in the same folder, which then
    replaces ``path`` (``os.replace``).

    A failure or an interrupt (``KeyboardInterrupt``) while writing leaves neither a half-written
    destination nor the temporary file; an existing destination is replaced only once the new file
    is complete. The one atomic writer of the package (pictures, figures).

    Parameters
    ----------
    path : str or os.PathLike
    write : callable(binary file handle)

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
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


def _srgb_profile() -> bytes:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def save_image(image, path) -> Path:
    """Write a float image in ``[0, 1]`` atomically (:func:`atomic_write`).

    Parameters
    ----------
    image : array_like, shape (h, w, 3), (h, w) or (1, h, w, 3)
        Floats are clipped to ``[0, 1]`` and rounded to 8 bits; ``uint8`` pixels are written as they are.
    path : str or os.PathLike
        Destination; the format follows the extension (:data:`SAVE_FORMATS`).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from PIL import Image

    path = check_writable(path)
    pixels = to_uint8(image)
    fmt = SAVE_FORMATS[path.suffix.lower()]
    if fmt == "JPEG" and pixels.ndim == 3 and pixels.shape[2] == 4:
        pixels = pixels[:, :, :3]
    # Pillow's JPEG default (quality 75) visibly blurs fine brush strokes; 95 keeps them. The pixels are
    # sRGB (the loader converts every profile to it), and the file says so.
    options = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    if fmt in ("PNG", "JPEG", "TIFF", "WEBP"):
        options["icc_profile"] = _srgb_profile()
    return atomic_write(path, lambda handle: Image.fromarray(pixels).save(handle, format=fmt, **options))
