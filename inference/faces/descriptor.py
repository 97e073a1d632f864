"""128-d face descriptors (dlib_face_recognition_resnet_model_v1): same person when closer than 0.6."""
from __future__ import annotations

import dlib
import numpy as np

from inference.faces import models
from inference.faces.detect import Face, checked_rgb

SAME_PERSON_DISTANCE = 0.6


def face_descriptor(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The face's 128-d descriptor, from the image and the face's 68 landmarks."""
    rgb = checked_rgb(rgb)
    left, top, right, bottom = face.box
    points = dlib.points([dlib.point(round(float(x)), round(float(y))) for x, y in face.landmarks])
    shape = dlib.full_object_detection(dlib.rectangle(left, top, right, bottom), points)
    descriptor = models.descriptor_net().compute_face_descriptor(rgb, shape)  # this thread's net
    return np.asarray(descriptor, dtype=np.float32)


def descriptor_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two descriptors; below 0.6 means the same person."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))
