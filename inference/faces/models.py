"""The dlib model files from ``face_recognition_models``, located and loaded once per process."""
from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

import dlib

from inference.errors import ModelLoadError

_lock = threading.Lock()


@cache
def _models_folder() -> Path:
    # Importing face_recognition_models needs pkg_resources, which setuptools >= 82 no
    # longer ships; finding the package without importing it avoids that.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            "The face models are missing: install them with `pip install face-recognition-models`."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def model_path(name: str) -> Path:
    path = _models_folder() / f"{name}.dat"
    if not path.is_file():
        raise ModelLoadError(f"Face model file {path} is missing: reinstall face-recognition-models.")
    return path


def _load_once(load):
    """Cache ``load()``'s result; the lock keeps two threads from loading the same file twice."""
    loaded = []

    def get():
        if not loaded:
            with _lock:
                if not loaded:
                    loaded.append(load())
        return loaded[0]

    return get


hog_detector = _load_once(dlib.get_frontal_face_detector)
cnn_detector = _load_once(
    lambda: dlib.cnn_face_detection_model_v1(str(model_path("mmod_human_face_detector")))
)
landmarks_68 = _load_once(
    lambda: dlib.shape_predictor(str(model_path("shape_predictor_68_face_landmarks")))
)
descriptor_net = _load_once(
    lambda: dlib.face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1")))
)


def warm_up() -> None:
    """Load the models every photo needs (detector, landmarks, descriptor) now, not on the
    first request; the CNN detector stays lazy since it is an option."""
    hog_detector()
    landmarks_68()
    descriptor_net()
