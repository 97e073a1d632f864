"""Moving a user's aligned face onto a template face: the target shape between the two, and a
piecewise-affine warp over a Delaunay triangulation of the 68 landmarks and a margin ring."""
from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial import Delaunay

from inference.faces import regions
from inference.portrait.masks import face_outline

# The margin ring lies this far out from the face's centre, relative to the face outline
# (jaw and a high forehead line), so the warp covers the blending mask with room to spare.
_RING_SCALE = 1.35
_RING_FOREHEAD = 0.6


def similarity_transform(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The (2, 3) rotation, uniform scale and shift that best maps ``source`` points onto
    ``target`` in least squares (Umeyama's method, without reflection)."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    s, t = source - source_mean, target - target_mean
    u, sigma, vt = np.linalg.svd(t.T @ s / len(s))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(sigma) @ d) / max((s ** 2).sum() / len(s), 1e-12))
    shift = target_mean - scale * rotation @ source_mean
    return np.hstack([scale * rotation, shift[:, None]])


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, np.float64) @ matrix[:, :2].T + matrix[:, 2]


def target_shape(template: np.ndarray, user: np.ndarray, *, more_like_me: float,
                 keep_user_jaw: bool) -> np.ndarray:
    """Landmarks for the fused face. ``user`` is the user's face already placed on the template
    face (``similarity_transform`` over the stable points); ``more_like_me`` moves each point
    from the template's (0) to the user's (1); ``keep_user_jaw`` takes the user's jaw whole.

    The mouth keeps the user's shape, only moved: the texture pasted there is the user's
    mouth, and a closed mouth stretched over a template's open one would fold its lips."""
    template, user = np.asarray(template, np.float64), np.asarray(user, np.float64)
    shape = template + more_like_me * (user - template)
    mouth = regions.MOUTH
    shape[mouth] = user[mouth] + shape[mouth].mean(axis=0) - user[mouth].mean(axis=0)
    if keep_user_jaw:
        shape[regions.JAW] = user[regions.JAW]
    return shape


def with_margin_ring(landmarks: np.ndarray) -> np.ndarray:
    """The 68 landmarks and a ring of points around the face outline (27 more)."""
    landmarks = np.asarray(landmarks, np.float64)
    centre = landmarks.mean(axis=0)
    ring = centre + (face_outline(landmarks, forehead=_RING_FOREHEAD) - centre) * _RING_SCALE
    return np.concatenate([landmarks, ring])


def warp_face(source: np.ndarray, source_landmarks: np.ndarray, target_landmarks: np.ndarray,
              size: tuple[int, int], *, smooth: float = 0.0) -> np.ndarray:
    """``source`` warped so that its landmarks land on ``target_landmarks``, in an image of
    ``size`` (height, width). Outside the margin ring the result is ``source`` unmoved, which
    means nothing: callers blend only inside the face. ``smooth`` (pixels) blurs the
    displacement, which hides the creases along triangle edges.

    The maps are affine inside each triangle, so they are computed at half size and scaled up
    (a quarter of the cost); a half-size pixel ``j`` stands for full-size ``2j + 0.5``."""
    height, width = size
    half = ((height + 1) // 2, (width + 1) // 2)
    targets = (with_margin_ring(target_landmarks) - 0.5) / 2
    map_x, map_y = piecewise_affine_maps(with_margin_ring(source_landmarks), targets, half)
    if smooth > 0:
        ys, xs = np.mgrid[0:half[0], 0:half[1]].astype(np.float32)
        map_x = xs * 2 + 0.5 + cv2.GaussianBlur(map_x - xs * 2 - 0.5, (0, 0), smooth / 2)
        map_y = ys * 2 + 0.5 + cv2.GaussianBlur(map_y - ys * 2 - 0.5, (0, 0), smooth / 2)
    map_x = cv2.resize(map_x, (width, height), interpolation=cv2.INTER_LINEAR)
    map_y = cv2.resize(map_y, (width, height), interpolation=cv2.INTER_LINEAR)
    return cv2.remap(source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def piecewise_affine_maps(source: np.ndarray, target: np.ndarray,
                          size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``cv2.remap`` maps moving each ``source`` point onto its ``target``: each output pixel
    inside the Delaunay triangulation of ``target`` samples the same barycentric spot of the
    source triangle with the same corners; pixels outside it sample where they are."""
    height, width = size
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x, map_y = xs.copy(), ys.copy()
    triangulation = Delaunay(target)
    # Only the box around the points can be inside a triangle.
    left, top = np.clip(np.floor(target.min(axis=0)).astype(int), 0, [width, height])
    right, bottom = np.clip(np.ceil(target.max(axis=0)).astype(int) + 1, 0, [width, height])
    pixels = np.stack([xs[top:bottom, left:right].ravel(), ys[top:bottom, left:right].ravel()], 1)
    simplex = triangulation.find_simplex(pixels)
    inside = simplex >= 0
    pixels, simplex = pixels[inside], simplex[inside]
    transform = triangulation.transform[simplex]  # barycentric coordinates, per pixel
    first_two = np.einsum("nij,nj->ni", transform[:, :2], pixels - transform[:, 2])
    weights = np.column_stack([first_two, 1 - first_two.sum(axis=1)])
    corners = source[triangulation.simplices[simplex]]  # (n, 3, 2)
    sampled = np.einsum("nk,nkd->nd", weights, corners).astype(np.float32)
    rows, columns = np.divmod(np.flatnonzero(inside), right - left)
    map_x[top + rows, left + columns] = sampled[:, 0]
    map_y[top + rows, left + columns] = sampled[:, 1]
    return map_x, map_y
