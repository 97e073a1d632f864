"""Landmark-driven anime proportions: larger eyes, smaller nose and mouth, a slimmer chin.

The warp is a backward map (for every output pixel, where to sample the input), built at a
quarter of the resolution from smooth radial and lateral displacements, then upsampled.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions

_GRID_DIVISOR = 4


def proportions_warp(shape: tuple[int, int], landmarks: np.ndarray, strength: float) -> np.ndarray:
    """The (H, W, 2) float32 sampling map for ``cv2.remap`` at the given strength (0..1)."""
    height, width = shape
    small_h, small_w = max(2, height // _GRID_DIVISOR), max(2, width // _GRID_DIVISOR)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    xs = xs * (width - 1) / (small_w - 1)
    ys = ys * (height - 1) / (small_h - 1)
    offset = np.zeros((small_h, small_w, 2), np.float32)

    face_width = float(np.linalg.norm(landmarks[16] - landmarks[0]))
    for eye in (landmarks[regions.RIGHT_EYE], landmarks[regions.LEFT_EYE]):
        eye_width = float(np.linalg.norm(eye[3] - eye[0]))
        centre = eye.mean(axis=0)
        offset += _radial(xs, ys, centre, radius=1.6 * eye_width, amount=-0.5 * strength)
    nose_width = float(np.linalg.norm(landmarks[35] - landmarks[31]))
    offset += _radial(xs, ys, landmarks[regions.NOSE_LOWER].mean(axis=0), radius=1.4 * nose_width,
                      amount=0.14 * strength)
    mouth_width = float(np.linalg.norm(landmarks[regions.MOUTH_LEFT]
                                       - landmarks[regions.MOUTH_RIGHT]))
    offset += _radial(xs, ys, landmarks[regions.MOUTH].mean(axis=0), radius=0.85 * mouth_width,
                      amount=0.1 * strength)
    offset += _chin(xs, ys, landmarks, face_width, strength)

    full = cv2.resize(offset, (width, height), interpolation=cv2.INTER_LINEAR)
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.dstack([grid_x + full[..., 0], grid_y + full[..., 1]])


def _radial(xs, ys, centre, *, radius: float, amount: float) -> np.ndarray:
    """Sample from ``centre + (p - centre) * (1 + amount * falloff)``: amount < 0 magnifies."""
    dx, dy = xs - centre[0], ys - centre[1]
    falloff = np.clip(1.0 - (dx * dx + dy * dy) / (radius * radius), 0.0, 1.0) ** 2
    return np.dstack([dx * amount * falloff, dy * amount * falloff])


def _chin(xs, ys, landmarks, face_width: float, strength: float) -> np.ndarray:
    """Pull the lower jaw toward the face's vertical axis, most at the chin: a V-shaped jaw."""
    axis_x = float(landmarks[regions.NOSE_BRIDGE, 0].mean())
    cheek_y = float(landmarks[[2, 14], 1].mean())
    chin_y = float(landmarks[regions.CHIN, 1])
    depth = np.clip((ys - cheek_y) / max(chin_y - cheek_y, 1.0), 0.0, 1.3)
    # Sampling from further out moves the jaw line in; fade out well beyond the jaw.
    reach = np.clip(1.0 - np.abs(xs - axis_x) / (0.85 * face_width), 0.0, 1.0)
    pull = 0.12 * strength * depth * reach
    offset = np.zeros(xs.shape + (2,), np.float32)
    offset[..., 0] = (xs - axis_x) * pull
    # And lift the chin a little so the face gets shorter, as drawn faces are.
    offset[..., 1] = 0.035 * strength * face_width * np.clip(depth, 0.0, 1.0) ** 2 * reach
    return offset


def warp_image(rgb: np.ndarray, sampling_map: np.ndarray) -> np.ndarray:
    return cv2.remap(rgb, sampling_map[..., 0], sampling_map[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REFLECT_101)


def warp_points(points: np.ndarray, sampling_map: np.ndarray, *, iterations: int = 8) -> np.ndarray:
    """Where input points land in the warped image: solve ``map(q) = p`` by fixed-point steps."""
    height, width = sampling_map.shape[:2]
    displacement = sampling_map - np.dstack(np.mgrid[0:height, 0:width][::-1]).astype(np.float32)
    points = np.asarray(points, np.float32)
    moved = points.copy()
    for _ in range(iterations):
        xi = np.clip(np.round(moved[:, 0]).astype(int), 0, width - 1)
        yi = np.clip(np.round(moved[:, 1]).astype(int), 0, height - 1)
        moved = points - displacement[yi, xi]
    return moved
