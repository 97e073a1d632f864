"""Drawing helpers shared by the procedural style: smooth curves through landmarks, and
anti-aliased strokes with sub-pixel precision."""
from __future__ import annotations

import cv2
import numpy as np

SHIFT = 3  # cv2 drawing with 1/8-pixel precision


def fixed(points: np.ndarray) -> np.ndarray:
    """Points in cv2's fixed-point form for ``shift=SHIFT``."""
    return np.round(np.asarray(points, np.float64) * (1 << SHIFT)).astype(np.int32)


def smooth_closed(points: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Chaikin corner cutting: a smooth closed curve through a landmark polygon; the curve
    starts near the first point, so the order of the polygon's parts is kept."""
    curve = np.asarray(points, np.float32)
    for _ in range(iterations):
        following = np.roll(curve, -1, axis=0)
        curve = np.stack([0.75 * curve + 0.25 * following, 0.25 * curve + 0.75 * following], axis=1).reshape(-1, 2)
    return curve


def smooth_open(points: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Chaikin corner cutting on an open polyline, keeping both ends."""
    curve = np.asarray(points, np.float32)
    for _ in range(iterations):
        cut = np.stack([0.75 * curve[:-1] + 0.25 * curve[1:], 0.25 * curve[:-1] + 0.75 * curve[1:]], axis=1)
        curve = np.concatenate([curve[:1], cut.reshape(-1, 2), curve[-1:]])
    return curve


def tapered(out: np.ndarray, curve: np.ndarray, colour, widest: float, *, start: float = 0.2,
            end: float = 0.2, peak: float = 0.5) -> None:
    """A brush stroke along ``curve``: ``widest`` pixels thick at ``peak`` (0..1 along it),
    thinning to ``start`` and ``end`` times that at its two ends."""
    pieces = len(curve) - 1
    for i in range(pieces):
        t = (i + 0.5) / pieces
        if t < peak:
            scale = start + (1.0 - start) * np.sin(0.5 * np.pi * t / peak)
        else:
            scale = end + (1.0 - end) * np.sin(0.5 * np.pi * (1.0 - t) / (1.0 - peak))
        thickness = max(1, int(round(widest * scale)))
        cv2.line(out, tuple(int(v) for v in fixed(curve[i])), tuple(int(v) for v in fixed(curve[i + 1])),
                 colour, thickness, cv2.LINE_AA, shift=SHIFT)
