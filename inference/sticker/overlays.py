"""Cartoon touches drawn onto the cut-out head, placed by its landmarks: tears, blush, a
sweat drop, an anger mark and sparkles. Each draws into an RGBA layer the size of the head
crop, so it turns and bounces with the head."""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageDraw

_SUPERSAMPLE = 2


def _layer(size: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", (size * _SUPERSAMPLE,) * 2, (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _pt(point, s=_SUPERSAMPLE) -> tuple[float, float]:
    return float(point[0]) * s, float(point[1]) * s


def _done(layer: Image.Image, size: int) -> Image.Image:
    return layer.resize((size, size), Image.LANCZOS)


def tears(size: int, landmarks: np.ndarray, unit: float) -> Image.Image:
    """Two streams running from the lower lids down the cheeks, with a drop at each end."""
    layer, draw = _layer(size)
    s = _SUPERSAMPLE
    width = 0.12 * unit * s
    for lower_lid in ((40, 41), (46, 47)):
        start = landmarks[list(lower_lid)].mean(axis=0) + (0, 0.03 * unit)
        end = start + (0, 0.75 * unit)
        x0, y0 = _pt(start)
        x1, y1 = _pt(end)
        draw.rounded_rectangle((x0 - width / 2, y0, x0 + width / 2, y1), radius=width / 2,
                               fill=(120, 200, 255, 215), outline=(40, 120, 220, 255),
                               width=max(2, round(width * 0.18)))
        r = width * 0.9
        draw.ellipse((x1 - r, y1 - r * 0.6, x1 + r, y1 + r * 1.2), fill=(120, 200, 255, 230),
                     outline=(40, 120, 220, 255), width=max(2, round(width * 0.18)))
        draw.ellipse((x0 - width * 0.25, y0 + width, x0 + width * 0.05, y1 - width),
                     fill=(255, 255, 255, 170))
    return _done(layer, size)


def blush(size: int, landmarks: np.ndarray, unit: float) -> Image.Image:
    """Soft pink ovals on both cheeks with three short strokes on each, anime style."""
    layer, draw = _layer(size)
    s = _SUPERSAMPLE
    # The ovals are blurred anyway: drawn and blurred at 1x with OpenCV, which is much cheaper.
    ovals = np.zeros((size, size), np.uint8)
    rx, ry = 0.28 * unit, 0.14 * unit
    for eye, jaw in (((36, 41), 2), ((45, 46), 14)):
        cheek = landmarks[list(eye)].mean(axis=0) * 0.45 + landmarks[jaw] * 0.2 + \
            landmarks[31 if jaw == 2 else 35] * 0.35 + (0, 0.12 * unit)
        cv2.ellipse(ovals, (round(cheek[0]), round(cheek[1])), (round(rx), round(ry)), 0, 0, 360,
                    150, -1, cv2.LINE_AA)
        cx, cy = _pt(cheek)
        for k in (-1, 0, 1):
            x = cx + k * rx * s * 0.45
            draw.line((x + rx * s * 0.12, cy - ry * s * 0.5, x - rx * s * 0.12, cy + ry * s * 0.5),
                      fill=(230, 60, 90, 220), width=max(2, round(0.025 * unit * s)))
    ovals = cv2.GaussianBlur(ovals, (0, 0), 0.06 * unit)
    pink = np.zeros((size, size, 4), np.uint8)
    pink[..., :3] = (255, 80, 110)
    pink[..., 3] = ovals
    return Image.alpha_composite(Image.fromarray(pink, "RGBA"), _done(layer, size))


def sweat(size: int, landmarks: np.ndarray, unit: float) -> Image.Image:
    """A big blue drop beside the forehead on the viewer's right."""
    layer, draw = _layer(size)
    s = _SUPERSAMPLE
    anchor = landmarks[26] + (0.25 * unit, -0.35 * unit)
    cx, cy = _pt(anchor)
    r = 0.22 * unit * s
    tip = (cx, cy - 2.4 * r)
    outline = max(2, round(0.03 * unit * s))
    draw.polygon([tip, (cx - r * 0.92, cy - r * 0.35), (cx + r * 0.92, cy - r * 0.35)],
                 fill=(150, 215, 255, 255))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(150, 215, 255, 255))
    draw.line([tip, (cx - r * 0.95, cy - r * 0.3)], fill=(40, 110, 210, 255), width=outline)
    draw.line([tip, (cx + r * 0.95, cy - r * 0.3)], fill=(40, 110, 210, 255), width=outline)
    draw.arc((cx - r, cy - r, cx + r, cy + r), -20, 200, fill=(40, 110, 210, 255), width=outline)
    draw.ellipse((cx - r * 0.55, cy - r * 0.3, cx - r * 0.15, cy + r * 0.35),
                 fill=(255, 255, 255, 230))
    return _done(layer, size)


