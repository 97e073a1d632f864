"""Landmark-driven expression warp: move the 68 landmarks the way an expression moves the
face, warp the photo piecewise-affinely to follow them, and paint the inside of a mouth that
the warp has opened."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.faces import regions
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


# Lip lines, each from the subject's right corner (viewer's left) to the left one.
UPPER_INNER = [60, 61, 62, 63, 64]
LOWER_INNER = [60, 67, 66, 65, 64]
UPPER_OUTER = [49, 50, 51, 52, 53]
LOWER_OUTER = [59, 58, 57, 56, 55]


def lip_gap(points: np.ndarray) -> float:
    """Mean distance between the inner lips at their middle three points."""
    return float(np.mean(points[[67, 66, 65], 1] - points[[61, 62, 63], 1]))


def mouth_opening(params: ExpressionParams, photo_gap: float, unit: float) -> float:
    """The gap between the inner lips that ``params`` ends with, in pixels."""
    wanted = params.mouth_open * 0.42 * unit
    if wanted < 0.1 * unit:
        # A sliver between the lips reads as a glitch at sticker size: a smile shows a row of
        # teeth, any other face presses the lips together.
        smiles = params.mouth_curve > 0.3 and params.teeth > 0 and wanted > 0
        wanted = 0.15 * unit if smiles else 0.0
    if params.mouth_curve > 0.3:
        wanted = max(wanted, photo_gap)  # a smile may keep the teeth it has
    return wanted


def _line_at(points: np.ndarray, line: list[int], xs: np.ndarray) -> np.ndarray:
    """Heights of the lip ``line`` at ``xs`` (linear between its landmarks)."""
    x, y = points[line, 0], points[line, 1]
    order = np.argsort(x)
    return np.interp(xs, x[order], y[order])


def _mouth_targets(p: np.ndarray, params: ExpressionParams, unit: float,
                   gap: float) -> np.ndarray:
    """New positions of the 20 mouth landmarks (48..67), the lips ``gap`` apart.

    The mouth is redrawn rather than nudged, because the photo may already smile or show
    teeth and the asked expression must win over it: the inner upper lip becomes a parabola
    whose corners sit ``bend`` above its centre (below for a frown), the inner lower lip
    hangs the expression's opening under it (most at the centre, none at the corners), and
    the outer lips keep the photo's lip thickness over those lines."""
    t = p.copy()
    centre_x = (p[regions.MOUTH_RIGHT, 0] + p[regions.MOUTH_LEFT, 0]) / 2
    half = max((p[regions.MOUTH_LEFT, 0] - p[regions.MOUTH_RIGHT, 0]) / 2, 1.0)
    new_half = half * (1 + 0.5 * params.mouth_width)
    top = p[62, 1] - params.mouth_open * 0.05 * unit  # the upper lip rises as the jaw drops
    bend = (params.mouth_curve * (0.2 if params.mouth_curve > 0 else 0.3) - 0.03) * unit
    inner_reach = max(abs(p[[60, 64], 0] - centre_x).mean() / half, 0.3)

    def upper(s):
        return top - bend * s ** 2

    def lower(s):
        # Full almost out to the corners: an open mouth is round (an O, a D), not a funnel.
        return upper(s) + gap * np.sqrt(np.clip(1 - (s / inner_reach) ** 4, 0, 1))

    index = np.array(regions.indices(regions.MOUTH))
    s = (p[index, 0] - centre_x) / half
    # The jaw drop rounds the lower lip: its side points move out towards the corners.
    s[np.isin(index, [56, 58, 65, 67])] *= 1 + 0.6 * params.mouth_open
    s_of = dict(zip(index.tolist(), s))
    t[index, 0] = centre_x + s * new_half
    for i in (48, 54):
        t[i, 1] = upper(np.sign(s_of[i]))
    for i in UPPER_INNER:
        t[i, 1] = upper(s_of[i])
    for i in LOWER_INNER[1:-1]:
        t[i, 1] = lower(s_of[i])
    for outer, inner, line in ((UPPER_OUTER, upper, UPPER_INNER),
                               (LOWER_OUTER, lower, LOWER_INNER)):
        thickness = p[outer, 1] - _line_at(p, line, p[outer, 0])
        t[outer, 1] = inner(np.array([s_of[i] for i in outer])) + thickness
    return t


