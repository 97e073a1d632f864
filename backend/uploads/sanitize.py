"""Turn an untrusted upload into a clean image: a known format, bounded in bytes and pixels,
upright, 8-bit RGB(A), no larger than the working size, re-encoded with no metadata.
Pure: takes bytes, returns bytes."""
from __future__ import annotations

import hashlib
import io
import math
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageOps

from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, PayloadTooLarge, ServiceError, UnsupportedMedia

JPEG_QUALITY = 92

# Our name for a format -> the only Pillow plugin allowed to parse it. Restricting the
# plugin means a file sniffed as PNG can never be handed to, say, the EPS or TIFF parser.
_PIL_FORMAT = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}
ACCEPTED = "JPEG, PNG, WebP, GIF or BMP"
_SIXTEEN_BIT_GRAY = {"I", "I;16", "I;16L", "I;16B", "I;16N"}
_BAND_PIXELS = 2_000_000  # pixels converted at a time when reducing a large picture
# Pictures decoding to more pixels than this (64 MB and up) take turns, one per process: four
# uploads at the pixel limit at once would otherwise hold four full-size copies.
_LARGE_DECODE_PIXELS = 16_000_000
_large_decode = threading.Lock()


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    format: str  # "jpeg" | "png"
    content_type: str
    width: int
    height: int
    sha256: str
    source_format: str  # "jpeg" | "png" | "webp" | "gif" | "bmp"
    image: Image.Image  # upright, RGB or RGBA, loaded; the pixels that `data` encodes


def sanitize_image(data: bytes, *, max_bytes: int, max_pixels: int, max_side: int,
                   keep_side: int) -> CleanImage:
    """The clean copy of ``data``. ``max_*`` bound what is accepted; ``keep_side`` bounds what
    is kept: a larger picture is scaled down so its long side is ``keep_side``."""
    if not data:
        raise BadRequest(_("The file is empty; choose a photo and upload it again."),
                         code="empty_file")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            _("The file is %(size)s; the limit is %(limit)s. Upload a smaller or more "
              "compressed photo.") % {"size": megabytes(len(data)), "limit": megabytes(max_bytes)})
    source_format = sniff_format(data)
    if source_format is None:
        raise UnsupportedMedia(_("This is not an image we accept; upload a %(formats)s photo.")
                               % {"formats": ACCEPTED})

    # Pillow's own bomb check only warns between MAX_IMAGE_PIXELS and twice that, and
    # turning the warning into an error is not thread-safe; never allow more than it does.
    if Image.MAX_IMAGE_PIXELS:
        max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS)
    with _readable(max_pixels, max_side):
        picture = _open(data, source_format, max_pixels=max_pixels, max_side=max_side,
                        keep_side=keep_side)
    large = picture.width * picture.height > _LARGE_DECODE_PIXELS
    with _large_decode if large else nullcontext():
        with _readable(max_pixels, max_side):
            picture.load()  # first frame only for GIF/WebP/APNG
        picture = _working_copy(_upright(picture), keep_side)
    return _encode(picture, source_format)


