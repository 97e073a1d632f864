"""Emoji in captions, in colour: text split into user-perceived characters, and each emoji drawn
from a colour emoji font (Debian's ``fonts-noto-color-emoji``).

Noto Color Emoji is a bitmap font whose only size is 109 px: Pillow draws it at that size with
``embedded_color`` and we scale the picture to the caption's size.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

EMOJI_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",
    "/System/Library/Fonts/Apple Color Emoji.ttc",
)
_BITMAP_SIZE = 109  # the one size Noto Color Emoji's bitmaps come in

_ZWJ = "\u200d"
_KEYCAP = "\u20e3"


def _joins_previous(char: str, previous: str) -> bool:
    code = ord(char)
    return (char == _ZWJ or previous == _ZWJ or char == _KEYCAP
            or 0xFE00 <= code <= 0xFE0F  # variation selectors (text or emoji presentation)
            or 0x1F3FB <= code <= 0x1F3FF  # skin tones
            or 0xE0020 <= code <= 0xE007F  # tag characters (subdivision flags)
            or unicodedata.combining(char) != 0)


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def graphemes(text: str) -> list[str]:
    """``text`` cut into the characters a reader counts: 👍🏽, 👨‍👩‍👧, 🇨🇳 and é are one each."""
    pieces: list[str] = []
    for char in text:
        if pieces and _joins_previous(char, pieces[-1][-1]):
            pieces[-1] += char
        elif (pieces and _regional(char) and len(pieces[-1]) == 1 and _regional(pieces[-1])):
            pieces[-1] += char  # two regional indicators make one flag
        else:
            pieces.append(char)
    return pieces


@lru_cache(maxsize=1)
def emoji_font_path() -> str | None:
    """The colour emoji font on this machine, or None (emoji are then left out of captions)."""
    return next((path for path in EMOJI_FONT_CANDIDATES if Path(path).is_file()), None)


@lru_cache(maxsize=1)
def _emoji_font() -> ImageFont.FreeTypeFont | None:
    path = emoji_font_path()
    try:
        return ImageFont.truetype(path, _BITMAP_SIZE) if path else None
    except OSError:
        return None


@lru_cache(maxsize=512)
def emoji_bitmap(grapheme: str) -> Image.Image | None:
    """The emoji in colour (RGBA, cropped to its ink, 109 px tall or so), or None when the
    emoji font has no picture for it."""
    font = _emoji_font()
    if font is None or grapheme.isascii():
        return None
    canvas = Image.new("RGBA", (3 * _BITMAP_SIZE, 2 * _BITMAP_SIZE), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((_BITMAP_SIZE // 2, _BITMAP_SIZE // 2), grapheme, font=font,
                                embedded_color=True)
    box = canvas.getchannel("A").getbbox()
    return canvas.crop(box) if box is not None else None  # no glyph: nothing drawn


def emoji_image(grapheme: str, height: int) -> Image.Image | None:
    """The emoji scaled to ``height`` pixels, or None."""
    bitmap = emoji_bitmap(grapheme)
    if bitmap is None:
        return None
    width = max(1, round(bitmap.width * height / bitmap.height))
    return _scaled(grapheme, width, max(1, height))


@lru_cache(maxsize=512)
def _scaled(grapheme: str, width: int, height: int) -> Image.Image:
    return emoji_bitmap(grapheme).resize((width, height), Image.Resampling.LANCZOS)
