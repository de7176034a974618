"""ot_style.pixels.images: every odd format people have loads to the right shape and values; every refused
input gives one clear sentence; saving is atomic and leaves no temporary file behind."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from ot_style.pixels import images
from ot_style.layers import min_image_side
from ot_style.pixels.images import ImageConversionWarning, check_writable, load_image, save_image

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (20, 30, 3), dtype=np.uint8)


def _no_temporaries(folder) -> bool:
    return not [name for name in os.listdir(folder) if name.startswith(".")]


# --- accepted formats ---------------------------------------------------------------------------

def test_png_8bit_exact(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png")
    assert image.dtype == np.float32 and image.shape == (20, 30, 3)
    np.testing.assert_allclose(image, RGB / 255.0, atol=1e-7)


def test_grayscale_16bit_png_keeps_precision(tmp_path):
    gray = (np.arange(20 * 30).reshape(20, 30) * 101).astype(np.uint16)
    Image.fromarray(gray).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    image = load_image(tmp_path / "g16.png")
    assert image.shape == (20, 30, 3)
    for c in range(3):  # 16-bit steps (1/65535) survive, not rounded to 8 bits
        np.testing.assert_allclose(image[:, :, c], gray / 65535.0, atol=1e-6)


def _png_rgb16(array: np.ndarray) -> bytes:
    """A 48-bit RGB PNG written by hand (Pillow cannot write them)."""
    h, w, _ = array.shape
    raw = b"".join(b"\x00" + array[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def test_rgb_16bit_png(tmp_path):
    array = RNG.integers(0, 65536, (12, 9, 3)).astype(np.uint16)
    (tmp_path / "rgb16.png").write_bytes(_png_rgb16(array))
    image = load_image(tmp_path / "rgb16.png")
    assert image.shape == (12, 9, 3)
    # Pillow reduces 48-bit RGB to 8 bits per channel: within half an 8-bit step
    np.testing.assert_allclose(image, array / 65535.0, atol=1 / 255 + 1e-6)


def test_grayscale_and_bilevel(tmp_path):
    gray = RGB[:, :, 0]
    Image.fromarray(gray).save(tmp_path / "l.png")
    image = load_image(tmp_path / "l.png")
    assert image.shape == (20, 30, 3)
    np.testing.assert_allclose(image, np.repeat(gray[:, :, None], 3, 2) / 255.0, atol=1e-7)
    Image.fromarray(gray > 128).save(tmp_path / "bw.png")
    image = load_image(tmp_path / "bw.png")
    np.testing.assert_array_equal(image[:, :, 1], (gray > 128).astype(np.float32))


def test_palette(tmp_path):
    palette_image = Image.fromarray(RGB).quantize(8)
    palette_image.save(tmp_path / "p.png")
    image = load_image(tmp_path / "p.png")
    expected = np.asarray(palette_image.convert("RGB")) / 255.0
    np.testing.assert_allclose(image, expected, atol=1e-7)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) <= 8


def test_rgba_composited_on_white_with_a_warning(tmp_path):
    alpha = np.zeros((20, 30), np.uint8)
    alpha[:, 15:] = 255
    alpha[:5, :5] = 128
    Image.fromarray(np.dstack([RGB, alpha])).save(tmp_path / "rgba.png")
    with pytest.warns(ImageConversionWarning, match="rgba.png has transparent pixels.*white"):
        image = load_image(tmp_path / "rgba.png")
    np.testing.assert_allclose(image[:, 15:], RGB[:, 15:] / 255.0, atol=1e-6)
    np.testing.assert_allclose(image[10:, :15], 1.0)  # fully transparent -> white
    a = 128 / 255.0
    np.testing.assert_allclose(image[:5, :5], RGB[:5, :5] / 255.0 * a + (1 - a), atol=1e-6)


def test_opaque_rgba_gives_no_warning(tmp_path):
    Image.fromarray(np.dstack([RGB, np.full((20, 30), 255, np.uint8)])).save(tmp_path / "o.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load_image(tmp_path / "o.png")
    np.testing.assert_allclose(image, RGB / 255.0, atol=1e-7)


def test_la_and_palette_transparency(tmp_path):
    gray = RGB[:, :, 1]
    alpha = np.where(np.arange(30) < 10, 0, 255).astype(np.uint8)[None, :].repeat(20, 0)
    Image.fromarray(np.dstack([gray, alpha]), mode="LA").save(tmp_path / "la.png")
    with pytest.warns(ImageConversionWarning):
        image = load_image(tmp_path / "la.png")
    np.testing.assert_allclose(image[:, :10], 1.0)
    np.testing.assert_allclose(image[:, 10:, 0], gray[:, 10:] / 255.0, atol=1e-7)

    palette_image = Image.fromarray(RGB).quantize(4)
    transparent_index = int(np.asarray(palette_image)[0, 0])
    palette_image.save(tmp_path / "pt.png", transparency=transparent_index)
    with pytest.warns(ImageConversionWarning):
        image = load_image(tmp_path / "pt.png")
    mask = np.asarray(palette_image) == transparent_index
    np.testing.assert_allclose(image[mask], 1.0)


def test_cmyk_jpeg(tmp_path):
    flat = np.zeros((16, 24, 3), np.uint8)
    flat[:, :12] = [200, 40, 40]
    flat[:, 12:] = [30, 90, 220]
    Image.fromarray(flat).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    assert Image.open(tmp_path / "cmyk.jpg").mode == "CMYK"
    image = load_image(tmp_path / "cmyk.jpg")
    assert image.shape == (16, 24, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image[4:12, 2:8].mean((0, 1)), [200 / 255, 40 / 255, 40 / 255], atol=0.05)
    np.testing.assert_allclose(image[4:12, 16:22].mean((0, 1)), [30 / 255, 90 / 255, 220 / 255],
                               atol=0.05)


def test_exif_rotation_changes_the_shape(tmp_path):
    # Stored 20 wide x 10 high with orientation 6 ("rotate 90 CW to display"): shown 10 wide x 20 high.
    stored = np.zeros((10, 20, 3), np.uint8)
    stored[:, :10] = [255, 0, 0]  # left half red in the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "phone.jpg", exif=exif.tobytes(), quality=95)
    image = load_image(tmp_path / "phone.jpg")
    assert image.shape == (20, 10, 3)
    # after a clockwise quarter turn the stored left half is on top
    assert image[:8, :, 0].mean() > 0.9 and image[12:, :, 0].mean() < 0.1


def test_max_size_shrinks_the_long_side_only(tmp_path):
    Image.fromarray(RGB).save(tmp_path / "a.png")
    image = load_image(tmp_path / "a.png", max_size=15)
    assert image.shape == (10, 15, 3)
    assert 0.0 <= image.min() and image.max() <= 1.0
    expected = np.asarray(Image.fromarray(RGB).resize((15, 10), Image.Resampling.LANCZOS)) / 255.0
    np.testing.assert_allclose(image, expected, atol=2 / 255)
    assert load_image(tmp_path / "a.png", max_size=100).shape == (20, 30, 3)  # never enlarged


# --- refused inputs -----------------------------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png' does not exist"):
        load_image(tmp_path / "nope.png")


@pytest.mark.parametrize("name, content, message", [
    ("empty.png", b"", "the file is empty"),
    ("notes.png", b"these are my notes, not a picture", "not a picture in a format ot-style reads"),
])
def test_empty_and_non_image(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ValueError, match=f"{name}.*{message}"):
        load_image(tmp_path / name)


def test_directory(tmp_path):
    with pytest.raises(ValueError, match="it is a folder"):
        load_image(tmp_path)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated(tmp_path, fmt):
    buffer = io.BytesIO()
    Image.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(buffer, format=fmt)
    data = buffer.getvalue()
    (tmp_path / "cut").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cut.*truncated or damaged"):
        load_image(tmp_path / "cut")


def test_decompression_bomb_both_levels(tmp_path, monkeypatch):
    Image.fromarray(RGB).save(tmp_path / "a.png")  # 600 pixels
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that: both must be clear errors.
    for limit in (400, 200):
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
        with pytest.raises(ValueError, match=f"safety limit of {limit}.*decompression bomb"):
            load_image(tmp_path / "a.png")


def test_too_small_for_layers(tmp_path):
    Image.fromarray(RGB[:12, :30]).save(tmp_path / "small.png")
    assert load_image(tmp_path / "small.png", min_size=12).shape == (12, 30, 3)
    with pytest.raises(ValueError, match=r"small.png.*30x12 pixels.*at least 16 pixels"):
        load_image(tmp_path / "small.png", min_size=min_image_side(["relu5_1"]))
    with pytest.raises(ValueError, match="at least 8 pixels"):  # also after max_size shrinks it
        load_image(tmp_path / "small.png", max_size=15, min_size=8)


# --- saving -------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_save_round_trip_lossless(tmp_path, suffix):
    image = RGB / 255.0
    written = save_image(image, tmp_path / f"out{suffix}")
    assert written == tmp_path / f"out{suffix}"
    np.testing.assert_allclose(load_image(written), image, atol=1e-7)
    assert _no_temporaries(tmp_path)


def test_save_clips_and_accepts_a_batch_of_one(tmp_path):
    image = np.full((1, 4, 5, 3), 0.5, np.float32)
    image[0, 0, 0] = [-1.0, 2.0, 0.5]
    save_image(image, tmp_path / "b.png")
    back = np.asarray(Image.open(tmp_path / "b.png"))
    assert back.shape == (4, 5, 3)
    assert back[0, 0].tolist() == [0, 255, 128]
    umask = os.umask(0o022)
    os.umask(umask)
    # the temporary file's owner-only mode is not kept: the result has the usual permissions
    assert os.stat(tmp_path / "b.png").st_mode & 0o777 == 0o666 & ~umask


def test_save_refuses_nan(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        save_image(np.full((4, 4, 3), np.nan), tmp_path / "n.png")
    assert not (tmp_path / "n.png").exists() and _no_temporaries(tmp_path)


@pytest.mark.parametrize("name, message", [
    ("missing/out.png", "folder .*missing' does not exist"),
    ("out.xyz", "unsupported extension '.xyz'"),
    ("noext", "unsupported extension ''"),
])
def test_check_writable_refuses(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        check_writable(tmp_path / name)
    with pytest.raises(ValueError, match=message):
        save_image(RGB / 255.0, tmp_path / name)
    assert _no_temporaries(tmp_path)


def test_check_writable_refuses_a_folder(tmp_path):
    with pytest.raises(ValueError, match="it is a folder"):
        check_writable(tmp_path)


def test_check_writable_refuses_a_folder_that_rejects_files(tmp_path, monkeypatch):
    # The superuser can write into a chmod 0o555 folder, so the refusal from the OS is simulated at
    # the one call that asks it; on a read-only mount the real call fails the same way.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(images.tempfile, "mkstemp", refuse)
    with pytest.raises(ValueError, match="does not accept new files \\(Permission denied\\)"):
        check_writable(tmp_path / "out.png")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not bind the superuser")
def test_check_writable_refuses_a_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ValueError, match="does not accept new files"):
            check_writable(locked / "out.png")
    finally:
        locked.chmod(0o755)


def test_interrupt_while_saving_leaves_nothing(tmp_path, monkeypatch):
    previous = RGB[::-1] / 255.0
    save_image(previous, tmp_path / "keep.png")
    real_save = Image.Image.save

    def save_then_interrupt(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)  # bytes are in the temporary file ...
        raise KeyboardInterrupt  # ... and then Ctrl-C arrives before the rename

    monkeypatch.setattr(Image.Image, "save", save_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_image(RGB / 255.0, tmp_path / "keep.png")
    with pytest.raises(KeyboardInterrupt):
        save_image(RGB / 255.0, tmp_path / "new.png")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["keep.png"]  # no temporary, no half-written new.png
    np.testing.assert_allclose(load_image(tmp_path / "keep.png"), previous, atol=1e-7)


def test_jpeg_is_saved_at_high_quality(tmp_path):
    smooth = np.clip(0.5 + 0.3 * np.sin(np.arange(64)[:, None, None] / 5 + np.arange(48)[None, :, None] / 7
                                        + np.array([0, 1, 2])), 0, 1)
    save_image(smooth, tmp_path / "s.jpg")
    low = io.BytesIO()
    Image.fromarray(np.round(smooth * 255).astype(np.uint8)).save(low, format="JPEG")  # Pillow's 75
    error = np.abs(load_image(tmp_path / "s.jpg") - smooth).mean()
    assert error < 0.7 * np.abs(np.asarray(Image.open(low), np.float32) / 255 - smooth).mean()
    assert error < 2 / 255


def test_eight_bit_pixels_are_saved_as_they_are_not_as_white(tmp_path):
    # A uint8 array (Pillow's, scikit-image's) clipped to [0, 1] as floats was written all white.
    from ot_style.pixels.images import read_image, save_image

    pixels = np.random.default_rng(2).integers(0, 256, (12, 10, 3)).astype(np.uint8)
    save_image(pixels, tmp_path / "eight.png")
    np.testing.assert_array_equal(np.round(read_image(tmp_path / "eight.png") * 255).astype(np.uint8), pixels)
