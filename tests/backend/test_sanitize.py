"""sanitize_image treats every upload as hostile: what it refuses, and what it turns the rest into."""
from __future__ import annotations

import hashlib
import io
import threading
import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from core.errors import ServiceError
from backend.uploads.sanitize import CleanImage, sanitize_image
from tests.backend import hostile_images as hostile

LIMITS = dict(max_bytes=5 * 2**20, max_pixels=25_000_000, max_side=8000, keep_side=8000)


def clean(data: bytes, **limits) -> CleanImage:
    return sanitize_image(data, **{**LIMITS, **limits})


def refusal(data: bytes, **limits) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        clean(data, **limits)
    return caught.value


def reopen(result: CleanImage) -> Image.Image:
    picture = Image.open(io.BytesIO(result.data))
    picture.load()
    return picture


def close_to(actual, expected, tolerance=6) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


# --- refused ---------------------------------------------------------------------------------

def test_zero_bytes_is_an_empty_file():
    error = refusal(b"")
    assert (error.status, error.code) == (400, "empty_file")


def test_more_bytes_than_the_limit_is_too_large():
    data = hostile.encode(hostile.photo(), "PNG")
    error = refusal(data, max_bytes=len(data) - 1)
    assert (error.status, error.code) == (413, "too_large")
    assert "MB" in error.message


@pytest.mark.parametrize("data", [
    hostile.TEXT, hostile.SVG, hostile.HTML, hostile.PDF, hostile.tiff(),
    b"\x00" * 100, b"GIF8", b"RIFF\x00\x00\x00\x00WAVEfmt ",
], ids=["text", "svg", "html", "pdf", "tiff", "zeros", "gif-prefix", "riff-wave"])
def test_anything_but_the_five_formats_is_unsupported(data):
    error = refusal(data)
    assert (error.status, error.code) == (415, "unsupported_format")
    assert "JPEG" in error.message


def test_the_magic_bytes_decide_not_the_claimed_name():
    # A text file saved as "photo.jpg" is still text; a PNG named anything is still a PNG.
    assert refusal(hostile.TEXT).code == "unsupported_format"
    assert clean(hostile.encode(hostile.photo(), "PNG")).source_format == "png"


def test_truncated_jpeg_is_corrupt():
    error = refusal(hostile.truncated_jpeg())
    assert (error.status, error.code) == (400, "corrupt_image")


@pytest.mark.parametrize("data", [
    b"\xff\xd8\xff\xe0garbage",
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    b"GIF89a\x01",
    b"RIFF\x10\x00\x00\x00WEBPVP8 garbage",
    b"BM" + b"\xff" * 60,
], ids=["jpeg", "png", "gif", "webp", "bmp"])
def test_right_magic_with_garbage_behind_it_is_corrupt(data):
    error = refusal(data)
    assert (error.status, error.code) == (400, "corrupt_image")


