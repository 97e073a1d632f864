"""Head pose (yaw, pitch) from 68 landmarks, and the scores that say how usable a face is."""
from __future__ import annotations

import math

import cv2
import numpy as np

# A generic head in camera axes (x right, y down, z away from the camera), in millimetres-ish
# units, for landmarks: nose tip 30, chin 8, outer eye corners 36 and 45, mouth corners 48, 54.
# A face looking into the camera then has the identity rotation.
_HEAD_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 330.0, 65.0),
        (-225.0, -170.0, 135.0),
        (225.0, -170.0, 135.0),
        (-150.0, 150.0, 125.0),
        (150.0, 150.0, 125.0),
    ],
    dtype=np.float64,
)
_POSE_LANDMARKS = [30, 8, 36, 45, 48, 54]


def head_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> tuple[float, float]:
    """(yaw, pitch) in degrees; positive yaw turns toward image right, positive pitch looks down."""
    height, width = image_size
    focal = float(max(height, width))
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    image_points = landmarks[_POSE_LANDMARKS].astype(np.float64)
    ok, rotation_vector, _ = cv2.solvePnP(
        _HEAD_POINTS, image_points, camera, None, flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        return 0.0, 0.0
    rotation, _ = cv2.Rodrigues(rotation_vector)
    yaw = math.degrees(math.asin(float(np.clip(rotation[0, 2], -1.0, 1.0))))
    pitch = math.degrees(math.atan2(-rotation[1, 2], rotation[2, 2]))
    return yaw, pitch


def frontal_score(yaw: float, pitch: float) -> float:
    """1 for a face looking into the camera, about 0.6 at 30 degrees off, near 0 in profile."""
    return float(math.exp(-0.5 * ((yaw / 30.0) ** 2 + (pitch / 30.0) ** 2)))


def quality_score(rgb: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """0..1 from the face's size, sharpness and exposure (geometric mean, so any one can veto)."""
    left, top, right, bottom = box
    height, width = rgb.shape[:2]
    crop = rgb[max(top, 0) : min(bottom, height), max(left, 0) : min(right, width)]
    if crop.size == 0:
        return 0.0
    side = max(right - left, 1)
    size = _ramp(side, 40.0, 160.0)

    # Sharpness is measured at a fixed scale so that big faces are not favoured twice.
    gray = cv2.cvtColor(cv2.resize(crop, (128, 128), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    laplacian_variance = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    sharpness = 1.0 - math.exp(-laplacian_variance / 150.0)

    luminance = gray.astype(np.float32) / 255.0
    clipped = float(np.mean((luminance < 0.03) | (luminance > 0.97)))
    exposure = max(0.0, 1.0 - 2.0 * abs(float(np.mean(luminance)) - 0.5)) ** 0.5 * (1.0 - clipped)

    return float((max(size, 1e-3) * max(sharpness, 1e-3) * max(exposure, 1e-3)) ** (1.0 / 3.0))


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))
