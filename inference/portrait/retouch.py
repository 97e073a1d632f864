"""The touches after a face is fused: smoother skin, the template's make-up, and the template's
neck and ears brought to the new face's tone."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions
from inference.portrait.blend import over, shift_lab
from inference.portrait.masks import face_unit, feathered, lab, polygon_mask, skin_mask

# Skin retouching: how much of the smoothed skin replaces the photo's, and how much lighter
# (Lab L) the skin gets, as PAI's retouching does ("may make the skin too white").
_SMOOTHING = 0.7
_LIGHTEN = 2.5
# Template pixels within this Lab distance of its face's skin count as skin (neck, ears, hands).
_BODY_SKIN_DISTANCE = 14.0


def retouch_skin(image: np.ndarray, landmarks: np.ndarray, unit: float) -> np.ndarray:
    """Edge-preserving smoothing (bilateral) and a little lightening on the face's skin."""
    skin = feathered(skin_mask(image.shape[:2], landmarks), 0.05 * unit)
    smooth = cv2.bilateralFilter(image, 0, 20, max(2.0, 0.03 * unit))
    return shift_lab(over(smooth, image, skin * _SMOOTHING), (_LIGHTEN, 0, 0), skin)


def lip_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    return cv2.subtract(polygon_mask(shape, [landmarks[regions.OUTER_LIPS]], hull=False),
                        polygon_mask(shape, [landmarks[regions.INNER_LIPS]], hull=False))


def _lids(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """The upper lids, from the lash line a third of the way up to the brows (the brows
    themselves are hair, not make-up)."""
    lids = []
    sides = ((regions.RIGHT_EYE, regions.RIGHT_BROW), (regions.LEFT_EYE, regions.LEFT_BROW))
    for eye, brow in sides:
        lash_line = landmarks[eye][:4]  # one corner, the upper lid, the other corner
        rise = landmarks[brow].mean(axis=0) - landmarks[eye].mean(axis=0)
        lids.append(np.concatenate([lash_line, lash_line[::-1] + rise / 3]))
    return polygon_mask(shape, lids, hull=False)


def transfer_makeup(image: np.ndarray, landmarks: np.ndarray, template: np.ndarray,
                    template_landmarks: np.ndarray, ratio: float) -> np.ndarray:
    """Lip and eye colour moved ``ratio`` of the way to the template's (its Lab means)."""
    unit = face_unit(landmarks)
    shape = image.shape[:2]
    for region in (lip_mask, _lids):
        here, there = region(shape, landmarks), region(shape, template_landmarks)
        if not here.any() or not there.any():
            continue
        delta = lab(template)[there > 127].mean(axis=0) - lab(image)[here > 127].mean(axis=0)
        weight = cv2.GaussianBlur(here.astype(np.float32) / 255, (0, 0), max(1.0, 0.04 * unit))
        image = shift_lab(image, ratio * delta, weight)
    return image


def harmonise_body(image: np.ndarray, template: np.ndarray, template_landmarks: np.ndarray,
                   landmarks: np.ndarray, face_mask: np.ndarray, unit: float) -> np.ndarray:
    """The template's other skin near the face (neck, ears) shifted by as much as the face's
    tone changed, so that the body matches the new face; fades out away from the face."""
    template_values = lab(template)
    template_skin = template_values[skin_mask(template.shape[:2], template_landmarks) > 127]
    if not len(template_skin):
        return image
    skin_colour = template_skin.mean(axis=0)
    fused_skin = lab(image)[skin_mask(image.shape[:2], landmarks) > 127].mean(axis=0)
    distance = np.linalg.norm(template_values - skin_colour, axis=2)
    likeness = np.exp(-0.5 * (distance / _BODY_SKIN_DISTANCE) ** 2)
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    centre = landmarks.mean(axis=0)
    near = np.exp(-0.5 * ((xs - centre[0]) ** 2 + (ys - centre[1]) ** 2) / unit ** 2)
    # Down to nothing at the image's edge, which is the edge of the crop being worked on.
    to_edge = np.minimum(np.minimum(xs, width - 1 - xs), np.minimum(ys, height - 1 - ys))
    near *= np.clip(to_edge / (0.5 * unit), 0, 1)
    outside = 1 - feathered(face_mask, 0.1 * unit)
    return shift_lab(image, fused_skin - skin_colour, likeness * near * outside)
