"""Each mode runs at its own working size: a photo larger than the mode needs is scaled down
as it comes in, so time and memory follow what the mode makes, not the camera's sensor."""
from __future__ import annotations

import cv2
import numpy as np


def fit_within(rgb: np.ndarray, side: int) -> np.ndarray:
    """``rgb`` with its long side scaled down to ``side`` (area averaging: no aliasing), or
    ``rgb`` itself when it already fits."""
    height, width = rgb.shape[:2]
    long_side = max(height, width)
    if long_side <= side:
        return rgb
    size = (max(1, round(width * side / long_side)), max(1, round(height * side / long_side)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
