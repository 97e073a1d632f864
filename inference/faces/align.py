"""FFHQ-style alignment: a square crop around the face, from five landmark-derived points."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.faces import regions
from inference.faces.detect import Face


@dataclass(frozen=True)
class AlignedFace:
    image: np.ndarray  # (size, size, 3) uint8
    matrix: np.ndarray  # (2, 3) affine, image -> aligned
    inverse: np.ndarray  # (2, 3) affine, aligned -> image

    @property
    def size(self) -> int:
        return self.image.shape[0]

    def to_aligned(self, points: np.ndarray) -> np.ndarray:
        return _apply(self.matrix, points)

    def to_image(self, points: np.ndarray) -> np.ndarray:
        return _apply(self.inverse, points)


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners (the 5-point layout) from 68 landmarks."""
    return np.array(
        [
            landmarks[regions.RIGHT_EYE].mean(axis=0),
            landmarks[regions.LEFT_EYE].mean(axis=0),
            landmarks[regions.NOSE_POINT],
            landmarks[regions.MOUTH_RIGHT],
            landmarks[regions.MOUTH_LEFT],
        ],
        dtype=np.float64,
    )


def ffhq_quad(landmarks: np.ndarray) -> np.ndarray:
    """The FFHQ crop's corners in image coordinates: top-left, bottom-left, bottom-right, top-right."""
    left_eye, right_eye, _, mouth_left, mouth_right = five_points(landmarks)
    eye_avg = (left_eye + right_eye) / 2
    eye_to_eye = right_eye - left_eye
    eye_to_mouth = (mouth_left + mouth_right) / 2 - eye_avg
    # As in the FFHQ dataset script: orient by the eye line and the eye-to-mouth axis together.
    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    centre = eye_avg + eye_to_mouth * 0.1
    return np.stack([centre - x - y, centre - x + y, centre + x + y, centre + x - y])


def align_face(rgb: np.ndarray, face: Face, *, size: int = 512) -> AlignedFace:
    """The face rotated upright and scaled into a ``size`` square; outside the photo is mirrored."""
    quad = ffhq_quad(face.landmarks)
    target = np.array([(0, 0), (0, size), (size, size)], dtype=np.float64)
    matrix = cv2.getAffineTransform(quad[:3].astype(np.float32), target.astype(np.float32))
    source, source_matrix = rgb, matrix
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:, :2]))))
    if scale < 0.5:
        # warpAffine samples bilinearly and would alias a big face; shrink by area first.
        shrunk_size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        source = cv2.resize(rgb, shrunk_size, interpolation=cv2.INTER_AREA)
        source_matrix = matrix.copy()
        source_matrix[:, :2] *= np.array([rgb.shape[1] / shrunk_size[0], rgb.shape[0] / shrunk_size[1]])
    image = cv2.warpAffine(
        source, source_matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
    )
    return AlignedFace(image=image, matrix=matrix, inverse=cv2.invertAffineTransform(matrix))


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return (points @ matrix[:, :2].T + matrix[:, 2]).astype(np.float32)
