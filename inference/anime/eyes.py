"""Anime eyes drawn over the photographed ones, in their place and shape.

The eye's landmark outline decides where the lids run; the eye is opened a little taller (more
for narrow eyes), the iris becomes a large disc under the upper lid with a dark top, a light
bottom, a pupil and catch-lights, placed where the photographed iris is; the upper lid gets a
bold lash line flicked out at the outer corner, the lower lid a fine line, and a crease above.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.anime.strokes import SHIFT, fixed, smooth_open, tapered

WHITE = np.array([250.0, 248.0, 244.0], np.float32)
LID_SHADOW = np.array([196.0, 196.0, 214.0], np.float32)
LASH = (34, 24, 28)
# Iris colours an illustrator would pick for the photographed eye's colour family.
IRIS = {
    "dark": np.array([122.0, 72.0, 46.0], np.float32),
    "brown": np.array([156.0, 98.0, 54.0], np.float32),
    "blue": np.array([64.0, 118.0, 196.0], np.float32),
    "green": np.array([76.0, 142.0, 92.0], np.float32),
}


def draw_eye(out: np.ndarray, source: np.ndarray, eye: np.ndarray, axis_x: float, *,
             family: str | None = None, opening: float = 1.3, line: float = 1.0) -> None:
    """Draw one anime eye into ``out`` (in place). ``source``: the photo the landmarks ``eye``
    (6 points, dlib order) belong to; ``axis_x``: the face's vertical axis, to tell the outer
    corner from the inner one; ``family``: the iris colour (``iris_family``, judged from this
    eye when not given); ``opening``: how much taller than the photographed eye it is drawn
    (narrow eyes a little more), also a little wider; ``line``: lash and lid line weight."""
    eye = np.asarray(eye, np.float32)
    eye_width = float(np.linalg.norm(eye[3] - eye[0]))
    if eye_width < 6:
        return
    centre = eye.mean(axis=0)
    lid_gap = (np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / 2
    height_ratio = float(lid_gap) / eye_width
    stretch = opening * float(np.clip(0.4 / max(height_ratio, 0.05), 0.92, 1.15))
    lids = centre + (eye - centre) * np.array([1.0 + 0.2 * (opening - 1.0), stretch], np.float32)
    upper = smooth_open(lids[[0, 1, 2, 3]])
    lower = smooth_open(lids[[3, 4, 5, 0]])
    if abs(upper[0, 0] - axis_x) > abs(upper[-1, 0] - axis_x):  # run inner corner -> outer corner
        upper, lower = upper[::-1], lower[::-1]
    height = float(lower[:, 1].max() - upper[:, 1].min())

    # Work in a box around the eye: the cost does not grow with the image.
    pad = int(eye_width * 0.6) + 2
    x0, y0 = np.maximum(np.floor(lids.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(lids.max(axis=0)).astype(int) + pad, (out.shape[1], out.shape[0]))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    origin = np.array([x0, y0], np.float32)
    box = out[y0:y1, x0:x1]
    outline = np.concatenate([upper, lower[::-1][1:-1]]) - origin
    mask = np.zeros(box.shape[:2], np.uint8)
    cv2.fillPoly(mask, [fixed(outline)], 255, cv2.LINE_AA, shift=SHIFT)
    if not mask.any():
        return
    alpha = (mask.astype(np.float32) / 255.0)[..., None]

    ys, xs = np.mgrid[0 : box.shape[0], 0 : box.shape[1]].astype(np.float32)
    top_of_lid = np.interp(xs, *_by_x(upper - origin))
    layer = np.empty(box.shape, np.float32)
    # The whites, shaded under the upper lid.
    under_lid = np.clip(1.0 - (ys - top_of_lid) / max(0.35 * height, 1.0), 0.0, 1.0)[..., None]
    layer[:] = WHITE * (1.0 - under_lid) + LID_SHADOW * under_lid

    # The iris: a disc as tall as the opened eye, centred where the photo's iris is.
    iris_centre = _iris_centre(source, eye, origin, box.shape[:2]) 
    iris_centre[1] = (upper[:, 1].min() + lower[:, 1].max()) / 2 - origin[1] + 0.06 * height
    radius = min(0.55 * height, 0.3 * eye_width)
    colour = IRIS[family or iris_family(source, eye)]
    dx, dy = xs - iris_centre[0], ys - iris_centre[1]
    distance = np.sqrt(dx * dx + (dy * 0.95) ** 2) / radius
    iris = np.clip((1.0 - distance) * radius, 0.0, 1.0)[..., None]  # anti-aliased edge
    depth = np.clip((dy / radius + 1.0) / 2.0, 0.0, 1.0)[..., None]  # 0 at the top, 1 at the bottom
    iris_colour = colour * (0.3 + 0.9 * depth ** 1.3) + 30.0 * depth ** 3
    rim = np.clip((distance - 0.8) / 0.2, 0.0, 1.0)[..., None]
    iris_colour = iris_colour * (1.0 - 0.55 * rim)
    pupil = np.clip((0.45 - np.sqrt(dx * dx + dy * dy) / radius) * radius, 0.0, 1.0)[..., None]
    iris_colour = iris_colour * (1.0 - pupil) + colour * 0.18 * pupil
    layer = layer * (1.0 - iris) + iris_colour * iris
    # The upper lid's shadow falls over the iris too.
    layer *= 1.0 - 0.25 * under_lid
    box[:] = np.clip(box * (1.0 - alpha) + layer * alpha, 0, 255).astype(np.uint8)

    # Catch-lights: a big one up toward the light, a small one below.
    for offset, size in (((-0.38, -0.4), 0.3), ((0.35, 0.42), 0.13)):
        spot = iris_centre + np.array(offset, np.float32) * radius
        cv2.circle(box, tuple(int(v) for v in fixed(spot)), int(size * radius * (1 << SHIFT)),
                   (255, 255, 255), -1, cv2.LINE_AA, shift=SHIFT)

    # Lines: a bold upper lash line thickening toward the outer corner and flicking out, a fine
    # lower line on the outer half, and a thin crease above the lid.
    local_upper = upper - origin
    direction = local_upper[-1] - local_upper[-4]
    direction /= np.linalg.norm(direction) + 1e-6
    flick = local_upper[-1] + direction * 0.16 * eye_width + np.array([0.0, -0.1 * eye_width], np.float32)
    lash = np.concatenate([local_upper, flick[None]])
    tapered(box, lash, LASH, max(2.0, 0.13 * eye_width * line), start=0.35, end=0.25, peak=0.8)
    local_lower = lower[::-1] - origin  # inner -> outer along the lower lid
    half = local_lower[len(local_lower) // 2 :]
    tapered(box, half, (110, 66, 66), max(1.0, 0.04 * eye_width * line), start=0.2, end=0.8,
            peak=0.85)
    crease = local_upper[len(local_upper) // 5 : -len(local_upper) // 8] - np.array([0.0, 0.3 * height], np.float32)
    if len(crease) >= 2:
        tapered(box, crease, (120, 78, 72), max(1.0, 0.035 * eye_width), start=0.1, end=0.4, peak=0.6)


def _by_x(curve: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(curve[:, 0])
    return curve[order, 0], curve[order, 1]


def _iris_centre(source: np.ndarray, eye: np.ndarray, origin: np.ndarray, shape) -> np.ndarray:
    """Where the photographed iris is (box coordinates): the darkest spot inside the eye."""
    mask = np.zeros(source.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(eye).astype(np.int32)), 1)
    ys, xs = np.nonzero(mask)
    if len(xs) < 4:
        return eye.mean(axis=0) - origin
    gray = cv2.GaussianBlur(cv2.cvtColor(source, cv2.COLOR_RGB2GRAY), (0, 0), 1.5)[ys, xs].astype(np.float32)
    darkest = gray <= np.percentile(gray, 25)
    centre = np.array([xs[darkest].mean(), ys[darkest].mean()], np.float32)
    # The iris stays well inside the eye's width.
    inner, outer = sorted((float(eye[0, 0]), float(eye[3, 0])))
    width = outer - inner
    centre[0] = np.clip(centre[0], inner + 0.3 * width, outer - 0.3 * width)
    return centre - origin


def iris_family(source: np.ndarray, *eyes: np.ndarray) -> str:
    """The photographed irises' colour family, one for the face: dark, brown, blue or green.

    The iris is the darker part of the eye (its darkest twentieth is lashes and pupil, its
    lighter half the whites). Its colour is judged against the skin around the eye, which
    serves as the white balance: a real photo's blue iris is small and dark, and under warm
    light it is nowhere near blue in absolute terms, only much bluer than the skin (biden.jpg:
    blue over red 1.4-1.8 times the skin's; brown eyes: 0.5-1.2 times)."""
    inside = np.zeros(source.shape[:2], np.uint8)
    for eye in eyes:
        centre = eye.mean(axis=0)
        shrunk = np.round(centre + (eye - centre) * 0.85).astype(np.int32)
        cv2.fillConvexPoly(inside, cv2.convexHull(shrunk), 1)
    pixels = source[inside > 0].astype(np.float32)
    if len(pixels) < 8:
        return "brown"
    order = np.argsort(pixels.sum(axis=1))
    iris = pixels[order[len(order) // 20 : max(len(order) * 9 // 20, 2)]]
    red, green, blue = iris.mean(axis=0) + 1.0
    eye_size = max(3, int(0.5 * float(np.ptp(eyes[0][:, 0]))) | 1)
    near = cv2.dilate(inside, np.ones((eye_size, eye_size), np.uint8))
    ring = near - cv2.dilate(inside, np.ones((eye_size // 3 | 1,) * 2, np.uint8))
    skin = source[ring > 0].astype(np.float32).mean(axis=0) + 1.0 if ring.any() \
        else np.full(3, 128.0)
    bluer = (blue / red) / (skin[2] / skin[0])
    greener = (green / red) / (skin[1] / skin[0])
    if greener > 1.3 and green > blue:
        return "green"
    if bluer > 1.3:
        return "blue"
    colour = np.uint8([[[red - 1, green - 1, blue - 1]]])
    lightness = cv2.cvtColor(colour, cv2.COLOR_RGB2Lab)[0, 0, 0]
    return "dark" if lightness < 70 else "brown"
