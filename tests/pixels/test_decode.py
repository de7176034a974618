"""Every input format (issue 17): formats refused, pixel limits, reduced decoding, colour profiles, bit
depths, float and signed TIFFs, animations, and a fuzz test of damaged files."""

import io
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from ot_style.pixels import decode
from ot_style.pixels.images import load_image, save_image
from tests.helpers.icc import matrix_profile

RNG = np.random.default_rng(0)
PICTURE = (RNG.random((40, 60, 3)) * 255).astype(np.uint8)


def _notes(path, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = load_image(path, **kwargs)
    return image, [str(w.message) for w in caught if issubclass(w.category, decode.ImageConversionWarning)]


def test_formats_outside_the_list_are_refused_before_any_decoder_runs(tmp_path):
    eps = tmp_path / "drawing.eps"  # EPS would run Ghostscript
    eps.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ValueError, match="drawing.eps.*not a picture in a format ot-style reads"):
        load_image(eps)
    for fmt, suffix in (("PNG", "png"), ("JPEG", "jpg"), ("TIFF", "tif"), ("BMP", "bmp"), ("WEBP", "webp"),
                        ("GIF", "gif")):
        Image.fromarray(PICTURE).save(tmp_path / f"ok.{suffix}", format=fmt)
        assert load_image(tmp_path / f"ok.{suffix}").shape == (40, 60, 3)


def test_too_many_pixels_are_refused_before_decoding(tmp_path, monkeypatch):
    Image.fromarray(PICTURE).save(tmp_path / "big.png")
    monkeypatch.setattr(decode, "MAX_PIXELS", 1000)
    with pytest.raises(ValueError, match=r"big.png.*60x40 = 0 million pixels, more than the 0 million"):
        load_image(tmp_path / "big.png")


@pytest.mark.parametrize("suffix", ["png", "jpg"])
def test_a_large_picture_is_decoded_at_a_reduced_size(tmp_path, suffix):
    yy, xx = np.mgrid[0:600, 0:800]
    smooth = np.stack([xx / 800, yy / 600, 0.5 + 0.0 * xx], axis=2)
    Image.fromarray((smooth * 255).astype(np.uint8)).save(tmp_path / f"large.{suffix}", quality=95)
    with Image.open(tmp_path / f"large.{suffix}") as im:
        reduced = decode._reduce(im, 100)
        assert max(reduced.size) < 800 and max(reduced.size) >= 100  # never below what was asked for
    image = load_image(tmp_path / f"large.{suffix}", max_size=100)
    assert image.shape == (75, 100, 3)
    np.testing.assert_allclose(image[..., 0], np.linspace(0, 1, 100)[None, :].repeat(75, 0), atol=0.03)


def test_an_srgb_profile_is_kept_and_another_is_converted_to_srgb(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(PICTURE).save(tmp_path / "srgb.png", icc_profile=srgb)
    image, notes = _notes(tmp_path / "srgb.png")
    assert notes == [] and np.allclose(image, PICTURE / 255.0, atol=1e-6)
    # An Adobe RGB photo: the loader converts it as littleCMS does, and its colours change.
    adobe = matrix_profile()
    Image.fromarray(PICTURE).save(tmp_path / "adobe.jpg", icc_profile=adobe, quality=100)
    with Image.open(tmp_path / "adobe.jpg") as im:
        stored = im.convert("RGB")
    image, notes = _notes(tmp_path / "adobe.jpg")
    want = ImageCms.profileToProfile(stored, ImageCms.ImageCmsProfile(io.BytesIO(adobe)),
                                     ImageCms.createProfile("sRGB"), outputMode="RGB")
    assert len(notes) == 1 and "Adobe RGB (1998) test profile colour profile" in notes[0]
    np.testing.assert_allclose(image, np.asarray(want) / 255.0, atol=1e-6)
    assert np.abs(image - np.asarray(stored) / 255.0).max() > 0.05


def test_the_outputs_say_they_are_srgb(tmp_path):
    for suffix in ("png", "jpg", "tif"):
        save_image(PICTURE / 255.0, tmp_path / f"out.{suffix}")
        with Image.open(tmp_path / f"out.{suffix}") as im:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(im.info["icc_profile"]))
        assert "srgb" in ImageCms.getProfileDescription(profile).lower()


def _tiff(path, array, mode):
    Image.fromarray(array, mode=mode).save(path, format="TIFF")
    return path


