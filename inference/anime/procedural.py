"""The embedded anime style, no weights needed: anime proportions, a painted base, skin in
flat tones, drawn hair and eyes, and clean lines.

``stylize_face`` works on an aligned face square and its 68 landmarks, calling on ``hair``
(finding and drawing the hair) and ``eyes``; ``toon.scene`` is the whole-scene treatment for
backgrounds and photos without a face.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.anime import eyes, hair, toon
from inference.anime.geometry import proportions_warp, warp_image, warp_points
from inference.anime.strokes import smooth_open, tapered
from inference.faces import regions

ENGINE = "procedural-v2"


def stylize_face(rgb: np.ndarray, landmarks: np.ndarray, *, strength: float = 0.6) -> np.ndarray:
    """An anime version of an aligned face crop (``landmarks`` in the crop's coordinates)."""
    strength = float(np.clip(strength, 0.0, 1.0))
    sampling_map = proportions_warp(rgb.shape[:2], landmarks, strength)
    warped = warp_image(rgb, sampling_map)
    points = warp_points(landmarks, sampling_map)
    face_width = float(np.linalg.norm(points[16] - points[0]))

    smoothed = toon.smooth(warped, passes=2, sigma_color=32.0)
    skin_area = _skin_mask(warped.shape[:2], points)
    # The face keeps more of its shading than the rest: it carries who the person is.
    out = toon.paint(warped, keep=0.2 + 0.35 * skin_area)
    head = hair.head_mask(warped, points)
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
    out[region] = (out[region] * (1.0 - region_weight[..., None]) + skin * region_weight[..., None]).astype(np.uint8)

    # Drawn faces have almost no lines inside the skin: keep the traced outline and hair lines,
    # draw the features by hand.
    lines = toon.line_art(smoothed, sigma=1.5, epsilon=-0.007, min_area=40)
    lines *= 1.0 - np.maximum(skin_weight, _feature_mask(out.shape[:2], points))
    out = toon.ink(out, lines)
    smoothed_lab = cv2.cvtColor(smoothed, cv2.COLOR_RGB2Lab).astype(np.float32)
    hair_area = hair.hair_mask(smoothed_lab, head, skin_weight, points)
    out = hair.cast_shadow(out, hair_area, skin_weight, face_width)
    out = hair.draw(out, smoothed_lab, hair_area, head, points, face_width)
    out = _outline(out, head, hair_area, points)
    _draw_jaw(out, points, face_width)
    for eye in (points[regions.RIGHT_EYE], points[regions.LEFT_EYE]):
        eyes.draw_eye(out, warped, eye, axis_x=float(points[regions.NOSE_TOP, 0]))
    _draw_features(out, points, face_width)
    return out


def _outline(out: np.ndarray, head: np.ndarray, hair: np.ndarray, points: np.ndarray) -> np.ndarray:
    """A clean line around the head's silhouette (ears and temples; the hair and the jaw draw
    their own), down to the jaw's corners."""
    silhouette = cv2.morphologyEx((head > 0.5).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    silhouette[max(int(points[[4, 12], 1].mean()), 0) :] = 0
    silhouette[cv2.dilate((hair > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] = 0
    line = np.clip(cv2.GaussianBlur(silhouette.astype(np.float32), (0, 0), 0.7) * 1.2, 0.0, 1.0)[..., None]
    return np.clip(out * (1.0 - 0.6 * line) + out * 0.25 * 0.6 * line, 0, 255).astype(np.uint8)


def _skin_mask(shape, points: np.ndarray) -> np.ndarray:
    """Soft mask of the face's skin: the jaw hull extended up over the forehead."""
    jaw = points[regions.JAW]
    brow_top = points[regions.BROWS].copy()
    lift = 0.35 * float(np.linalg.norm(points[regions.CHIN] - points[regions.NOSE_TOP]))
    brow_top[:, 1] -= lift
    polygon = np.concatenate([jaw, brow_top[::-1]]).astype(np.int32)
    mask = np.zeros(shape, np.float32)
    cv2.fillPoly(mask, [polygon], 1.0, lineType=cv2.LINE_AA)
    blur = max(3, int(shape[0] * 0.03)) | 1
    return cv2.GaussianBlur(mask, (blur, blur), 0)


def _flat_skin(smoothed: np.ndarray, area: np.ndarray, points: np.ndarray):
    """Skin drawn the anime way, and where to use it (0..1): the person's own skin colour in a
    light tone and one shadow tone. The shadow follows the face's large-scale lighting (the
    photo's lightness blurred at a tenth of the face width), so wrinkles, pores and blemishes
    vanish while the side of the face away from the light stays shaded.

    Only skin-coloured pixels take it, so brows, lips, teeth and glasses keep their colours.
    """
    lab = cv2.cvtColor(smoothed, cv2.COLOR_RGB2Lab).astype(np.float32)
    cheeks = area > 0.9
    base = (np.median(lab[cheeks], axis=0) if cheeks.any() else lab.reshape(-1, 3).mean(axis=0)).astype(np.float32)
    offset = lab - base
    squared = (0.3 * offset[..., 0]) ** 2 + offset[..., 1] ** 2 + offset[..., 2] ** 2
    weight = area * np.exp(squared * np.float32(-0.5 / 26.0**2))
    weight = weight * (1.0 - _keep_mask(area.shape, points))

    face_width = float(np.linalg.norm(points[16] - points[0]))
    sigma = max(1.0, 0.025 * face_width)
    # Lightness averaged over skin only, so hair, brows and background do not bleed in.
    inside = np.clip(weight, 0.02, 1.0)
    broad = cv2.GaussianBlur(lab[..., 0] * inside, (0, 0), sigma) / cv2.GaussianBlur(inside, (0, 0), sigma)
    relative = np.clip(0.5 + (broad - base[0]) / 60.0, 0.0, 1.0)  # 0.5 = the typical skin
    stepped = toon.cel_steps(relative, 3, ramp=0.45, keep=0.4)
    tones = np.empty(lab.shape, np.float32)
    tones[..., 0] = base[0] + (stepped - 0.5) * 60.0 * 0.8 + min(10.0, 0.06 * (255.0 - base[0]) + 3.0)
    warmth = np.clip(0.5 - stepped, 0.0, 0.5)  # shadows a little warmer and redder
    tones[..., 1] = base[1] + 10.0 * warmth
    tones[..., 2] = base[2] + 6.0 * warmth
    blush = _blush(smoothed.shape[:2], points)[..., None]
    tones = tones * (1.0 - 0.35 * blush) + np.array([base[0] * 0.97, 165.0, 140.0], np.float32) * 0.35 * blush
    skin = cv2.cvtColor(np.clip(tones, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)
    return skin, np.clip(weight * 1.15, 0.0, 1.0).astype(np.float32)


def _keep_mask(shape, points: np.ndarray) -> np.ndarray:
    """Soft mask over brows, eyes and mouth: they keep the painted photo under the drawing."""
    mask = np.zeros(shape, np.float32)
    for region, grow in ((regions.RIGHT_BROW, 1.5), (regions.LEFT_BROW, 1.5), (regions.RIGHT_EYE, 1.4),
                         (regions.LEFT_EYE, 1.4), (regions.OUTER_LIPS, 1.15)):
        group = points[region]
        centre = group.mean(axis=0)
        spread = (group - centre) * grow
        spread[:, 1] = np.sign(spread[:, 1]) * np.maximum(np.abs(spread[:, 1]), 0.04 * shape[0])
        cv2.fillConvexPoly(mask, cv2.convexHull((centre + spread).astype(np.int32)), 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.008 * shape[0]))


def _draw_jaw(out: np.ndarray, points: np.ndarray, face_width: float) -> None:
    """The clean, thin contour a drawn face has along the jaw, tapering off toward the ears."""
    tapered(out, smooth_open(points[regions.JAW][2:-2]), (96, 58, 52), max(1.0, 0.008 * face_width),
            start=0.15, end=0.15)


def _blush(shape, points: np.ndarray) -> np.ndarray:
    """Soft pink ovals under the eyes, the anime shorthand for cheeks."""
    mask = np.zeros(shape, np.float32)
    face_width = float(np.linalg.norm(points[16] - points[0]))
    for eye, jaw in ((points[regions.RIGHT_EYE], points[3]),
                     (points[regions.LEFT_EYE], points[13])):
        centre = eye.mean(axis=0) * 0.45 + jaw * 0.35 + points[regions.NOSE_BOTTOM] * 0.2
        axes = (int(face_width * 0.11), int(face_width * 0.05))
        cv2.ellipse(mask, tuple(int(v) for v in centre), axes, 0, 0, 360, 1.0, -1, cv2.LINE_AA)
    sigma = face_width * 0.04
    return cv2.GaussianBlur(mask, (0, 0), sigma)


def _feature_mask(shape, points: np.ndarray) -> np.ndarray:
    """Where eyes and mouth are drawn by hand, so traced lines there are mostly dropped."""
    mask = np.zeros(shape, np.float32)
    for group in (points[regions.RIGHT_EYE], points[regions.LEFT_EYE], points[regions.OUTER_LIPS]):
        hull = cv2.convexHull(group.astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0)
    size = max(3, int(shape[0] * 0.04)) | 1
    mask = cv2.dilate(mask, np.ones((size, size), np.uint8))
    return cv2.GaussianBlur(mask, (size, size), 0)


def _draw_features(out: np.ndarray, points: np.ndarray, face_width: float) -> None:
    """A small nose tick and a clean mouth line, scaled to the face (brows keep their own shape)."""
    line = max(2.0, face_width * 0.012)
    bottom = points[regions.NOSE_BOTTOM]
    nose = np.array([points[32] * 0.3 + bottom * 0.7, bottom, bottom * 0.7 + points[34] * 0.3])
    tapered(out, nose, (150, 95, 85), line, start=0.4, end=0.4)
    # Closed lips get one clean line; an open mouth (teeth showing) keeps its own shape.
    lip_gap = float(np.linalg.norm(points[66] - points[62]))
    if lip_gap < 0.03 * face_width:
        tapered(out, smooth_open(points[[60, 61, 62, 63, 64]]), (120, 45, 50), line, start=0.3, end=0.3)
