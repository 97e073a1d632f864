"""Evidence painted onto a real photo, for the slots no fixture shows: glasses drawn around the
eyes and across the nose, a beard and a moustache darkened into the skin with a hair texture.
Drawn from the photo's own landmarks, so that the reader has to find them where they would be."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions
from inference.faces.detect import detect_faces


def landmarks_of(rgb: np.ndarray) -> np.ndarray:
    return detect_faces(rgb)[0].landmarks.astype(np.float64)


def with_glasses(rgb: np.ndarray, *, colour=(28, 24, 24), weight: float = 1.0,
                 shape: str = "round") -> np.ndarray:
    """A pair of glasses: a rim around each eye, a bridge between them and the temples'
    start, ``weight`` times a thin frame's width."""
    points = landmarks_of(rgb)
    out = rgb.copy()
    right, left = points[regions.RIGHT_EYE], points[regions.LEFT_EYE]
    eye_width = np.linalg.norm(right[3] - right[0])
    thickness = max(1, int(round(eye_width * 0.06 * weight)))
    rims = []
    for eye in (right, left):
        centre = eye.mean(axis=0) + (0, eye_width * 0.12)
        axes = (int(eye_width * 0.95), int(eye_width * 0.68))
        if shape == "round":
            cv2.ellipse(out, tuple(int(v) for v in centre), axes, 0, 0, 360, colour, thickness,
                        cv2.LINE_AA)
        else:
            top_left = (int(centre[0] - axes[0]), int(centre[1] - axes[1]))
            bottom_right = (int(centre[0] + axes[0]), int(centre[1] + axes[1]))
            cv2.rectangle(out, top_left, bottom_right, colour, thickness, cv2.LINE_AA)
        rims.append((centre, axes))
    (rc, ra), (lc, la) = rims
    bridge_y = int(min(rc[1], lc[1]) - ra[1] * 0.35)
    inner_right, inner_left = int(rc[0] + ra[0] * 0.95), int(lc[0] - la[0] * 0.95)
    cv2.line(out, (inner_right, bridge_y), (inner_left, bridge_y), colour, thickness, cv2.LINE_AA)
    jaw = points[regions.JAW]
    for centre, axes, ear in ((rc, ra, jaw[0]), (lc, la, jaw[16])):
        side = -1 if ear[0] < centre[0] else 1
        start = (int(centre[0] + side * axes[0]), int(centre[1] - axes[1] * 0.4))
        cv2.line(out, start, (int(ear[0]), int(ear[1])), colour, thickness, cv2.LINE_AA)
    return out


def _hair_texture(shape, rng: np.random.Generator) -> np.ndarray:
    """Fine dark strands: noise smeared downwards (0..1, 1 darkest)."""
    noise = rng.random(shape[:2]).astype(np.float32)
    strands = cv2.GaussianBlur(noise, (1, 9), 0)
    return np.clip((strands - strands.min()) / (np.ptp(strands) + 1e-6), 0, 1)


def _darken(rgb: np.ndarray, polygon: np.ndarray, hair=(40, 32, 30), seed: int = 0) -> np.ndarray:
    mask = np.zeros(rgb.shape[:2], np.float32)
    cv2.fillPoly(mask, [polygon.astype(np.int32)], 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), 3)
    texture = _hair_texture(rgb.shape, np.random.default_rng(seed))
    alpha = (mask * (0.6 + 0.35 * texture))[..., None]
    return (rgb * (1 - alpha) + np.array(hair, np.float32) * alpha).astype(np.uint8)


def with_beard(rgb: np.ndarray, *, hair=(40, 32, 30)) -> np.ndarray:
    """A full beard: the jaw below the mouth, with a moustache over the upper lip."""
    points = landmarks_of(rgb)
    chin = np.concatenate([points[3:14], points[[54, 55, 56, 57, 58, 59, 48]]])
    return with_moustache(_darken(rgb, chin, hair, 1), hair=hair)


def with_moustache(rgb: np.ndarray, *, hair=(40, 32, 30)) -> np.ndarray:
    """A moustache between the nose and the upper lip."""
    points = landmarks_of(rgb)
    lip = points[[48, 49, 50, 51, 52, 53, 54]]
    nose = points[[35, 34, 33, 32, 31]]
    widened = lip + (0, -2)
    widened[0] -= (6, 0)
    widened[-1] += (6, 0)
    return _darken(rgb, np.concatenate([widened, nose]), hair, 2)
