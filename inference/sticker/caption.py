"""Caption rendering: a CJK font found on the machine, text fitted into at most two lines at a
legible size, drawn with a thick outline so it reads on light and dark chat backgrounds alike,
and emoji drawn in colour (``emoji.py``)."""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from inference.config import sticker_font
from inference.errors import InferenceError
from inference.sticker.emoji import emoji_bitmap, emoji_image, graphemes

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

# The longest caption, in characters as a reader counts them: two lines of CJK at a legible size
# (``MIN_FONT_FRACTION``) in every built-in template. /generate refuses longer ones.
CAPTION_MAX_CHARS = 16
MIN_FONT_FRACTION = 0.075  # of the sticker's side: 18 px on the 240-px sticker


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
    """Whether the font draws ``char`` (one character as a reader counts them), not a box."""
    if char.isspace() or char.isascii():
        return True
    font = _font(path, 32)
    return _ink(font, char) != _ink(font, "\U0010fffd")


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


def caption_length(text: str) -> int:
    """Characters as a reader counts them (an emoji, even 👍🏽 or a flag, is one)."""
    return len(graphemes(text.strip()))


def caption_fits(text: str) -> bool:
    """Whether ``text`` fits a sticker caption: two lines at a legible size in every built-in
    template (``CAPTION_MAX_CHARS``)."""
    return caption_length(text) <= CAPTION_MAX_CHARS


@dataclass(frozen=True)
class _Token:
    text: str  # a Latin word, a space, one CJK character or one emoji
    emoji: bool


def _tokens(text: str, font_path: str) -> list[_Token]:
    """Latin words whole, everything else one character at a time; emoji the emoji font
    draws become pictures, characters neither font draws are left out."""
    tokens: list[_Token] = []
    word = ""
    for grapheme in graphemes(text):
        if grapheme.isascii() and not grapheme.isspace():
            word += grapheme
            continue
        if word:
            tokens.append(_Token(word, False))
            word = ""
        if emoji_bitmap(grapheme) is not None:
            tokens.append(_Token(grapheme, True))
        elif grapheme.isspace() or _has_glyph(font_path, grapheme):
            tokens.append(_Token(" " if grapheme.isspace() else grapheme, False))
    if word:
        tokens.append(_Token(word, False))
    return tokens


def _runs(line: list[_Token]) -> list[_Token]:
    """Neighbouring text tokens joined, so kerning between them is kept."""
    runs: list[_Token] = []
    for token in line:
        if runs and not token.emoji and not runs[-1].emoji:
            runs[-1] = _Token(runs[-1].text + token.text, False)
        else:
            runs.append(token)
    return runs


def _width(run: _Token, font: ImageFont.FreeTypeFont, emoji_height: int) -> float:
    if run.emoji:
        return emoji_image(run.text, emoji_height).width
    return font.getlength(run.text)


def _wrap(tokens: list[_Token], font: ImageFont.FreeTypeFont, emoji_height: int,
          width: float) -> list[list[_Token]]:
    """Lines no wider than ``width``: broken at spaces in Latin text, anywhere between CJK
    characters and emoji."""
    lines: list[list[_Token]] = [[]]
    for token in tokens:
        trial = lines[-1] + [token]
        if lines[-1] and _line_width(trial, font, emoji_height) > width and token.text != " ":
            lines.append([token])
        else:
            lines[-1] = trial
    return [_stripped(line) for line in lines if _stripped(line)]


def _stripped(line: list[_Token]) -> list[_Token]:
    while line and line[0].text == " ":
        line = line[1:]
    while line and line[-1].text == " ":
        line = line[:-1]
    return line


def _line_width(line: list[_Token], font: ImageFont.FreeTypeFont, emoji_height: int) -> float:
    return sum(_width(run, font, emoji_height) for run in _runs(line))


# Where a CJK character's ink lies around the baseline, in font sizes: the fonts' own ascent and
# descent leave far more room, which two lines in a sticker's caption box cannot spare.
_INK_TOP, _INK_BOTTOM = 0.86, 0.14


@dataclass(frozen=True)
class CaptionLayout:
    """A caption broken into lines at one font size (pixels)."""

    font: ImageFont.FreeTypeFont
    size: int
    stroke: int
    lines: list[list[_Token]]
    widths: list[float]

    @property
    def emoji_height(self) -> int:
        return round(1.05 * self.size)

    @property
    def pitch(self) -> int:
        """Baseline to baseline: outlines of neighbouring lines must not run into each other."""
        return round(1.1 * self.size) + self.stroke

    @property
    def width(self) -> float:
        return max(self.widths) + 2 * self.stroke

    @property
    def height(self) -> float:
        return self.size + self.pitch * (len(self.lines) - 1) + 2 * self.stroke

    @property
    def text(self) -> list[str]:
        return ["".join(token.text for token in line) for line in self.lines]


def _layout(tokens: list[_Token], font_path: str, size: int, outline_ratio: float,
            width: float) -> CaptionLayout:
    font = _font(font_path, size)
    stroke = max(1, round(size * outline_ratio)) + max(1, round(size * 0.035))
    emoji_height = round(1.05 * size)
    room = width - 2 * stroke
    lines = _wrap(tokens, font, emoji_height, room)
    # Even lines read better than a full one and a stray word: the narrowest width that still
    # needs no more lines.
    narrow, wide = room / 2, room
    for _ in range(6):
        middle = (narrow + wide) / 2
        if len(_wrap(tokens, font, emoji_height, middle)) <= len(lines):
            wide = middle
        else:
            narrow = middle
    lines = _wrap(tokens, font, emoji_height, wide) if len(lines) > 1 else lines
    return CaptionLayout(font, size, stroke, lines,
                         [_line_width(line, font, emoji_height) for line in lines])


