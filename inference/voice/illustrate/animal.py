"""A cat or a dog: a round chibi head with ears, big eyes and a small body, in its fur colour."""
from __future__ import annotations

import numpy as np

from inference.voice.illustrate.canvas import Canvas, Colour, bezier, ellipse, light, rgb, shade
from inference.voice.illustrate.character import INK, Figure, eyes


def animal(canvas: Canvas, kind: str, fur: Colour, eye: Colour, *, closed: bool) -> Figure:
    f = Figure(cy=360, half_width=150, chin=120, eye_scale=0.95)
    outline = shade(fur, 0.4)
    body = ellipse(f.at(0, 300), (170, 170))
    canvas.fill(body, fur)
    canvas.ellipse(f.at(0, 330), (90, 110), light(fur, 0.55))
    canvas.outline(canvas.coverage(body), outline, 3)
    for side in (-1, 1):  # front paws
        paw = ellipse(f.at(side * 60, 440), (42, 30))
        canvas.fill(paw, light(fur, 0.15))
        canvas.outline(canvas.coverage(paw), outline, 3)
    ears = []
    for side in (-1, 1):
        if kind == "cat":
            ears.append(np.array([f.at(side * 140, -40), f.at(side * 120, -190),
                                  f.at(side * 30, -110)]))
        else:
            ears.append(ellipse(f.at(side * 150, 10), (48, 100), side * -20))
    if kind == "cat":
        canvas.fill(ears, fur)
        for ear in ears:
            canvas.outline(canvas.coverage(ear), outline, 3)
            canvas.fill((ear - ear.mean(axis=0)) * 0.55 + ear.mean(axis=0) + (0, 10),
                        rgb("#ffb3c3"))
    head = ellipse(f.at(0, 0), (170, 140))
    canvas.fill(head, fur)
    cover = canvas.coverage(head)
    canvas.ellipse(f.at(0, 70), (120, 60), light(fur, 0.5), clip=cover)
    canvas.ellipse(f.at(-40, -90), (90, 30), light(fur, 0.35), opacity=0.7, blur=8, clip=cover)
    canvas.outline(cover, outline, 3)
    if kind == "dog":
        canvas.fill(ears, shade(fur, 0.75))
        for ear in ears:
            canvas.outline(canvas.coverage(ear), outline, 3)
    eyes(canvas, f, eye, closed=closed, look_down=False)
    canvas.fill(np.array([f.at(-14, 48), f.at(14, 48), f.at(0, 62)]), rgb("#e9788c"))
    canvas.stroke(bezier(f.at(-22, 72), f.at(-10, 84), f.at(0, 70)), INK, 3)
    canvas.stroke(bezier(f.at(0, 70), f.at(10, 84), f.at(22, 72)), INK, 3)
    for side in (-1, 1):
        canvas.ellipse(f.at(side * 95, 60), (26, 12), rgb("#ff8f9c"), opacity=0.45, blur=5)
        if kind == "cat":
            for k in (-1, 0, 1):
                canvas.stroke(np.array([f.at(side * 120, 55 + k * 14),
                                        f.at(side * 200, 45 + k * 24)]), outline, 2.5,
                              taper=True)
    return f
