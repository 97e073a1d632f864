"""The whole-scene cartoon treatment: a painted look (flat areas, soft cel steps, vivid colour)
and line art.

These are the building blocks of the procedural style; the face style adds geometry, eyes and
hair on top (``procedural.py``).
"""
from __future__ import annotations

import cv2
import numpy as np


def smooth(rgb: np.ndarray, *, passes: int = 2, sigma_color: float = 28.0) -> np.ndarray:
    """Edge-preserving smoothing that flattens skin and texture but keeps outlines."""
    out = rgb
    for _ in range(passes):
        out = cv2.bilateralFilter(out, d=7, sigmaColor=sigma_color, sigmaSpace=5)
    return out


def paint(rgb: np.ndarray, *, levels: int = 5, vivid: float = 1.3, passes: int = 3,
          sigma_color: float = 36.0, lift: float = 0.12, keep: float | np.ndarray = 0.2) -> np.ndarray:
    """A painted look: texture flattened into smooth areas, lightness in a few cel steps joined
    by short smooth ramps (``keep`` of the smooth shading stays: a number, or one per pixel),
    chroma smoothed, boosted and quantised, shadows lifted a little.

    The flattening runs at half resolution (bilateral passes), so it costs ~25 ms at 512².
    """
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    for _ in range(passes):
        small = cv2.bilateralFilter(small, 9, sigma_color, 6)
    flat = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    lab = cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).astype(np.float32)
    lightness = lab[..., 0] / 255.0
    lightness = lightness + lift * (1.0 - lightness) * (1.0 - lightness)  # brighter, softer shadows
    lab[..., 0] = cel_steps(lightness, levels, keep=keep) * 255.0
    chroma = cv2.GaussianBlur(lab[..., 1:], (0, 0), 2.0)
    lab[..., 1:] = np.round((128.0 + (chroma - 128.0) * vivid) / 3.0) * 3.0
    return cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB)


def cel_steps(value: np.ndarray, levels: int, *, ramp: float = 0.22, keep: float | np.ndarray = 0.2) -> np.ndarray:
    """``value`` (0..1) pulled toward ``levels`` flat steps; neighbouring steps meet in a
    smoothstep ``ramp`` (a fraction of a step) wide; ``keep`` of the original shading stays."""
    scaled = value * levels
    step = np.floor(scaled)
    t = np.clip((scaled - step - 0.5) / ramp + 0.5, 0.0, 1.0)
    stepped = (step + t * t * (3.0 - 2.0 * t)) / levels
    return (1.0 - keep) * stepped + keep * value


def line_art(rgb: np.ndarray, *, sigma: float = 1.0, k: float = 1.6, tau: float = 0.98,
             epsilon: float = -0.004, phi: float = 200.0, min_area: int = 12) -> np.ndarray:
    """XDoG line art as ink coverage in 0..1 (1 = line), with isolated specks removed."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    fine = cv2.GaussianBlur(gray, (0, 0), sigma)
    coarse = cv2.GaussianBlur(gray, (0, 0), sigma * k)
    difference = fine - tau * coarse
    ink = np.where(difference < epsilon, np.tanh(phi * (epsilon - difference)), 0.0).astype(np.float32)
    if min_area > 0:
        solid = (ink > 0.35).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
        small = np.zeros(count, bool)
        small[1:] = stats[1:, cv2.CC_STAT_AREA] < min_area
        ink[small[labels]] = 0.0
    return ink


def ink(rgb: np.ndarray, coverage: np.ndarray, *, darkness: float = 0.22) -> np.ndarray:
    """Draw lines in a dark shade of the colour beneath them (softer than pure black)."""
    line_colour = rgb.astype(np.float32) * darkness
    alpha = coverage[..., None]
    return (rgb * (1.0 - alpha) + line_colour * alpha).astype(np.uint8)


def scene(rgb: np.ndarray) -> np.ndarray:
    """The whole-scene treatment used for backgrounds and for photos without a face."""
    painted = paint(rgb)
    return ink(painted, line_art(smooth(rgb), sigma=1.2, epsilon=-0.008, min_area=24))
