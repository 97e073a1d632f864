"""The embedded anime style, no weights needed: anime proportions, a painted base, skin in
two clean tones, drawn hair and eyes, and clean lines; ``strength`` sets how far (``Strength``).

``stylize_face`` works on an aligned face square and its 68 landmarks, calling on ``hair``
(finding and drawing the hair) and ``eyes``; ``toon.scene`` is the whole-scene treatment for
backgrounds and photos without a face.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.anime import eyes, hair, toon
from inference.anime.geometry import proportions_warp, warp_image, warp_points
from inference.anime.strokes import smooth_open, tapered
from inference.faces import regions

ENGINE = "procedural-v2"


@dataclass(frozen=True)
class Strength:
    """What ``strength`` (0..1) sets, each rising with it: how much of the photo's shading the
    flat areas lose (``flat``), how heavy every drawn line is (``line``), and how much larger
    the eyes are drawn (the proportions warp also scales with it, see ``geometry``)."""

    value: float

    @property
    def flat(self) -> float:
        """Share of a flat area's colour that is the drawn tone, not the painted photo."""
        return 0.55 + 0.45 * self.value

    @property
    def line(self) -> float:
        """Line width and darkness factor."""
        return 0.5 + self.value

    @property
    def eye(self) -> float:
        """How much taller and wider the drawn eye is opened than the photographed one."""
        return 1.0 + 0.5 * self.value


def stylize_face(rgb: np.ndarray, landmarks: np.ndarray, *, strength: float = 0.6) -> np.ndarray:
    """An anime version of an aligned face crop (``landmarks`` in the crop's coordinates)."""
    style = Strength(float(np.clip(strength, 0.0, 1.0)))
    sampling_map = proportions_warp(rgb.shape[:2], landmarks, style.value)
    warped = warp_image(rgb, sampling_map)
    points = warp_points(landmarks, sampling_map)
    face_width = float(np.linalg.norm(points[16] - points[0]))

    smoothed = toon.smooth(warped, passes=2, sigma_color=32.0)
    smoothed_lab = cv2.cvtColor(smoothed, cv2.COLOR_RGB2Lab).astype(np.float32)
    outline_area = _skin_mask(warped.shape[:2], points)
    # Away from the face the painted photo keeps some shading; strength takes it away.
    out = toon.paint(warped, keep=0.4 * (1.0 - style.value) + 0.1)
    head = hair.head_mask(warped, points)
    hair_area = hair.hair_mask(smoothed_lab, head, outline_area, points)
    skin_weight = _skin_region(smoothed_lab, outline_area, head, hair_area, points)
    skin = _cel_skin(smoothed_lab, skin_weight, hair_area, points, face_width)
    alpha = (skin_weight * style.flat)[..., None]
    out = (out * (1.0 - alpha) + skin * alpha).astype(np.uint8)

    # Drawn faces have no traced lines inside the face: there the features are drawn by hand.
    lines = toon.line_art(smoothed, sigma=1.5, epsilon=-0.007, min_area=40)
    lines *= 1.0 - np.maximum(_face_interior(out.shape[:2], points), skin_weight)
    out = toon.ink(out, np.clip(lines * style.line, 0.0, 1.0))
    out = hair.draw(out, smoothed_lab, hair_area, head, points, face_width, line=style.line)
    out = _outline(out, head, hair_area, points)
    _draw_jaw(out, points, face_width, style.line)
    family = eyes.iris_family(warped, points[regions.RIGHT_EYE], points[regions.LEFT_EYE])
    for eye in (points[regions.RIGHT_EYE], points[regions.LEFT_EYE]):
        eyes.draw_eye(out, warped, eye, axis_x=float(points[regions.NOSE_TOP, 0]), family=family,
                      opening=style.eye, line=style.line)
    _draw_features(out, points, face_width, style.line)
    return out


