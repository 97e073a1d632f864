"""Hair in an aligned face square: where it is (GrabCut seeded by the landmarks, then the face
taken away), and how it is drawn (flat tones, a glossy band, an outline, its shadow).

GrabCut separates head from background with colour models it learns from seeds: the skin
inside the face outline is certainly head, the square's top corners and its sides above the chin
far from the face are certainly background, and the skull just over the brows is probably head.
It runs on a small copy (``WORK_SIDE``), which keeps it near 30 ms; the mask is brought back to
full size with a soft edge.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.anime import toon
from inference.faces import regions

WORK_SIDE = 128
ITERATIONS = 2


def head_mask(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Head and hair (float32 0..1, the square's size) in an aligned face square."""
    size = rgb.shape[0]
    scale = WORK_SIDE / size
    small = cv2.resize(rgb, (WORK_SIDE, WORK_SIDE), interpolation=cv2.INTER_AREA)
    p = points * scale
    face_width = float(np.linalg.norm(p[16] - p[0]))
    face_height = float(np.linalg.norm(p[regions.CHIN] - p[regions.NOSE_TOP]))
    centre_x = float(p[regions.NOSE_BRIDGE, 0].mean())

    mask = np.full((WORK_SIDE, WORK_SIDE), cv2.GC_PR_BGD, np.uint8)
    # Probably head: a cap over the brows about as wide as the face, where hair usually is.
    # (Kept tight: GrabCut learns its first head colours from it, and background inside would
    # teach it that the background is head.)
    brow_y = float(p[regions.BROWS, 1].min())
    cap = (round(centre_x), round(brow_y + 0.1 * face_height))
    cv2.ellipse(mask, cap, (round(0.62 * face_width), round(0.75 * face_height)), 0, 180, 360, cv2.GC_PR_FGD, -1)
    # Certainly background: the top corners, and the sides above the chin well away from the face.
    corner = round(0.16 * WORK_SIDE)
    for x0 in (0, WORK_SIDE - 1):
        triangle = np.array([(x0, 0), (abs(x0 - corner), 0), (x0, corner)], np.int32)
        cv2.fillConvexPoly(mask, triangle, cv2.GC_BGD)
    chin_y = round(float(p[regions.CHIN, 1]))
    columns = np.abs(np.arange(WORK_SIDE) - centre_x) > 0.85 * face_width
    mask[:chin_y, columns] = cv2.GC_BGD
    # Certainly head: the face inside its outline, without eyes and mouth (whites and teeth
    # would teach GrabCut that a white wall is head).
    face = cv2.erode(_face_area(mask.shape, p), np.ones((3, 3), np.uint8))
    for part in (p[regions.RIGHT_EYE], p[regions.LEFT_EYE], p[regions.OUTER_LIPS]):
        cv2.fillConvexPoly(face, cv2.convexHull(np.round(part).astype(np.int32)), 0)
    mask[face > 0] = cv2.GC_FGD

    background_model = np.zeros((1, 65), np.float64)
    foreground_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)  # GrabCut seeds its colour models with k-means: same photo, same mask
    try:
        cv2.grabCut(small, mask, None, background_model, foreground_model, ITERATIONS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:  # degenerate seeds (one flat colour): the face alone
        pass
    found = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    found = _largest_filled(found)
    alpha = cv2.resize(found.astype(np.float32), (size, size), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 0.6 / scale)
    return np.clip((alpha - 0.5) * 2.5 + 0.5, 0.0, 1.0).astype(np.float32)


def hair_mask(lab: np.ndarray, head: np.ndarray, skin: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Hair (float32 0..1): the part of the head outside the face outline and above the chin
    whose colour is nearer the hair's than the skin's, or that the hair cuts off from the face.
    ``lab``: the square in Lab (float32); ``skin``: the soft skin region of ``procedural``. The
    hair colour is learnt from what of the head is plainly not skin."""
    cheeks = skin > 0.9
    if cheeks.any():
        skin_colour = np.median(lab[cheeks], axis=0)
    else:  # the face is mostly outside the square: take the nose tip's colour, or the nearest
        nose = points[regions.NOSE_POINT, ::-1]
        y, x = (int(np.clip(v, 0, n - 1)) for v, n in zip(nose, lab.shape[:2]))
        skin_colour = lab[y, x]
    to_skin = colour_distance(lab, skin_colour)
    face = cv2.dilate(_face_area(head.shape, points), np.ones((9, 9), np.uint8)).astype(np.float32)
    chin = max(int(points[regions.CHIN, 1]), 0)
    plainly = (head > 0.5) & (face < 0.5) & (to_skin > 30.0)
    plainly[chin:] = False
    if plainly.sum() < 0.002 * head.size:  # bald, or hair the colour of skin: no hair to draw
        return np.zeros(head.shape, np.float32)
    to_hair = colour_distance(lab, np.median(lab[plainly], axis=0))
    solid = ((head > 0.5) & (to_hair < to_skin) & (face < 0.5)).astype(np.uint8)
    # Skin-coloured head only counts as skin where it joins the face (forehead, ears, neck);
    # islands of it in the hair are lighter strands.
    skin_side = ((head > 0.5) & (solid == 0)).astype(np.uint8)
    _, labels = cv2.connectedComponents(skin_side, connectivity=4)
    joined = np.unique(labels[(face > 0.5) & (skin_side > 0)])
    solid[(skin_side > 0) & ~np.isin(labels, joined)] = 1
    solid[chin:] = 0
    solid = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    solid = cv2.morphologyEx(solid, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid, connectivity=8)
    if count > 1:  # stray patches (an ear's shadow, a collar) are not hair
        areas = stats[1:, cv2.CC_STAT_AREA]
        solid = np.isin(labels, 1 + np.nonzero(areas >= 0.2 * areas.max())[0]).astype(np.uint8)
    # Holes the hair closes around are lighter strands, not skin.
    contours, _ = cv2.findContours(solid, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(solid, contours, -1, 1, -1)
    # Drawn hair has a smooth edge: the mask follows GrabCut's 128-px steps and single strands.
    smooth = cv2.GaussianBlur(solid.astype(np.float32), (0, 0), 0.012 * head.shape[0]) > 0.5
    return cv2.GaussianBlur(smooth.astype(np.float32), (0, 0), 1.2)


def draw(out: np.ndarray, lab: np.ndarray, hair: np.ndarray, head: np.ndarray, points: np.ndarray,
         face_width: float, *, line: float = 1.0) -> np.ndarray:
    """Hair as drawn: its own colour in three flat tones (shadow, base, light) following the
    photo's broad lightness, a glossy band of strands around the crown, and a smooth dark
    outline (``smooth_outline``) whose width ``line`` scales."""
    rows, columns = np.nonzero((hair > 0.5).any(axis=1))[0], np.nonzero((hair > 0.5).any(axis=0))[0]
    if rows.size == 0:
        return out
    pad = 4
    top, bottom = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, hair.shape[0])
    left, right = max(columns[0] - pad, 0), min(columns[-1] + pad + 1, hair.shape[1])
    box = np.s_[top:bottom, left:right]
    mask = hair[box]
    lab = lab[box]
    base = np.median(lab[mask > 0.5], axis=0)
    sigma = 0.02 * face_width
    weight = np.clip(mask, 0.02, 1.0)
    broad = cv2.GaussianBlur(lab[..., 0] * weight, (0, 0), sigma) / cv2.GaussianBlur(weight, (0, 0), sigma)
    relative = np.clip(0.5 + (broad - base[0]) / 70.0, 0.0, 1.0)
    stepped = toon.cel_steps(relative, 3, ramp=0.3, keep=0.15)
    tones = np.empty(lab.shape, np.float32)
    tones[..., 0] = np.clip(base[0] + (stepped - 0.5) * 70.0, 8.0, 245.0)
    tones[..., 1:] = 128.0 + (base[1:] - 128.0) * 1.35

    # The glossy band: an arc over the crown, broken into tapering strands of uneven width.
    top_of_nose = points[regions.NOSE_TOP]
    centre = top_of_nose + (top_of_nose - points[regions.CHIN]) * 0.1
    centre = centre - np.array([left, top], np.float32)
    ys, xs = np.mgrid[0 : bottom - top, 0 : right - left].astype(np.float32)
    scale = 0.75 * face_width
    dx, dy = (xs - centre[0]) / scale, (ys - centre[1]) / scale
    radius = np.sqrt(dx * dx + dy * dy)
    angle = np.arctan2(dy, dx)
    crown = max((centre[1] - (rows[0] - top)) / scale, 0.3)
    ring = np.exp(-(((radius - 0.7 * crown) / (0.06 + 0.05 * np.sin(angle * 5.0) ** 2)) ** 2))
    strands = np.clip(np.cos(angle * 31.0) + 0.5 * np.cos(angle * 13.0 + 1.0) + 0.2, 0.0, 1.0)
    gloss = ring * strands * np.clip(-dy * 3.0 - 0.6, 0.0, 1.0) * mask
    tones[..., 0] += gloss * np.clip(0.4 * (255.0 - base[0]), 20.0, 60.0)
    drawn = cv2.cvtColor(np.clip(tones, 0, 255).astype(np.uint8), cv2.COLOR_Lab2RGB).astype(np.float32)

    # A little of the painted photo stays, so strand lines survive inside the hair.
    alpha = (0.85 * mask)[..., None]
    result = out[box].astype(np.float32) * (1.0 - alpha) + drawn * alpha
    out = out.copy()
    out[box] = np.clip(result, 0, 255).astype(np.uint8)
    # Its outline: bold against the background, light where it meets the skin.
    drawn_line = np.zeros(mask.shape, np.uint8)
    curves = [np.round((curve * 8)).astype(np.int32) for curve in smooth_outline(mask, face_width)]
    width = max(1, round(max(1.0, 0.006 * face_width) * line))
    cv2.polylines(drawn_line, curves, True, 255, width, cv2.LINE_AA, shift=3)
    background = cv2.dilate((head[box] < 0.5).astype(np.uint8), np.ones((5, 5), np.uint8))
    strength = (drawn_line.astype(np.float32) / 255.0 * (0.3 + 0.45 * background)
                * min(1.0, 0.6 + 0.4 * line))
    out[box] = np.clip(out[box] * (1.0 - strength[..., None]), 0, 255).astype(np.uint8)
    return out


def hairline_band(hair: np.ndarray, face_width: float) -> np.ndarray:
    """Where the hair casts its shadow on the forehead: a band just under the hair (0/1 uint8)."""
    reach = max(3, int(0.05 * face_width))
    kernel = np.zeros((2 * reach + 1, 3), np.uint8)
    kernel[: reach + 1] = 1  # dilating with this pushes the hair downward only
    solid = (hair > 0.5).astype(np.uint8)
    return cv2.dilate(solid, kernel) & (1 - solid)


def smooth_outline(mask: np.ndarray, face_width: float) -> list[np.ndarray]:
    """The outline of ``mask`` (> 0.5) as smooth closed curves (float32 (N, 2) each): the
    contour traced on the pixels, then averaged along itself over about a twentieth of the
    face width, so the staircase and the strand-by-strand wobble of the mask are gone."""
    contours, _ = cv2.findContours((mask > 0.5).astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    window = max(3, int(0.05 * face_width)) | 1
    curves = []
    for contour in contours:
        points = contour[:, 0, :].astype(np.float32)
        if len(points) < 2 * window:
            continue
        padded = np.concatenate([points[-window:], points, points[:window]])
        kernel = cv2.getGaussianKernel(window, window / 4).astype(np.float32)[:, 0]
        smoothed = np.stack([np.convolve(padded[:, axis], kernel, mode="same") for axis in (0, 1)],
                            axis=1)
        curves.append(smoothed[window:-window])
    return curves


def _face_area(shape, points: np.ndarray) -> np.ndarray:
    """1 inside the face outline (jaw and brows), 0 elsewhere (uint8)."""
    area = np.zeros(shape, np.uint8)
    outline = np.concatenate([points[regions.JAW], points[regions.BROWS][::-1]])
    cv2.fillPoly(area, [outline.astype(np.int32)], 1)
    return area


def colour_distance(lab: np.ndarray, colour: np.ndarray) -> np.ndarray:
    """Colour distance in Lab with lightness counting half: shading matters less than hue."""
    offset = lab - colour
    return np.sqrt((0.5 * offset[..., 0]) ** 2 + offset[..., 1] ** 2 + offset[..., 2] ** 2)


def _largest_filled(mask: np.ndarray) -> np.ndarray:
    """The biggest blob of a 0/1 mask, holes filled."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
    if count > 1:
        mask = (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 1, -1)
    return filled
