"""The face rig: a triangle mesh over the 68 landmarks, rings of support points and the frame,
built once; each frame moves the points (speech, blink, sway) and warps the picture with one
piecewise-affine ``cv2.remap``.

Why it is fast enough for 50+ frames a second at 512x512 on one core: the mesh's triangles
are fixed (only their corners move), so a frame needs no triangulation; only the region inside
the still outer ring can move, so the warp is computed there alone and the rest of the frame
is the picture as it is; and the warp's sampling map is smooth inside each triangle, so it is
computed at half resolution and scaled up.

Why nothing tears: the outermost moving points are surrounded by a ring that never moves, so the
displacement falls to zero before the ring and the background stays still; and the triangles
are chosen on the widest-open mouth, so when the lips close the triangles between them shrink
to nothing instead of folding over."""
from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from scipy.spatial import Delaunay

from inference.faces.regions import (LEFT_BROW, LEFT_EYE, MOUTH, NOSE, OUTER_LIPS, RIGHT_BROW,
                                     RIGHT_EYE)
from inference.sticker.lexicon import ExpressionParams
from inference.sticker.warp import close_mouth, lip_gap, paint_mouth, target_landmarks

BROWS = list(range(17, 27))
LOWER_LIP = [55, 56, 57, 58, 59, 65, 66, 67]
CORNERS_AND_UPPER_LIP = list(range(48, 55))
# Eyelids as (upper, lower) pairs facing each other, one eye after the other.
LIDS = ((37, 41), (38, 40), (43, 47), (44, 46))
# The widest the speech opens the mouth, in the sticker warp's ``mouth_open`` (1 = a shout).
FULL_OPENING = 0.75
# How far rounded vowels draw the mouth corners in, as a share of the mouth's width.
ROUNDING = 0.22
# Upper and lower lids meet this far down the eye in a blink (lids meet low).
BLINK_MEET = 0.75


@dataclass(frozen=True)
class Pose:
    """One frame's controls."""

    opening: float = 0.0  # 0 closed .. 1 FULL_OPENING
    roundness: float = 0.0  # 0 spread .. 1 rounded
    blink: float = 0.0  # 0 open .. 1 shut
    tilt: float = 0.0  # degrees, positive leans the head to the viewer's left
    lift: float = 0.0  # upward head movement, in units (breathing)


@dataclass(frozen=True)
class Rig:
    image: np.ndarray  # S x S x 3 uint8: the picture every frame samples from
    source: np.ndarray  # (N, 2) control points on ``image``: 68 landmarks first
    triangles: np.ndarray  # (T, 3) indices into the points
    rest: np.ndarray  # (N, 2) where they sit with the emotion on and the mouth shut
    opened: np.ndarray  # (N, 2) displacement at full opening
    rounded: np.ndarray  # (N, 2) displacement when fully rounded
    blinked: np.ndarray  # (N, 2) displacement with the eyes shut
    head: np.ndarray  # (N,) 1 for points that sway with the head, 0 for still ones
    pivot: np.ndarray  # (2,) the neck, which the head sways about
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the only region that can move
    unit: float  # eye-to-mouth distance in pixels
    params: ExpressionParams  # the emotion (teeth, smile) for the mouth painting
    lid_colours: np.ndarray  # (2, 3) the skin over each eye, which covers it in a blink

    @property
    def landmarks(self) -> np.ndarray:
        return self.source[:68]


