"""Caption rendering: a CJK font found on the machine, text fitted into a box, drawn with a
thick outline so it reads on light and dark chat backgrounds alike."""
from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from inference.config import sticker_font
from inference.errors import InferenceError

# Common places of CJK fonts on Debian/Ubuntu, macOS and Windows, smallest package first.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)

_PROBE = "萌"


class FontNotFoundError(InferenceError):
    code = "font_missing"


def _ink(font: ImageFont.FreeTypeFont, char: str) -> bytes:
    image = Image.new("L", (48, 48))
    ImageDraw.Draw(image).text((4, 4), char, font=font, fill=255)
    return image.tobytes()


def _covers_cjk(path: str) -> bool:
    """Whether the font has a real glyph for a common Chinese character, not a .notdef box."""
    try:
        font = ImageFont.truetype(path, 32)
    except OSError:
        return False
    drawn = _ink(font, _PROBE)
    return any(drawn) and drawn != _ink(font, "\U0010fffd")


@lru_cache(maxsize=4096)
def _has_glyph(path: str, char: str) -> bool:
    if char.isspace() or char.isascii():
        return True
    font = _font(path, 32)
    return _ink(font, char) != _ink(font, "\U0010fffd")


def drawable_text(text: str, font_path: str) -> str:
    """``text`` without the characters the font would draw as empty boxes (emoji, mostly)."""
    kept = "".join(char for char in text if _has_glyph(font_path, char))
    return " ".join(kept.split(" ")).strip() if kept != text else text


@lru_cache(maxsize=8)
def find_font(font_path: str | os.PathLike | None = None) -> str:
    """The CJK font file to draw captions with.

    ``font_path`` (or the ``STICKER_FONT`` environment variable) wins; otherwise the common
    install locations are tried, then ``fc-match :lang=zh``.
    """
    explicit = font_path or sticker_font()
    if explicit:
        if not Path(explicit).is_file():
            raise FontNotFoundError(f"Caption font {explicit} does not exist; point STICKER_FONT "
                                    "at a CJK .ttf/.ttc/.otf file.")
        return str(explicit)
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file() and _covers_cjk(candidate):
            return candidate
    if shutil.which("fc-match"):
        try:
            found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True,
                                   text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found and Path(found).is_file() and _covers_cjk(found):
            return found
    raise FontNotFoundError(
        "No CJK font found for sticker captions. Install one (Debian: apt-get install "
        "fonts-wqy-microhei) or set STICKER_FONT to a .ttf/.ttc file.")


# One font object per file and size serves every thread: a FreeType face must not be used by two
# threads at once, and Pillow keeps the GIL through each call on it (free-threaded Pythons lock
# each font instead).
@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: at spaces for Latin text, anywhere
    between CJK characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for token in _tokens(paragraph):
            trial = line + token
            if line and font.getlength(trial.rstrip()) > width:
                lines.append(line.rstrip())
                line = token.lstrip()
            else:
                line = trial
        lines.append(line.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    tokens, word = [], ""
    for char in text:
        if char.isascii() and not char.isspace():
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(char)
    if word:
        tokens.append(word)
    return tokens


def draw_caption(canvas: Image.Image, text: str, box: tuple[float, float, float, float], *,
                 font_path: str, font_size: float, fill: str, outline: str,
                 outline_ratio: float = 0.14, max_lines: int = 2) -> tuple[int, int, int, int] | None:
    """Draw ``text`` centred in ``box`` (fractions of the canvas) on ``canvas`` in place.

    ``font_size`` is a fraction of the canvas height; the text shrinks until it fits in at
    most ``max_lines`` lines. Returns the pixel bounding box drawn, or None for empty text.
    """
    text = drawable_text(text.strip(), font_path).strip()
    if not text:
        return None
    width, height = canvas.size
    x0, y0, x1, y1 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    size = max(8, round(font_size * height))
    while True:
        font = _font(font_path, size)
        stroke = max(1, round(size * outline_ratio)) + max(1, round(size * 0.035))
        lines = _wrap(text, font, x1 - x0 - 2 * stroke)
        spacing = round(size * 0.12)
        block = ImageDraw.Draw(canvas).multiline_textbbox(
            (0, 0), "\n".join(lines), font=font, spacing=spacing, stroke_width=stroke,
            align="center")
        fits = (len(lines) <= max_lines and block[2] - block[0] <= x1 - x0
                and block[3] - block[1] <= y1 - y0)
        if fits or size <= 8:
            break
        size = max(8, int(size * 0.9))
    if len(lines) > max_lines:  # still too long at the smallest size: cut with an ellipsis
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    joined = "\n".join(lines)
    draw = ImageDraw.Draw(canvas)
    block = draw.multiline_textbbox((0, 0), joined, font=font, spacing=spacing,
                                    stroke_width=stroke, align="center")
    left = (x0 + x1) / 2 - (block[0] + block[2]) / 2
    top = (y0 + y1) / 2 - (block[1] + block[3]) / 2
    # The regular weight is too thin at sticker size: a second, thin stroke in the fill colour
    # makes it bold.
    bold = max(1, round(size * 0.035))
    draw.multiline_text((round(left), round(top)), joined, font=font, fill=outline,
                        stroke_width=stroke, stroke_fill=outline, spacing=spacing,
                        align="center")
    draw.multiline_text((round(left), round(top)), joined, font=font, fill=fill,
                        stroke_width=bold, stroke_fill=fill, spacing=spacing, align="center")
    return (round(left + block[0]), round(top + block[1]), round(left + block[2]),
            round(top + block[3]))
