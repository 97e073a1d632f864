"""Puts the kept region (the face, from landmarks) of the input back over a generated image.

The feather grows outwards from the kept region, so every pixel the caller marked 1 is the input
pixel exactly and the seam fades into the generated surround instead of into the face.
"""
from __future__ import annotations

import cv2
import numpy as np


def feather_keep_mask(keep_mask: np.ndarray, *, radius: float) -> np.ndarray:
    """Blend weights (float32 0..1): 1 where ``keep_mask`` is 1, fading to 0 over ~2*radius outside."""
    mask = np.clip(keep_mask.astype(np.float32), 0.0, 1.0)
    if radius <= 0:
        return mask
    r = max(1, int(round(radius)))
    grown = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    soft = cv2.GaussianBlur(grown, (0, 0), sigmaX=r / 2, borderType=cv2.BORDER_REPLICATE)
    return np.maximum(mask, soft)


def blend_kept_region(original: np.ndarray, generated: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights`` * original + (1 - ``weights``) * generated, as RGB uint8."""
    w = weights[..., None]
    mixed = w * original.astype(np.float32) + (1.0 - w) * generated.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
