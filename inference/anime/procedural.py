"""The embedded anime style, no weights needed: anime proportions, smooth cel-shaded skin, a
coherent palette, clean line art, and drawn eyes with catch-lights.

``stylize_face`` works on an aligned face square and its 68 landmarks; ``toon.scene`` is the
whole-scene treatment for backgrounds and photos without a face.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.anime import toon
from inference.anime.geometry import proportions_warp, warp_image, warp_points

ENGINE = "procedural-v1"


def stylize_face(rgb: np.ndarray, landmarks: np.ndarray, *, strength: float = 0.6) -> np.ndarray:
    """An anime version of an aligned face crop (``landmarks`` in the crop's coordinates)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    sampling_map = proportions_warp(rgb.shape[:2], landmarks, strength)
    warped = warp_image(rgb, sampling_map)
    points = warp_points(landmarks, sampling_map)

    smoothed = toon.smooth(warped, passes=2, sigma_color=32.0)
    skin_area = _skin_mask(smoothed.shape[:2], points)
    flattened = toon.flatten(warped)
    flat = toon.posterize(flattened, toon.palette(flattened, colours=10), vivid=1.35, despeckle=9)
    flat = _vivid_outside(flat, skin_area, amount=1.3)
    # Skin work happens only in the box around the skin: a third of the square or so.
    rows, columns = np.nonzero(skin_area.any(axis=1))[0], np.nonzero(skin_area.any(axis=0))[0]
    if rows.size == 0:  # landmarks entirely outside the square: nothing to flatten
        rows, columns = np.array([0, 0]), np.array([0, 0])
    region = np.s_[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    skin, region_weight = _flat_skin(
        smoothed[region], skin_area[region], points - np.array([columns[0], rows[0]], np.float32)
    )
    skin_weight = np.zeros(skin_area.shape, np.float32)
    skin_weight[region] = region_weight
    out = flat.copy()
    out[region] = (flat[region] * (1.0 - region_weight[..., None]) + skin * region_weight[..., None]).astype(np.uint8)

    # Drawn faces have almost no lines inside the skin: keep the traced outline and hair lines,
    # draw the features by hand.
    lines = toon.line_art(smoothed, sigma=1.1, epsilon=-0.006)
    lines *= 1.0 - 0.9 * np.maximum(skin_weight, _feature_mask(out.shape[:2], points))
    out = toon.ink(out, lines)
    face_width = float(np.linalg.norm(points[16] - points[0]))
    for eye in (points[36:42], points[42:48]):
        _draw_eye(out, warped, eye, axis_x=float(points[27, 0]))
    _draw_features(out, points, face_width)
    return out


def _skin_mask(shape, points: np.ndarray) -> np.ndarray:
    """Soft mask of the face's skin: the jaw hull extended up over the forehead."""
    jaw = points[0:17]
    brow_top = points[17:27].copy()
    lift = 0.35 * float(np.linalg.norm(points[8] - points[27]))
    brow_top[:, 1] -= lift
    polygon = np.concatenate([jaw, brow_top[::-1]]).astype(np.int32)
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [polygon], 1.0, lineType=cv2.LINE_AA)
    blur = max(3, int(shape[0] * 0.03)) | 1
    return cv2.GaussianBlur(mask, (blur, blur), 0)


def _flat_skin(smoothed: np.ndarray, area: np.ndarray, points: np.ndarray):
    """Skin as two flat tones of the person's own skin colour, and where to use it (0..1).

    Only skin-coloured pixels take it, so brows, lips, teeth and glasses keep their colours.
    """
    lab = cv2.cvtColor(smoothed, cv2.COLOR_RGB2Lab).astype(np.float32)
    cheeks = area > 0.9
    base = (np.median(lab[cheeks], axis=0) if cheeks.any() else lab.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    offset = lab - base
    squared = (0.3 * offset[..., 0]) ** 2 + offset[..., 1] ** 2 + offset[..., 2] ** 2
    weight = area * np.exp(squared * np.float32(-0.5 / 26.0**2))
    # Flat tones of the person's own colour: a light one, a shadow where the photo is darker
    # than typical, a deeper one in the darkest folds; soft 2-px edges between them.
    lightness = cv2.GaussianBlur(lab[..., 0], (0, 0), 2.0)
    shadow = np.clip((base[0] - 10.0 - lightness) / 5.0 + 0.5, 0.0, 1.0)[..., None]
    deep = np.clip((base[0] - 32.0 - lightness) / 5.0 + 0.5, 0.0, 1.0)[..., None]
    light = base.copy()
    light[0] = min(255.0, base[0] * 1.04 + 4.0)
    dark = base * np.array([0.86, 1.0, 1.0], np.float32) + np.array([0.0, 6.0, 4.0], np.float32)
    darker = base * np.array([0.7, 1.0, 1.0], np.float32) + np.array([0.0, 10.0, 6.0], np.float32)
    tones = light * (1.0 - shadow) + dark * shadow
    tones = tones * (1.0 - deep) + darker * deep
    blush = _blush(smoothed.shape[:2], points)[..., None]
    tones = tones * (1.0 - 0.35 * blush) + np.array([base[0] * 0.97, 165.0, 140.0], np.float32) * 0.35 * blush
    skin = cv2.cvtColor(np.clip(tones, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)
    return skin, np.clip(weight * 1.15, 0.0, 1.0).astype(np.float32)


def _blush(shape, points: np.ndarray) -> np.ndarray:
    """Soft pink ovals under the eyes, the anime shorthand for cheeks."""
    mask = np.zeros(shape, np.float32)
    face_width = float(np.linalg.norm(points[16] - points[0]))
    for eye, jaw in ((points[36:42], points[3]), (points[42:48], points[13])):
        centre = eye.mean(axis=0) * 0.45 + jaw * 0.35 + points[33] * 0.2
        axes = (int(face_width * 0.11), int(face_width * 0.05))
        cv2.ellipse(mask, tuple(int(v) for v in centre), axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    sigma = face_width * 0.04
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def _feature_mask(shape, points: np.ndarray) -> np.ndarray:
    """Where eyes and mouth are drawn by hand, so traced lines there are mostly dropped."""
    mask = np.zeros(shape, np.float32)
    for group in (points[36:42], points[42:48], points[48:60]):
        hull = cv2.convexHull(group.astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0)
    size = max(3, int(shape[0] * 0.04)) | 1
    mask = cv2.dilate(mask, np.ones((size, size), np.uint8))
    return cv2.GaussianBlur(mask, (size, size), 0)


def _vivid_outside(rgb: np.ndarray, skin: np.ndarray, *, amount: float) -> np.ndarray:
    """More saturated colour off the skin: hair and clothes look painted rather than photographed."""
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    boost = 1.0 + (amount - 1.0) * (1.0 - skin)
    hsv[..., 1] = np.clip(hsv[..., 1] * boost, 0, 255)
    return cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)


def _draw_eye(out: np.ndarray, source: np.ndarray, eye: np.ndarray, axis_x: float) -> None:
    """An anime eye made from the (already enlarged) photographed one: its whites made white, its
    iris recoloured vivid but keeping its shape (so the person stays recognisable), catch-lights,
    and a bold upper lash line flicked at the outer corner."""
    eye_width = float(np.linalg.norm(eye[3] - eye[0]))
    if eye_width < 4:
        return
    centre = eye.mean(axis=0)
    outline = _smooth_closed(centre + (eye - centre) * np.array([1.06, 1.25], np.float32))

    # Everything below happens in a box around the eye, so its cost does not grow with the image.
    pad = int(eye_width)
    x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - pad, 0)
    x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + pad, (out.shape[1], out.shape[0]))
    box = out[y0:y1, x0:x1]
    origin = np.array([x0, y0], np.float32)
    local = outline - origin
    mask = np.zeros(box.shape[:2], np.uint8)
    cv2.fillPoly(mask, [_fixed(local)], 255, cv2.LINE_AA, shift=_SHIFT)
    if not mask.any():
        return

    photo = cv2.GaussianBlur(source[y0:y1, x0:x1], (0, 0), 0.8).astype(np.float32)
    lightness = photo.mean(axis=2)
    inside = mask > 128
    white_level = np.percentile(lightness[inside], 85)
    dark_level = np.percentile(lightness[inside], 8)
    # 0 on the whites, 1 on iris and pupil: the photo decides the shape, we decide the colours.
    iris_weight = np.clip((white_level - lightness) / max(white_level - dark_level, 1.0) * 1.4, 0.0, 1.0)
    iris_colour = _iris_colour(source, eye)
    shade = np.clip(lightness / max(white_level, 1.0), 0.0, 1.0)[..., None]
    iris = iris_colour * (0.15 + 1.1 * shade**1.5)
    layer = np.array([248.0, 246.0, 242.0]) * (1 - iris_weight[..., None]) + iris * iris_weight[..., None]
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    box[:] = np.clip(box * (1 - alpha) + layer * alpha, 0, 255).astype(np.uint8)

    # Catch-lights on the iris: the darkest spot is its middle.
    pupil = np.array(cv2.minMaxLoc(cv2.GaussianBlur(lightness, (0, 0), 2.0) + (255 - mask) * 1.0)[2], np.float32)
    radius = 0.3 * eye_width
    for offset, size in (((-0.45, -0.45), 0.35), ((0.5, 0.4), 0.16)):
        spot = pupil + np.array(offset) * radius
        cv2.circle(box, tuple(int(v) for v in _fixed(spot)), int(size * radius * (1 << _SHIFT)),
                   (255, 255, 255), -1, cv2.LINE_AA, shift=_SHIFT)

    # Lashes along the upper lid (the outline's top half), flicked outward at the outer corner.
    upper = local[: len(local) // 2 + 1]
    if abs(upper[0, 0] + x0 - axis_x) > abs(upper[-1, 0] + x0 - axis_x):
        upper = upper[::-1]  # run from the inner corner to the outer one
    direction = upper[-1] - upper[-2]
    direction /= np.linalg.norm(direction) + 1e-6
    flick = upper[-1] + direction * 0.2 * eye_width + np.array([0.0, -0.08 * eye_width])
    lash = np.concatenate([upper, flick[None]])
    thickness = max(2, int(round(0.09 * eye_width)))
    cv2.polylines(box, [_fixed(lash)], False, (32, 22, 26), thickness, cv2.LINE_AA, shift=_SHIFT)
    lower = local[len(local) // 2 :]
    cv2.polylines(box, [_fixed(lower)], False, (90, 55, 55), max(1, thickness // 3), cv2.LINE_AA,
                  shift=_SHIFT)


_SHIFT = 3  # cv2 drawing with 1/8-pixel precision


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * (1 << _SHIFT)).astype(np.int32)


def _smooth_closed(points: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Chaikin corner cutting: a smooth closed curve through a landmark polygon, keeping the
    first point's role (the outline starts at a corner, upper lid first)."""
    curve = np.asarray(points, np.float32)
    for _ in range(iterations):
        following = np.roll(curve, -1, axis=0)
        curve = np.stack([0.75 * curve + 0.25 * following, 0.25 * curve + 0.75 * following], axis=1).reshape(-1, 2)
    return curve


def _iris_colour(source: np.ndarray, eye: np.ndarray) -> np.ndarray:
    """The photo's iris colour made vivid: keep its hue, lift saturation and brightness."""
    mask = np.zeros(source.shape[:2], np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(eye.astype(np.int32)), 1)
    pixels = source[mask > 0]
    if len(pixels) == 0:
        return np.array([110.0, 70.0, 40.0])
    darkest = pixels[np.argsort(pixels.sum(axis=1))[: max(1, len(pixels) // 3)]]
    colour = np.median(darkest, axis=0).astype(np.uint8).reshape(1, 1, 3)
    hsv = cv2.cvtColor(colour, cv2.COLOR_RGB2HSV)[0, 0].astype(np.float32)
    hsv[1] = max(hsv[1], 150.0)
    hsv[2] = np.clip(hsv[2] * 1.6 + 40, 120, 200)
    return cv2.cvtColor(hsv.astype(np.uint8).reshape(1, 1, 3), cv2.COLOR_HSV2RGB)[0, 0].astype(np.float32)


def _draw_features(out: np.ndarray, points: np.ndarray, face_width: float) -> None:
    """A small nose tick and a clean mouth line, scaled to the face (brows keep their own shape)."""
    scale = 8
    line = max(2, int(round(face_width * 0.012)))
    nose = np.array([points[32] * 0.3 + points[33] * 0.7, points[33], points[33] * 0.7 + points[34] * 0.3])
    cv2.polylines(out, [np.round(nose * scale).astype(np.int32)], False, (150, 95, 85), line,
                  cv2.LINE_AA, shift=3)
    # Closed lips get one clean line; an open mouth (teeth showing) keeps its own shape.
    lip_gap = float(np.linalg.norm(points[66] - points[62]))
    if lip_gap < 0.03 * face_width:
        mouth_line = points[[60, 61, 62, 63, 64]]
        cv2.polylines(out, [np.round(mouth_line * scale).astype(np.int32)], False, (120, 45, 50), line,
                      cv2.LINE_AA, shift=3)
