"""The person: a bust with a big head, drawn back to front — back hair, body and clothes, face,
eyes, front hair — each layer shaded with a darker tone and a highlight and inked at its edge.

All positions derive from one ``Figure`` (head centre, face half-width and the subject's
proportions), so that a child's rounder face or an adult's longer one moves everything together.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inference.voice.illustrate.canvas import (Canvas, Colour, arc, bezier, ellipse, light, mix,
                                               rgb, shade, vertical_gradient)

HAIR_COLOURS = {
    "black": "#2e2c40", "white": "#eeeef4", "silver": "#c9cedd", "blonde": "#f5cf72",
    "brown": "#8a5a3c", "red": "#cf3f3f", "pink": "#f49bc1", "light blue": "#8ccdf3",
    "blue": "#3f6fd4", "green": "#4caa6c", "purple": "#8a5cc9", "orange": "#ef8a3a",
    "grey": "#9b9aa8",
}
EYE_COLOURS = {
    "black": "#3b2f4a", "white": "#b9c6dc", "silver": "#9fb1cc", "blonde": "#e0a93a",
    "brown": "#9a5b2e", "red": "#d83a3a", "pink": "#e86aa6", "light blue": "#5ab8f0",
    "blue": "#2f6fe0", "green": "#2fa862", "purple": "#8b4fd6", "orange": "#ee7f22",
    "grey": "#7d8499",
}
CLOTH_COLOURS = {**HAIR_COLOURS, "black": "#33324a", "white": "#f6f6fa", "blonde": "#f2d36b"}
SKIN, SKIN_SHADOW = rgb("#ffe4d6"), rgb("#f1b7a6")
# The skin tones a photo can be read as (``face_traits.SKIN_TONES``): a base and its shadow,
# kept a little lighter and warmer than life, as anime skin is.
SKIN_TONES = {"fair": (SKIN, SKIN_SHADOW), "light": (rgb("#fcd8bf"), rgb("#eba98f")),
              "tan": (rgb("#efbf98"), rgb("#d59272")), "brown": (rgb("#c98d66"), rgb("#a86b4c")),
              "deep": (rgb("#9a6446"), rgb("#7a4a33"))}
# How each face shape changes the head: (half-width, chin, jaw fullness 0..1). Oval is the
# default head; the jaw's fullness pulls the chin's curve out towards the cheeks.
FACE_SHAPES = {"oval": (0, 0, 0.5), "round": (8, -14, 0.72), "long": (-8, 16, 0.42),
               "square": (4, -4, 0.9)}
INK = rgb("#4a2f3a")


@dataclass
class Figure:
    """Where the head is and how the subject is proportioned."""

    cx: float = 384.0
    cy: float = 318.0
    half_width: float = 128.0  # of the face at the cheeks
    chin: float = 150.0  # below the head centre
    eye_scale: float = 1.0
    feminine: bool = True
    adult: bool = False
    old: bool = False
    jaw: float = 0.5  # how full the jaw is: 0.5 an oval face, towards 1 a square one
    skin: Colour = SKIN
    skin_shadow: Colour = SKIN_SHADOW

    @classmethod
    def for_subject(cls, subject: str) -> "Figure":
        if subject in ("woman", "man", "old man", "old woman"):
            return cls(half_width=118, chin=160, eye_scale=0.82, adult=True,
                       feminine=subject in ("woman", "old woman"), old=subject.startswith("old"))
        if subject == "child":
            return cls(cy=330, half_width=134, chin=138, eye_scale=1.08)
        return cls(feminine=subject != "boy")

    def shaped(self, face_shape: str | None, skin_tone: str | None) -> "Figure":
        """This figure with the face shape and skin tone read from a photo (None: as is)."""
        wider, longer, jaw = FACE_SHAPES[face_shape or "oval"]
        skin, shadow = SKIN_TONES[skin_tone or "fair"]
        return replace(self, half_width=self.half_width + wider, chin=self.chin + longer, jaw=jaw,
                       skin=skin, skin_shadow=shadow)

    def at(self, dx: float, dy: float) -> tuple[float, float]:
        return (self.cx + dx, self.cy + dy)

    def eye_centre(self, side: int) -> tuple[float, float]:
        return self.at(side * 0.45 * self.half_width, 0.3 * self.chin)


def face_outline(f: Figure) -> np.ndarray:
    w, c = f.half_width, f.chin
    top = arc(f.at(0, 0), (w, c * 0.98), 180, 360)
    j = f.jaw
    right = bezier(f.at(w, 0), f.at(w, c * j), f.at(w * j, c * 0.93), f.at(0, c))
    left = bezier(f.at(0, c), f.at(-w * j, c * 0.93), f.at(-w, c * j), f.at(-w, 0))
    return np.concatenate([top, right, left])


def cloth_shade(colour: Colour, factor: float) -> Colour:
    """A garment's shadow: as ``shade``, but a fifth as deep on pale cloth, which a full shadow
    over the whole garment turns grey (a white shirt read L* 75); anime whites keep light,
    lavender shadows."""
    pale = min(1.0, max(0.0, (sum(colour) / 3 - 0.75) / 0.2))
    return mix(shade(colour, factor), colour, 0.8 * pale)


def body(canvas: Canvas, f: Figure, clothes: str, colour: Colour) -> np.ndarray:
    """Neck, shoulders and the garment's details; returns the body's coverage."""
    neck = np.array([f.at(-36, 80), f.at(36, 80), f.at(42, 212), f.at(-42, 212)])
    canvas.fill(neck, f.skin)
    canvas.fill(ellipse(f.at(0, 128), (44, 42)), f.skin_shadow, opacity=0.9, blur=3,
                clip=canvas.coverage(neck))
    shoulder = 240 if not f.adult else 256
    y0 = f.cy + 195
    outline = np.concatenate([
        bezier((f.cx - 40, y0), (f.cx - 150, y0 + 8), (f.cx - shoulder, y0 + 40),
               (f.cx - shoulder - 30, 790)),
        bezier((f.cx + shoulder + 30, 790), (f.cx + shoulder, y0 + 40), (f.cx + 150, y0 + 8),
               (f.cx + 40, y0))])
    cover = canvas.coverage(outline)
    if clothes == "swimsuit":  # bare shoulders, straps
        canvas.fill(outline, f.skin)
        canvas.fill(np.array([[f.cx - shoulder - 40, y0 + 150], [f.cx + shoulder + 40, y0 + 150],
                              [f.cx + shoulder + 40, 790], [f.cx - shoulder - 40, 790]]), colour,
                    clip=cover)
        for side in (-1, 1):
            canvas.stroke(bezier((f.cx + side * 70, y0 + 155), (f.cx + side * 80, y0 + 60),
                                 (f.cx + side * 95, y0 + 12)), colour, 9)
        canvas.outline(cover, INK, 3, 0.6)
        return cover
    base = vertical_gradient([(0.0, light(colour, 0.08)), (1.0, cloth_shade(colour, 0.85))])
    canvas.fill(outline, base)
    # The shadow the head casts on the chest.
    canvas.fill(ellipse(f.at(0, 218), (120, 44)), cloth_shade(colour, 0.72), opacity=0.8, blur=8,
                clip=cover)
    for side in (-1, 1):  # folds from the armpits
        canvas.stroke(bezier(f.at(side * 150, 330), f.at(side * 140, 390), f.at(side * 170, 460)),
                      cloth_shade(colour, 0.7), 5, opacity=0.7, taper=True)
    GARMENTS.get(clothes, _collar_round)(canvas, f, colour, y0, cover)
    canvas.outline(cover, INK, 3, 0.7)
    return cover


def _collar_round(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.fill(arc((f.cx, y0 + 2), (48, 20), 0, 180), f.skin_shadow, clip=cover)
    canvas.stroke(arc((f.cx, y0 + 2), (50, 22), 0, 180, 20), shade(colour, 0.75), 6)


def _sailor(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    collar = rgb("#2d4d8f") if colour[2] < 0.8 or colour[0] > 0.8 else shade(colour, 0.5)
    for side in (-1, 1):
        flap = np.array([(f.cx, y0 + 110), (f.cx + side * 44, y0), (f.cx + side * 170, y0 + 20),
                         (f.cx + side * 150, y0 + 70)])
        canvas.fill(flap, collar, clip=cover)
        canvas.stroke(np.array([(f.cx + side * 30, y0 + 60), (f.cx + side * 52, y0 + 14),
                                (f.cx + side * 152, y0 + 30)]), (1, 1, 1), 4, opacity=0.9)
    canvas.fill(np.array([f.at(-40, 352), f.at(40, 352), f.at(20, 420), f.at(-20, 420)]),
                rgb("#d8413f"))
    for side in (-1, 1):
        canvas.fill(np.array([f.at(0, 360), f.at(side * 55, 420), f.at(side * 35, 470),
                              f.at(side * 8, 395)]), rgb("#c7353a"))


def _school(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.fill(np.array([(f.cx - 55, y0), (f.cx + 55, y0), (f.cx, y0 + 190)]), (0.97, 0.97, 1),
                clip=cover)
    for side in (-1, 1):
        lapel = np.array([(f.cx + side * 58, y0 - 2), (f.cx + side * 8, y0 + 200),
                          (f.cx + side * 70, y0 + 120), (f.cx + side * 110, y0 + 30)])
        canvas.fill(lapel, shade(colour, 0.8))
    tie = rgb("#c2394a") if f.feminine else rgb("#2c3f75")
    canvas.fill(np.array([f.at(-12, 262), f.at(12, 262), f.at(20, 380), f.at(0, 400),
                          f.at(-20, 380)]), tie)


def _suit(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    _school(canvas, f, colour, y0, cover)


def _hoodie(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.stroke(bezier((f.cx - 150, y0 + 30), (f.cx - 60, y0 + 90), (f.cx + 60, y0 + 90),
                         (f.cx + 150, y0 + 30)), shade(colour, 0.7), 16)
    for side in (-1, 1):
        canvas.stroke(np.array([(f.cx + side * 28, y0 + 60), (f.cx + side * 32, y0 + 160)]),
                      (0.96, 0.96, 0.98), 5)
        canvas.ellipse((f.cx + side * 32, y0 + 164), (6, 6), (0.96, 0.96, 0.98))


def _dress(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.fill(arc((f.cx, y0 + 4), (66, 34), 0, 180), f.skin, clip=cover)
    for k in range(9):  # a lace collar of round scallops
        angle = np.radians(10 + k * 20)
        x, y = f.cx + 80 * np.cos(angle), y0 + 8 + 44 * np.sin(angle)
        canvas.ellipse((x, y), (16, 13), (1, 1, 1))
    canvas.ellipse((f.cx, y0 + 70), (14, 10), shade(colour, 0.6))


def _shirt(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    for side in (-1, 1):
        canvas.fill(np.array([(f.cx, y0 + 40), (f.cx + side * 42, y0 - 6),
                              (f.cx + side * 75, y0 + 40), (f.cx + side * 20, y0 + 64)]),
                    light(colour, 0.35))
    for k in range(3):
        canvas.ellipse((f.cx, y0 + 90 + k * 50), (5, 5), shade(colour, 0.6))


def _kimono(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.fill(np.array([(f.cx - 40, y0 - 4), (f.cx + 40, y0 - 4), (f.cx, y0 + 150)]), f.skin,
                clip=cover)
    canvas.stroke(np.array([(f.cx - 44, y0 - 4), (f.cx + 30, y0 + 170)]), (1, 1, 1), 14)
    canvas.stroke(np.array([(f.cx + 44, y0 - 4), (f.cx - 10, y0 + 120)]), (1, 1, 1), 14)
    canvas.fill(np.array([(f.cx - 300, 720), (f.cx + 300, 720), (f.cx + 300, 790),
                          (f.cx - 300, 790)]), rgb("#d9a441"), clip=cover)
    for x in (-190, -120, 130, 200):  # a few printed flowers
        for angle in range(0, 360, 72):
            canvas.ellipse((f.cx + x + 11 * np.cos(np.radians(angle)),
                            y0 + 200 + 11 * np.sin(np.radians(angle))), (8, 8),
                           light(colour, 0.6), opacity=0.85)


def _sweater(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    canvas.fill(np.array([f.at(-46, 232), f.at(46, 232), f.at(52, 275), f.at(-52, 275)]),
                shade(colour, 0.9))
    for x in np.arange(-200, 220, 26):  # knit ribs
        canvas.stroke(np.array([f.at(x, 300), f.at(x * 1.05, 470)]), shade(colour, 0.82), 3,
                      opacity=0.5)


def _coat(canvas: Canvas, f: Figure, colour: Colour, y0: float, cover: np.ndarray) -> None:
    _collar_round(canvas, f, light(colour, 0.6), y0, cover)
    for side in (-1, 1):
        canvas.fill(np.array([(f.cx + side * 50, y0), (f.cx + side * 120, y0 + 20),
                              (f.cx + side * 60, y0 + 140), (f.cx + side * 10, y0 + 170)]),
                    shade(colour, 0.82))
        for k in range(2):
            canvas.ellipse((f.cx + side * 36, y0 + 200 + k * 55), (7, 7), rgb("#e8c36a"))


GARMENTS = {"sailor uniform": _sailor, "school uniform": _school, "suit": _suit,
            "hoodie": _hoodie, "dress": _dress, "shirt": _shirt, "kimono": _kimono,
            "sweater": _sweater, "coat": _coat, "t-shirt": _collar_round}


def face(canvas: Canvas, f: Figure) -> np.ndarray:
    for side in (-1, 1):  # ears, mostly under the hair
        canvas.ellipse(f.at(side * (f.half_width - 2), 30), (14, 24), f.skin_shadow)
    outline = face_outline(f)
    canvas.fill(outline, f.skin)
    cover = canvas.coverage(outline)
    # Soft shading down the sides of the face and under the chin.
    for side in (-1, 1):
        canvas.ellipse(f.at(side * f.half_width * 1.05, 40), (40, 130), f.skin_shadow, opacity=0.35,
                       blur=18, clip=cover)
    canvas.outline(cover, INK, 3, 0.75)
    return cover


def blush(canvas: Canvas, f: Figure) -> None:
    for side in (-1, 1):
        x, y = f.at(side * 0.6 * f.half_width, 0.56 * f.chin)
        canvas.ellipse((x, y), (28, 13), rgb("#ff8f9c"), opacity=0.45, blur=6)
        for k in (-1, 0, 1):
            canvas.stroke(np.array([(x + k * 10 + 4, y - 6), (x + k * 10 - 3, y + 5)]),
                          rgb("#f27a8a"), 2.2, opacity=0.7, taper=True)


def eyes(canvas: Canvas, f: Figure, colour: Colour, *, closed: bool, look_down: bool) -> None:
    s = f.eye_scale
    for side in (-1, 1):
        ex, ey = f.eye_centre(side)
        if closed:  # a sleeping or laughing eye: a soft arc with lashes
            arc = bezier((ex - side * 30 * s, ey), (ex, ey + 16 * s), (ex + side * 32 * s, ey - 2))
            canvas.stroke(arc, INK, 5, taper=True)
            continue
        h = (44 if f.feminine else 38) * s
        sclera = np.concatenate([
            bezier((ex - side * 32 * s, ey - 8), (ex - side * 10 * s, ey - h - 6),
                   (ex + side * 22 * s, ey - h), (ex + side * 34 * s, ey - 12)),
            bezier((ex + side * 34 * s, ey - 12), (ex + side * 30 * s, ey + h * 0.8),
                   (ex - side * 26 * s, ey + h * 0.85), (ex - side * 32 * s, ey - 8))])
        canvas.fill(sclera, (1, 1, 1))
        clip = canvas.coverage(sclera)
        iy = ey + (8 if look_down else 2) * s
        iris_axes = (28 * s, h * 0.98)
        iris = vertical_gradient([(0.0, shade(colour, 0.35)), (0.5, shade(colour, 0.35)),
                                  (0.62, colour), (0.74, light(colour, 0.35)),
                                  (1.0, light(colour, 0.6))], canvas.size)
        # The gradient runs over the iris's own height, not the canvas's.
        rows = np.clip((np.arange(canvas.size) - (iy - iris_axes[1])) / (2 * iris_axes[1]), 0, 1)
        iris = iris[(rows * (canvas.size - 1)).astype(int)]
        canvas.ellipse((ex, iy), iris_axes, iris, clip=clip)
        canvas.stroke(ellipse((ex, iy), iris_axes, count=40), shade(colour, 0.3), 2.5,
                      closed=True)
        canvas.ellipse((ex, iy + 2), (12 * s, 18 * s), shade(colour, 0.18), clip=clip)
        canvas.ellipse((ex, iy + h * 0.45), (16 * s, 10 * s), light(colour, 0.7), opacity=0.6,
                       blur=3, clip=clip)
        # The upper lid's shadow on the white and the iris.
        canvas.ellipse((ex, ey - h), (36 * s, 18 * s), rgb("#8a7fb0"), opacity=0.45, blur=4,
                       clip=clip)
        canvas.ellipse((ex - side * 10 * s, iy - 15 * s), (10 * s, 12.5 * s), (1, 1, 1))
        canvas.ellipse((ex + side * 10 * s, iy + 15 * s), (4 * s, 4 * s), (1, 1, 1), opacity=0.9)
        lid = bezier((ex - side * 36 * s, ey - 4), (ex - side * 14 * s, ey - h - 12),
                     (ex + side * 24 * s, ey - h - 6), (ex + side * 40 * s, ey - 14))
        canvas.stroke(lid, INK, (8.5 if f.feminine else 6.5) * s, taper=True)
        if f.feminine:  # lashes flicking out at the outer corner
            for k, (dx, dy) in enumerate(((44, -24), (46, -10))):
                canvas.stroke(bezier((ex + side * 30 * s, ey - 18 + k * 6),
                                     (ex + side * (dx - 4) * s, ey + (dy - 4) * s),
                                     (ex + side * dx * s, ey + dy * s)), INK, 4 * s, taper=True)
        canvas.stroke(bezier((ex - side * 22 * s, ey + h * 0.78), (ex, ey + h * 0.92),
                             (ex + side * 26 * s, ey + h * 0.7)), INK, 2.6 * s, opacity=0.55,
                      taper=True)


def brows(canvas: Canvas, f: Figure, hair: Colour) -> None:
    for side in (-1, 1):
        ex, ey = f.eye_centre(side)
        lift = 62 if f.feminine else 56
        canvas.stroke(bezier((ex - side * 26, ey - lift + 6), (ex, ey - lift - 6),
                             (ex + side * 30, ey - lift + 2)), shade(hair, 0.55),
                      5 if f.feminine else 8, taper=True)


def nose_mouth(canvas: Canvas, f: Figure, *, open_mouth: bool, expression: str | None = None
               ) -> None:
    """The nose's tick and the mouth: a small smile by default, open for a grin (or an action
    that opens it), a short straight line for a neutral face."""
    canvas.stroke(np.array([f.at(2, 0.6 * f.chin), f.at(-2, 0.65 * f.chin)]),
                  shade(f.skin_shadow, 0.8), 3, taper=True)
    my = 0.8 * f.chin
    if open_mouth or expression == "grin":
        wide = 1.35 if expression == "grin" else 1.0
        mouth = np.concatenate([
            bezier(f.at(-16 * wide, my - 3 - 2 * wide), f.at(0, my - 7), f.at(16 * wide,
                                                                               my - 3 - 2 * wide)),
            bezier(f.at(16 * wide, my - 3 - 2 * wide), f.at(10 * wide, my + 20),
                   f.at(-10 * wide, my + 20))])
        canvas.fill(mouth, rgb("#a8343f"))
        clip = canvas.coverage(mouth)
        canvas.ellipse(f.at(0, my + 12), (10 * wide, 6), rgb("#f07a86"), clip=clip)
        if expression == "grin":  # a row of upper teeth
            canvas.fill(np.array([f.at(-15 * wide, my - 8), f.at(15 * wide, my - 8),
                                  f.at(12 * wide, my + 2), f.at(-12 * wide, my + 2)]),
                        (1, 1, 1), clip=clip)
        canvas.stroke(mouth, INK, 2.2, closed=True, opacity=0.8)
    elif expression == "neutral":  # calm, lips closed: a soft curve in rose, not an ink dash
        canvas.stroke(bezier(f.at(-12, my), f.at(0, my + 4), f.at(12, my)), rgb("#8a3f4a"), 2.6,
                      taper=True)
        canvas.stroke(bezier(f.at(-5, my + 7), f.at(0, my + 8.5), f.at(5, my + 7)),
                      f.skin_shadow, 2.2, opacity=0.7, taper=True)  # the lower lip's shadow
    else:
        canvas.stroke(bezier(f.at(-13, my - 2), f.at(0, my + 7), f.at(13, my - 2)), INK, 3.2,
                      taper=True)
    if f.old:  # smile lines at the outer corners of the eyes
        for side in (-1, 1):
            ex, ey = f.eye_centre(side)
            for k in (-1, 1):
                canvas.stroke(np.array([(ex + side * 44, ey + k * 6), (ex + side * 56,
                                                                       ey + k * 12)]),
                              shade(f.skin_shadow, 0.8), 2.2, opacity=0.8, taper=True)


def beard(canvas: Canvas, f: Figure, hair: Colour, rng: np.random.Generator) -> None:
    """A soft beard along the jaw, from the sideburns round the chin, leaving the mouth free;
    drawn before the eyes and mouth, over the face."""
    w, c = f.half_width, f.chin
    j = f.jaw
    outer = np.concatenate([bezier(f.at(w, c * 0.2), f.at(w, c * j), f.at(w * j, c * 0.93),
                                   f.at(0, c)),
                            bezier(f.at(0, c), f.at(-w * j, c * 0.93), f.at(-w, c * j),
                                   f.at(-w, c * 0.2))])
    inner = np.concatenate([bezier(f.at(-w * 0.97, c * 0.4), f.at(-w * 0.78, c * 0.72),
                                   f.at(-w * 0.32, c * 0.7)),
                            bezier(f.at(-w * 0.32, c * 0.7), f.at(0, c * 0.72),
                                   f.at(w * 0.32, c * 0.7)),
                            bezier(f.at(w * 0.32, c * 0.7), f.at(w * 0.78, c * 0.72),
                                   f.at(w * 0.97, c * 0.4))])
    # The band between the jaw line (right to left) and the inner curve (left to right).
    band = np.concatenate([outer, inner])
    face = canvas.coverage(face_outline(f))
    canvas.fill(band, shade(hair, 0.92), opacity=0.95, clip=face)
    canvas.fill(ellipse(f.at(0, 0.81 * c), (24, 15)), f.skin, clip=face)
    for _ in range(14):  # strands, darker, down the chin
        x = rng.uniform(-w * 0.55, w * 0.55)
        top = c * (0.86 if abs(x) < w * 0.25 else 0.74) + rng.uniform(0, 8)  # clear of the mouth
        bottom = min(top + rng.uniform(10, 18), c * (0.97 - 0.25 * abs(x) / w))
        canvas.stroke(np.array([f.at(x, top), f.at(x * 0.96, bottom)]), shade(hair, 0.7), 2.5,
                      opacity=0.45, taper=True)


def moustache(canvas: Canvas, f: Figure, hair: Colour) -> None:
    my = 0.8 * f.chin
    for side in (-1, 1):
        canvas.fill(ellipse(f.at(side * 16, my - 12), (20, 8), side * 12), shade(hair, 0.85))
        canvas.stroke(ellipse(f.at(side * 16, my - 12), (20, 8), side * 12, count=30),
                      shade(hair, 0.6), 1.6, closed=True, opacity=0.7)
