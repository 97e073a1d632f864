"""Hair in six drawn shapes (short, bob, long, ponytail, twin tails, spiky): a back mass behind
the body, and in front a cap with pointed bangs and side locks; each shaded darker at the roots
and under the strands, with a ring of highlight across the crown and an inked edge.
"""
from __future__ import annotations

import numpy as np

from inference.voice.illustrate.canvas import (Canvas, Colour, arc, bezier, ellipse, light, mix,
                                               shade)
from inference.voice.illustrate.character import Figure

STYLES = ("short", "bob", "long", "ponytail", "twintails", "spiky")


def _strand(root: tuple[float, float], tip: tuple[float, float], width: float,
            bend: float) -> np.ndarray:
    """A pointed lock: two curves from a root of ``width`` meeting at ``tip``."""
    (rx, ry), (tx, ty) = root, tip
    mx, my = (rx + tx) / 2 + bend, (ry + ty) / 2
    left = bezier((rx - width / 2, ry), (mx - width * 0.45, my), (tx, ty), count=16)
    right = bezier((tx, ty), (mx + width * 0.45, my), (rx + width / 2, ry), count=16)
    return np.concatenate([left, right])


def back(canvas: Canvas, f: Figure, style: str, colour: Colour, rng: np.random.Generator) -> None:
    """What is behind the head and shoulders: long hair, a ponytail, twin tails."""
    w, dark = f.half_width, shade(colour, 0.8)
    shapes = []
    if style == "long":
        top = arc(f.at(0, -20), (w + 30, f.chin + 20), 180, 360)
        right = bezier(f.at(w + 30, -20), f.at(w + 80, 160), f.at(w + 60, 330),
                       f.at(w + 50, 430))
        left = bezier(f.at(-w - 50, 430), f.at(-w - 60, 330), f.at(-w - 80, 160),
                      f.at(-w - 30, -20))
        bottom = np.array([f.at(x, 400) for x in np.linspace(w + 40, -w - 40, 7)])
        shapes.append(np.concatenate([top, right, bottom, left]))
        for x in np.linspace(-w - 35, w + 35, 7):  # pointed tips along the bottom
            tip = f.at(x * 1.05 + rng.uniform(-8, 8), 455 + rng.uniform(-20, 25))
            shapes.append(_strand((f.at(x, 330)), tip, 62, rng.uniform(-15, 15)))
    elif style == "bob":
        shapes.append(np.concatenate([arc(f.at(0, 0), (w + 34, f.chin + 10), 180, 360),
                                      bezier(f.at(w + 34, 0), f.at(w + 40, 150),
                                             f.at(w - 10, 175)),
                                      bezier(f.at(-w + 10, 175), f.at(-w - 40, 150),
                                             f.at(-w - 34, 0))]))
        if f.old and f.feminine:  # a grandmother's bun
            shapes.append(ellipse(f.at(0, -f.chin * 1.12), (w * 0.5, w * 0.42)))
    elif style == "ponytail":
        root = f.at(w * 0.75, -f.chin * 0.85)
        shapes.append(np.concatenate([
            bezier(root, f.at(w + 150, -f.chin * 0.7), f.at(w + 160, 120), f.at(w + 70, 330)),
            bezier(f.at(w + 40, 300), f.at(w + 90, 100), f.at(w + 70, -60),
                   f.at(w * 0.5, -f.chin * 0.7))]))
    elif style == "twintails":
        for side in (-1, 1):
            root = f.at(side * w * 0.9, -f.chin * 0.6)
            shapes.append(np.concatenate([
                bezier(root, f.at(side * (w + 140), -60), f.at(side * (w + 150), 260),
                       f.at(side * (w + 60), 460)),
                bezier(f.at(side * (w + 30), 420), f.at(side * (w + 70), 220),
                       f.at(side * (w + 50), 0), f.at(side * w * 0.6, -f.chin * 0.5))]))
    if not shapes:
        return
    cover = canvas.coverage(shapes)
    canvas.fill(shapes, dark)
    canvas.ellipse(f.at(-w * 0.4, 120), (w * 0.5, 200), light(dark, 0.18), opacity=0.5, blur=16,
                   clip=cover)
    canvas.ellipse(f.at(0, 380), (w * 2.2, 200), shade(colour, 0.55), opacity=0.5, blur=30,
                   clip=cover)
    for x in np.linspace(-w - 40, w + 40, 9):  # strand lines
        canvas.stroke(bezier(f.at(x * 0.6, 0), f.at(x, 200), f.at(x * 1.05, 420)),
                      light(dark, 0.25), 3, opacity=0.5, taper=True, clip=cover)
    canvas.outline(cover, shade(colour, 0.35), 3, 0.9)
    if style in ("ponytail", "twintails"):  # the hair ties
        sides = (1,) if style == "ponytail" else (-1, 1)
        for side in sides:
            x = w * (0.82 if style == "ponytail" else 0.95)
            canvas.ellipse(f.at(side * (x + 22), -f.chin * 0.7), (16, 12), (0.95, 0.35, 0.45))