def test_float_tiffs_in_0_1_are_kept_in_0_255_scaled_and_nan_refused(tmp_path):
    values = RNG.random((10, 12)).astype(np.float32)
    image, notes = _notes(_tiff(tmp_path / "unit.tif", values, "F"))
    assert notes == [] and np.allclose(image[..., 0], values, atol=1e-7)
    image, notes = _notes(_tiff(tmp_path / "bytes.tif", values * 255, "F"))
    assert "divided by 255" in notes[0] and np.allclose(image[..., 1], values, atol=1e-6)
    for name, bad, words in (("nan.tif", np.where(values > 0.5, np.nan, values), "NaN or infinite"),
                             ("wide.tif", values * 1000 - 10, "outside \\[0, 1\\] and \\[0, 255\\]")):
        with pytest.raises(ValueError, match=f"{name}.*{words}"):
            load_image(_tiff(tmp_path / name, bad.astype(np.float32), "F"))


def test_integer_tiffs_by_their_range_and_negative_values_refused(tmp_path):
    counts = RNG.integers(0, 65536, (10, 12)).astype(np.int32)
    image, notes = _notes(_tiff(tmp_path / "i16.tif", counts, "I"))
    assert notes == [] and np.allclose(image[..., 0], counts / 65535.0, atol=1e-6)
    big = (counts.astype(np.int64) * 30000).clip(0, 2**31 - 1).astype(np.int32)
    image, notes = _notes(_tiff(tmp_path / "i32.tif", big, "I"))
    assert "32-bit" in notes[0] and np.allclose(image[..., 0], big / (2**32 - 1), atol=1e-6)
    with pytest.raises(ValueError, match="signed.tif.*negative pixel values"):
        load_image(_tiff(tmp_path / "signed.tif", counts - 1000, "I"))


def test_an_animation_uses_its_first_frame_and_says_so(tmp_path):
    frames = [Image.fromarray(np.full((16, 16, 3), value, np.uint8)) for value in (10, 200, 90)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    image, notes = _notes(tmp_path / "anim.gif")
    assert any("3 frames; the first one was used" in n for n in notes)
    assert abs(float(image.mean()) - 10 / 255) < 0.02


def _valid_files():
    out = {}
    for fmt in ("PNG", "JPEG", "TIFF", "GIF", "WEBP", "BMP"):
        buffer = io.BytesIO()
        Image.fromarray(PICTURE[:24, :32]).save(buffer, format=fmt)
        out[fmt] = buffer.getvalue()
    return out


VALID = _valid_files()


def _assert_picture_or_sentence(path):
    try:
        image = load_image(path)
    except ValueError as error:
        message = str(error)
        assert message.startswith("Cannot use") and "\n" not in message, message
        return
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] == 3
    assert np.all(np.isfinite(image)) and image.min() >= 0.0 and image.max() <= 1.0



@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(sorted(VALID)), data=st.data())
def test_fuzz_damaged_files_give_a_picture_or_one_clear_sentence(tmp_path, fmt, data):
    original = bytearray(VALID[fmt])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            original[position] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del original[position:position + data.draw(st.integers(1, 64))]
        else:
            original[position:position] = data.draw(st.binary(min_size=1, max_size=16))
        if not original:
            original = bytearray(b"\0")
    path = tmp_path / f"fuzz.{fmt.lower()}"
    path.write_bytes(bytes(original))
    _assert_picture_or_sentence(path)


@pytest.mark.parametrize("fmt", sorted(VALID))
def test_every_truncation_gives_a_picture_or_one_clear_sentence(tmp_path, fmt):
    # A download cut short is the commonest damage; every length is tried (a GIF cut inside its
    # image-data block once raised Pillow's IndexError).
    whole = VALID[fmt]
    step = max(1, len(whole) // 400)
    for length in range(1, len(whole), step):
        path = tmp_path / f"cut{length}.{fmt.lower()}"
        path.write_bytes(whole[:length])
        _assert_picture_or_sentence(path)


def test_a_bug_in_ot_styles_own_decoding_is_not_reported_as_a_damaged_file(tmp_path, monkeypatch):
    from ot_style.pixels import images

    Image.fromarray(PICTURE).save(tmp_path / "fine.png")

    def broken(im, name, max_size=None):
        raise TypeError("a bug in ot-style")

    monkeypatch.setattr(images, "decode", broken)
    with pytest.raises(TypeError, match="a bug in ot-style"):
        load_image(tmp_path / "fine.png")
