"""Photo sets, group photos and templates for the portrait tests, made from single photos."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import detect_faces


def photo_set(rgb: np.ndarray) -> list[np.ndarray]:
    """Several photos of one person from one: as is, mirrored, turned, cropped, brighter."""
    height, width = rgb.shape[:2]

    def turned(degrees: float) -> np.ndarray:
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
        return cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REFLECT)

    return [
        rgb,
        np.ascontiguousarray(rgb[:, ::-1]),
        turned(-6),
        np.ascontiguousarray(rgb[height // 12:, width // 14: width - width // 14]),
        np.clip(rgb.astype(np.int16) + 25, 0, 255).astype(np.uint8),
    ]


def face_square(rgb: np.ndarray, side: int) -> np.ndarray:
    """A ``side`` square around the photo's face (2.4 face widths across), for group photos."""
    left, top, right, bottom = detect_faces(rgb)[0].box
    half = 1.2 * (right - left)
    centre_x, centre_y = (left + right) / 2, (top + bottom) / 2 + 0.15 * (right - left)
    matrix = np.array([[side / (2 * half), 0, side / 2 - centre_x * side / (2 * half)],
                       [0, side / (2 * half), side / 2 - centre_y * side / (2 * half)]])
    return cv2.warpAffine(rgb, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)


def side_by_side(*photos: np.ndarray, side: int = 400) -> np.ndarray:
    """A group photo: each photo's face square, left to right."""
    return np.concatenate([face_square(photo, side) for photo in photos], axis=1)
