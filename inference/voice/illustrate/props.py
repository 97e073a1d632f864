"""Accessories worn on the head and face, and the props and marks that hint at the action."""
from __future__ import annotations

import numpy as np

from inference.voice.illustrate.canvas import (Canvas, Colour, arc, bezier, ellipse, light, rgb,
                                               shade)
from inference.voice.illustrate.character import INK, Figure

DEFAULT_COLOURS = {
    "glasses": "#3a2d3d", "sunglasses": "#22222e", "hat": "#3d4f7a", "straw hat": "#f0d58c",
    "beanie": "#e0706e", "witch hat": "#3c2f5c", "headphones": "#f2f2f7", "cat ears": None,
    "bunny ears": "#fbfbff", "scarf": "#d9434e", "ribbon": "#ef4f6f", "flower": "#ffb3cf",
    "crown": "#f2c94c",
}


def ears(canvas: Canvas, f: Figure, kind: str, colour: Colour) -> None:
    """Cat or bunny ears, drawn before the hair so that their bases sink into it."""
    for side in (-1, 1):
        if kind == "cat ears":
            base = f.at(side * f.half_width * 0.62, -f.chin * 0.78)
            outer = np.array([(base[0] - side * 52, base[1] + 24),
                              (base[0] + side * 18, base[1] - 98),
                              (base[0] + side * 56, base[1] + 6)])
            inner = (outer - np.array(base)) * 0.62 + np.array(base) + (0, 8)
        else:
            base = f.at(side * f.half_width * 0.38, -f.chin * 0.9)
            outer = ellipse((base[0] + side * 22, base[1] - 110), (30, 100), side * 14)
            inner = ellipse((base[0] + side * 22, base[1] - 104), (15, 80), side * 14)
        canvas.fill(outer, colour)
        canvas.outline(canvas.coverage(outer), shade(colour, 0.35), 3)
        canvas.fill(inner, rgb("#ffb6c6"))


def _band(canvas: Canvas, f: Figure, half_width: float, top: float, bottom: float,
          colour: Colour) -> None:
    """A band across the head (a hat's ribbon, a beanie's cuff), ``top``/``bottom`` from the
    head's centre."""
    canvas.fill(np.array([f.at(-half_width, top), f.at(half_width, top),
                          f.at(half_width, bottom), f.at(-half_width, bottom)]), colour)


def headwear(canvas: Canvas, f: Figure, kind: str, colour: Colour) -> None:
    w, c = f.half_width, f.chin
    if kind == "straw hat":  # worn low, the brim over the bangs
        canvas.ellipse(f.at(0, -c * 0.52), (w * 1.9, 46), shade(colour, 0.85), angle=-4)
        canvas.ellipse(f.at(0, -c * 0.58), (w * 1.85, 40), colour, angle=-4)
        crown = np.concatenate([arc(f.at(0, -c * 0.62), (w * 1.05, c * 0.6), 180, 360),
                                [f.at(w * 1.05, -c * 0.58), f.at(-w * 1.05, -c * 0.58)]])
        canvas.fill(crown, colour)
        _band(canvas, f, w * 1.05, -c * 0.74, -c * 0.6, rgb("#e0475a"))
        canvas.outline(canvas.coverage(crown), shade(colour, 0.5), 3)
    elif kind == "witch hat":
        canvas.ellipse(f.at(0, -c * 0.7), (w * 1.75, 40), colour)
        cone = np.concatenate([bezier(f.at(-w * 0.85, -c * 0.72), f.at(-w * 0.4, -c * 1.4),
                                      f.at(w * 0.6, -c * 2.1)),
                               bezier(f.at(w * 0.6, -c * 2.1), f.at(w * 0.2, -c * 1.5),
                                      f.at(w * 0.85, -c * 0.72))])
        canvas.fill(cone, colour)
        _band(canvas, f, w * 0.85, -c * 0.86, -c * 0.72, rgb("#9b6bd6"))
        canvas.outline(canvas.coverage(cone), light(colour, 0.3), 2)
    elif kind == "beanie":
        dome = arc(f.at(0, -c * 0.62), (w * 1.08, c * 0.62), 180, 360)
        canvas.fill(dome, colour)
        for x in np.linspace(-w * 0.9, w * 0.9, 9):
            canvas.stroke(bezier(f.at(x * 0.5, -c * 1.15), f.at(x, -c * 0.62)), shade(colour, 0.8),
                          4, taper=True)
        _band(canvas, f, w * 1.1, -c * 0.72, -c * 0.5, shade(colour, 0.85))  # the cuff
        canvas.ellipse(f.at(0, -c * 1.27), (30, 28), light(colour, 0.55))
    elif kind == "hat":
        canvas.ellipse(f.at(w * 0.2, -c * 0.55), (w * 1.2, 26), shade(colour, 0.8), angle=-6)
        dome = arc(f.at(0, -c * 0.6), (w * 1.02, c * 0.55), 180, 360)
        canvas.fill(dome, colour)
        canvas.ellipse(f.at(-w * 0.3, -c * 0.95), (w * 0.35, c * 0.12), light(colour, 0.35),
                       opacity=0.7, blur=4)
        canvas.outline(canvas.coverage(dome), shade(colour, 0.45), 3)
    elif kind == "crown":
        points = [f.at(-w * 0.5, -c * 0.8)]
        for k in range(5):
            points += [f.at(-w * 0.5 + k * w * 0.25, -c * 1.18), f.at(-w * 0.375 + k * w * 0.25,
                                                                      -c * 0.98)]
        points[-1] = f.at(w * 0.5, -c * 0.8)
        canvas.fill(np.array(points), colour)
        for k in range(5):
            canvas.ellipse(f.at(-w * 0.5 + k * w * 0.25, -c * 1.2), (7, 7), rgb("#e84a6a"))
    elif kind in ("ribbon", "flower"):
        x, y = f.at(w * 0.8, -c * 0.62)
        if kind == "ribbon":
            for side in (-1, 1):
                canvas.fill(np.array([(x, y), (x + side * 46, y - 30), (x + side * 50, y + 26)]),
                            colour)
            canvas.ellipse((x, y), (12, 12), shade(colour, 0.8))
        else:
            for angle in range(0, 360, 72):
                a = np.radians(angle)
                canvas.ellipse((x + 18 * np.cos(a), y + 18 * np.sin(a)), (15, 15), colour)
            canvas.ellipse((x, y), (9, 9), rgb("#ffd84d"))


