"""Landmark-driven expression warp: move the 68 landmarks the way an expression moves the
face, warp the photo piecewise-affinely to follow them, and paint the inside of a mouth that
the warp has opened."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.sticker.lexicon import ExpressionParams


@dataclass(frozen=True)
class WarpResult:
    image: np.ndarray  # H x W x 3 uint8
    landmarks: np.ndarray  # (68, 2) float32: where the landmarks are now
    maps: tuple[np.ndarray, np.ndarray] | None = None  # cv2.remap maps; None: nothing moved

    def follow(self, channel: np.ndarray) -> np.ndarray:
        """``channel`` (a mask of the unwarped photo) moved the way the photo was."""
        if self.maps is None:
            return channel
        return cv2.remap(channel, *self.maps, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def target_landmarks(points: np.ndarray, params: ExpressionParams, unit: float) -> np.ndarray:
    """Where each landmark goes for ``params``. ``points`` are upright (eyes level); ``unit``
    is the eye-to-mouth distance in pixels."""
    p = points.astype(np.float64)
    t = p.copy()
    mouth_width = np.linalg.norm(p[54] - p[48])
    mouth_centre = (p[48] + p[54]) / 2

    # The photo may already smile or show teeth, so curve and opening are set absolutely:
    # corners end where the expression wants them relative to the upper lip's centre, and the
    # gap between the lips becomes the expression's opening (a sad face closes a grin).
    gap = max(0.0, float(np.mean(p[[65, 66, 67], 1]) - np.mean(p[[61, 62, 63], 1])))
    wanted_gap = params.mouth_open * 0.42 * unit
    if params.mouth_curve > 0.3:
        wanted_gap = max(wanted_gap, gap)  # a smile may keep the teeth it has
    drop = wanted_gap - gap
    upper_centre = p[62, 1] - params.mouth_open * 0.05 * unit

    spread = params.mouth_width * 0.5 * mouth_width
    follow = {60: 0.95, 49: 0.55, 59: 0.6, 61: 0.45, 67: 0.45, 50: 0.15, 58: 0.2}
    mirror = {60: 64, 49: 53, 59: 55, 61: 63, 67: 65, 50: 52, 58: 56}
    for corner, side_points in ((48, follow), (54, {mirror[k]: v for k, v in follow.items()})):
        wanted = upper_centre + (0.03 - params.mouth_curve * 0.16) * unit + 0.3 * max(drop, 0)
        lift = wanted - p[corner, 1]
        side = np.sign(p[corner, 0] - mouth_centre[0])
        for index, weight in {corner: 1.0, **side_points}.items():
            t[index, 1] += lift * weight
            t[index, 0] += side * spread * weight * 0.5
    # A smile pushes the cheeks up and out and deepens the lower lip's curve.
    if params.mouth_curve > 0:
        for index in (2, 3, 4, 12, 13, 14):
            t[index, 1] -= params.mouth_curve * 0.04 * unit
        for index in (57, 66):
            t[index, 1] += params.mouth_curve * 0.03 * unit

    # Jaw drop (or lift, closing an open mouth): lower lip and chin move, the upper lip rises
    # a little when the mouth opens.
    for index, weight in {66: 1.0, 65: 0.85, 67: 0.85, 57: 1.0, 56: 0.85, 58: 0.85, 55: 0.45,
                          59: 0.45, 8: 0.9, 7: 0.8, 9: 0.8, 6: 0.6, 10: 0.6, 5: 0.35, 11: 0.35,
                          4: 0.12, 12: 0.12}.items():
        t[index, 1] += drop * weight
    for index, weight in {61: 1.0, 62: 1.0, 63: 1.0, 50: 0.6, 51: 0.6, 52: 0.6}.items():
        t[index, 1] -= params.mouth_open * 0.05 * unit * weight

    # Eyelids: narrowing comes mostly from below (the cheek rises), widening from above.
    for upper, lower, corners in (((37, 38), (40, 41), (36, 39)), ((43, 44), (46, 47), (42, 45))):
        height = np.mean(p[list(lower), 1]) - np.mean(p[list(upper), 1])
        height = max(height, 0.08 * unit)
        change = params.eye_open - 1.0
        if change < 0:
            t[list(lower), 1] += change * height * 0.55
            t[list(upper), 1] -= change * height * 0.45
            t[list(corners), 1] += change * height * 0.1
        else:
            t[list(upper), 1] -= change * height * 0.8
            t[list(lower), 1] += change * height * 0.35

    # Brows: raise moves them whole; angle turns them about their outer ends (inner end up is
    # sad, inner end down and towards the nose is angry).
    raise_by = -params.brow_raise * 0.2 * unit
    for brow in (range(17, 22), range(22, 27)):
        brow = list(brow)
        inner = brow[-1] if brow[0] == 17 else brow[0]
        outer = brow[0] if brow[0] == 17 else brow[-1]
        span = p[inner, 0] - p[outer, 0]
        for index in brow:
            along = (p[index, 0] - p[outer, 0]) / span if span else 0.0
            t[index, 1] += raise_by - params.brow_angle * 0.2 * unit * along
            if params.brow_angle < 0:
                t[index, 0] -= np.sign(span) * params.brow_angle * 0.06 * unit * along
    # The upper lids follow the brows a little so the skin between stays plausible.
    for lids, brow in (((37, 38), (18, 19, 20)), ((43, 44), (23, 24, 25))):
        brow_move = np.mean(t[list(brow), 1] - p[list(brow), 1])
        t[list(lids), 1] += 0.15 * brow_move
    return t.astype(np.float32)


def _support_points(points: np.ndarray, size: tuple[int, int], unit: float,
                    targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extra points around the face so the warp fades out smoothly: a ring over the forehead
    that follows the brows a little, one outside the jaw, a still ring further out and the
    frame."""
    h, w = size
    source, target = [], []
    centre = points[27:36].mean(axis=0)
    for index in list(range(17, 27)):
        up = np.array([0.0, -0.45 * unit])
        brow_move = targets[index] - points[index]
        source.append(points[index] + up)
        target.append(points[index] + up + 0.35 * brow_move)
    for index in range(0, 17):
        outward = points[index] - centre
        outward = outward / (np.linalg.norm(outward) + 1e-6) * 0.35 * unit
        move = targets[index] - points[index]
        source.append(points[index] + outward)
        target.append(points[index] + outward + 0.3 * move)
    # A still ring further out keeps the change local: hair and background stay put.
    for index in list(range(0, 17)) + list(range(17, 27)):
        outward = points[index] - centre
        outward = outward / (np.linalg.norm(outward) + 1e-6) * 0.9 * unit
        source.append(points[index] + outward)
        target.append(points[index] + outward)
    for x in np.linspace(0, w - 1, 5):
        for y in (0, h - 1):
            source.append((x, y))
            target.append((x, y))
    for y in np.linspace(0, h - 1, 5)[1:-1]:
        for x in (0, w - 1):
            source.append((x, y))
            target.append((x, y))
    return np.array(source, np.float64), np.array(target, np.float64)