def target_landmarks(points: np.ndarray, params: ExpressionParams, unit: float) -> np.ndarray:
    """Where each landmark goes for ``params``. ``points`` are upright (eyes level); ``unit``
    is the eye-to-mouth distance in pixels."""
    p = points.astype(np.float64)
    photo_gap = max(0.0, lip_gap(p))
    gap = mouth_opening(params, photo_gap, unit)
    t = _mouth_targets(p, params, unit, gap)
    # A smile pushes the cheeks up and out.
    if params.mouth_curve > 0:
        for index in (2, 3, 4, 12, 13, 14):
            t[index, 1] -= params.mouth_curve * 0.04 * unit

    # The jaw drops (or lifts, closing an open mouth) with the lower lip.
    drop = gap - photo_gap
    for index, weight in {8: 0.9, 7: 0.8, 9: 0.8, 6: 0.6, 10: 0.6, 5: 0.35, 11: 0.35,
                          4: 0.12, 12: 0.12}.items():
        t[index, 1] += drop * weight

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
    for region in (regions.RIGHT_BROW, regions.LEFT_BROW):
        brow = list(regions.indices(region))
        inner = brow[-1] if region == regions.RIGHT_BROW else brow[0]
        outer = brow[0] if region == regions.RIGHT_BROW else brow[-1]
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
    that follows the brows a little, one outside the jaw, one over the lips, a still ring
    further out and the frame."""
    h, w = size
    source, target = [], []
    centre = points[regions.NOSE].mean(axis=0)
    for index in regions.indices(regions.BROWS):
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
    # Points just around the corners and the upper lip move with them, so that the skin at the
    # corners (a grin's creases and shadows) goes where the corners go instead of smiling on.
    # Under the lower lip the jaw points already carry the skin; more points there fold it.
    mouth_centre = points[regions.OUTER_LIPS].mean(axis=0)
    for index in range(regions.MOUTH_RIGHT, regions.MOUTH_LEFT + 1):
        outward = points[index] - mouth_centre
        outward = outward / (np.linalg.norm(outward) + 1e-6) * 0.14 * unit
        source.append(points[index] + outward)
        target.append(points[index] + outward + 0.85 * (targets[index] - points[index]))
    # A still ring further out keeps the change local: hair and background stay put.
    for index in regions.indices(regions.OUTLINE):
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


def _curve_through(points: np.ndarray, steps: int = 8) -> np.ndarray:
    """A Catmull-Rom curve through ``points``, ``steps`` samples per segment."""
    padded = np.concatenate([points[:1], points, points[-1:]]).astype(np.float64)
    u = np.linspace(0, 1, steps, endpoint=False)[:, None]
    pieces = []
    for a, b, c, d in zip(padded, padded[1:], padded[2:], padded[3:]):
        pieces.append(0.5 * (2 * b + (c - a) * u + (2 * a - 5 * b + 4 * c - d) * u ** 2
                             + (3 * b - a - 3 * c + d) * u ** 3))
    return np.concatenate(pieces + [points[-1:]])


def paint_mouth(image: np.ndarray, landmarks: np.ndarray, params: ExpressionParams,
                unit: float) -> np.ndarray:
    """Draw the inside of an open mouth between the inner lips: a dark interior shaded deeper
    towards its middle and the throat, a band of upper teeth hanging from the upper lip's
    curve, and the tongue at the bottom once the mouth is open wide enough to show it."""
    opening = lip_gap(landmarks)
    if opening < 0.04 * unit:
        return image
    h, w = image.shape[:2]
    # From outer corner to outer corner (the dark ends show where the mouth's curve goes),
    # each lip a smooth curve: straight segments between five points make a funnel of an O.
    polygon = np.concatenate([_curve_through(landmarks[[48, 61, 62, 63, 54]]),
                              _curve_through(landmarks[[54, 65, 66, 67, 48]])])
    mask = np.zeros((h, w), np.uint8)
    # Drawn at 4x (shift=2) for smooth edges.
    cv2.fillPoly(mask, [np.round(polygon * 4).astype(np.int32)], 255, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.6, unit * 0.006)).astype(np.float32) / 255

    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    lip_top = _line_at(landmarks, UPPER_INNER, xs[0])[None, :]
    lip_bottom = _line_at(landmarks, LOWER_INNER, xs[0])[None, :]
    local_gap = np.maximum(lip_bottom - lip_top, 1.0)
    centre_x = float(landmarks[UPPER_INNER, 0].mean())
    half_width = max(0.5 * float(np.ptp(landmarks[UPPER_INNER, 0])), 1.0)
    side = np.abs(xs - centre_x) / half_width  # 0 in the middle, 1 at the corners
    depth = np.clip((ys - lip_top) / local_gap, 0, 1)  # 0 at the upper lip, 1 at the lower

    # The interior: lit dark red by the lips, nearly black deep inside and low down.
    shadow = np.clip((1 - side) * 0.55 + depth * 0.45, 0, 1)
    rim, deep = np.array((120, 42, 48), np.float32), np.array((26, 8, 12), np.float32)
    inside = rim + (deep - rim) * shadow[..., None]

    if params.teeth > 0:
        # Upper teeth hang from the lip's curve, never fill more than half of the opening, fade
        # before the corners and show faint gaps between the front teeth.
        tooth_height = np.minimum(0.1 * unit, 0.5 * local_gap) * np.sqrt(params.teeth)
        below_lip = (ys - lip_top) / np.maximum(tooth_height, 1.0)
        teeth = np.clip((1 - below_lip) * tooth_height / 1.5, 0, 1) * np.clip(
            (0.85 - side) * 6, 0, 1) * (below_lip > -0.2)
        tooth_width = 0.11 * unit
        seams = np.abs(((xs - centre_x) / tooth_width + 0.5) % 1 - 0.5) * tooth_width
        seam = np.clip(1 - seams / max(0.012 * unit, 0.6), 0, 1) * np.clip(below_lip, 0, 1)
        shade = (1 - 0.22 * np.clip(below_lip, 0, 1)) * (1 - 0.3 * side) * (1 - 0.25 * seam)
        enamel = np.array((238, 233, 222), np.float32) * shade[..., None]
        inside += (enamel - inside) * teeth[..., None]

    if opening > 0.12 * unit:
        # The tongue: a flattened oval resting on the lower lip, lighter on its upper surface.
        tongue_top = landmarks[66, 1] - 0.45 * opening
        radius_x = 0.55 * half_width
        oval = ((xs - centre_x) / radius_x) ** 2 + (
            (ys - landmarks[66, 1]) / (landmarks[66, 1] - tongue_top)) ** 2
        tongue = np.clip((1 - oval) * 4, 0, 1) * (ys < landmarks[66, 1] + 0.05 * unit)
        surface = np.clip((ys - tongue_top) / (0.45 * opening), 0, 1)
        flesh = np.array((190, 88, 95), np.float32) + (
            np.array((130, 45, 55), np.float32) - (190, 88, 95)) * surface[..., None]
        inside += (flesh - inside) * tongue[..., None]

    out = image.astype(np.float32) * (1 - mask[..., None]) + inside * mask[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def close_mouth(image: np.ndarray, landmarks: np.ndarray, unit: float) -> np.ndarray:
    """Cover what is left of the photo's open mouth once the warp has reshaped it: lip colour
    along the line where the lips meet, and a dark seam from corner to corner that shows the
    mouth's new curve."""
    h, w = image.shape[:2]
    inner = landmarks[[60, 61, 62, 63, 64, 65, 66, 67]]
    outer = landmarks[[48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59]]
    ring = (outer[[1, 2, 3, 4, 5, 7, 8, 9, 10, 11]] * 0.6
            + landmarks[[61, 61, 62, 63, 63, 65, 65, 66, 67, 67]] * 0.4)
    samples = [image[int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))] for x, y in ring]
    lip = np.median(np.array(samples, np.float32), axis=0)
    mask = np.zeros((h, w), np.uint8)
    line = np.round(np.concatenate([inner, inner[:1]]) * 4).astype(np.int32)
    cv2.polylines(mask, [line], False, 255, max(1, round(0.15 * unit)), cv2.LINE_AA, shift=2)
    cv2.fillPoly(mask, [line], 255, cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.012 * unit).astype(np.float32)[..., None] / 255
    seam = np.zeros((h, w), np.uint8)
    seam_line = landmarks[[48] + UPPER_INNER + [54]]
    cv2.polylines(seam, [np.round(seam_line * 4).astype(np.int32)], False, 255,
                  max(1, round(0.03 * unit)), cv2.LINE_AA, shift=2)
    seam = cv2.GaussianBlur(seam, (0, 0), 0.006 * unit).astype(np.float32)[..., None] / 255
    out = image.astype(np.float32) * (1 - mask) + lip * mask
    out = out * (1 - 0.9 * seam) + lip * 0.25 * 0.9 * seam
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
    gap_before, gap_after = lip_gap(landmarks), lip_gap(targets)
    # Painting touches only the mouth: work on a box around it.
    mouth = targets[regions.MOUTH]
    x0, y0 = np.maximum(np.floor(mouth.min(axis=0) - 0.3 * unit), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(mouth.max(axis=0) + 0.3 * unit), (w, h)).astype(int)
    box = warped[y0:y1, x0:x1]
    local = targets - (x0, y0)
    # A smile keeps the teeth the photo shows. Any other face covers the photo's open mouth
    # (a grin made to cry) and draws its own inside where the lips part.
    kept = params.mouth_curve > 0.3 and gap_after <= gap_before + 0.03 * unit
    if gap_before > 0.04 * unit and not kept:
        box = close_mouth(box, local, unit)
    if gap_after >= 0.04 * unit and not kept:
        box = paint_mouth(box, local, params, unit)
    warped[y0:y1, x0:x1] = box
    return WarpResult(warped, targets, (map_x, map_y))
