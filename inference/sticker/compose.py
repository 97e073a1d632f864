"""Sticker composition: the cut-out head placed by the template (tilted, scaled), a white
outline and a faint shadow around it, over the template's background and under its frame,
then the caption on top."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from inference.faces import regions
from inference.sticker.caption import draw_caption
from inference.sticker.templates import (Template, background_mask, render_background,
                                         render_frame)


@dataclass(frozen=True)
class Head:
    """The cut-out head in crop pixels: premultiplied RGBA float32, and the box that placement
    scales to the template's face size. The box comes from the landmarks, not from the cut-out,
    so the face sits in the same place whatever the hair, the overlays or the style do;
    ``extent`` (what is really opaque) only shrinks a head whose big hair would leave the
    sticker."""
    rgba: np.ndarray  # S x S x 4 float32, RGB premultiplied by alpha, 0..1
    box: tuple[float, float, float, float]
    extent: tuple[float, float, float, float]

    @classmethod
    def from_image(cls, head: Image.Image, landmarks: np.ndarray, unit: float) -> "Head":
        rgba = np.asarray(head, np.float32) / 255
        rgba[..., :3] *= rgba[..., 3:]
        box = head_box(landmarks, unit)
        ys, xs = np.nonzero(rgba[..., 3] > 0.5)
        extent = (float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)) \
            if len(xs) else box
        return cls(rgba, box, extent)


def scaled_head(head: Head, factor: float) -> Head:
    """``head`` resampled by ``factor``: placing many frames is cheaper from a smaller source."""
    rgba = cv2.resize(head.rgba, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    return Head(rgba, tuple(v * factor for v in head.box), tuple(v * factor for v in head.extent))


def head_box(landmarks: np.ndarray, unit: float) -> tuple[float, float, float, float]:
    """Where head and hair usually are, from the face's landmarks (a little hair at the sides,
    about 1.5 units of it above the brows, the chin at the bottom)."""
    jaw = landmarks[regions.JAW]
    top = float(landmarks[regions.BROWS, 1].min()) - 1.5 * unit
    bottom = float(jaw[:, 1].max()) + 0.15 * unit
    centre = float(landmarks[regions.NOSE_BRIDGE, 0].mean())
    half = max(float(jaw[:, 0].max() - jaw[:, 0].min()) / 2 + 0.35 * unit, (bottom - top) * 0.4)
    return (centre - half, top, centre + half, bottom)


def place_head(head: Head, template: Template, size: int, *, tilt: float = 0.0,
               offset: tuple[float, float] = (0.0, 0.0), zoom: float = 1.0) -> np.ndarray:
    """The head warped onto a ``size`` canvas: premultiplied RGBA float32."""
    x0, y0, x1, y1 = head.box
    centre = ((x0 + x1) / 2, (y0 + y1) / 2)
    scale = template.face_scale * size / max(y1 - y0, x1 - x0)
    # Keep the top and the sides (hair, sweat drop, sparkles) and their outline on the canvas;
    # the neck may run off the bottom.
    margin = 0.035 * size
    cx, cy = template.face_center[0] * size, template.face_center[1] * size
    left, top, right, _ = head.extent
    for room, reach in ((cy - margin, centre[1] - top), (cx - margin, centre[0] - left),
                        (size - margin - cx, right - centre[0])):
        if reach > 0 and room > 0:
            scale = min(scale, room / reach)
    scale *= zoom
    matrix = cv2.getRotationMatrix2D(centre, tilt, scale)
    matrix[0, 2] += template.face_center[0] * size + offset[0] * size - centre[0]
    matrix[1, 2] += template.face_center[1] * size + offset[1] * size - centre[1]
    # Shrinking a lot at once aliases; pre-shrink with INTER_AREA to about twice the target.
    source = head.rgba
    if scale < 0.5:
        factor = scale * 2
        source = cv2.resize(source, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        matrix[:, :2] /= factor
    return cv2.warpAffine(source, matrix, (size, size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def outline_and_shadow(placed: np.ndarray, size: int) -> np.ndarray:
    """White outline and soft shadow under the placed head: premultiplied RGBA float32."""
    alpha = np.round(placed[..., 3] * 255).astype(np.uint8)
    radius = max(2, round(0.022 * size))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1,) * 2)
    ring = cv2.GaussianBlur(cv2.dilate(alpha, kernel), (0, 0), max(0.6, size / 400))
    ring = ring.astype(np.float32) / 255
    # The shadow is a blur: a quarter of the pixels give the same picture.
    small = cv2.resize(ring, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), radius * 0.4) * 0.35
    shift = np.float32([[1, 0, 0], [0, 1, radius * 0.25]])  # light from above
    small = cv2.warpAffine(small, shift, (size // 2, size // 2))
    shadow = cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR)
    out = np.zeros((size, size, 4), np.float32)
    out[..., 3] = shadow
    # White ring over the shadow ("over" with premultiplied colour).
    out = ring[..., None] * np.array((1, 1, 1, 1), np.float32) + out * (1 - ring[..., None])
    return out


def _over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return top + bottom * (1 - top[..., 3:])


def _premultiplied(image: Image.Image) -> np.ndarray:
    array = np.asarray(image.convert("RGBA"), np.float32) / 255
    array[..., :3] *= array[..., 3:]
    return array


def _to_image(premultiplied: np.ndarray) -> Image.Image:
    alpha = premultiplied[..., 3:]
    array = np.empty_like(premultiplied)
    np.divide(premultiplied[..., :3], np.maximum(alpha, 1e-4), out=array[..., :3])
    array[..., 3:] = alpha
    array *= 255
    array += 0.5
    np.clip(array, 0, 255, out=array)
    return Image.fromarray(array.astype(np.uint8), "RGBA")


def compose_layers(head: Head, template: Template, size: int, *, tilt: float = 0.0,
                   offset: tuple[float, float] = (0.0, 0.0), zoom: float = 1.0) -> Image.Image:
    """Background, shadow, outline, head and frame, without the caption."""
    placed = place_head(head, template, size, tilt=tilt, offset=offset, zoom=zoom)
    canvas = _over(placed, outline_and_shadow(placed, size))
    background = render_background(template.background, size)
    if background is not None:
        clip = background_mask(template.frame, size)
        if clip is not None:
            background.putalpha(Image.fromarray(np.minimum(
                np.asarray(background.getchannel("A")), np.asarray(clip))))
        canvas = _over(canvas, _premultiplied(background))
    frame = render_frame(template.frame, size)
    if frame is not None:
        canvas = _over(_premultiplied(frame), canvas)
    return _to_image(canvas)


def caption_layer(text: str, template: Template, size: int, font_path: str) -> Image.Image | None:
    """The caption alone on a transparent canvas, drawn at ``size`` so it stays crisp."""
    if not text.strip():
        return None
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw_caption(layer, text, template.caption_box, font_path=font_path,
                 font_size=template.font_size, fill=template.fill, outline=template.outline,
                 max_lines=template.caption_lines)
    return layer


def sticker_compose(head: Head, template: Template, size: int, *, caption: str,
                    font_path: str | None, tilt: float = 0.0) -> Image.Image:
    """One still sticker of ``size`` x ``size``."""
    image = compose_layers(head, template, size, tilt=tilt)
    layer = caption_layer(caption, template, size, font_path) if font_path else None
    return Image.alpha_composite(image, layer) if layer is not None else image