def build_rig(image: np.ndarray, landmarks: np.ndarray, params: ExpressionParams,
              unit: float) -> Rig:
    """The rig for an upright face (eyes level) whose landmarks are ``landmarks``."""
    p = landmarks.astype(np.float64)
    rest68 = _shut(target_landmarks(p, params, unit).astype(np.float64))
    wide68 = target_landmarks(p, replace(params, mouth_open=FULL_OPENING), unit)
    opened68 = wide68.astype(np.float64) - rest68
    rounded68 = _rounding(rest68, unit)
    blinked68 = _blink(rest68)

    h, w = image.shape[:2]
    centre = p[NOSE].mean(axis=0)
    mouth_centre = p[OUTER_LIPS].mean(axis=0)
    rows = [(p, rest68, opened68, rounded68, blinked68, np.ones(68))]

    def ring(indices, offsets, follow, head):
        """Points at ``offsets`` from the landmarks ``indices`` that move ``follow`` times as
        far as those landmarks (blinks excepted), swaying with the head when ``head`` is 1."""
        base = p[indices] + offsets
        rows.append((base, base + follow * (rest68 - p)[indices], follow * opened68[indices],
                     follow * rounded68[indices], np.zeros_like(base),
                     np.full(len(indices), head)))

    def outward(indices, origin, distance):
        direction = p[indices] - origin
        return direction / (np.linalg.norm(direction, axis=1, keepdims=True) + 1e-6) * distance

    # Over the forehead, following the brows a little; outside the jaw, following the jaw;
    # around the mouth corners and upper lip, so the skin there (a grin's creases) goes where
    # the corners go. All of them sway with the head.
    ring(BROWS, np.array([0.0, -0.45 * unit]), 0.35, 1.0)
    ring(list(range(17)), outward(list(range(17)), centre, 0.35 * unit), 0.3, 1.0)
    ring(CORNERS_AND_UPPER_LIP, outward(CORNERS_AND_UPPER_LIP, mouth_centre, 0.14 * unit),
         0.85, 1.0)
    # A still ring further out keeps the change local: hair and background stay put.
    still = list(range(17)) + BROWS
    ring(still, outward(still, centre, 1.0 * unit), 0.0, 0.0)
    frame = [(x, y) for x in np.linspace(0, w - 1, 5) for y in (0, h - 1)]
    frame += [(x, y) for y in np.linspace(0, h - 1, 5)[1:-1] for x in (0, w - 1)]
    ring_frame = np.array(frame, np.float64)
    rows.append((ring_frame, ring_frame, 0 * ring_frame, 0 * ring_frame, 0 * ring_frame,
                 np.zeros(len(ring_frame))))

    source, rest, opened, rounded, blinked, head = (np.concatenate(part) for part in zip(*rows))
    # Triangles chosen on the open mouth: see the module's docstring.
    triangles = Delaunay(rest + opened).simplices.astype(np.int32)
    # Everything that moves lies inside the still ring: the warp is computed within its box.
    reach = source[:-len(frame)]
    low = np.maximum(np.floor(reach.min(axis=0)) - 4, 0).astype(int) // 2 * 2
    high = np.minimum(np.ceil(reach.max(axis=0)) + 4, (w, h)).astype(int) // 2 * 2
    pivot = np.array([p[8, 0], p[8, 1] + 0.6 * unit])
    return Rig(image, source.astype(np.float32), triangles, rest, opened, rounded, blinked,
               head, pivot, (int(low[0]), int(low[1]), int(high[0]), int(high[1])), unit,
               replace(params, teeth=max(params.teeth, 0.5)), _lid_colours(image, p, unit))


def _lid_colours(image: np.ndarray, p: np.ndarray, unit: float) -> np.ndarray:
    """The median colour of the skin between each eye and its brow."""
    colours = []
    for eye, brow in ((RIGHT_EYE, RIGHT_BROW), (LEFT_EYE, LEFT_BROW)):
        x, y = p[eye].mean(axis=0) * 0.6 + p[brow].mean(axis=0) * 0.4
        r = max(2, int(0.04 * unit))
        patch = image[max(0, int(y) - r):int(y) + r, max(0, int(x) - r):int(x) + r]
        colours.append(np.median(patch.reshape(-1, 3), axis=0) if patch.size else (200, 160, 140))
    return np.array(colours, np.float32)


