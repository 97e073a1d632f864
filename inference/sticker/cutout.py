"""Head-and-hair cut-out: GrabCut seeded by the landmarks (the face is certainly foreground,
the crop's edges and anything far from the head certainly background), run small for speed and
brought back to full size with a soft edge."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions
from inference.sticker.headcrop import HeadCrop

_WORK_SIDE = 200  # GrabCut's cost grows with pixels; the mask's detail is restored by feathering


def _ellipse(mask: np.ndarray, centre, axes, value: int) -> None:
    cv2.ellipse(mask, (round(centre[0]), round(centre[1])),
                (max(1, round(axes[0])), max(1, round(axes[1]))), 0, 0, 360, value, -1)


def _face_hull(crop: HeadCrop, landmarks: np.ndarray | None) -> np.ndarray:
    points = crop.landmarks if landmarks is None else landmarks
    hull = np.zeros((crop.size, crop.size), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(points[regions.OUTLINE].astype(np.int32)), 1)
    return hull


def head_regions(crop: HeadCrop, landmarks: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(sure, allowed) masks in crop pixels: ``sure`` is the skin inside the face outline and
    the brows, without eyes and mouth; ``allowed`` bounds where head, hair and a short neck can be."""
    points = crop.landmarks if landmarks is None else landmarks
    size, unit = crop.size, crop.unit
    jaw = points[regions.JAW]
    face_width = float(jaw[:, 0].max() - jaw[:, 0].min())
    centre_x = float(points[regions.NOSE_BRIDGE, 0].mean())
    brow_y = float(points[regions.BROWS, 1].min())
    chin = points[regions.CHIN]

    sure = np.zeros((size, size), np.uint8)
    forehead = points[regions.BROWS] - (0, 0.25 * unit)
    outline = np.concatenate([jaw, forehead[::-1]]).astype(np.int32)
    cv2.fillConvexPoly(sure, cv2.convexHull(outline), 255)
    sure = cv2.erode(sure, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (
        max(3, round(0.12 * unit)) | 1,) * 2))

    allowed = np.zeros((size, size), np.uint8)
    # The skull: wide enough for big hair, reaching about two units above the brows.
    _ellipse(allowed, (centre_x, brow_y + 0.25 * unit), (0.8 * face_width, 2.1 * unit), 255)
    cv2.fillConvexPoly(allowed, cv2.convexHull(outline), 255)
    # A short neck under the chin, rounded at the bottom.
    _ellipse(allowed, (float(chin[0]), float(chin[1])), (0.3 * face_width, 0.55 * unit), 255)
    # Teeth and the whites of the eyes would teach GrabCut that bright white is "head" and
    # bring a bright window or wall along: they are left out of the sure part.
    features = np.zeros_like(sure)
    for part in (points[regions.OUTER_LIPS], points[regions.RIGHT_EYE], points[regions.LEFT_EYE]):
        cv2.fillConvexPoly(features, cv2.convexHull(np.round(part).astype(np.int32)), 255)
    features = cv2.dilate(features, np.ones((5, 5), np.uint8))
    return (sure > 0) & (features == 0), allowed > 0


