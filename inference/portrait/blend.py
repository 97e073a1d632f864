"""Putting a warped face into the template without a seam.

A fused face shows an edge for three reasons, each handled here: a different skin colour
(``match_colour``: the skin's Lab mean and spread set to the template's), a different light
(``match_local_colour``: the skin's local Lab mean, over a third of the face, set to the
template's at the same place) and a hard mask (``over`` with a feathered mask). When colours
are not matched (``color_shift_middle`` off), ``poisson_clone`` solves them from the mask's edge
instead; with them matched it is not used, since the edge crosses hair, ears and collars whose
colours the solve would carry into the face as a grey or brown cast."""
from __future__ import annotations

import cv2
import numpy as np

from inference.portrait.masks import lab, rgb_from_lab

# How far the spread (standard deviation) of a channel may be rescaled when matching colours:
# beyond this the face's contrast, not just its tone, would change.
_SPREAD_LIMITS = (0.75, 1.33)


def _stats(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    picked = values[mask > 127]
    return picked.mean(axis=0), picked.std(axis=0) + 1e-3


def match_colour(image: np.ndarray, image_mask: np.ndarray, reference: np.ndarray,
                 reference_mask: np.ndarray, *, spread: bool = True) -> np.ndarray:
    """``image`` with its Lab mean (and spread, when ``spread``) under ``image_mask`` moved to
    ``reference``'s under ``reference_mask``; the whole image moves, the masks only measure."""
    if not image_mask.any() or not reference_mask.any():
        return image
    values, reference_values = lab(image), lab(reference)
    mean, std = _stats(values, image_mask)
    target_mean, target_std = _stats(reference_values, reference_mask)
    gain = np.clip(target_std / std, *_SPREAD_LIMITS) if spread else np.ones(3, np.float32)
    return rgb_from_lab((values - mean) * gain + target_mean)


def wide_blur(values: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur over ``sigma`` pixels, computed at a scale where sigma is 4 pixels (a
    blur that wide keeps nothing finer, and costs a hundredth as much)."""
    if sigma <= 8:
        return cv2.GaussianBlur(values, (0, 0), sigma)
    height, width = values.shape[:2]
    scale = 4.0 / sigma
    small = cv2.resize(values, (max(1, round(width * scale)), max(1, round(height * scale))),
                       interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), 4.0), (width, height),
                      interpolation=cv2.INTER_LINEAR)


def _local_mean(values: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """The mean of ``values`` over ``mask`` near each pixel (a normalised Gaussian blur); far
    from the mask, its mean over the whole mask."""
    weight = (mask > 127).astype(np.float32)
    blurred_weight = wide_blur(weight, sigma)[..., None]
    blurred = wide_blur(values * weight[..., None], sigma)
    overall = values[mask > 127].mean(axis=0)
    trust = np.clip(blurred_weight / 0.05, 0, 1)
    return trust * blurred / np.maximum(blurred_weight, 1e-6) + (1 - trust) * overall


def match_local_colour(image: np.ndarray, image_mask: np.ndarray, reference: np.ndarray,
                       reference_mask: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` with its skin's local Lab mean (over ``sigma`` pixels) moved to
    ``reference``'s at the same place: the template's light falls on the new face."""
    if not image_mask.any() or not reference_mask.any():
        return image
    values = lab(image)
    shift = (_local_mean(lab(reference), reference_mask, sigma)
             - _local_mean(values, image_mask, sigma))
    return rgb_from_lab(values + shift)


def poisson_clone(source: np.ndarray, destination: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``source`` cloned into ``destination`` under ``mask`` (same size, same place) by
    OpenCV's Poisson solver. The mask must stay off the image's edge (two pixels)."""
    x, y, w, h = cv2.boundingRect(mask)
    if w == 0 or h == 0:
        return destination
    # seamlessClone pastes the mask's bounding box centred on ``centre``: this centre puts it
    # back where it came from.
    centre = (x + w // 2, y + h // 2)
    # OpenCV 5's seamlessClone writes into the mask it is given (it shrinks it): a copy.
    return cv2.seamlessClone(source, destination, mask.copy(), centre, cv2.NORMAL_CLONE)


def over(top: np.ndarray, bottom: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``top`` over ``bottom`` with ``alpha`` (float 0..1, H x W)."""
    a = alpha[..., None]
    return np.clip(top.astype(np.float32) * a + bottom.astype(np.float32) * (1 - a) + 0.5,
                   0, 255).astype(np.uint8)


def shift_lab(image: np.ndarray, delta: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``image`` with ``delta`` (Lab) added, scaled by ``weight`` (H x W, 0..1) per pixel."""
    values = lab(image)
    values += weight[..., None] * np.asarray(delta, np.float32)
    return rgb_from_lab(values)


def sharpen(image: np.ndarray, ratio: float) -> np.ndarray:
    """Unsharp mask; ``ratio`` 1 adds the detail finer than ~1/1000 of the picture twice over."""
    if ratio <= 0:
        return image
    sigma = max(1.0, max(image.shape[:2]) / 1000)
    blurred = cv2.GaussianBlur(image, (0, 0), sigma)
    return cv2.addWeighted(image, 1 + 2 * ratio, blurred, -2 * ratio, 0)
