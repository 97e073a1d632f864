"""Put a styled face square back into the photo through the alignment's inverse, feathered."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import AlignedFace

FEATHER = 0.12  # of the square's side: the width of the soft edge


def feather_mask(size: int, *, feather: float = FEATHER) -> np.ndarray:
    """1 in the middle of the square, easing to 0 at its edges (rounded corners), float32."""
    position = np.arange(size, dtype=np.float32) + 0.5
    edge = np.minimum(position, size - position) / (feather * size)
    ramp = np.clip(edge - 0.15, 0.0, 1.0)  # the outermost band stays transparent
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no visible kink where it reaches 1
    return np.outer(ramp, ramp)


def paste_face(background: np.ndarray, styled: np.ndarray, aligned: AlignedFace) -> np.ndarray:
    """``background`` with ``styled`` (aligned-square coordinates) blended in over the face."""
    height, width = background.shape[:2]
    size = styled.shape[0]
    corners = aligned.to_image(np.array([(0, 0), (0, size), (size, size), (size, 0)], np.float32))
    left, top = np.floor(corners.min(axis=0)).astype(int)
    right, bottom = np.ceil(corners.max(axis=0)).astype(int)
    left, top, right, bottom = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    if right <= left or bottom <= top:
        return background.copy()
    # Warp only into the face's bounding box: cost independent of the photo's size.
    inverse = aligned.inverse.copy()
    inverse[:, 2] -= (left, top)
    box = (right - left, bottom - top)
    face = cv2.warpAffine(styled, inverse, box, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    alpha = cv2.warpAffine(feather_mask(size), inverse, box, flags=cv2.INTER_LINEAR, borderValue=0)[..., None]
    out = background.copy()
    region = out[top:bottom, left:right].astype(np.float32)
    out[top:bottom, left:right] = (region * (1.0 - alpha) + face * alpha + 0.5).astype(np.uint8)
    return out