def _outline(out: np.ndarray, head: np.ndarray, hair_area: np.ndarray,
             points: np.ndarray) -> np.ndarray:
    """A clean, smoothed line around the head's silhouette (ears and temples; the hair and the
    jaw draw their own), down to the jaw's corners, never across the face itself."""
    face_width = float(np.linalg.norm(points[16] - points[0]))
    silhouette = np.zeros(head.shape, np.uint8)
    curves = hair.smooth_outline(head, face_width)
    cv2.polylines(silhouette, [np.round(curve * 8).astype(np.int32) for curve in curves], True, 255,
                  2, cv2.LINE_AA, shift=3)
    silhouette[max(int(points[[4, 12], 1].mean()), 0) :] = 0
    silhouette[cv2.dilate((hair_area > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0] = 0
    silhouette[_face_interior(out.shape[:2], points) > 0.05] = 0
    line = (silhouette.astype(np.float32) / 255.0)[..., None]
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


def _face_interior(shape, points: np.ndarray) -> np.ndarray:
    """1 inside the face outline (jaw and brows, up over the forehead) shrunk a little, so a
    line there is inside the face, not on its edge; 0 elsewhere (float32)."""
    face_width = float(np.linalg.norm(points[16] - points[0]))
    top = points[regions.BROWS].copy()
    top[:, 1] -= 0.25 * float(np.linalg.norm(points[regions.CHIN] - points[regions.NOSE_TOP]))
    inside = np.zeros(shape, np.uint8)
    cv2.fillPoly(inside, [np.concatenate([points[regions.JAW], top[::-1]]).astype(np.int32)], 1)
    band = max(3, int(0.06 * face_width)) | 1
    return cv2.erode(inside, np.ones((band, band), np.uint8)).astype(np.float32)


def _skin_region(lab: np.ndarray, outline_area: np.ndarray, head: np.ndarray,
                 hair_area: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Where the skin is drawn (0..1): the face up to the hairline (or over a bald crown), inside
    the head, without hair, brows, eyes and mouth. No colour test inside the face: a test per
    pixel leaves the photo showing through in blotches wherever the skin is redder or darker."""
    shape = outline_area.shape
    chin_to_top = float(np.linalg.norm(points[regions.CHIN] - points[regions.NOSE_TOP]))
    jaw = points[regions.JAW]
    crown = points[regions.BROWS].copy()
    crown[:, 1] -= 0.9 * chin_to_top
    face = np.zeros(shape, np.float32)
    cv2.fillPoly(face, [np.concatenate([jaw, crown[::-1]]).astype(np.int32)], 1.0, cv2.LINE_AA)
    # Above the face's own outline only skin-coloured head counts, and nowhere is a large
    # hair-coloured area skin: hair the hair mask missed (a temple, a fringe) must not be
    # painted as forehead. (Small ones are shadows, stubble or pores: skin.)
    core = outline_area > 0.9
    skin_like = np.zeros(shape, np.float32)
    hair_like = np.zeros(shape, np.uint8)
    if core.any():
        to_skin = hair.colour_distance(lab, np.median(lab[core], axis=0))
        skin_like = cv2.GaussianBlur((to_skin < 28.0).astype(np.float32), (0, 0), 2.0)
        if (hair_area > 0.5).sum() > 16:
            to_hair = hair.colour_distance(lab, np.median(lab[hair_area > 0.5], axis=0))
            face_width = float(np.linalg.norm(points[16] - points[0]))
            plainly_hair = ((to_hair < to_skin) & (to_skin > 30.0)).astype(np.uint8)
            hair_like = _without_small_islands(plainly_hair, min_area=(0.15 * face_width) ** 2)
    forehead = ((face * head * skin_like) > 0.5).astype(np.uint8)
    # A forehead is broad: slivers of skin colour up the hair's edge are strands, not skin.
    reach = max(3, int(0.12 * float(np.linalg.norm(points[16] - points[0])))) | 1
    forehead = cv2.morphologyEx(forehead, cv2.MORPH_OPEN,
                                cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (reach, reach)))
    face = np.maximum(outline_area, cv2.GaussianBlur(forehead.astype(np.float32), (0, 0), 1.5))
    hair_free = 1.0 - cv2.GaussianBlur(np.clip(np.maximum(hair_area, hair_like) * 1.5, 0.0, 1.0),
                                       (0, 0), 1.5)
    weight = face * hair_free * (1.0 - _keep_mask(shape, points))
    return cv2.GaussianBlur(weight, (0, 0), 1.0)


def _cel_skin(lab: np.ndarray, weight: np.ndarray, hair_area: np.ndarray, points: np.ndarray,
              face_width: float) -> np.ndarray:
    """Skin as drawn (RGB): the person's skin colour in one light tone and one shadow tone, with
    blush and, around the features, the photo's soft modelling. The shadow is where the face's
    broad lighting (its lightness averaged over a sixth of the face) falls clearly below the
    lit side's (at most the darkest third of the skin, none on an evenly lit face), plus a band
    under the hairline where the hair casts it; shadow islands and light holes smaller than a
    blush are merged away, so no blotches of pores, wrinkles or stubble survive."""
    core = weight > 0.9
    if core.sum() < 16:
        core = weight > 0.1
    sigma = max(1.0, 0.06 * face_width)
    inside = np.clip(weight, 0.02, 1.0)
    broad = cv2.GaussianBlur(lab[..., 0] * inside, (0, 0), sigma) / cv2.GaussianBlur(inside, (0, 0), sigma)
    if core.any():
        lit = float(np.percentile(broad[core], 75))
        limit = min(float(np.percentile(broad[core], 33)), lit - 12.0)
        shadow = ((broad < limit) & (weight > 0.5)).astype(np.uint8)
        base = np.median(lab[core], axis=0)
    else:
        shadow = np.zeros(weight.shape, np.uint8)
        base = np.array([170.0, 142.0, 146.0], np.float32)
    shadow |= hair.hairline_band(hair_area, face_width) & (weight > 0.3)
    shadow = _without_small_islands(shadow, min_area=(0.12 * face_width) ** 2)
    shade = cv2.GaussianBlur(shadow.astype(np.float32), (0, 0), 1.2)[..., None]
    light_tone = base.astype(np.float32)
    shadow_tone = np.array([base[0] - 18.0, base[1] + 6.0, base[2] + 2.0], np.float32)
    tones = light_tone * (1.0 - shade) + shadow_tone * shade
    # Around eyes, nose and mouth the photo's modelling (eye sockets, the nose's sides, the
    # mouth's corners) stays as soft shading over the tones: it carries who the person is
    # (without it biden.jpg's dlib distance rises from 0.58 to 0.73). Cheeks, forehead and
    # jaw stay flat.
    fine = max(1.0, 0.012 * face_width)
    modelling = (cv2.GaussianBlur(lab[..., 0] * inside, (0, 0), fine)
                 / cv2.GaussianBlur(inside, (0, 0), fine))
    tones[..., 0] += (modelling - broad) * _around_features(lab.shape[:2], points, face_width)
    blush = _blush(lab.shape[:2], points)[..., None]
    tones = tones * (1.0 - 0.35 * blush) + np.array([base[0] * 0.97, 165.0, 140.0], np.float32) * 0.35 * blush
    skin = cv2.cvtColor(np.clip(tones, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)
    return skin.astype(np.float32)


def _around_features(shape, points: np.ndarray, face_width: float) -> np.ndarray:
    """Soft mask over the eyes' sockets, the nose and the mouth's corners (0..1)."""
    mask = np.zeros(shape, np.uint8)
    for region in (regions.RIGHT_EYE, regions.LEFT_EYE, regions.NOSE, regions.MOUTH):
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points[region]).astype(np.int32)), 1)
    grow = max(3, int(0.15 * face_width)) | 1
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 0.03 * face_width)


def _without_small_islands(mask: np.ndarray, *, min_area: float) -> np.ndarray:
    """``mask`` (0/1 uint8) with its islands and its holes smaller than ``min_area`` removed."""
    for value in (1, 0):
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (mask == value).astype(np.uint8), connectivity=8)
        small = np.zeros(count, bool)
        small[1:] = stats[1:, cv2.CC_STAT_AREA] < min_area
        mask = np.where(small[labels], 1 - value, mask).astype(np.uint8)
    return mask


def _keep_mask(shape, points: np.ndarray) -> np.ndarray:
    """Soft mask over brows, eyes and mouth: they keep the painted photo under the drawing."""
    mask = np.zeros(shape, np.float32)
    for region, grow in ((regions.RIGHT_BROW, 1.5), (regions.LEFT_BROW, 1.5),
                         (regions.RIGHT_EYE, 1.4), (regions.LEFT_EYE, 1.4),
                         (regions.OUTER_LIPS, 1.15)):
        group = points[region]
        centre = group.mean(axis=0)
        spread = (group - centre) * grow
        spread[:, 1] = np.sign(spread[:, 1]) * np.maximum(np.abs(spread[:, 1]), 0.04 * shape[0])
        cv2.fillConvexPoly(mask, cv2.convexHull((centre + spread).astype(np.int32)), 1.0, cv2.LINE_AA)
    return cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.008 * shape[0]))


def _draw_jaw(out: np.ndarray, points: np.ndarray, face_width: float, weight: float) -> None:
    """The clean, thin contour a drawn face has along the jaw landmarks (the chin's side points,
    not the ears'), tapering off at both ends; ``weight`` scales its width."""
    tapered(out, smooth_open(points[regions.JAW][2:-2]), (72, 42, 40),
            max(1.0, 0.01 * face_width * weight), start=0.15, end=0.15)


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


def _draw_features(out: np.ndarray, points: np.ndarray, face_width: float, weight: float) -> None:
    """A small nose tick and a clean mouth line, scaled to the face and by ``weight`` (brows
    keep their own shape)."""
    line = max(2.0, face_width * 0.012 * weight)
    bottom = points[regions.NOSE_BOTTOM]
    nose = np.array([points[32] * 0.3 + bottom * 0.7, bottom, bottom * 0.7 + points[34] * 0.3])
    tapered(out, nose, (150, 95, 85), line, start=0.4, end=0.4)
    # Closed lips get one clean line; an open mouth (teeth showing) keeps its own shape.
    lip_gap = float(np.linalg.norm(points[66] - points[62]))
    if lip_gap < 0.03 * face_width:
        tapered(out, smooth_open(points[[60, 61, 62, 63, 64]]), (120, 45, 50), line, start=0.3, end=0.3)