def cut_out_head(crop: HeadCrop, image: np.ndarray | None = None,
                 landmarks: np.ndarray | None = None, *, iterations: int = 2) -> np.ndarray:
    """Alpha (float32 0..1, crop size) of head, hair and short neck in ``image`` (default:
    the crop's photo), whose landmarks are ``landmarks`` (default: the crop's)."""
    image = crop.image if image is None else image
    size = crop.size
    sure, allowed = head_regions(crop, landmarks)
    allowed &= crop.valid

    scale = _WORK_SIDE / size
    small = cv2.resize(image, (_WORK_SIDE, _WORK_SIDE), interpolation=cv2.INTER_AREA)
    small_sure = cv2.resize(sure.astype(np.uint8), (_WORK_SIDE,) * 2,
                            interpolation=cv2.INTER_NEAREST) > 0
    small_allowed = cv2.resize(allowed.astype(np.uint8), (_WORK_SIDE,) * 2,
                               interpolation=cv2.INTER_NEAREST) > 0
    # GrabCut only needs the allowed region and a ring of background around it.
    ys, xs = np.nonzero(small_allowed)
    if len(xs) == 0:
        return np.zeros((size, size), np.float32)
    ring = 8
    top, left = max(0, ys.min() - ring), max(0, xs.min() - ring)
    bottom, right = min(_WORK_SIDE, ys.max() + ring + 1), min(_WORK_SIDE, xs.max() + ring + 1)
    window = (slice(top, bottom), slice(left, right))
    small, small_sure, small_allowed = small[window], small_sure[window], small_allowed[window]
    mask = np.full(small_allowed.shape, cv2.GC_BGD, np.uint8)
    mask[small_allowed] = cv2.GC_PR_FGD
    # The band just inside the allowed region is more likely background than hair.
    inner = cv2.erode(small_allowed.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    mask[small_allowed & ~inner] = cv2.GC_PR_BGD
    # Beside the face below the brows there is ear, hair or background; let colour decide
    # from a background guess rather than a foreground one.
    cheeks = np.zeros_like(sure, np.uint8)
    cheeks[int(crop.landmarks[regions.BROWS, 1].min() - 0.4 * crop.unit):] = 1
    face = cv2.dilate(_face_hull(crop, landmarks), cv2.getStructuringElement(
        cv2.MORPH_ELLIPSE, (round(0.3 * crop.unit) | 1,) * 2))
    cheeks &= (face == 0)
    small_cheeks = cv2.resize(cheeks, (_WORK_SIDE,) * 2, interpolation=cv2.INTER_NEAREST)[window] > 0
    mask[small_cheeks & small_allowed] = cv2.GC_PR_BGD
    mask[small_sure] = cv2.GC_FGD
    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: same photo, same cut
    try:
        cv2.grabCut(small, mask, None, background_model, foreground_model, iterations,
                    cv2.GC_INIT_WITH_MASK)
        found = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    except cv2.error:  # a degenerate seed (tiny crop, one colour): fall back to the seeds
        found = small_allowed
    foreground = np.zeros((_WORK_SIDE, _WORK_SIDE), bool)
    foreground[window] = _clean(found | small_sure)

    alpha = cv2.resize(foreground.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 1.2 / scale * 0.5)
    # Re-sharpen the blurred edge into a 2-3 px ramp: soft but not a halo.
    alpha = np.clip((alpha - 0.5) * 2.5 + 0.5, 0, 1)
    alpha[~allowed] = 0
    return alpha.astype(np.float32)


def _clean(mask: np.ndarray) -> np.ndarray:
    """Keep the biggest blob, fill its holes, smooth its outline."""
    mask = mask.astype(np.uint8)
    # Opening wide enough to cut off slivers of bright background that cling to the hair.
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count > 1:
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        mask = (labels == biggest).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 1, -1)
    filled = cv2.morphologyEx(filled, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    return filled > 0


def keep_skin_tone(styled: np.ndarray, photo: np.ndarray, crop: HeadCrop,
                   landmarks: np.ndarray | None = None) -> np.ndarray:
    """``styled`` (a restyled ``photo`` of ``crop``) with its skin moved back to the photo's
    tone. The anime style lightens and warms skin, and a sticker must still look like its
    person. The shift is measured on the sure skin and applied to skin-coloured pixels of the
    head only, so hair, eyes, lips and background keep the style's colours."""
    skin, allowed = head_regions(crop, landmarks)
    if skin.sum() < 50:
        return styled
    styled_lab = cv2.cvtColor(styled, cv2.COLOR_RGB2Lab).astype(np.float32)
    photo_lab = cv2.cvtColor(photo, cv2.COLOR_RGB2Lab).astype(np.float32)
    shift = photo_lab[skin].mean(axis=0) - styled_lab[skin].mean(axis=0)
    tone = np.median(styled_lab[skin][:, 1:], axis=0)
    # Full shift within about 6 Lab steps of the skin's hue, none beyond 18.
    distance = np.linalg.norm(styled_lab[..., 1:] - tone, axis=-1)
    weight = np.clip(1.5 - distance / 12, 0, 1)
    weight *= cv2.GaussianBlur(allowed.astype(np.float32), (0, 0), 0.1 * crop.unit)
    out = styled_lab + shift * weight[..., None]
    return cv2.cvtColor(np.clip(out + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)