@pytest.mark.parametrize("bomb", [hostile.png_pixel_bomb, hostile.gif_pixel_bomb])
def test_pixel_bomb_is_refused_from_its_header_without_decoding(bomb):
    data = bomb(50_000, 50_000)  # 2.5 gigapixels in a file of a few hundred bytes
    assert len(data) < 1000
    tracemalloc.start()
    try:
        error = refusal(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (error.status, error.code) == (413, "too_many_pixels")
    assert peak < 20 * 2**20  # decoding would need gigabytes


@pytest.mark.parametrize("bomb", [hostile.png_pixel_bomb, hostile.gif_pixel_bomb])
def test_our_pixel_limit_applies_below_pillows_own(bomb):
    # 6000x6000 = 36 Mpx: Pillow would decode it without complaint; our limit is 25 Mpx.
    error = refusal(bomb(6000, 6000))
    assert (error.status, error.code) == (413, "too_many_pixels")
    assert "6000×6000" in error.message


@pytest.mark.parametrize("size", [(100_000, 1), (1, 100_000), (8001, 10)])
def test_a_side_longer_than_max_side_is_refused(size):
    error = refusal(hostile.png_pixel_bomb(*size))
    assert (error.status, error.code) == (413, "too_many_pixels")


def test_a_long_side_within_limits_is_accepted():
    result = clean(hostile.encode(Image.new("RGB", (4000, 3)), "PNG"), max_side=4000)
    assert (result.width, result.height) == (4000, 3)


# --- cleaned ---------------------------------------------------------------------------------

def test_a_photo_becomes_a_jpeg_with_a_matching_digest():
    result = clean(hostile.encode(hostile.photo(), "PNG"))
    assert (result.format, result.content_type) == ("jpeg", "image/jpeg")
    assert result.sha256 == hashlib.sha256(result.data).hexdigest()
    out = reopen(result)
    assert (out.format, out.mode, out.size) == ("JPEG", "RGB", (64, 48))
    assert (result.width, result.height) == out.size
    assert result.image.mode == "RGB" and result.image.size == out.size
    assert close_to(out.getpixel((10, 10)), (200, 120, 40))


def test_exif_orientation_is_applied_so_the_photo_comes_out_upright():
    result = clean(hostile.exif_rotated_jpeg())
    out = reopen(result)
    assert out.size == (40, 80)
    # The red block stored top-left is shown top-right after a 90° clockwise turn.
    assert close_to(out.getpixel((30, 10)), hostile.RED, 40)
    assert close_to(out.getpixel((10, 10)), hostile.WHITE, 40)
    assert close_to(out.getpixel((30, 70)), hostile.WHITE, 40)
    assert close_to(result.image.getpixel((30, 10)), hostile.RED, 40)
    assert 0x0112 not in out.getexif()


def test_metadata_is_stripped():
    source = Image.open(io.BytesIO(hostile.jpeg_with_gps_and_icc()))
    assert source.getexif() and "icc_profile" in source.info  # the input really carries them
    out = reopen(clean(hostile.jpeg_with_gps_and_icc()))
    assert len(out.getexif()) == 0
    assert not set(out.info) & {"exif", "icc_profile", "xmp", "comment"}
    assert b"Secret Phone" not in clean(hostile.jpeg_with_gps_and_icc()).data
    assert close_to(out.getpixel((10, 10)), (200, 120, 40))  # sRGB in, same colours out


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_damaged_exif_block_does_not_cost_the_photo():
    result = clean(hostile.jpeg_with_broken_exif())
    assert (result.width, result.height) == (64, 48)
    assert len(reopen(result).getexif()) == 0


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    for cmyk, rgb in [((0, 255, 255, 0), hostile.RED), ((255, 255, 0, 0), hostile.BLUE),
                      ((0, 0, 0, 0), hostile.WHITE)]:
        result = clean(hostile.cmyk_jpeg(cmyk))
        assert result.source_format == "jpeg" and result.image.mode == "RGB"
        assert close_to(reopen(result).getpixel((16, 16)), rgb, 8), cmyk


def test_16_bit_grey_png_is_scaled_not_clipped():
    result = clean(hostile.png16_gray([0, 0x0101 * 64, 0x8000, 0x0101 * 200, 0xFFFF]))
    values = [result.image.getpixel((x, 0)) for x in range(5)]
    assert values == [(0, 0, 0), (64, 64, 64), (128, 128, 128), (200, 200, 200), (255, 255, 255)]


def test_48_and_64_bit_png_become_8_bit():
    pixels = [(0xFFFF, 0, 0), (0, 0x8000, 0), (0x4040, 0x4040, 0xC0C0)]
    rgb = clean(hostile.png16_rgb(pixels)).image
    assert [rgb.getpixel((x, 0)) for x in range(3)] == [(255, 0, 0), (0, 128, 0), (64, 64, 192)]
    rgba = clean(hostile.png16_rgb(pixels, alpha=0x8000))
    assert rgba.format == "png" and rgba.image.mode == "RGBA"
    assert rgba.image.getpixel((0, 0)) == (255, 0, 0, 128)


def test_png_with_real_transparency_stays_png_with_alpha():
    picture = Image.new("RGBA", (20, 20), (0, 0, 255, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 10, 20))
    result = clean(hostile.encode(picture, "PNG"))
    assert (result.format, result.content_type) == ("png", "image/png")
    out = reopen(result)
    assert out.mode == "RGBA"
    assert out.getpixel((2, 2))[3] == 0 and out.getpixel((15, 2)) == (0, 0, 255, 255)


def test_an_alpha_channel_that_is_fully_opaque_becomes_jpeg():
    result = clean(hostile.encode(Image.new("RGBA", (20, 20), (0, 255, 0, 255)), "PNG"))
    assert result.format == "jpeg" and result.image.mode == "RGB"


def test_palette_transparency_becomes_alpha():
    result = clean(hostile.gif_with_transparency())
    assert (result.source_format, result.format) == ("gif", "png")
    assert result.image.getpixel((2, 2))[3] == 0
    assert result.image.getpixel((12, 2)) == (255, 0, 0, 255)


def test_animated_gif_is_accepted_as_its_first_frame():
    result = clean(hostile.animated_gif())
    assert (result.source_format, result.format) == ("gif", "jpeg")
    assert close_to(reopen(result).getpixel((8, 8)), hostile.RED, 8)


@pytest.mark.parametrize("fmt,params", [("WEBP", {"quality": 95}), ("WEBP", {"lossless": True}),
                                         ("BMP", {}), ("GIF", {})])
def test_webp_bmp_and_gif_are_accepted(fmt, params):
    result = clean(hostile.encode(hostile.photo(color=(0, 128, 255)), fmt, **params))
    assert result.source_format == fmt.lower()
    assert result.format == "jpeg" and (result.width, result.height) == (64, 48)
    assert close_to(reopen(result).getpixel((20, 20)), (0, 128, 255), 12)


def test_greyscale_becomes_rgb():
    result = clean(hostile.encode(Image.new("L", (8, 8), 90), "PNG"))
    assert result.image.mode == "RGB"
    assert close_to(result.image.getpixel((4, 4)), (90, 90, 90), 1)


# --- kept at the working size ----------------------------------------------------------------

def test_a_large_png_is_kept_with_its_long_side_at_the_working_size():
    result = clean(hostile.encode(hostile.photo((3000, 1000)), "PNG"), keep_side=600)
    assert (result.width, result.height) == (600, 200)
    assert reopen(result).size == (600, 200) and result.image.size == (600, 200)
    assert close_to(result.image.getpixel((300, 100)), (200, 120, 40))


def test_a_picture_within_the_working_size_keeps_its_size():
    result = clean(hostile.encode(hostile.photo((600, 200)), "PNG"), keep_side=600)
    assert (result.width, result.height) == (600, 200)


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(monkeypatch):
    from PIL import JpegImagePlugin

    decoded = []
    load = JpegImagePlugin.JpegImageFile.load

    def recording_load(self):
        decoded.append(self.size)  # the size the decoder is about to produce
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", recording_load)
    result = clean(hostile.encode(hostile.photo((4000, 3000)), "JPEG"), keep_side=900)
    # Draft mode: the decoder scales by 1/4 (1000x750, the smallest >= 900 on the long side)
    # instead of producing all 12 megapixels.
    assert decoded[0] == (1000, 750)
    assert (result.width, result.height) == (900, 675)
    assert close_to(result.image.getpixel((450, 300)), (200, 120, 40))


def test_a_large_rotated_jpeg_is_upright_and_capped():
    stored = hostile.photo((3000, 1000), color=hostile.WHITE)
    stored.paste(hostile.RED, (0, 0, 750, 500))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    result = clean(hostile.encode(stored, "JPEG", quality=95, exif=exif.tobytes()), keep_side=600)
    assert (result.width, result.height) == (200, 600)
    assert close_to(result.image.getpixel((180, 20)), hostile.RED, 40)  # stored top-left
    assert close_to(result.image.getpixel((20, 580)), hostile.WHITE, 40)


def test_a_large_palette_png_keeps_its_transparency_when_shrunk():
    picture = Image.new("P", (2000, 1000), 1)
    picture.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    picture.paste(0, (0, 0, 1000, 1000))
    result = clean(hostile.encode(picture, "PNG", transparency=0), keep_side=500)
    assert (result.format, result.width, result.height) == ("png", 500, 250)
    assert result.image.getpixel((100, 100))[3] == 0
    assert result.image.getpixel((400, 100)) == (255, 0, 0, 255)


def test_a_large_picture_reduced_band_by_band_shows_no_seams():
    # 3000x2000 reduced by 5 in bands of a few hundred rows: the result must match Pillow's
    # whole-picture Lanczos everywhere, band edges included.
    y, x = np.mgrid[0:2000, 0:3000].astype(np.float32)
    pattern = 128 + 60 * np.sin(x / 37.0) + 60 * np.cos(y / 23.0)
    picture = Image.fromarray(np.dstack([pattern, pattern[::-1], 255 - pattern]).astype(np.uint8))
    result = clean(hostile.encode(picture, "PNG"), keep_side=600)
    expected = np.asarray(picture.resize((600, 400), Image.Resampling.LANCZOS), np.float32)
    difference = np.abs(np.asarray(result.image, np.float32) - expected)
    assert (result.width, result.height) == (600, 400)
    assert difference.max() <= 2  # a seam would be a row tens of levels off


def test_large_pictures_take_turns_to_be_decoded(monkeypatch):
    from backend.uploads import sanitize

    inside, most = [0], [0]
    working_copy = sanitize._working_copy

    def counting_working_copy(picture, keep_side):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.3)  # long enough for the other upload to arrive
        inside[0] -= 1
        return working_copy(picture, keep_side)

    monkeypatch.setattr(sanitize, "_working_copy", counting_working_copy)
    large = hostile.encode(hostile.photo((5000, 4000)), "PNG")  # 20 MP: 80 MB decoded
    uploads = [threading.Thread(target=clean, args=(large,), kwargs={"keep_side": 500})
               for _ in range(2)]
    for upload in uploads:
        upload.start()
    for upload in uploads:
        upload.join()
    assert most[0] == 1
