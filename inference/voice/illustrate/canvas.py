"""Drawing primitives for the illustrator: antialiased shapes blended into a float RGB canvas.

Everything is drawn at the final size with OpenCV's antialiased fills, and each shape is blended
only inside its own bounding box: a picture is a few hundred shapes, and full-frame masks for
each would cost more than the whole time allowed for a picture.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

SIZE = 768
Colour = tuple[float, float, float]
_SHIFT = 4  # sub-pixel bits for OpenCV's fills: smoother curves than whole pixels


def rgb(hex_colour: str) -> Colour:
    value = hex_colour.lstrip("#")
    return tuple(int(value[i:i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def mix(a: Colour, b: Colour, t: float) -> Colour:
    return tuple(x + (y - x) * t for x, y in zip(a, b))  # type: ignore[return-value]


def shade(colour: Colour, factor: float) -> Colour:
    """Darker (factor < 1) with a slight shift towards purple-blue, as painted shadows do."""
    dark = tuple(c * factor for c in colour)
    # Deepen the saturation a little as well, so a blonde's shadow is amber, not olive.
    grey = sum(dark) / 3.0
    rich = tuple(min(1.0, max(0.0, grey + (c - grey) * 1.25)) for c in dark)
    return mix(rich, (0.3 * factor, 0.2 * factor, 0.45 * factor), 0.1)  # type: ignore[arg-type]


def light(colour: Colour, t: float) -> Colour:
    return mix(colour, (1.0, 1.0, 1.0), t)


class Canvas:
    """A float32 RGB image in [0, 1] with shape-blending helpers."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self.image = np.zeros((size, size, 3), np.float32)

    def _box(self, points: np.ndarray, margin: int) -> tuple[int, int, int, int] | None:
        x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
        x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, self.size), min(y1, self.size)
        return None if x0 >= x1 or y0 >= y1 else (x0, y0, x1, y1)

    def mask(self, polygons: list[np.ndarray], blur: float = 0.0
             ) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
        """The antialiased coverage (0..1) of ``polygons`` in their bounding box, and the box."""
        points = np.concatenate([np.asarray(p, np.float32).reshape(-1, 2) for p in polygons])
        margin = int(math.ceil(blur * 3)) + 2
        box = self._box(points, margin)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        # Very soft shapes are drawn and blurred at a quarter of the size: the same look, and
        # a wide blur at full size would cost more than all the rest of the picture.
        scale = 0.25 if blur >= 8 else 1.0
        height, width = max(1, round((y1 - y0) * scale)), max(1, round((x1 - x0) * scale))
        coverage = np.zeros((height, width), np.uint8)
        scaled = [np.round((np.asarray(p, np.float32).reshape(-1, 2) - (x0, y0)) * scale
                           * (1 << _SHIFT)).astype(np.int32) for p in polygons]
        for polygon in scaled:  # one call each: a single call would cancel where they overlap
            cv2.fillPoly(coverage, [polygon], 255, cv2.LINE_AA, shift=_SHIFT)
        alpha = coverage.astype(np.float32) / 255.0
        if blur > 0:
            alpha = cv2.GaussianBlur(alpha, (0, 0), blur * scale)
        if scale != 1.0:
            alpha = cv2.resize(alpha, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        return alpha, box

    def blend(self, alpha: np.ndarray, box: tuple[int, int, int, int],
              colour: Colour | np.ndarray, opacity: float = 1.0) -> None:
        x0, y0, x1, y1 = box
        region = self.image[y0:y1, x0:x1]
        paint = colour[y0:y1, x0:x1] if isinstance(colour, np.ndarray) and colour.ndim == 3 \
            else np.asarray(colour, np.float32)
        weight = (alpha * opacity)[..., None]
        region += (paint - region) * weight

    def fill(self, polygons: list[np.ndarray] | np.ndarray, colour: Colour | np.ndarray,
             opacity: float = 1.0, blur: float = 0.0, clip: np.ndarray | None = None) -> None:
        """Fill ``polygons`` with a colour or a full-canvas colour image, optionally only where
        the full-canvas coverage ``clip`` allows."""
        if isinstance(polygons, np.ndarray):
            polygons = [polygons]
        found = self.mask(polygons, blur)
        if found is None:
            return
        alpha, box = found
        if clip is not None:
            x0, y0, x1, y1 = box
            alpha = alpha * clip[y0:y1, x0:x1]
        self.blend(alpha, box, colour, opacity)

    def coverage(self, polygons: list[np.ndarray] | np.ndarray, blur: float = 0.0) -> np.ndarray:
        """Full-canvas coverage of ``polygons`` (for clipping later shapes to them)."""
        if isinstance(polygons, np.ndarray):
            polygons = [polygons]
        full = np.zeros((self.size, self.size), np.float32)
        found = self.mask(polygons, blur)
        if found is not None:
            alpha, (x0, y0, x1, y1) = found
            full[y0:y1, x0:x1] = alpha
        return full

    def stroke(self, points: np.ndarray, colour: Colour, width: float, opacity: float = 1.0,
               closed: bool = False, taper: bool = False, clip: np.ndarray | None = None) -> None:
        """A line along ``points``; ``taper`` thins it towards both ends like an inked stroke."""
        outline = stroke_outline(np.asarray(points, np.float32), width, closed, taper)
        self.fill(outline, colour, opacity, clip=clip)

    def ellipse(self, centre: tuple[float, float], axes: tuple[float, float], colour: Colour,
                angle: float = 0.0, opacity: float = 1.0, blur: float = 0.0,
                clip: np.ndarray | None = None) -> None:
        self.fill(ellipse(centre, axes, angle), colour, opacity, blur, clip)

    def outline(self, coverage: np.ndarray, colour: Colour, width: int = 3,
                opacity: float = 1.0) -> None:
        """An inked line just outside the shape whose full-canvas coverage is given."""
        rows, columns = np.nonzero(coverage.any(axis=1))[0], np.nonzero(coverage.any(axis=0))[0]
        if rows.size == 0:
            return
        box = (max(columns[0] - width, 0), max(rows[0] - width, 0),
               min(columns[-1] + width + 1, self.size), min(rows[-1] + width + 1, self.size))
        inside = coverage[box[1]:box[3], box[0]:box[2]]
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
        ring = np.clip(cv2.dilate(inside, kernel) - inside, 0.0, 1.0)
        self.blend(ring, box, colour, opacity)

    def to_uint8(self) -> np.ndarray:
        return (np.clip(self.image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def ellipse(centre: tuple[float, float], axes: tuple[float, float], angle: float = 0.0,
            start: float = 0.0, end: float = 360.0, count: int = 48) -> np.ndarray:
    t = np.radians(np.linspace(start, end, count, endpoint=end - start < 360))
    a = math.radians(angle)
    x, y = axes[0] * np.cos(t), axes[1] * np.sin(t)
    return np.stack([centre[0] + x * math.cos(a) - y * math.sin(a),
                     centre[1] + x * math.sin(a) + y * math.cos(a)], axis=1).astype(np.float32)


def arc(centre: tuple[float, float], axes: tuple[float, float], start: float, end: float,
        count: int = 40, angle: float = 0.0) -> np.ndarray:
    """Points along part of an ellipse, from ``start`` to ``end`` degrees (0 = +x, 90 = down)."""
    return ellipse(centre, axes, angle, start, end, count)


def bezier(*controls: tuple[float, float], count: int = 24) -> np.ndarray:
    """Points along a Bézier curve of any degree (de Casteljau)."""
    points = np.asarray(controls, np.float32)
    t = np.linspace(0.0, 1.0, count, dtype=np.float32)[:, None, None]
    layer = np.broadcast_to(points, (count, *points.shape)).copy()
    while layer.shape[1] > 1:
        layer = layer[:, :-1] * (1 - t) + layer[:, 1:] * t
    return layer[:, 0]


def stroke_outline(points: np.ndarray, width: float, closed: bool, taper: bool) -> np.ndarray:
    """The polygon of a line of ``width`` along ``points``."""
    if closed:
        points = np.concatenate([points, points[:1]])
    direction = np.gradient(points, axis=0)
    norm = np.linalg.norm(direction, axis=1, keepdims=True)
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1) / np.maximum(norm, 1e-6)
    half = np.full((len(points), 1), width / 2.0, np.float32)
    if taper:
        s = np.linspace(0.0, 1.0, len(points))[:, None]
        half *= 0.25 + 0.75 * np.sin(np.pi * s)
    return np.concatenate([points + normal * half, (points - normal * half)[::-1]])


def vertical_gradient(stops: list[tuple[float, Colour]], size: int = SIZE) -> np.ndarray:
    """A full-canvas image whose colour runs through ``stops`` (position 0..1, colour) top down."""
    positions = np.array([p for p, _ in stops], np.float32)
    colours = np.array([c for _, c in stops], np.float32)
    y = np.linspace(0.0, 1.0, size, dtype=np.float32)
    column = np.stack([np.interp(y, positions, colours[:, k]) for k in range(3)], axis=1)
    return np.broadcast_to(column[:, None, :], (size, size, 3)).copy()