def piecewise_affine_maps(source: np.ndarray, target: np.ndarray, size: tuple[int, int],
                          smooth: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps that move each ``source`` point onto its ``target``: for every output
    pixel, the affine map of the target triangle it falls in tells where to sample."""
    h, w = size
    subdiv = cv2.Subdiv2D((-1, -1, w + 2, h + 2))
    clipped = np.clip(target, 0, [w - 1, h - 1])
    index_of = {}
    for i, (x, y) in enumerate(clipped):
        key = (round(float(x), 3), round(float(y), 3))
        if key in index_of:
            continue
        index_of[key] = i
        subdiv.insert((float(x), float(y)))
    triangles = []
    for x1, y1, x2, y2, x3, y3 in subdiv.getTriangleList():
        ids = [index_of.get((round(float(x), 3), round(float(y), 3)))
               for x, y in ((x1, y1), (x2, y2), (x3, y3))]
        if None not in ids:
            triangles.append(ids)
    label = np.full((h, w), -1, np.int32)
    affines = np.zeros((len(triangles), 2, 3), np.float64)
    for n, ids in enumerate(triangles):
        dst = clipped[ids].astype(np.float32)
        (ax, ay), (bx, by) = dst[1] - dst[0], dst[2] - dst[0]
        if abs(ax * by - ay * bx) < 1e-6:
            continue
        affines[n] = cv2.getAffineTransform(dst, source[ids].astype(np.float32))
        cv2.fillConvexPoly(label, np.round(dst).astype(np.int32), n)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    covered = label >= 0
    a = affines[label[covered]]
    map_x, map_y = xs.copy(), ys.copy()
    map_x[covered] = a[:, 0, 0] * xs[covered] + a[:, 0, 1] * ys[covered] + a[:, 0, 2]
    map_y[covered] = a[:, 1, 0] * xs[covered] + a[:, 1, 1] * ys[covered] + a[:, 1, 2]
    if smooth > 0:
        # Blurring the displacement (not the image) hides the creases along triangle edges.
        dx = cv2.GaussianBlur(map_x - xs, (0, 0), smooth)
        dy = cv2.GaussianBlur(map_y - ys, (0, 0), smooth)
        map_x, map_y = xs + dx, ys + dy
    return map_x, map_y


def paint_mouth(image: np.ndarray, landmarks: np.ndarray, params: ExpressionParams,
                unit: float) -> np.ndarray:
    """Fill the gap between the inner lips with a dark mouth, upper teeth and a tongue."""
    upper = landmarks[[60, 61, 62, 63, 64]]
    lower = landmarks[[64, 65, 66, 67, 60]]
    opening = float(np.mean(landmarks[[65, 66, 67], 1] - landmarks[[63, 62, 61], 1]))
    if opening < 0.04 * unit:
        return image
    h, w = image.shape[:2]
    scale = 4  # draw at 4x for smooth edges, then average down
    polygon = np.concatenate([upper, lower[1:-1]])
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * scale).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.6, unit * 0.006)).astype(np.float32) / 255

    top = float(landmarks[[61, 62, 63], 1].mean())
    ys = (np.arange(h, dtype=np.float32)[:, None] - top) / max(opening, 1.0)
    ys = np.broadcast_to(ys, (h, w))
    inside = np.empty((h, w, 3), np.float32)
    inside[:] = (70, 22, 28)
    inside *= (1.0 - 0.45 * np.clip(ys, 0, 1))[..., None]  # darker towards the throat
    if params.teeth > 0:
        # Upper teeth hang from the upper lip's curve, fill the middle of the mouth (not its
        # corners) and are shaded darker downwards and sideways.
        tooth_height = min(0.09 * unit, 0.45 * opening) * params.teeth
        xs = np.arange(w, dtype=np.float32)
        lip_x, lip_y = upper[:, 0], upper[:, 1]
        order = np.argsort(lip_x)
        lip_line = np.interp(xs, lip_x[order], lip_y[order])[None, :]
        depth = (np.arange(h, dtype=np.float32)[:, None] - lip_line) / max(tooth_height, 1.0)
        centre_x = float(upper[:, 0].mean())
        half_width = 0.5 * float(np.ptp(lip_x))
        side = np.abs(xs - centre_x)[None, :] / max(half_width, 1.0)
        teeth = np.clip((1 - depth) * tooth_height / 1.5, 0, 1) * np.clip((0.85 - side) * 6, 0, 1)
        shade = (1.0 - 0.18 * np.clip(depth, 0, 1)) * (1.0 - 0.25 * np.clip(side, 0, 1))
        teeth = teeth[..., None]
        enamel = np.array((232, 226, 214), np.float32) * shade[..., None]
        inside = inside * (1 - teeth) + enamel * teeth
    tongue_centre = landmarks[66] - (0, 0.18 * opening)
    tongue = ((np.arange(w)[None, :] - tongue_centre[0]) / (0.22 * unit)) ** 2 + (
        (np.arange(h)[:, None] - landmarks[66, 1]) / (0.45 * opening)) ** 2
    tongue = np.clip((1 - tongue) * 3, 0, 1)[..., None] * (opening > 0.12 * unit)
    inside = inside * (1 - tongue * 0.8) + np.array((190, 75, 80), np.float32) * tongue * 0.8
    out = image.astype(np.float32) * (1 - mask[..., None]) + inside * mask[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def close_mouth(image: np.ndarray, landmarks: np.ndarray, unit: float) -> np.ndarray:
    """Cover what is left of teeth once the warp has closed an open mouth: lip colour along
    the line where the lips meet, and a thin dark seam."""
    h, w = image.shape[:2]
    inner = landmarks[[60, 61, 62, 63, 64, 65, 66, 67]]
    outer = landmarks[[48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]]
    ring = (outer[[1, 2, 3, 4, 5, 7, 8, 9, 10, 11]] * 0.6
            + landmarks[[61, 61, 62, 63, 63, 65, 65, 66, 67, 67]] * 0.4)
    samples = [image[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))] for x, y in ring]
    lip = np.median(np.array(samples, np.float32), axis=0)
    mask = np.zeros((h, w), np.uint8)
    line = np.round(np.concatenate([inner, inner[:1]]) * 4).astype(np.int32)
    cv2.polylines(mask, [line], False, 255, max(1, round(0.05 * unit)), cv2.LINE_AA, shift=2)
    cv2.fillPoly(mask, [line], 255, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.012 * unit).astype(np.float32)[..., None] / 255
    seam = np.zeros((h, w), np.uint8)
    cv2.polylines(seam, [np.round(inner[:5] * 4).astype(np.int32)], False, 255,
                  max(1, round(0.012 * unit)), cv2.LINE_AA, shift=2)
    seam = cv2.GaussianBlur(seam, (0, 0), 0.006 * unit).astype(np.float32)[..., None] / 255
    out = image.astype(np.float32) * (1 - mask) + lip * mask
    out = out * (1 - 0.6 * seam) + lip * 0.35 * 0.6 * seam
    return np.clip(out, 0, 255).astype(np.uint8)


def warp_expression(image: np.ndarray, landmarks: np.ndarray, params: ExpressionParams,
                    unit: float) -> WarpResult:
    """Apply ``params`` to an upright face crop whose landmarks are ``landmarks``."""
    if params == ExpressionParams(head_tilt=params.head_tilt, overlays=params.overlays,
                                  motion=params.motion):
        return WarpResult(image.copy(), landmarks.astype(np.float32))  # neutral: the photo as is
    targets = target_landmarks(landmarks, params, unit)
    extra_source, extra_target = _support_points(landmarks.astype(np.float64), image.shape[:2],
                                                 unit, targets.astype(np.float64))
    source = np.concatenate([landmarks.astype(np.float64), extra_source])
    target = np.concatenate([targets.astype(np.float64), extra_target])
    # The displacement is smooth, so it is computed at half size and scaled up: the warp costs
    # a quarter as much and looks the same.
    h, w = image.shape[:2]
    half = (h // 2, w // 2)
    map_x, map_y = piecewise_affine_maps(source / 2, target / 2, half, smooth=unit * 0.01)
    ys, xs = np.mgrid[0:half[0], 0:half[1]].astype(np.float32)
    dx = cv2.resize((map_x - xs) * 2, (w, h), interpolation=cv2.INTER_LINEAR)
    dy = cv2.resize((map_y - ys) * 2, (w, h), interpolation=cv2.INTER_LINEAR)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs + dx, ys + dy
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    gap_before = float(np.mean(landmarks[[65, 66, 67], 1] - landmarks[[61, 62, 63], 1]))
    gap_after = float(np.mean(targets[[65, 66, 67], 1] - targets[[61, 62, 63], 1]))
    # Painting touches only the mouth: work on a box around it.
    x0, y0 = np.maximum(np.floor(targets[48:68].min(axis=0) - 0.3 * unit), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(targets[48:68].max(axis=0) + 0.3 * unit), (w, h)).astype(int)
    box = warped[y0:y1, x0:x1]
    local = targets - (x0, y0)
    if gap_after < 0.04 * unit < gap_before:
        box = close_mouth(box, local, unit)
    if gap_after > gap_before + 0.03 * unit:  # only a mouth the warp opened; real teeth stay
        box = paint_mouth(box, local, params, unit)
    warped[y0:y1, x0:x1] = box
    return WarpResult(warped, targets, (map_x, map_y))
