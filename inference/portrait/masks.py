"""Face regions as masks, drawn from 68 landmarks, and the Lab colour space they are measured in."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions


def lab(rgb: np.ndarray) -> np.ndarray:
    """CIE L*a*b* as float32 (L 0..100, a and b about -128..127)."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def rgb_from_lab(values: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(values.astype(np.float32), cv2.COLOR_Lab2RGB)
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


def eyes_centre(landmarks: np.ndarray) -> np.ndarray:
    right, left = landmarks[regions.RIGHT_EYE], landmarks[regions.LEFT_EYE]
    return (right.mean(axis=0) + left.mean(axis=0)) / 2


def face_unit(landmarks: np.ndarray) -> float:
    """The distance from the eyes' midpoint to the mouth's centre: the face's scale."""
    eyes = eyes_centre(landmarks)
    return float(np.linalg.norm(landmarks[regions.OUTER_LIPS].mean(axis=0) - eyes)) or 1.0


def face_outline(landmarks: np.ndarray, forehead: float = 0.3) -> np.ndarray:
    """The jaw line and, above the brows, a forehead line ``forehead`` face units up: the
    outline of the face from ear to ear, as a closed polygon (17 + 10 points)."""
    landmarks = np.asarray(landmarks, np.float64)
    eyes = eyes_centre(landmarks)
    up = eyes - landmarks[regions.OUTER_LIPS].mean(axis=0)
    up /= np.linalg.norm(up) or 1.0
    brows = landmarks[regions.BROWS][::-1] + up * forehead * face_unit(landmarks)
    return np.concatenate([landmarks[regions.JAW], brows])


def polygon_mask(shape: tuple[int, int], polygons: list[np.ndarray], *,
                 hull: bool = True) -> np.ndarray:
    """uint8 mask (0/255) of the polygons' union (each one's convex hull when ``hull``)."""
    mask = np.zeros(shape, np.uint8)
    for points in polygons:
        points = np.round(np.asarray(points) * 4).astype(np.int32)
        if hull:
            points = cv2.convexHull(points)
        cv2.fillPoly(mask, [points.reshape(-1, 1, 2)], 255, cv2.LINE_AA, shift=2)
    return mask


def features_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """Eyes, brows, nostrils and lips, grown a little: what is not skin inside a face."""
    unit = face_unit(landmarks)
    mask = polygon_mask(shape, [landmarks[regions.RIGHT_EYE], landmarks[regions.LEFT_EYE],
                                landmarks[regions.RIGHT_BROW], landmarks[regions.LEFT_BROW],
                                landmarks[regions.NOSE_TIP],
                                landmarks[regions.OUTER_LIPS]])
    grow = max(1, round(0.08 * unit))
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))


def skin_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """The face's skin (uint8 0/255): inside the jaw and a low forehead, without the features."""
    face = polygon_mask(shape, [face_outline(landmarks, forehead=0.15)])
    return cv2.subtract(face, features_mask(shape, landmarks))


def feathered(mask: np.ndarray, width: float) -> np.ndarray:
    """``mask`` (uint8) as float32 0..1 that rises smoothly from 0 at its edge to 1 at
    ``width`` pixels inside it."""
    inside = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 5)
    ramp = np.clip(inside / max(width, 1.0), 0, 1)
    return ramp * ramp * (3 - 2 * ramp)