def headphones(canvas: Canvas, f: Figure, colour: Colour) -> None:
    w, c = f.half_width, f.chin
    canvas.stroke(arc(f.at(0, -10), (w + 30, c + 12), 185, 355), colour, 20)
    canvas.stroke(arc(f.at(0, -10), (w + 30, c + 12), 185, 355), shade(colour, 0.7), 6)
    for side in (-1, 1):
        canvas.ellipse(f.at(side * (w + 20), 20), (30, 48), shade(colour, 0.8))
        canvas.ellipse(f.at(side * (w + 26), 20), (20, 38), colour)
        canvas.ellipse(f.at(side * (w + 26), 20), (8, 16), rgb("#ff8fb1"))


def glasses(canvas: Canvas, f: Figure, colour: Colour, *, dark: bool) -> None:
    s = f.eye_scale
    for side in (-1, 1):
        ex, ey = f.eye_centre(side)
        lens = ellipse((ex, ey + 2), (44 * s, 38 * s), count=40)
        if dark:
            canvas.fill(lens, colour, opacity=0.88)
        else:
            canvas.fill(lens, rgb("#dff0ff"), opacity=0.15)
        canvas.stroke(lens, colour, 4.5, closed=True)
        canvas.stroke(np.array([(ex - 24 * s, ey - 10), (ex - 6 * s, ey - 26)]), (1, 1, 1), 4,
                      opacity=0.7, taper=True)
        canvas.stroke(np.array([(ex + side * 44 * s, ey - 6), (ex + side * 66, ey - 12)]),
                      colour, 4)  # the temple
    left, right = f.eye_centre(-1), f.eye_centre(1)
    canvas.stroke(bezier((left[0] + 44 * s, left[1] - 4), (f.cx, left[1] - 14),
                         (right[0] - 44 * s, right[1] - 4)), colour, 4)


def scarf(canvas: Canvas, f: Figure, colour: Colour) -> None:
    band = np.concatenate([bezier(f.at(-90, 170), f.at(0, 210), f.at(90, 170)),
                           bezier(f.at(96, 220), f.at(0, 265), f.at(-96, 220))])
    end = np.array([f.at(30, 230), f.at(85, 222), f.at(105, 380), f.at(50, 388)])
    for shape in (end, band):
        canvas.fill(shape, colour)
        cover = canvas.coverage(shape)
        for k in range(3):
            canvas.fill(np.array([f.at(-120, 196 + k * 50), f.at(120, 196 + k * 50),
                                  f.at(120, 210 + k * 50), f.at(-120, 210 + k * 50)]),
                        light(colour, 0.6), clip=cover)
        canvas.outline(cover, shade(colour, 0.45), 3)


def hand(canvas: Canvas, centre: tuple[float, float], angle: float, open_palm: bool,
         skin: Colour) -> None:
    """A small rounded hand: a palm and four fingers (spread when waving)."""
    x, y = centre
    shapes = [ellipse((x, y), (30, 34), angle)]
    for k in range(4):
        a = np.radians(angle - 90 + (k - 1.5) * (18 if open_palm else 9))
        length = 42 if open_palm else 30
        shapes.append(ellipse((x + np.cos(a) * length, y + np.sin(a) * length), (9, 17),
                              np.degrees(a) + 90))
    shapes.append(ellipse((x - 30 * np.cos(np.radians(angle)), y - 8), (9, 16), angle - 40))
    canvas.fill(shapes, skin)
    canvas.outline(canvas.coverage(shapes), INK, 3, 0.7)


