"""The working crop: the head upright (eyes level), centred and at a fixed scale, with room
above for hair, so every later step can use fixed proportions."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.faces import regions

@dataclass(frozen=True)
class HeadCrop:
    image: np.ndarray  # S x S x 3 uint8
    valid: np.ndarray  # S x S bool: pixels that came from the photo, not from padding
    landmarks: np.ndarray  # (68, 2) float32 in crop pixels
    matrix: np.ndarray  # 2x3 photo -> crop
    unit: float  # eye-to-mouth distance in crop pixels, the scale of every proportion

    @property
    def size(self) -> int:
        return self.image.shape[0]


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return landmarks[regions.RIGHT_EYE].mean(axis=0), landmarks[regions.LEFT_EYE].mean(axis=0)


def crop_head(rgb: np.ndarray, landmarks: np.ndarray, *, size: int = 480,
              unit_fraction: float = 0.2, eye_height: float = 0.44) -> HeadCrop:
    """Rotate and scale the photo so the eyes are level at ``eye_height`` of the crop and the
    eye-to-mouth distance is ``unit_fraction`` of its side."""
    right_eye, left_eye = eye_centres(landmarks)
    eyes = (right_eye + left_eye) / 2
    mouth = (landmarks[regions.MOUTH_RIGHT] + landmarks[regions.MOUTH_LEFT]) / 2
    eye_line = left_eye - right_eye
    angle = np.degrees(np.arctan2(eye_line[1], eye_line[0]))
    # Pose-robust scale: the eye-to-mouth distance shrinks when the head nods, the eye distance
    # when it turns; the larger of the two (in eye-to-mouth units) is the steadier one.
    eye_to_mouth = max(np.linalg.norm(mouth - eyes), np.linalg.norm(eye_line) * 0.9)
    scale = unit_fraction * size / eye_to_mouth
    matrix = cv2.getRotationMatrix2D((float(eyes[0]), float(eyes[1])), float(angle), float(scale))
    matrix[0, 2] += size / 2 - eyes[0]
    matrix[1, 2] += size * eye_height - eyes[1]
    image = cv2.warpAffine(rgb, matrix, (size, size), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    valid = cv2.warpAffine(np.full(rgb.shape[:2], 255, np.uint8), matrix, (size, size),
                           flags=cv2.INTER_NEAREST, borderValue=0) > 0
    points = landmarks.astype(np.float64) @ matrix[:, :2].T + matrix[:, 2]
    return HeadCrop(image, valid, points.astype(np.float32), matrix, unit_fraction * size)