def front(canvas: Canvas, f: Figure, style: str, colour: Colour, face_cover: np.ndarray,
          rng: np.random.Generator) -> np.ndarray:
    """The cap, bangs and side locks over the face; returns their coverage."""
    w, c = f.half_width, f.chin
    cap = arc(f.at(0, -6), (w + 24, c + 14), 180, 360, 48)
    hairline = bezier(f.at(w + 24, 10), f.at(w * 0.7, -c * 0.7), f.at(-w * 0.7, -c * 0.7),
                      f.at(-w - 24, 10))
    shapes = [np.concatenate([cap, hairline])]
    count = 7 if style != "spiky" else 6
    for k in range(count):  # bangs: pointed locks over the forehead, longer at the sides
        t = (k + 0.5) / count * 2 - 1
        tip_y = (0.02 + 0.24 * abs(t) ** 1.6) * c + rng.uniform(-14, 10) - (18 if k % 2 else 0)
        root = f.at(t * w * 0.6, -c * 0.75)
        tip = f.at(t * w * 1.02 + rng.uniform(-6, 6) - 10, tip_y + (20 if f.adult else 0))
        shapes.append(_strand(root, tip, 2.3 * w / count + 16 + rng.uniform(-6, 8), -t * 25 - 8))
    for side in (-1, 1):  # side locks down past the cheeks
        length = {"long": 200, "bob": 150, "twintails": 170, "ponytail": 150}.get(style, 90)
        shapes.append(_strand(f.at(side * (w - 6), -c * 0.3),
                              f.at(side * (w - 18), length * (0.8 if f.adult else 1.0)), 50,
                              side * 18))
    if style == "spiky":
        for k in range(9):
            angle = np.radians(200 + k * 17.5)
            base = np.array(f.at(np.cos(angle) * (w + 8), np.sin(angle) * (c + 6) - 8))
            out = base + np.array([np.cos(angle), np.sin(angle)]) * rng.uniform(45, 70)
            shapes.append(_strand(tuple(base), tuple(out), 60, rng.uniform(-12, 12)))
    cover = canvas.coverage(shapes)
    canvas.fill(shapes, colour)
    # Darker at the roots and under the crown, a highlight ring, strand lines.
    canvas.ellipse(f.at(0, -c * 0.95), (w * 1.1, c * 0.35), shade(colour, 0.78), opacity=0.7,
                   blur=14, clip=cover)
    for k in range(count):
        t = (k + 1.0) / count * 2 - 1
        canvas.stroke(bezier(f.at(t * w * 0.55, -c * 0.7), f.at(t * w * 0.85, -c * 0.25),
                             f.at(t * w * 1.0, 0.05 * c)), shade(colour, 0.65), 5, opacity=0.75,
                      taper=True)
    # Highlights on dark hair read as sheen only when cool; on light hair, as paler hair.
    ring = mix(light(colour, 0.45), (0.75, 0.85, 1.0), 0.35 if sum(colour) < 1.2 else 0.0)
    for k in range(15):  # the "angel ring": short bright strokes along the crown's curve
        t = (k + 0.5) / 15 * 2 - 1
        x, y = f.at(t * w * 0.95, -c * 0.72 + abs(t) ** 2 * c * 0.22)
        length = 16 + 8 * (k % 2)
        canvas.stroke(bezier((x - 2, y - length), (x, y), (x + 2, y + length * 0.6)), ring, 6,
                      opacity=0.55, taper=True)
    canvas.outline(cover, shade(colour, 0.35), 3, 0.95)
    # The hair's shadow on the forehead, a little below its edge.
    shadow = np.clip(np.roll(cover, 14, axis=0) - cover, 0, 1) * face_cover
    canvas.blend(shadow, (0, 0, canvas.size, canvas.size), (0.93, 0.62, 0.58), 0.45)
    return cover
