"""Where the face's 68 landmarks are: dlib on photos and on our avatars; for a drawn character
dlib cannot see, a mean face fitted into a box (the client's ``face_box``, or the head box of
THA3's input format) with its eyes and mouth moved onto what the pixels show."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inference.errors import NoFaceError
from inference.faces import detect_faces
from inference.faces.regions import LEFT_BROW, LEFT_EYE, OUTER_LIPS, RIGHT_BROW, RIGHT_EYE

NO_FACE_MESSAGE = ("No face found: send a photo where the face is clear and facing the camera, "
                   "or give face_box (left, top, right, bottom) around a drawn character's face.")
# THA3's input: a 512x512 RGBA picture whose head fits the 128x128 box centred in its upper half.
THA3_SIZE = 512
THA3_HEAD_BOX = (192, 64, 320, 192)
# The face (brows to chin) within a THA3 head box, as fractions: the hair takes the top.
_FACE_IN_HEAD = (0.12, 0.35, 0.88, 1.0)

# 68 landmarks of a closed-mouth frontal face, as fractions of dlib's detection box: the mean of
# dlib's landmarks on three photos and their mirror images.
_MEAN_FACE = np.array([
    0.026, 0.331, 0.033, 0.455, 0.047, 0.578, 0.068, 0.702, 0.111, 0.817, 0.181, 0.918, 0.274,
    1.004, 0.378, 1.069, 0.5, 1.087, 0.622, 1.069, 0.726, 1.004, 0.819, 0.918, 0.889, 0.817,
    0.932, 0.702, 0.953, 0.578, 0.967, 0.455, 0.974, 0.331, 0.119, 0.246, 0.171, 0.182, 0.251,
    0.161, 0.336, 0.166, 0.421, 0.191, 0.579, 0.191, 0.664, 0.166, 0.749, 0.161, 0.829, 0.182,
    0.881, 0.246, 0.5, 0.285, 0.5, 0.367, 0.5, 0.448, 0.5, 0.532, 0.393, 0.581, 0.446, 0.594,
    0.5, 0.609, 0.554, 0.594, 0.607, 0.581, 0.214, 0.302, 0.263, 0.274, 0.321, 0.273, 0.374,
    0.31, 0.319, 0.317, 0.261, 0.319, 0.626, 0.31, 0.679, 0.273, 0.737, 0.274, 0.786, 0.302,
    0.739, 0.319, 0.681, 0.317, 0.285, 0.71, 0.361, 0.691, 0.441, 0.684, 0.5, 0.698, 0.559,
    0.684, 0.639, 0.691, 0.715, 0.71, 0.642, 0.787, 0.565, 0.821, 0.5, 0.829, 0.435, 0.821,
    0.358, 0.787, 0.309, 0.715, 0.44, 0.714, 0.5, 0.724, 0.56, 0.714, 0.691, 0.715, 0.561,
    0.714, 0.5, 0.724, 0.439, 0.714], np.float32).reshape(68, 2)
MOUTH = slice(48, 68)


@dataclass(frozen=True)
class FoundFace:
    landmarks: np.ndarray  # (68, 2) float32 in photo pixels
    source: str  # "dlib", "face_box" or "tha3_box"


def locate_face(rgb: np.ndarray, alpha: np.ndarray | None = None,
                face_box: tuple[float, float, float, float] | None = None) -> FoundFace:
    """The face to animate in ``rgb`` (``alpha``: the picture's own alpha, if it had one)."""
    faces = detect_faces(rgb)
    if faces:
        return FoundFace(faces[0].landmarks, "dlib")
    if face_box is not None:
        left, top, right, bottom = (float(v) for v in face_box)
        height, width = rgb.shape[:2]
        if not (0 <= left < right <= width and 0 <= top < bottom <= height
                and right - left >= 24 and bottom - top >= 24):
            raise NoFaceError(f"face_box {tuple(face_box)} is not a box of at least 24x24 "
                              f"pixels inside the {width}x{height} picture.")
        return FoundFace(fitted_face(rgb, (left, top, right, bottom)), "face_box")
    if is_tha3_input(rgb, alpha):
        left, top, right, bottom = THA3_HEAD_BOX
        fl, ft, fr, fb = _FACE_IN_HEAD
        box = (left + fl * (right - left), top + ft * (bottom - top),
               left + fr * (right - left), top + fb * (bottom - top))
        return FoundFace(fitted_face(rgb, box), "tha3_box")
    raise NoFaceError(NO_FACE_MESSAGE)


def is_tha3_input(rgb: np.ndarray, alpha: np.ndarray | None) -> bool:
    """512x512 with an alpha channel whose head box is mostly opaque."""
    if alpha is None or rgb.shape[:2] != (THA3_SIZE, THA3_SIZE):
        return False
    left, top, right, bottom = THA3_HEAD_BOX
    return float((alpha[top:bottom, left:right] >= 128).mean()) > 0.5


def fitted_face(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """The mean face stretched over ``box`` (a face box: brows to chin), then its eyes and mouth
    moved and sized onto the dark or coloured shapes the picture has where they should be."""
    left, top, right, bottom = box
    size = np.array([right - left, bottom - top], np.float32)
    points = _MEAN_FACE * size + (left, top)
    x0, y0 = int(left), int(top)
    crop = rgb[y0:int(bottom), x0:int(right)]
    ink = _ink(crop)
    for eye, brow in ((RIGHT_EYE, RIGHT_BROW), (LEFT_EYE, LEFT_BROW)):
        found = _blob_near(ink, points[eye] - (x0, y0), size, spread=(0.18, 0.18))
        if found is not None:
            centre, extent = found
            shift = centre + (x0, y0) - points[eye].mean(axis=0)
            points[brow] += shift
            points[eye] = _fit_into(points[eye], centre + (x0, y0), extent)
    found = _blob_near(ink, points[OUTER_LIPS] - (x0, y0), size, spread=(0.18, 0.2))
    if found is not None:
        centre, extent = found
        # A drawn mouth is often a short stroke: keep it at least a quarter of the face wide.
        extent = np.maximum(extent, (0.25 * size[0], 0.06 * size[1]))
        points[MOUTH] = _fit_into(points[MOUTH], centre + (x0, y0), extent,
                                  reference=points[OUTER_LIPS])
    return points.astype(np.float32)


def _ink(crop: np.ndarray) -> np.ndarray:
    """Pixels that stand out from the skin: far from the face's middle colour in Lab."""
    lab = cv2.cvtColor(crop, cv2.COLOR_RGB2LAB).astype(np.float32)
    h, w = lab.shape[:2]
    skin = np.median(lab[h // 2:h * 3 // 4, w // 4:w * 3 // 4].reshape(-1, 3), axis=0)
    distance = np.linalg.norm(lab - skin, axis=2)
    return (distance > 40).astype(np.uint8)


def _blob_near(ink: np.ndarray, feature: np.ndarray, face: np.ndarray,
               spread: tuple[float, float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Centre and size of the ink shape closest to ``feature``'s centre, searched within
    ``spread`` (fractions of the face) of it; None when there is none of a plausible size."""
    centre = feature.mean(axis=0)
    reach = np.array(spread) * face
    x0, y0 = np.maximum(np.floor(centre - reach), 0).astype(int)
    x1, y1 = np.minimum(np.ceil(centre + reach), (ink.shape[1], ink.shape[0])).astype(int)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    count, _, stats, centroids = cv2.connectedComponentsWithStats(ink[y0:y1, x0:x1])
    best, best_distance = None, np.inf
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        if area < 0.0004 * face[0] * face[1]:
            continue
        distance = float(np.linalg.norm(centroids[index] + (x0, y0) - centre))
        if distance < best_distance:
            best_distance = distance
            best = (np.array([x + w / 2 + x0, y + h / 2 + y0], np.float32),
                    np.array([w, h], np.float32))
    return best


def _fit_into(points: np.ndarray, centre: np.ndarray, extent: np.ndarray,
              reference: np.ndarray | None = None) -> np.ndarray:
    """``points`` moved and scaled so that ``reference`` (default: the points) spans
    ``extent`` around ``centre``."""
    reference = points if reference is None else reference
    low, high = reference.min(axis=0), reference.max(axis=0)
    middle, span = (low + high) / 2, np.maximum(high - low, 1.0)
    return (points - middle) * (extent / span) + centre