def _shut(points: np.ndarray) -> np.ndarray:
    """``points`` with the lips together: a smile keeps the photo's parted lips, but between
    words the mouth must close. The lower lip and the jaw rise by the gap."""
    gap = lip_gap(points)
    if gap <= 0:
        return points
    shut = points.copy()
    for index, weight in {**dict.fromkeys(LOWER_LIP, 1.0), 8: 0.9, 7: 0.8, 9: 0.8, 6: 0.6,
                          10: 0.6, 5: 0.35, 11: 0.35, 4: 0.12, 12: 0.12}.items():
        shut[index, 1] -= gap * weight
    return shut


def _rounding(points: np.ndarray, unit: float) -> np.ndarray:
    """Displacement of a rounded mouth: the lips drawn in towards their middle, a little taller."""
    delta = np.zeros_like(points)
    mouth = np.arange(48, 68)
    centre = points[mouth].mean(axis=0)
    delta[mouth, 0] = -(points[mouth, 0] - centre[0]) * ROUNDING
    delta[mouth, 1] = (points[mouth, 1] - centre[1]) * ROUNDING * 0.4
    return delta


def _blink(points: np.ndarray) -> np.ndarray:
    """Displacement of shut eyes: each upper lid comes down to meet its lower lid."""
    delta = np.zeros_like(points)
    for upper, lower in LIDS:
        height = max(points[lower, 1] - points[upper, 1], 0.0)
        delta[upper, 1] = BLINK_MEET * height
        delta[lower, 1] = -(1 - BLINK_MEET) * height * 0.9
    return delta


def pose_points(rig: Rig, pose: Pose) -> np.ndarray:
    """Where every control point goes in ``pose``."""
    targets = (rig.rest + pose.opening * rig.opened + pose.roundness * rig.rounded
               + pose.blink * rig.blinked)
    if pose.tilt or pose.lift:
        angle = np.radians(pose.tilt)
        rotation = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
        swayed = (targets - rig.pivot) @ rotation.T + rig.pivot - (0, pose.lift * rig.unit)
        targets = targets + rig.head[:, None] * (swayed - targets)
    return targets