def action(canvas: Canvas, f: Figure, name: str | None, sleeve: Colour,
           rng: np.random.Generator) -> None:
    """A prop or a mark for the action: the pose itself stays a bust, with an arm raised to
    wave (its sleeve in the garment's colour)."""
    if name == "reading":
        canvas.fill(np.array([f.at(-170, 312), f.at(0, 338), f.at(170, 312), f.at(176, 470),
                              f.at(0, 486), f.at(-176, 470)]), rgb("#c95b5b"))  # the cover
        for side in (-1, 1):
            page = np.array([f.at(0, 330), f.at(side * 155, 300), f.at(side * 165, 455),
                             f.at(0, 476)])
            canvas.fill(page, (1, 0.99, 0.95))
            canvas.outline(canvas.coverage(page), INK, 3, 0.7)
            for k in range(6):
                y = 340 + k * 20
                canvas.stroke(np.array([f.at(side * 20, y + 4), f.at(side * 135, y - 12)]),
                              rgb("#b7b0c4"), 3, opacity=0.7)
        for side in (-1, 1):
            hand(canvas, f.at(side * 170, 440), side * 20, False, f.skin)
    elif name == "waving":
        canvas.stroke(bezier(f.at(230, 420), f.at(250, 300), f.at(230, 170)), sleeve, 52)
        hand(canvas, f.at(228, 130), 10, True, f.skin)
        for k in range(2):
            canvas.stroke(arc(f.at(228, 130), (70 + k * 18, 70 + k * 18), -60, 10, 12),
                          INK, 3, opacity=0.6, taper=True)
    elif name in ("eating", "drinking"):
        x, y = f.at(150, 330)
        if name == "eating":  # an onigiri
            tri = np.array([(x, y - 60), (x + 56, y + 40), (x - 56, y + 40)])
            canvas.fill(tri, (1, 1, 1))
            canvas.outline(canvas.coverage(tri), INK, 3, 0.6)
            canvas.fill(np.array([(x - 26, y + 4), (x + 26, y + 4), (x + 26, y + 40),
                                  (x - 26, y + 40)]), rgb("#2f3b33"))
        else:  # a cup with steam
            cup = np.array([(x - 40, y - 30), (x + 40, y - 30), (x + 32, y + 45), (x - 32, y + 45)])
            canvas.fill(cup, rgb("#f4f0ea"))
            canvas.outline(canvas.coverage(cup), INK, 3, 0.6)
            canvas.ellipse((x, y - 30), (40, 9), rgb("#8a5a3c"))
            for k in (-1, 1):
                steam = bezier((x + k * 14, y - 44), (x + k * 24, y - 70), (x + k * 8, y - 96))
                canvas.stroke(steam, (1, 1, 1), 5, opacity=0.7, taper=True)
        hand(canvas, (x + 10, y + 60), -10, False, f.skin)
    elif name == "sleeping":
        for k, size in enumerate((22, 30, 40)):
            x, y = f.at(150 + k * 45, -120 - k * 55)
            zed = np.array([(x - size / 2, y - size / 2), (x + size / 2, y - size / 2),
                            (x - size / 2, y + size / 2), (x + size / 2, y + size / 2)])
            canvas.stroke(zed, rgb("#7f8fd6"), 6)
    elif name in ("singing", "listening to music", "playing guitar"):
        for k in range(4):
            x, y = f.at(rng.uniform(160, 300) * (1 if k % 2 else -1), rng.uniform(-200, 40))
            canvas.ellipse((x, y), (13, 10), rgb("#ff7fa8"), angle=-20)
            canvas.stroke(np.array([(x + 11, y - 2), (x + 11, y - 48), (x + 26, y - 38)]),
                          rgb("#ff7fa8"), 4)
        if name == "playing guitar":
            x, y = f.at(-60, 390)
            canvas.ellipse((x, y), (110, 85), rgb("#d98a3a"), angle=-25)
            canvas.ellipse((x, y), (30, 30), rgb("#4a2f22"))
            canvas.stroke(np.array([(x + 40, y - 20), (x + 330, y - 170)]), rgb("#6b4227"), 22)
    elif name == "running":
        for k in range(7):  # speed lines
            y = rng.uniform(150, 700)
            side = -1 if k % 2 else 1
            x0 = 384 + side * rng.uniform(280, 330)
            canvas.stroke(np.array([(x0, y), (x0 + side * rng.uniform(60, 110), y)]), (1, 1, 1),
                          5, opacity=0.8, taper=True)
        canvas.ellipse(f.at(f.half_width + 10, -40), (9, 14), rgb("#8fd3ff"))


def sparkle(canvas: Canvas, centre: tuple[float, float], size: float, colour: Colour) -> None:
    x, y = centre
    star = np.array([(x, y - size), (x + size * 0.22, y - size * 0.22), (x + size, y),
                     (x + size * 0.22, y + size * 0.22), (x, y + size),
                     (x - size * 0.22, y + size * 0.22), (x - size, y),
                     (x - size * 0.22, y - size * 0.22)])
    canvas.fill(star, colour)


