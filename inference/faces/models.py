"""The dlib model files from ``face_recognition_models``, loaded once per process and handed to
threads the way dlib allows each one to be used.

- The shape predictor is documented as safe to share ("no synchronization is required"): one
  for the process (it takes ~70 MB).
- The HOG face detector is not: it keeps the image it is scanning inside the object, and two
  threads scanning at once get garbage (boxes off the photo, scores of 1e38) or crash. Each
  thread gets its own copy of the loaded detector (2 ms and ~1 MB to copy, 250 ms to load).
- dlib's DNNs keep every layer's output inside the network. The descriptor net is small (~25 MB,
  50 ms to load): one per thread. The CNN detector's buffers grow with the image (100-360 MB
  at 800 px) and it is only used on request: one for the process, one call at a time.
"""
from __future__ import annotations

import copy
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


def _per_thread(make):
    """``make()``'s result, made once in each thread that asks for it."""
    local = threading.local()

    def get():
        if not hasattr(local, "instance"):
            local.instance = make()
        return local.instance

    return get


_hog_loaded = _load_once(dlib.get_frontal_face_detector)
hog_detector = _per_thread(lambda: copy.copy(_hog_loaded()))
landmarks_68 = _load_once(
    lambda: dlib.shape_predictor(str(model_path("shape_predictor_68_face_landmarks")))
)
descriptor_net = _per_thread(
    lambda: dlib.face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1")))
)
cnn_detector = _load_once(
    lambda: dlib.cnn_face_detection_model_v1(str(model_path("mmod_human_face_detector")))
)
cnn_lock = threading.Lock()  # held around every call of ``cnn_detector()``


def warm_up() -> None:
    """Load what every photo needs (the detector, the landmarks) now, not on the first request;
    each worker thread then only copies the detector. The CNN detector stays lazy since it is
    an option, and the descriptor net since no pipeline uses it."""
    _hog_loaded()
    landmarks_68()