def render(rig: Rig, pose: Pose) -> tuple[np.ndarray, np.ndarray]:
    """The frame for ``pose`` and where its 68 landmarks are."""
    targets = pose_points(rig, pose)
    x0, y0, x1, y1 = rig.box
    map_x, map_y = _sampling_map(rig, targets, (x0, y0, x1, y1))
    frame = rig.image.copy()
    frame[y0:y1, x0:x1] = cv2.remap(rig.image, map_x, map_y, cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
    landmarks = targets[:68].astype(np.float32)
    _paint_mouth(frame, rig, landmarks)
    if pose.blink > 0.3:
        _paint_lids(frame, rig, landmarks, pose.blink)
    return frame, landmarks


def _sampling_map(rig: Rig, targets: np.ndarray,
                  box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel of ``box``, where to sample ``rig.image``: the affine map of the target
    triangle it falls in, computed at half resolution."""
    x0, y0, x1, y1 = box
    half_w, half_h = (x1 - x0) // 2, (y1 - y0) // 2
    # Half-resolution coordinates of the box: pixel centres line up with cv2.resize's.
    target = (targets - (x0, y0) - 0.5) / 2
    tri_target = target[rig.triangles]  # (T, 3, 2)
    tri_source = rig.source[rig.triangles].astype(np.float64)  # (T, 3, 2)
    corners = np.concatenate([tri_target, np.ones(tri_target.shape[:2] + (1,))], axis=2)
    det = np.linalg.det(corners)
    usable = np.abs(det) > 1e-3
    # Each triangle's map from [x, y, 1] in the frame to the picture's coordinates.
    affine = np.zeros((len(tri_target), 2, 3))
    affine[usable] = np.swapaxes(
        np.linalg.solve(corners[usable], tri_source[usable]), 1, 2)
    label = np.full((half_h, half_w), -1, np.int32)
    shift = 4  # sub-pixel corners, 1/16 px
    for index in np.flatnonzero(usable):
        cv2.fillConvexPoly(label, np.round(tri_target[index] * (1 << shift)).astype(np.int32),
                           int(index), cv2.LINE_8, shift)
    ys, xs = np.mgrid[0:half_h, 0:half_w].astype(np.float32)
    # Where each half-resolution pixel sits in the frame; it samples there where no triangle
    # moves it.
    at_x, at_y = xs * 2 + 0.5 + x0, ys * 2 + 0.5 + y0
    map_x, map_y = at_x.copy(), at_y.copy()
    covered = label >= 0
    a = affine[label[covered]]
    cx, cy = xs[covered], ys[covered]
    map_x[covered] = a[:, 0, 0] * cx + a[:, 0, 1] * cy + a[:, 0, 2]
    map_y[covered] = a[:, 1, 0] * cx + a[:, 1, 1] * cy + a[:, 1, 2]
    # Scale the displacement (not the coordinates) up to the box's full size.
    size = (x1 - x0, y1 - y0)
    grid_y, grid_x = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dx = cv2.resize(map_x - at_x, size)
    dy = cv2.resize(map_y - at_y, size)
    return grid_x + dx, grid_y + dy


def _paint_mouth(frame: np.ndarray, rig: Rig, landmarks: np.ndarray) -> None:
    """Cover the picture's own open mouth (the lips close between words, even on a smiling
    photo) and draw the inside of the mouth where the lips have parted."""
    unit = rig.unit
    cover = lip_gap(rig.landmarks) > 0.04 * unit
    draw = lip_gap(landmarks) >= 0.04 * unit
    if not (cover or draw):
        return
    h, w = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(landmarks[MOUTH].min(axis=0) - 0.3 * unit), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(landmarks[MOUTH].max(axis=0) + 0.3 * unit), (w, h)).astype(int)
    box = frame[y0:y1, x0:x1]
    local = landmarks - (x0, y0)
    if cover:
        box = close_mouth(box, local, unit)
    if draw:
        box = paint_mouth(box, local, rig.params, unit)
    frame[y0:y1, x0:x1] = box


def _paint_lids(frame: np.ndarray, rig: Rig, landmarks: np.ndarray, blink: float) -> None:
    """Shut eyes: the squeezed strip of eye the warp leaves is covered with the lid's skin,
    and the lashes drawn where the lids meet."""
    weight = min(1.0, (blink - 0.3) / 0.5)
    h, w = frame.shape[:2]
    for eye, colour in ((RIGHT_EYE, rig.lid_colours[0]), (LEFT_EYE, rig.lid_colours[1])):
        points = landmarks[eye]
        x0, y0 = np.maximum(np.floor(points.min(axis=0) - 0.1 * rig.unit), 0).astype(int)
        x1, y1 = np.minimum(np.ceil(points.max(axis=0) + 0.1 * rig.unit), (w, h)).astype(int)
        if x1 <= x0 or y1 <= y0:
            continue
        local = np.round((points - (x0, y0)) * 4).astype(np.int32)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [local], 255, cv2.LINE_AA, shift=2)
        cv2.polylines(mask, [local], True, 255, max(1, round(0.03 * rig.unit)), cv2.LINE_AA,
                      shift=2)
        lashes = np.zeros_like(mask)
        cv2.polylines(lashes, [local[[0, 5, 4, 3]]], False, 255,
                      max(1, round(0.025 * rig.unit)), cv2.LINE_AA, shift=2)
        box = frame[y0:y1, x0:x1].astype(np.float32)
        cover = cv2.GaussianBlur(mask, (0, 0), 0.01 * rig.unit)[..., None] / 255 * weight
        box = box * (1 - cover) + colour * cover
        line = lashes[..., None].astype(np.float32) / 255 * weight * 0.8
        box = box * (1 - line) + colour * 0.25 * line
        frame[y0:y1, x0:x1] = np.clip(box, 0, 255).astype(np.uint8)
