"""Backgrounds drawn behind the character, and the particles (petals, snow) falling before it.

The sky sets the light: its gradient comes from the time of day, and every scene takes its
colours from that sky so that a sunset beach and a sunset city agree.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.voice.illustrate.canvas import (SIZE, Canvas, Colour, arc, bezier, ellipse, light,
                                               mix, rgb, shade, vertical_gradient)

SKIES = {  # top, middle, horizon
    "morning": (rgb("#8ec5ff"), rgb("#cfe6ff"), rgb("#ffe7c2")),
    "day": (rgb("#4f9dff"), rgb("#8cc8ff"), rgb("#e3f3ff")),
    "sunset": (rgb("#5b4a9e"), rgb("#f07a8a"), rgb("#ffc46b")),
    "night": (rgb("#0b1033"), rgb("#1d2a66"), rgb("#3b4a8c")),
}
HORIZON = 0.58  # of the height


def sky(canvas: Canvas, time: str, rng: np.random.Generator, clouds: bool = True) -> None:
    top, middle, bottom = SKIES[time]
    canvas.image[:] = vertical_gradient([(0.0, top), (0.45, middle), (HORIZON + 0.05, bottom),
                                         (1.0, bottom)])
    if time == "night":
        stars(canvas, rng, 140, bottom=int(SIZE * HORIZON))
        canvas.ellipse((600, 130), (90, 90), rgb("#fff6c8"), opacity=0.18, blur=30)
        canvas.ellipse((600, 130), (42, 42), rgb("#fff8dc"))
        canvas.ellipse((585, 120), (10, 8), rgb("#efe3b0"))
        canvas.ellipse((612, 146), (7, 6), rgb("#efe3b0"))
    elif clouds:
        cloud_colour = {"sunset": rgb("#ffd1c2"), "morning": rgb("#fff7ee")}.get(time, (1, 1, 1))
        for _ in range(4):
            x, y = rng.uniform(-40, SIZE + 40), rng.uniform(50, SIZE * 0.42)
            cloud(canvas, x, y, rng.uniform(0.7, 1.3), cloud_colour)


def cloud(canvas: Canvas, x: float, y: float, scale: float, colour: Colour) -> None:
    puffs = [(x + dx * scale, y + dy * scale, r * scale) for dx, dy, r in
             ((0, 0, 46), (-52, 14, 34), (50, 12, 36), (-20, -26, 38), (24, -30, 32),
              (90, 22, 24), (-88, 22, 24))]
    base = [ellipse((px, py + r * 0.35), (r * 1.15, r * 0.55)) for px, py, r in puffs]
    canvas.fill(base, shade(colour, 0.9), opacity=0.85, blur=2)
    canvas.fill([ellipse((px, py), (r, r * 0.9)) for px, py, r in puffs], colour, opacity=0.9,
                blur=1.5)
    canvas.fill([ellipse((px - r * 0.2, py - r * 0.25), (r * 0.55, r * 0.4)) for px, py, r
                 in puffs[:4]], (1, 1, 1), opacity=0.5, blur=4)


def stars(canvas: Canvas, rng: np.random.Generator, count: int, bottom: int = SIZE) -> None:
    for _ in range(count):
        x, y = rng.uniform(0, SIZE), rng.uniform(0, bottom)
        r = rng.choice([0.8, 1.1, 1.5, 2.2], p=[0.45, 0.3, 0.17, 0.08])
        canvas.ellipse((x, y), (r, r), (1.0, 0.97, 0.88), opacity=rng.uniform(0.5, 1.0))
        if r > 2:  # a few bright ones twinkle: a four-pointed glint
            for angle in (0, 90):
                canvas.ellipse((x, y), (r * 4, 0.6), (1, 1, 0.9), angle=angle, opacity=0.8)


def beach(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    sky(canvas, time, rng)
    horizon = SIZE * HORIZON
    top, middle, bottom = SKIES[time]
    sea_near = {"night": rgb("#14224f"), "sunset": rgb("#6a4f93")}.get(time, rgb("#1f8fd6"))
    sea = vertical_gradient([(HORIZON, mix(bottom, sea_near, 0.55)), (1.0, sea_near)])
    canvas.fill(np.array([[0, horizon], [SIZE, horizon], [SIZE, SIZE], [0, SIZE]]), sea)
    sun = {"sunset": (rgb("#fff0b0"), 300), "morning": (rgb("#fff6d6"), 180)}.get(time)
    if sun is not None:
        canvas.ellipse((560, horizon - 10), (150, 110), sun[0], opacity=0.35, blur=40)
        canvas.fill(arc((560, horizon - 12), (52, 52), 180, 360), sun[0])
    glint = (1, 0.95, 0.8) if time != "night" else (1, 1, 0.85)
    for _ in range(70):  # sparkles on the water, denser along the sun's path
        y = rng.uniform(horizon + 4, SIZE * 0.8)
        x = rng.normal(560 if sun else 400, 40 + (y - horizon) * 0.9)
        canvas.ellipse((x, y), (rng.uniform(6, 22) * (y - horizon + 20) / 120, 1.4), glint,
                       opacity=rng.uniform(0.4, 0.9))
    sand = rgb("#f3d9a4") if time != "night" else rgb("#5b5577")
    shore = bezier((0, SIZE * 0.83), (260, SIZE * 0.76), (520, SIZE * 0.86), (SIZE, SIZE * 0.8))
    foam = np.concatenate([shore, [[SIZE, SIZE], [0, SIZE]]])
    canvas.fill(foam - (0, 7), (1, 1, 1), opacity=0.75, blur=1.5)
    canvas.fill(foam, sand)


def blossoms(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    sky(canvas, time, rng, clouds=time != "night")
    pink = rgb("#ffb7d0") if time != "night" else rgb("#c98bb8")
    trunk = rgb("#5a3b3b") if time != "night" else rgb("#2a1d2e")
    for side in (-1, 1):
        x0 = SIZE / 2 + side * 420
        branch = bezier((x0, SIZE * 0.9), (x0 - side * 60, SIZE * 0.4), (x0 - side * 190, 120),
                        (x0 - side * 330, 40))
        canvas.stroke(branch, trunk, 26, taper=True)
        blobs = [(x0 - side * rng.uniform(20, 320), rng.uniform(-30, 290), rng.uniform(28, 60))
                 for _ in range(40)]
        canvas.fill([ellipse((x, y + 10), (r, r * 0.8)) for x, y, r in blobs], shade(pink, 0.85),
                    blur=2)
        for x, y, r in blobs:  # the canopy: soft clumps lit from the top left
            canvas.ellipse((x, y), (r * 0.92, r * 0.72), pink, blur=1.5)
            canvas.ellipse((x - r * 0.2, y - r * 0.2), (r * 0.45, r * 0.32), light(pink, 0.45),
                           opacity=0.7, blur=4)
        for _ in range(140):  # single flowers at the edges of the clumps
            x, y, r = blobs[rng.integers(len(blobs))]
            a = rng.uniform(0, 2 * np.pi)
            canvas.ellipse((x + np.cos(a) * r * 0.9, y + np.sin(a) * r * 0.7), (4, 4),
                           light(pink, rng.uniform(0.2, 0.7)))
    ground = vertical_gradient([(0.0, rgb("#bfe3a8")), (1.0, rgb("#8cc47a"))])
    if time in ("night", "sunset"):
        ground = ground * np.array(SKIES[time][1], np.float32) * 1.2
    canvas.fill(np.array([[0, SIZE * 0.8], [SIZE, SIZE * 0.76], [SIZE, SIZE], [0, SIZE]]), ground)


def city(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    sky(canvas, time, rng, clouds=time not in ("night",))
    lit = time in ("night", "sunset")
    for layer, (colour, height, width) in enumerate([
            (mix(SKIES[time][1], rgb("#1a1f3d"), 0.45), 0.42, (50, 90)),
            (mix(SKIES[time][1], rgb("#101330"), 0.75), 0.3, (60, 120))]):
        x = -20.0
        while x < SIZE:
            w = rng.uniform(*width)
            h = SIZE * rng.uniform(height * 0.5, height)
            top = SIZE - h - (1 - layer) * 60
            canvas.fill(np.array([[x, top], [x + w, top], [x + w, SIZE], [x, SIZE]]), colour)
            if rng.random() < 0.3:  # an antenna with a red light
                canvas.fill(np.array([[x + w / 2 - 1.5, top - 30], [x + w / 2 + 1.5, top - 30],
                                      [x + w / 2 + 1.5, top], [x + w / 2 - 1.5, top]]), colour)
                if lit:
                    canvas.ellipse((x + w / 2, top - 30), (6, 6), (1, 0.3, 0.3), blur=2)
            window = rgb("#ffd66b") if lit else light(colour, 0.35)
            for wy in np.arange(top + 12, SIZE, 18 - layer * 2):
                for wx in np.arange(x + 8, x + w - 10, 14):
                    if rng.random() < (0.45 if lit else 0.8):
                        canvas.fill(np.array([[wx, wy], [wx + 7, wy], [wx + 7, wy + 9],
                                              [wx, wy + 9]]), window,
                                    opacity=rng.uniform(0.55, 1.0) if lit else 0.5)
            x += w + rng.uniform(2, 12)
    if lit:  # the glow of the streets below
        canvas.ellipse((SIZE / 2, SIZE), (SIZE * 0.7, 160), rgb("#ff9ec7"), opacity=0.35, blur=40)


def classroom(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    canvas.image[:] = vertical_gradient([(0.0, rgb("#f6ead8")), (1.0, rgb("#e8d6bc"))])
    window = np.array([[380, 60], [740, 60], [740, 520], [380, 520]], np.float32)
    view = Canvas()
    sky(view, time, rng)
    clip = canvas.coverage(window)
    canvas.fill(window, view.image, clip=clip)
    frame = rgb("#d9c3a0")
    for x in (380, 560, 740):
        canvas.fill(np.array([[x - 7, 52], [x + 7, 52], [x + 7, 528], [x - 7, 528]]), frame)
    for y in (60, 290, 520):
        canvas.fill(np.array([[372, y - 7], [748, y - 7], [748, y + 7], [372, y + 7]]), frame)
    curtain = rgb("#f3f1e8")
    canvas.fill(bezier((740, 40), (700, 260), (760, 420), (690, 560), count=30).tolist()
                + [[768, 560], [768, 40]], curtain, opacity=0.95)
    board = np.array([[-10, 120], [300, 120], [300, 420], [-10, 420]], np.float32)
    canvas.fill(board + (0, 8), rgb("#8a6a45"))
    canvas.fill(board, rgb("#2f5b46"))
    for _ in range(5):  # chalk marks
        y = rng.uniform(160, 380)
        canvas.stroke(bezier((20, y), (120, y - rng.uniform(-20, 20)), (rng.uniform(150, 260), y)),
                      (0.95, 0.95, 0.9), 3, opacity=0.55, taper=True)
    if time != "night":  # sunlight falling through the window
        canvas.fill(np.array([[380, 60], [740, 60], [560, SIZE], [120, SIZE]]),
                    rgb("#fff3c4"), opacity=0.18, blur=25)


def forest(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    sky(canvas, time, rng, clouds=False)
    greens = [rgb("#9ccf9a"), rgb("#5fa872"), rgb("#2f7a55"), rgb("#1d5440")]
    tint = np.array(SKIES[time][1], np.float32)
    for depth, green in enumerate(greens):
        green = tuple(np.clip(np.array(green) * (0.65 + 0.35 * tint * 1.3), 0, 1))
        base = SIZE * (0.45 + depth * 0.1)
        for x in np.arange(-40, SIZE + 60, 70 - depth * 8) + rng.uniform(-20, 20):
            h = rng.uniform(160, 260) + depth * 30
            tree = np.array([[x, base - h], [x + 55 + depth * 8, base + 40],
                             [x - 55 - depth * 8, base + 40]], np.float32)
            canvas.fill(tree, green)
        canvas.fill(np.array([[0, base + 20], [SIZE, base + 20], [SIZE, SIZE], [0, SIZE]]), green)
    if time in ("day", "morning"):
        for _ in range(4):  # shafts of light between the trees
            x = rng.uniform(0, SIZE)
            canvas.fill(np.array([[x, 0], [x + 60, 0], [x - 120, SIZE], [x - 220, SIZE]]),
                        rgb("#fffbe0"), opacity=0.15, blur=12)


def snow(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    top, middle, bottom = SKIES[time]
    canvas.image[:] = vertical_gradient([(0.0, mix(top, (0.8, 0.85, 0.95), 0.4)),
                                         (0.6, mix(bottom, (0.95, 0.95, 1), 0.5)),
                                         (1.0, (1, 1, 1))])
    hill_colour = mix((0.94, 0.96, 1.0), middle, 0.15)
    for k, y in enumerate((0.62, 0.72)):
        hill = bezier((-50, SIZE * y), (250, SIZE * (y - 0.08)), (520, SIZE * (y + 0.06)),
                      (SIZE + 50, SIZE * (y - 0.04)))
        canvas.fill(np.concatenate([hill, [[SIZE + 50, SIZE], [-50, SIZE]]]),
                    shade(hill_colour, 0.92 + 0.08 * k))
        for x in rng.uniform(0, SIZE, 6):  # snowy pines on the far hill
            if k == 0:
                yb = SIZE * y - 10
                for step in range(3):
                    w, ty = 30 - step * 7, yb - 25 * step
                    canvas.fill(np.array([[x, ty - 40], [x + w, ty], [x - w, ty]]),
                                mix(rgb("#4b6d7a"), hill_colour, 0.2 + 0.1 * step))


def space(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    canvas.image[:] = vertical_gradient([(0.0, rgb("#070716")), (1.0, rgb("#1b1240"))])
    for colour in (rgb("#7a3fb8"), rgb("#2f6fd0"), rgb("#d0458f")):
        canvas.ellipse((rng.uniform(100, 660), rng.uniform(100, 600)), (rng.uniform(180, 300),
                       rng.uniform(90, 160)), colour, angle=rng.uniform(0, 180), opacity=0.35,
                       blur=60)
    stars(canvas, rng, 260)
    centre, radius = (150.0, 170.0), 70.0
    canvas.fill(arc(centre, (radius * 2.1, radius * 0.45), 180, 360, angle=-18), rgb("#e0c79a"),
                opacity=0.85)
    canvas.ellipse(centre, (radius, radius), rgb("#f0a86a"))
    canvas.ellipse((centre[0] + 18, centre[1] + 18), (radius * 0.85, radius * 0.85),
                   rgb("#c9704a"), opacity=0.6, blur=10, clip=canvas.coverage(
                       ellipse(centre, (radius, radius))))
    canvas.fill(arc(centre, (radius * 2.1, radius * 0.45), 0, 180, angle=-18), rgb("#f2dcae"),
                opacity=0.9)


def flower_field(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    sky(canvas, time, rng)
    green = mix(rgb("#86c96b"), SKIES[time][1], 0.25)
    for k, y in enumerate((0.6, 0.7, 0.82)):
        hill = bezier((-50, SIZE * y), (300, SIZE * (y - 0.06)), (500, SIZE * (y + 0.04)),
                      (SIZE + 50, SIZE * (y - 0.02)))
        canvas.fill(np.concatenate([hill, [[SIZE + 50, SIZE], [-50, SIZE]]]),
                    shade(green, 1.0 - 0.1 * k))
        for _ in range(90 + 60 * k):
            x, fy = rng.uniform(0, SIZE), rng.uniform(SIZE * y, SIZE)
            colour = [rgb("#ffffff"), rgb("#ffd84d"), rgb("#ff8fb1"), rgb("#c9a7ff")][
                rng.integers(4)]
            r = 2.0 + 2.5 * k
            canvas.ellipse((x, fy), (r, r * 0.8), colour, opacity=0.95)


def plain(canvas: Canvas, time: str, rng: np.random.Generator) -> None:
    """No scene asked: a soft gradient with out-of-focus lights, as on a character card."""
    top, middle, bottom = SKIES[time]
    canvas.image[:] = vertical_gradient([(0.0, light(top, 0.45)), (1.0, light(bottom, 0.3))])
    for _ in range(16):
        r = rng.uniform(20, 70)
        canvas.ellipse((rng.uniform(0, SIZE), rng.uniform(0, SIZE)), (r, r),
                       light(middle, 0.6), opacity=rng.uniform(0.2, 0.45), blur=3)


BACKGROUNDS = {"beach": beach, "cherry blossoms": blossoms, "city night": city,
               "classroom": classroom, "forest": forest, "snow": snow, "space": space,
               "flower field": flower_field, None: plain}


def background(canvas: Canvas, scene: str | None, time: str, rng: np.random.Generator) -> None:
    BACKGROUNDS[scene](canvas, time, rng)


def particles(canvas: Canvas, scene: str | None, rng: np.random.Generator) -> None:
    """What falls in front of everything: petals for cherry blossoms, flakes for snow."""
    if scene == "cherry blossoms":
        for _ in range(38):
            x, y = rng.uniform(0, SIZE), rng.uniform(0, SIZE)
            size = rng.uniform(6, 13)
            angle = rng.uniform(0, 180)
            canvas.ellipse((x, y), (size, size * 0.55), rgb("#ffc2d6"), angle=angle,
                           opacity=0.95, blur=0.6 if size > 8 else 1.5)
            canvas.ellipse((x, y), (size * 0.5, size * 0.2), rgb("#ffe6ef"), angle=angle,
                           opacity=0.8)
    elif scene == "snow":
        for _ in range(120):
            r = rng.choice([1.5, 2.5, 3.5, 6.0], p=[0.4, 0.3, 0.2, 0.1])
            canvas.ellipse((rng.uniform(0, SIZE), rng.uniform(0, SIZE)), (r, r), (1, 1, 1),
                           opacity=0.9, blur=0.5 + r * 0.3)


def grade(image: np.ndarray, style: str | None) -> np.ndarray:
    """The palette of a style over the finished picture (float RGB 0..1).

    Ghibli-like: warm, soft light with lifted shadows. Shinkai-like: a vivid, deep sky with a
    glow blooming out of the bright parts and a lens flare. Paprika: saturated colours pushed
    round the hue wheel towards magenta and teal, as in a dream.
    """
    if style is None:
        return image
    if style == "ghibli":
        image = image * 0.88 + 0.1  # lifted shadows, softer contrast
        image = image * np.array([1.07, 1.0, 0.8], np.float32) + np.array([0.03, 0.02, 0.0],
                                                                          np.float32)
    elif style == "shinkai":
        grey = image.mean(axis=2, keepdims=True)
        image = grey + (image - grey) * 1.35
        image = (image - 0.5) * 1.08 + 0.5
        sky_weight = np.clip(1.0 - np.linspace(0, 1, SIZE, dtype=np.float32) / 0.6, 0, 1)
        bright = np.clip(image - 0.65, 0, 1) * sky_weight[:, None, None]  # the sky, not faces
        image = image + cv2.GaussianBlur(cv2.resize(bright, (SIZE // 4, SIZE // 4)), (0, 0), 4
                                         ).repeat(4, axis=0).repeat(4, axis=1) * 0.8
        flare = Canvas()
        for k, (t, r) in enumerate(((0.0, 90), (0.45, 24), (0.7, 12), (1.0, 30))):
            x, y = 690 - t * 190, 70 + t * 120  # towards the corner, clear of the face
            flare.ellipse((x, y), (r, r), (1, 0.95, 0.8) if k == 0 else (0.7, 0.9, 1),
                          opacity=0.9 if k == 0 else 0.5, blur=r * 0.3)
        image = 1 - (1 - image) * (1 - flare.image * 0.55)  # screen
    elif style == "paprika":
        hsv = cv2.cvtColor(np.clip(image, 0, 1), cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0] - 28) % 360  # hue in degrees for float images
        hsv[..., 1] = np.clip(hsv[..., 1] * 1.5 + 0.08, 0, 1)
        image = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(image, 0, 1).astype(np.float32)


def vignette(image: np.ndarray, figure: np.ndarray | None = None) -> np.ndarray:
    """Darker towards the corners. Over the ``figure`` (a mask, H×W×1) only a third as dark:
    the full fall-off at the bottom turned white clothes grey."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE - 0.5
    darker = 0.35 * np.clip((x * x + y * y) * 2.2 - 0.15, 0, 1)[..., None]
    if figure is not None:
        darker = np.where(figure, darker / 3, darker)
    return image * (1.0 - darker)