def fit_caption(text: str, canvas_size: tuple[int, int], box: tuple[float, float, float, float],
                *, font_path: str, font_size: float, outline_ratio: float = 0.14,
                max_lines: int = 2) -> CaptionLayout | None:
    """The largest layout of ``text`` in ``box`` (fractions of the canvas) of at most
    ``max_lines`` lines, starting at ``font_size`` (a fraction of the canvas height) and not
    below ``MIN_FONT_FRACTION``; text still too long is cut with an ellipsis."""
    tokens = _tokens(text.strip(), font_path)
    if not any(token.text.strip() for token in tokens):
        return None
    width, height = canvas_size
    box_width, box_height = (box[2] - box[0]) * width, (box[3] - box[1]) * height
    smallest = max(8, round(MIN_FONT_FRACTION * height))
    size = max(smallest, round(font_size * height))
    while True:
        layout = _layout(tokens, font_path, size, outline_ratio, box_width)
        fits = (len(layout.lines) <= max_lines and layout.width <= box_width
                and layout.height <= box_height)
        if fits or size <= smallest:
            break
        size = max(smallest, int(size * 0.92))
    if len(layout.lines) > max_lines:
        lines = layout.lines[:max_lines]
        lines[-1] = lines[-1][:-1] + [_Token("…", False)]
        layout = CaptionLayout(layout.font, size, layout.stroke, lines,
                               [_line_width(line, layout.font, layout.emoji_height)
                                for line in lines])
    return layout


def draw_caption(canvas: Image.Image, text: str, box: tuple[float, float, float, float], *,
                 font_path: str, font_size: float, fill: str, outline: str,
                 outline_ratio: float = 0.14, max_lines: int = 2) -> tuple[int, int, int, int] | None:
    """Draw ``text`` centred in ``box`` (fractions of the canvas) on ``canvas`` in place, emoji
    in colour, laid out by ``fit_caption``. Returns the pixel bounding box drawn, or None for
    empty text."""
    layout = fit_caption(text, canvas.size, box, font_path=font_path, font_size=font_size,
                         outline_ratio=outline_ratio, max_lines=max_lines)
    if layout is None:
        return None
    width, height = canvas.size
    left = (box[0] + box[2]) / 2 * width - layout.width / 2
    top = (box[1] + box[3]) / 2 * height - layout.height / 2
    # Every outline first, then every fill, so no line's outline covers another's letters.
    for outline_pass in (True, False):
        _draw_lines(canvas, layout, left, top, fill=fill, outline=outline,
                    outline_pass=outline_pass)
    return (round(left), round(top), round(left + layout.width), round(top + layout.height))


def _draw_lines(canvas: Image.Image, layout: CaptionLayout, left: float, top: float, *,
                fill: str, outline: str, outline_pass: bool) -> None:
    draw = ImageDraw.Draw(canvas)
    # The regular weight is too thin at sticker size: a second, thin stroke in the fill colour
    # makes it bold.
    bold = max(1, round(layout.size * 0.035))
    for index, (line, line_width) in enumerate(zip(layout.lines, layout.widths)):
        x = left + layout.stroke + (layout.width - 2 * layout.stroke - line_width) / 2
        baseline = top + layout.stroke + index * layout.pitch + _INK_TOP * layout.size
        for run in _runs(line):
            if run.emoji:
                picture = emoji_image(run.text, layout.emoji_height)
                # Centred on the middle of the CJK characters around it.
                middle = baseline - (_INK_TOP - _INK_BOTTOM) / 2 * layout.size
                at = (round(x), round(middle - picture.height / 2))
                _paste(canvas, _silhouette(picture, layout.stroke, outline)
                       if outline_pass else picture, at, layout.stroke if outline_pass else 0)
            elif outline_pass:
                draw.text((x, baseline), run.text, font=layout.font, anchor="ls", fill=outline,
                          stroke_width=layout.stroke, stroke_fill=outline)
            else:
                draw.text((x, baseline), run.text, font=layout.font, anchor="ls", fill=fill,
                          stroke_width=bold, stroke_fill=fill)
            x += _width(run, layout.font, layout.emoji_height)


def _silhouette(picture: Image.Image, stroke: int, colour: str) -> Image.Image:
    """The emoji's shape grown by ``stroke`` pixels, in the outline colour."""
    alpha = Image.new("L", (picture.width + 2 * stroke, picture.height + 2 * stroke), 0)
    alpha.paste(picture.getchannel("A"), (stroke, stroke))
    alpha = alpha.filter(ImageFilter.MaxFilter(2 * stroke + 1))
    shape = Image.new("RGBA", alpha.size, colour)
    shape.putalpha(alpha)
    return shape


def _paste(canvas: Image.Image, picture: Image.Image, at: tuple[int, int], grown: int) -> None:
    x, y = at[0] - grown, at[1] - grown
    if x < 0 or y < 0:  # alpha_composite takes no negative offsets: crop instead
        picture = picture.crop((max(0, -x), max(0, -y), picture.width, picture.height))
        x, y = max(0, x), max(0, y)
    if canvas.mode == "RGBA":
        canvas.alpha_composite(picture, (x, y))
    else:
        canvas.paste(picture, (x, y), picture)