def anger(size: int, landmarks: np.ndarray, unit: float) -> Image.Image:
    """The red cross-vein mark (💢) on the forehead, viewer's left."""
    layer, draw = _layer(size)
    s = _SUPERSAMPLE
    centre = landmarks[19] + (-0.3 * unit, -0.8 * unit)
    cx, cy = _pt(centre)
    r = 0.4 * unit * s
    width = max(3, round(0.13 * unit * s))
    # Four bent strokes, one per quadrant, each with its bend pointing at the centre.
    for colour, stroke in (((255, 255, 255, 255), width + 2 * max(2, width // 3)),
                           ((230, 30, 40, 255), width)):
        for qx, qy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            a = (cx + qx * 0.22 * r, cy + qy * 1.0 * r)
            bend = (cx + qx * 0.22 * r, cy + qy * 0.22 * r)
            b = (cx + qx * 1.0 * r, cy + qy * 0.22 * r)
            curve = [((1 - t) ** 2 * a[0] + 2 * (1 - t) * t * bend[0] + t * t * b[0],
                      (1 - t) ** 2 * a[1] + 2 * (1 - t) * t * bend[1] + t * t * b[1])
                     for t in np.linspace(0, 1, 12)]
            draw.line(curve, fill=colour, width=stroke, joint="curve")
            for end in (curve[0], curve[-1]):
                half = stroke / 2
                draw.ellipse((end[0] - half, end[1] - half, end[0] + half, end[1] + half),
                             fill=colour)
    return _done(layer, size)


def sparkle(size: int, landmarks: np.ndarray, unit: float) -> Image.Image:
    """Three four-pointed yellow stars around the head."""
    layer, draw = _layer(size)
    s = _SUPERSAMPLE
    spots = ((landmarks[0] + (-0.45 * unit, -0.9 * unit), 0.28),
             (landmarks[16] + (0.4 * unit, -1.2 * unit), 0.36),
             (landmarks[16] + (0.45 * unit, 0.1 * unit), 0.2))
    for point, radius in spots:
        cx, cy = _pt(point)
        r = radius * unit * s
        star = []
        for k in range(8):
            angle = math.pi / 4 * k - math.pi / 2
            reach = r if k % 2 == 0 else r * 0.28
            star.append((cx + reach * math.cos(angle), cy + reach * math.sin(angle)))
        draw.polygon(star, fill=(255, 215, 40, 255), outline=(255, 150, 0, 255),
                     width=max(2, round(0.02 * unit * s)))
    return _done(layer, size)


DRAWERS = {"tears": tears, "blush": blush, "sweat": sweat, "anger": anger, "sparkle": sparkle}


def draw_overlays(head: Image.Image, names: tuple[str, ...], landmarks: np.ndarray,
                  unit: float) -> Image.Image:
    """``head`` (RGBA, square) with the named overlays composited on top."""
    for name in names:
        drawer = DRAWERS.get(name)
        if drawer is not None:
            head = Image.alpha_composite(head, drawer(head.size[0], landmarks, unit))
    return head
