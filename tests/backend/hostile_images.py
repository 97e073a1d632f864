"""Hostile and unusual images, made in code so that no binary file is committed.

Each function returns the bytes a client could upload. Where Pillow refuses to write the
file (lying headers, 16-bit colour), the PNG/GIF is assembled chunk by chunk.
"""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, ImageCms

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def encode(picture: Image.Image, fmt: str, **params) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo(size=(64, 48), color=(200, 120, 40)) -> Image.Image:
    return Image.new("RGB", size, color)


# --- PNG assembled by hand ---------------------------------------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_from_rows(width: int, height: int, *, bit_depth: int, color_type: int,
                  rows: list[bytes], extra_chunks: list[bytes] = ()) -> bytes:
    """A PNG whose IHDR says whatever the caller wants; `rows` are raw scanlines."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)  # filter type 0 on every row
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + b"".join(extra_chunks)
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def png_pixel_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A few hundred bytes whose header claims width x height RGBA pixels (10 GB decoded)."""
    return png_from_rows(width, height, bit_depth=8, color_type=6, rows=[b"\x00" * 64])


def png16_gray(values: list[int]) -> bytes:
    """A 16-bit greyscale PNG, one row, one pixel per value (0..65535)."""
    row = b"".join(struct.pack(">H", v) for v in values)
    return png_from_rows(len(values), 1, bit_depth=16, color_type=0, rows=[row])


def png16_rgb(pixels: list[tuple[int, int, int]], alpha: int | None = None) -> bytes:
    """A 48-bit RGB PNG (64-bit RGBA when alpha is given), one row."""
    color_type = 2 if alpha is None else 6
    channels = (lambda p: p) if alpha is None else (lambda p: (*p, alpha))
    row = b"".join(struct.pack(">" + "H" * len(channels(p)), *channels(p)) for p in pixels)
    return png_from_rows(len(pixels), 1, bit_depth=16, color_type=color_type, rows=[row])


# --- GIF -------------------------------------------------------------------------------------

def gif_pixel_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A GIF whose logical screen and single frame claim width x height, with 1 pixel of data."""
    header = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0)  # 2-colour table
    palette = b"\x00\x00\x00\xff\xff\xff"
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, width, height, 0)
    lzw = b"\x02" + b"\x02\x44\x01" + b"\x00"  # min code size 2, one sub-block, terminator
    return header + palette + descriptor + lzw + b";"


def animated_gif(colors=(RED, BLUE, GREEN), size=(16, 16)) -> bytes:
    frames = [Image.new("RGB", size, c) for c in colors]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def gif_with_transparency(size=(16, 16)) -> bytes:
    """Palette GIF: index 0 transparent on the left half, red on the right."""
    picture = Image.new("P", size, 0)
    picture.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    picture.paste(1, (size[0] // 2, 0, size[0], size[1]))
    return encode(picture, "GIF", transparency=0)


# --- JPEG ------------------------------------------------------------------------------------

def truncated_jpeg() -> bytes:
    noisy = Image.effect_noise((256, 256), 64).convert("RGB")
    data = encode(noisy, "JPEG", quality=90)
    return data[: len(data) // 2]


def exif_rotated_jpeg() -> bytes:
    """Stored 80x40 landscape with a red block in the stored top-left corner, orientation 6.

    Orientation 6 means "rotate 90° clockwise to display": the viewer sees a 40x80 portrait
    with the red block in its top-right corner.
    """
    stored = Image.new("RGB", (80, 40), WHITE)
    stored.paste(RED, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(stored, "JPEG", quality=95, exif=exif.tobytes())


def jpeg_with_gps_and_icc() -> bytes:
    """A JPEG carrying a camera model, GPS coordinates and an sRGB ICC profile."""
    exif = Image.Exif()
    exif[0x0110] = "Secret Phone 12"  # Model
    exif.get_ifd(0x8825).update({1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)})
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(photo(), "JPEG", exif=exif.tobytes(), icc_profile=icc)


def jpeg_with_broken_exif() -> bytes:
    """A JPEG whose EXIF block claims more entries than it holds."""
    broken = b"Exif\x00\x00MM\x00\x2a\x00\x00\xff\xff\xff\xff" + b"\x01" * 30
    return encode(photo(), "JPEG", exif=broken)


def cmyk_jpeg(cmyk=(0, 255, 255, 0), size=(32, 32)) -> bytes:
    """A CMYK JPEG (Adobe marker, as print workflows write them); the default is pure red."""
    return encode(Image.new("CMYK", size, cmyk), "JPEG", quality=95)


# --- Not images ------------------------------------------------------------------------------

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script><rect width="10" height="10"/></svg>')
HTML = b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>"
TEXT = b"this is a shopping list, not a photo\n"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def tiff() -> bytes:
    return encode(photo(), "TIFF")
