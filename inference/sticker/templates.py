"""Sticker templates: where the head and the caption go, in which colours, over which
background and under which frame. Built-in ones are JSON specs in ``templates/stickers/``;
admin-made ones come from the backend as dicts plus PIL images."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw

from inference.errors import InferenceError

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "templates" / "stickers"

# A background or frame is None, a PIL image, or a spec drawn by code:
#   "#rrggbb" / "#rrggbbaa"                          flat colour
#   {"gradient": [top, bottom]}                      vertical gradient
#   {"radial": [centre, edge]}                       radial gradient
#   {"burst": [colour_a, colour_b], "rays": 16}      comic sunburst
#   frame: {"border": colour, "width": 0.04, "radius": 0.12}   rounded border (fractions)


@dataclass
class Template:
    id: str
    name: str
    kind: str = "sticker"
    background: object = None
    frame: object = None
    caption_box: tuple[float, float, float, float] = (0.03, 0.76, 0.97, 0.985)
    font_size: float = 0.16  # fraction of the canvas height, shrunk to fit the box
    fill: str = "#ffffff"
    outline: str = "#1a1a1a"
    caption_lines: int = 2
    face_center: tuple[float, float] = (0.5, 0.43)
    face_scale: float = 0.8  # head-and-hair height as a fraction of the canvas
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict. Image backgrounds and frames become the string "image": the
        backend stores the image itself and hands it back to ``from_dict``."""
        data = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Image.Image):
                value = "image"
            elif isinstance(value, tuple):
                value = list(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict, *, background: Image.Image | None = None,
                  frame: Image.Image | None = None) -> "Template":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InferenceError(f"Unknown sticker template fields: {', '.join(sorted(unknown))}.",
                                 code="bad_template")
        values = dict(data)
        for name in ("caption_box", "face_center"):
            if name in values:
                values[name] = tuple(float(v) for v in values[name])
        if background is not None or values.get("background") == "image":
            values["background"] = background
        if frame is not None or values.get("frame") == "image":
            values["frame"] = frame
        template = cls(**values)
        template.validate()
        return template

    def validate(self) -> None:
        x0, y0, x1, y1 = self.caption_box
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise InferenceError("A template's caption box must lie inside the sticker, as "
                                 "fractions (left, top, right, bottom).", code="bad_template")
        if not (0.2 <= self.face_scale <= 1.5) or not (0.02 <= self.font_size <= 0.5):
            raise InferenceError("A template's face scale must be 0.2-1.5 and its font size "
                                 "0.02-0.5 of the sticker.", code="bad_template")
        for colour in (self.fill, self.outline):
            try:
                ImageColor.getrgb(colour)
            except (ValueError, AttributeError) as error:
                raise InferenceError(f"Template colour {colour!r} is not a colour; use #rrggbb.",
                                     code="bad_template") from error


def _rgba(colour) -> tuple[int, int, int, int]:
    rgba = ImageColor.getcolor(colour, "RGBA")
    return tuple(rgba)


def render_background(spec, size: int) -> Image.Image | None:
    """The background as an RGBA image of ``size``, or None for a transparent sticker."""
    if spec is None:
        return None
    if isinstance(spec, Image.Image):
        return _cover(spec, size)
    if isinstance(spec, str):
        return Image.new("RGBA", (size, size), _rgba(spec))
    if "gradient" in spec or "radial" in spec:
        radial = "radial" in spec
        a, b = (_rgba(c) for c in spec["radial" if radial else "gradient"])
        ramp = Image.linear_gradient("L") if not radial else Image.radial_gradient("L")
        ramp = ramp.resize((size, size))
        return Image.composite(Image.new("RGBA", (size, size), b),
                               Image.new("RGBA", (size, size), a), ramp)
    if "burst" in spec:
        a, b = (_rgba(c) for c in spec["burst"])
        rays = int(spec.get("rays", 16))
        image = Image.new("RGBA", (size, size), a)
        draw = ImageDraw.Draw(image)
        centre = size / 2
        reach = size
        for k in range(rays):
            start = 2 * math.pi * k / rays
            end = start + math.pi / rays
            draw.polygon([(centre, centre),
                          (centre + reach * math.cos(start), centre + reach * math.sin(start)),
                          (centre + reach * math.cos(end), centre + reach * math.sin(end))], fill=b)
        return image
    raise InferenceError(f"Unknown sticker background spec {spec!r}.", code="bad_template")


def render_frame(spec, size: int) -> Image.Image | None:
    """The frame as an RGBA overlay of ``size``, or None."""
    if spec is None:
        return None
    if isinstance(spec, Image.Image):
        return _cover(spec, size)
    if "border" in spec:
        width = max(1, round(float(spec.get("width", 0.04)) * size))
        radius = round(float(spec.get("radius", 0.12)) * size)
        image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
        ImageDraw.Draw(image).rounded_rectangle((width // 2, width // 2, size - 1 - width // 2,
                                                 size - 1 - width // 2), radius=radius,
                                                outline=_rgba(spec["border"]), width=width)
        return image
    raise InferenceError(f"Unknown sticker frame spec {spec!r}.", code="bad_template")


def background_mask(spec, size: int) -> Image.Image | None:
    """For a rounded frame, the inside of the frame: the background is clipped to it."""
    if isinstance(spec, dict) and "border" in spec:
        radius = round(float(spec.get("radius", 0.12)) * size)
        mask = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask).rounded_rectangle((0, 0, size - 1, size - 1), radius=radius, fill=255)
        return mask
    return None


def _cover(image: Image.Image, size: int) -> Image.Image:
    """Scale and centre-crop ``image`` to fill a square of ``size``."""
    image = image.convert("RGBA")
    scale = size / min(image.size)
    resized = image.resize((max(size, round(image.width * scale)),
                            max(size, round(image.height * scale))), Image.LANCZOS)
    left = (resized.width - size) // 2
    top = (resized.height - size) // 2
    return resized.crop((left, top, left + size, top + size))


DEFAULT_TEMPLATE = Template(id="classic", name="经典透明")


def builtin_templates() -> list[Template]:
    """The templates shipped with the code, default first."""
    templates = {DEFAULT_TEMPLATE.id: DEFAULT_TEMPLATE}
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        template = Template.from_dict(json.loads(path.read_text(encoding="utf-8")))
        templates[template.id] = template
    return sorted(templates.values(), key=lambda t: (t.id != DEFAULT_TEMPLATE.id, t.id))


def template_by_id(template_id: str) -> Template:
    for template in builtin_templates():
        if template.id == template_id:
            return template
    raise InferenceError(f"No built-in sticker template {template_id!r}; choose one of "
                         f"{', '.join(t.id for t in builtin_templates())}.", code="bad_template")