def sniff_format(data: bytes) -> str | None:
    """The real format from the magic bytes, whatever the file name or client claims."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    return None


def _open(data: bytes, source_format: str, *, max_pixels: int, max_side: int,
          keep_side: int) -> Image.Image:
    """The picture, its header parsed and checked, its pixels not decoded yet."""
    # Lazy: this parses the header only, so the size is known before any pixel is decoded.
    picture = Image.open(io.BytesIO(data), formats=[_PIL_FORMAT[source_format]])
    width, height = picture.size
    if width > max_side or height > max_side or width * height > max_pixels:
        raise _too_many_pixels(max_pixels, max_side, f"{width}×{height} pixels")
    if width < 1 or height < 1:
        raise _corrupt()
    if source_format == "jpeg" and max(width, height) > keep_side:
        # The JPEG decoder scales by 1/2, 1/4 or 1/8 as it decodes (draft mode) to the
        # smallest size still at least the working size: a 40 MP photo is never whole in
        # memory. The exact size comes from _working_copy.
        ratio = keep_side / max(width, height)
        picture.draft(None, (math.ceil(width * ratio), math.ceil(height * ratio)))
    return picture


@contextmanager
def _readable(max_pixels: int, max_side: int):
    try:
        yield
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(max_pixels, max_side, "too large") from exc
    except ServiceError:
        raise
    except Exception as exc:
        # Hostile input reaches parsers that fail in many ways (OSError for truncation,
        # SyntaxError, ValueError, struct.error...); every one of them means "unreadable".
        raise _corrupt() from exc


def _upright(picture: Image.Image) -> Image.Image:
    try:
        ImageOps.exif_transpose(picture, in_place=True)  # in place: no copy when already upright
    except Exception:
        pass  # a damaged EXIF block costs the orientation, not the photo
    return picture


def _working_copy(picture: Image.Image, keep_side: int) -> Image.Image:
    """8-bit sRGB with the long side at most ``keep_side``. A picture at least twice as large
    is converted and box-reduced band by band, so no second full-size copy ever exists (a
    palette image would otherwise become four times its size in RGBA); Lanczos does the rest."""
    factor = max(picture.size) // keep_side
    picture = _reduced_in_bands(picture, factor) if factor >= 2 else _to_srgb_8bit(picture)
    long_side = max(picture.size)
    if long_side <= keep_side:
        return picture
    size = tuple(max(1, round(n * keep_side / long_side)) for n in picture.size)
    return picture.resize(size, Image.Resampling.LANCZOS)


def _reduced_in_bands(picture: Image.Image, factor: int) -> Image.Image:
    width, height = picture.size
    # Bands a whole number of blocks high, so the result equals reducing the whole picture.
    rows = max(1, _BAND_PIXELS // (width * factor)) * factor
    reduced = None
    for top in range(0, height, rows):
        band = picture.crop((0, top, width, min(top + rows, height)))  # keeps palette and info
        band = _to_srgb_8bit(band).reduce(factor)
        if reduced is None:
            reduced = Image.new(band.mode, (-(-width // factor), -(-height // factor)))
        reduced.paste(band, (0, top // factor))
    return reduced


def _to_srgb_8bit(picture: Image.Image) -> Image.Image:
    """RGB or RGBA, 8 bits per channel, in sRGB; everything else converted the right way."""
    if picture.mode in _SIXTEEN_BIT_GRAY:
        return _sixteen_bit_gray_to_rgba(picture)
    if picture.mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in picture.info:
        # Palette and keyed transparency become a real alpha channel.
        picture = picture.convert("RGBA")
    elif picture.mode not in ("RGB", "RGBA", "CMYK", "L"):
        picture = picture.convert("L" if picture.mode == "1" else "RGB")
    srgb = _apply_icc_profile(picture)
    if srgb is not None:
        return srgb
    if picture.mode in ("RGB", "RGBA"):
        return picture
    return picture.convert("RGB")  # L, or CMYK with the Adobe inversion already undone


def _sixteen_bit_gray_to_rgba(picture: Image.Image) -> Image.Image:
    # Pillow's I -> L conversion clips at 255, which turns a 16-bit photo white; scale instead.
    values = np.asarray(picture).astype(np.uint32)
    gray = ((values * 255 + 32767) // 65535).clip(0, 255).astype(np.uint8)
    rgb = Image.fromarray(gray, "L").convert("RGB")
    key = picture.info.get("transparency")
    if isinstance(key, int):
        alpha = np.where(values == key, 0, 255).astype(np.uint8)
        rgb.putalpha(Image.fromarray(alpha, "L"))
    return rgb


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_ICC_SPACES = {"RGB ": ("RGB", "RGBA"), "CMYK": ("CMYK",), "GRAY": ("L",)}


def _apply_icc_profile(picture: Image.Image) -> Image.Image | None:
    """Convert to sRGB through an embedded profile; None when there is none we can use."""
    icc = picture.info.get("icc_profile")
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if picture.mode not in _ICC_SPACES.get(profile.profile.xcolor_space, ()):
            return None
        out_mode = "RGBA" if picture.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(picture, profile, _SRGB, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or hostile profile is dropped, not trusted


def _encode(picture: Image.Image, source_format: str) -> CleanImage:
    has_alpha = picture.mode == "RGBA" and picture.getextrema()[3][0] < 255
    mode, fmt = ("RGBA", "png") if has_alpha else ("RGB", "jpeg")
    # A brand-new image carries no info dict, EXIF, ICC profile or palette from the upload.
    clean = Image.new(mode, picture.size)
    clean.paste(picture if picture.mode == mode else picture.convert(mode))
    buffer = io.BytesIO()
    if fmt == "png":
        clean.save(buffer, "PNG")
    else:
        clean.save(buffer, "JPEG", quality=JPEG_QUALITY)
    data = buffer.getvalue()
    return CleanImage(
        data=data, format=fmt, content_type=f"image/{fmt}",
        width=clean.width, height=clean.height, sha256=hashlib.sha256(data).hexdigest(),
        source_format=source_format, image=clean,
    )


def _too_many_pixels(max_pixels: int, max_side: int, size: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        _("The image is %(size)s; the limit is %(side)s pixels per side and %(mp)s megapixels. "
          "Resize it and upload again.")
        % {"size": size, "side": max_side, "mp": f"{max_pixels / 1e6:.0f}"},
        code="too_many_pixels")


def _corrupt() -> BadRequest:
    return BadRequest(_("The image could not be read; it may be damaged or incomplete. "
                        "Open it on your phone, save it again and re-upload."),
                      code="corrupt_image")


def megabytes(n: int) -> str:
    return f"{n / 2**20:.1f} MB"
