"""``check_photos``: PAI's AI写真 photo check. Each photo of a set gets PAI's code and message
(one face, decodable, describable, the same person as the rest) and whether it is frontal."""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from inference.errors import InferenceError
from inference.faces import (SAME_PERSON_DISTANCE, Face, descriptor_distance, detect_faces,
                             face_descriptor)
from inference.faces.detect import checked_rgb

SUCCESS = 1
DECODE_ERROR = 2
FACE_COUNT = 3
DETECT_ERROR = 4
ENCODING_ERROR = 5
NOT_SAME_PERSON = 6
# PAI's messages, word for word: clients match on them.
MESSAGES = {
    SUCCESS: "success",
    DECODE_ERROR: "Image decode error",
    FACE_COUNT: "Number of face is not 1",
    DETECT_ERROR: "Image detect error",
    ENCODING_ERROR: "Image encoding error",
    NOT_SAME_PERSON: "This photo is not the same person in photos",
}
# A frontal photo turns the head less than this (degrees). Pitch gets more room: from a generic
# head model it reads 10 to 25 degrees on faces that look into the camera.
FRONTAL_MAX_YAW = 20.0
FRONTAL_MAX_PITCH = 30.0


@dataclass(frozen=True)
class CheckResult:
    code: int
    message: str
    frontal: bool = False
    # What learning an identity reuses from a photo that passed.
    rgb: np.ndarray | None = field(default=None, repr=False)
    face: Face | None = field(default=None, repr=False)
    descriptor: np.ndarray | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.code == SUCCESS

    def as_dict(self) -> dict:
        return {"code": self.code, "frontal": self.frontal, "message": self.message}


class PhotoChecks(list):
    """One ``CheckResult`` per photo, in order, with the set's ``cost_time`` (seconds)."""

    cost_time: float = 0.0

    def as_dict(self) -> dict:
        return {"check_results": [r.as_dict() for r in self], "cost_time": self.cost_time}


def _failed(code: int) -> CheckResult:
    return CheckResult(code=code, message=MESSAGES[code])


def decode_photo(data: bytes | None) -> np.ndarray | None:
    """Encoded image bytes as an upright RGB uint8 array, or None when they do not decode."""
    if not data:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def check_photo_bytes(photos: list[bytes | None]) -> PhotoChecks:
    """``check_photos`` for encoded photos (JPEG, PNG, ...): undecodable ones get code 2."""
    start = time.perf_counter()
    checks = check_photos([decode_photo(data) for data in photos])
    checks.cost_time = time.perf_counter() - start
    return checks


def check_photos(images: list[np.ndarray | None]) -> PhotoChecks:
    """PAI's check of a set of photos of one person (RGB uint8 arrays; None for one that could
    not be read). Codes 1 to 5 judge each photo alone; a photo that passes them but whose face
    is farther than ``SAME_PERSON_DISTANCE`` from the set's majority identity gets 6."""
    start = time.perf_counter()
    results = [_check_one(image) for image in images]
    _mark_strangers(results)
    checks = PhotoChecks(results)
    checks.cost_time = time.perf_counter() - start
    return checks


def _check_one(image: np.ndarray | None) -> CheckResult:
    if image is None:
        return _failed(DECODE_ERROR)
    try:
        rgb = checked_rgb(np.asarray(image))
    except InferenceError:
        return _failed(DECODE_ERROR)
    try:
        faces = detect_faces(rgb)
    except (InferenceError, RuntimeError):
        return _failed(DETECT_ERROR)
    if len(faces) != 1:
        return _failed(FACE_COUNT)
    face = faces[0]
    try:
        descriptor = face_descriptor(rgb, face)
    except (InferenceError, RuntimeError):
        return _failed(ENCODING_ERROR)
    if not np.all(np.isfinite(descriptor)):
        return _failed(ENCODING_ERROR)
    return CheckResult(code=SUCCESS, message=MESSAGES[SUCCESS],
                       frontal=_frontal(face), rgb=rgb, face=face,
                       descriptor=descriptor)


def _frontal(face: Face) -> bool:
    return abs(face.yaw) < FRONTAL_MAX_YAW and abs(face.pitch) < FRONTAL_MAX_PITCH


def majority_descriptor(descriptors: list[np.ndarray]) -> np.ndarray:
    """The mean descriptor of the largest group of mutually close faces: the photo with the
    most others within ``SAME_PERSON_DISTANCE`` and those others (ties: the earlier photo)."""
    stack = np.stack(descriptors)
    distances = np.linalg.norm(stack[:, None] - stack[None], axis=2)
    close = distances <= SAME_PERSON_DISTANCE
    anchor = int(np.argmax(close.sum(axis=1)))
    return stack[close[anchor]].mean(axis=0)


def _mark_strangers(results: list[CheckResult]) -> None:
    passed = [i for i, r in enumerate(results) if r.ok]
    if len(passed) < 2:
        return
    centre = majority_descriptor([results[i].descriptor for i in passed])
    for i in passed:
        if descriptor_distance(results[i].descriptor, centre) > SAME_PERSON_DISTANCE:
            results[i] = CheckResult(code=NOT_SAME_PERSON, message=MESSAGES[NOT_SAME_PERSON],
                                     frontal=results[i].frontal)
