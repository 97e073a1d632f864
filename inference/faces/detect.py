"""Find faces with dlib (HOG by default, the CNN detector on request) and describe each one."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import dlib
import numpy as np

from inference.errors import InferenceError
from inference.faces import models
from inference.faces.pose import frontal_score, head_pose, quality_score

# Detection runs on a copy whose long side is at most this; landmarks use the full image.
_DETECTION_LONG_SIDE = 800
# Below this long side the HOG detector (smallest face ~80 px) needs one upsampling.
_UPSAMPLE_BELOW = 400
# Above any real detection's score: HOG margins of faces stay below ~4 and CNN confidences below
# ~2, while a detector whose memory was overwritten (two threads in one dlib object) scored
# 1e6 to 1e38.
_MAX_SCORE = 100.0


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in image pixels
    landmarks: np.ndarray = field(repr=False)  # (68, 2) float32, iBUG 300-W order
    yaw: float
    pitch: float
    frontal_score: float
    quality_score: float
    score: float = 1.0  # the detector's confidence (HOG margin or CNN confidence)

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]

    def as_dict(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "landmarks": np.round(self.landmarks, 1).tolist(),
            "yaw": round(self.yaw, 1),
            "pitch": round(self.pitch, 1),
            "frontal_score": round(self.frontal_score, 3),
            "quality_score": round(self.quality_score, 3),
            "score": round(self.score, 3),
        }


def detect_faces(rgb: np.ndarray, *, detector: str = "hog", upsample: int | None = None) -> list[Face]:
    """All faces in an RGB uint8 image, the most prominent first: largest, weighted by the
    detector's confidence (so a barely-detected face-like patch never outranks a real face).

    ``upsample=None`` picks the working scale from the image size; an explicit value runs the
    detector on the full-resolution image with that many upsamplings (slower, finds small faces).
    """
    rgb = checked_rgb(rgb)
    boxes = _detect_boxes(rgb, detector, upsample)
    predictor = models.landmarks_68()
    faces = []
    for (left, top, right, bottom), score in boxes:
        shape = predictor(rgb, dlib.rectangle(left, top, right, bottom))
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
        yaw, pitch = head_pose(landmarks, rgb.shape[:2])
        box = (left, top, right, bottom)
        faces.append(
            Face(
                box=box,
                landmarks=landmarks,
                yaw=yaw,
                pitch=pitch,
                frontal_score=frontal_score(yaw, pitch),
                quality_score=quality_score(rgb, box),
                score=score,
            )
        )
    faces.sort(key=lambda f: f.width * (f.box[3] - f.box[1]) * min(max(f.score, 0.0), 1.0),
               reverse=True)
    return faces


def _detect_boxes(rgb: np.ndarray, detector: str,
                  upsample: int | None) -> list[tuple[tuple[int, int, int, int], float]]:
    if detector not in ("hog", "cnn"):
        raise InferenceError(f"Unknown face detector {detector!r}: use 'hog' or 'cnn'.", code="bad_request")
    scale = 1.0
    work = rgb
    if upsample is None:
        long_side = max(rgb.shape[:2])
        if long_side > _DETECTION_LONG_SIDE:
            scale = _DETECTION_LONG_SIDE / long_side
            size = (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale))
            work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        upsample = 1 if max(work.shape[:2]) < _UPSAMPLE_BELOW else 0
    if detector == "hog":
        rects, scores, _ = models.hog_detector().run(work, upsample, 0.0)
    else:
        with models.cnn_lock:
            found = models.cnn_detector()(work, upsample)
        rects, scores = [d.rect for d in found], [d.confidence for d in found]
    for rect, score in zip(rects, scores):
        _check_possible(rect, score, work.shape)
    return [
        ((round(r.left() / scale), round(r.top() / scale), round(r.right() / scale),
          round(r.bottom() / scale)), float(score))
        for r, score in zip(rects, scores)
    ]


def _check_possible(rect: dlib.rectangle, score: float, shape: tuple[int, ...]) -> None:
    """Refuse a detection no detector could make on this image, rather than draw it: a box
    centred off the photo (a real face cut by the frame keeps its centre on it) or an
    impossible score. Seen when a detector's memory is overwritten; the job must fail."""
    height, width = shape[:2]
    centre_x, centre_y = (rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2
    on_photo = 0 <= centre_x < width and 0 <= centre_y < height
    if on_photo and math.isfinite(score) and abs(score) <= _MAX_SCORE:
        return
    raise InferenceError(
        f"The face detector returned an impossible face ({rect}, score {score:.3g}) on a "
        f"{width}x{height} image; nothing was drawn. Try again.", code="bad_detection")


def checked_rgb(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InferenceError(
            f"Expected an RGB uint8 image of shape (H, W, 3), got {rgb.dtype} {rgb.shape}.",
            code="bad_image",
        )
    return np.ascontiguousarray(rgb)
