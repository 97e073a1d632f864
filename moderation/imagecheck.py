"""NudeNet's detector (the 320n ONNX model inside the ``nudenet`` package) as an image check.

Pure (no Django): ``detect(image)`` returns NudeNet's detections; ``judge(detections, rules)``
turns them into a decision with per-label thresholds and actions. The ONNX session is loaded
once per process and shared: ``InferenceSession.run`` is safe to call from many threads.
Pre- and post-processing are NudeNet's own, done on the PIL image and vectorised with numpy
(NudeNet's loop over 2,100 candidate boxes in Python costs more than the model).
"""
from __future__ import annotations

import os
import threading

import cv2
import numpy as np
from PIL import Image

# The model's class order, as in nudenet/nudenet.py.
LABELS = [
    "FEMALE_GENITALIA_COVERED", "FACE_FEMALE", "BUTTOCKS_EXPOSED", "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED", "FEET_EXPOSED",
    "BELLY_COVERED", "FEET_COVERED", "ARMPITS_COVERED", "ARMPITS_EXPOSED", "FACE_MALE",
    "BELLY_EXPOSED", "MALE_GENITALIA_EXPOSED", "ANUS_COVERED", "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
]
INPUT_SIZE = 320
MIN_SCORE = 0.2  # NudeNet's own candidate cut-off; rules apply their thresholds on top

# For a general-audience app: exposed genitals, anus and female breasts are blocked; exposed
# buttocks and covered genitals go to a person; everything else (faces, feet, bellies,
# covered breasts as in swimwear) is allowed.
DEFAULT_RULES: dict[str, tuple[str, float]] = {
    "FEMALE_GENITALIA_EXPOSED": ("block", 0.35),
    "MALE_GENITALIA_EXPOSED": ("block", 0.35),
    "ANUS_EXPOSED": ("block", 0.35),
    "FEMALE_BREAST_EXPOSED": ("block", 0.45),
    "BUTTOCKS_EXPOSED": ("review", 0.45),
    "FEMALE_GENITALIA_COVERED": ("review", 0.5),
    "ANUS_COVERED": ("review", 0.5),
}

_session = None
_session_lock = threading.Lock()


def _load(threads: int):
    import nudenet
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # The arena keeps the largest buffers concurrent runs ever needed (~100 MB after four uploads
    # at once) for the life of the process; without it that memory goes back after each run.
    options.enable_cpu_mem_arena = False
    # Idle pool threads must sleep, not spin: the web and worker processes share the CPUs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    model = os.path.join(os.path.dirname(nudenet.__file__), "320n.onnx")
    return onnxruntime.InferenceSession(model, sess_options=options,
                                        providers=["CPUExecutionProvider"])


def session(threads: int = 1):
    global _session
    if _session is None:
        with _session_lock:
            if _session is None:
                _session = _load(threads)
    return _session


def _preprocess(image: Image.Image) -> tuple[np.ndarray, float]:
    """Pad to a square at the bottom/right, scale to 320², RGB in [0, 1], NCHW; and the scale."""
    rgb = np.asarray(image.convert("RGB"))
    scale = INPUT_SIZE / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR)  # as NudeNet's blobFromImage
    canvas = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.float32)
    canvas[: small.shape[0], : small.shape[1]] = small.astype(np.float32) / 255.0
    return canvas.transpose(2, 0, 1)[None], scale


def detect(image: Image.Image, *, threads: int = 1) -> list[dict]:
    """NudeNet detections: ``[{"label", "score", "box": [x, y, w, h]}]`` in image pixels."""
    blob, scale = _preprocess(image)
    run = session(threads)
    output = run.run(None, {run.get_inputs()[0].name: blob})[0]
    rows = np.squeeze(output, 0).T  # (candidates, 4 + classes)
    scores_all = rows[:, 4:]
    classes = scores_all.argmax(axis=1)
    scores = scores_all[np.arange(len(rows)), classes]
    keep = scores >= MIN_SCORE
    if not keep.any():
        return []
    rows, classes, scores = rows[keep], classes[keep], scores[keep]
    cx, cy, w, h = (rows[:, i] / scale for i in range(4))
    x, y = np.clip(cx - w / 2, 0, image.width), np.clip(cy - h / 2, 0, image.height)
    w, h = np.minimum(w, image.width - x), np.minimum(h, image.height - y)
    boxes = np.stack([x, y, w, h], axis=1)
    chosen = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), 0.25, 0.45)
    return [{"label": LABELS[int(classes[i])], "score": round(float(scores[i]), 4),
             "box": [int(v) for v in boxes[i]]} for i in np.asarray(chosen).reshape(-1)]


def parse_rules(raw) -> dict[str, tuple[str, float]]:
    """Rules from settings: a dict {label: (action, threshold)} or "LABEL=action:0.5,...". """
    if not raw:
        return {}
    if isinstance(raw, str):
        rules = {}
        for item in filter(None, (part.strip() for part in raw.split(","))):
            label, _, spec = item.partition("=")
            action, _, threshold = spec.partition(":")
            rules[label.strip().upper()] = (action.strip(), float(threshold or 0.5))
        raw = rules
    parsed = {}
    for label, (action, threshold) in dict(raw).items():
        if label not in LABELS or action not in ("block", "review", "allow"):
            raise ValueError(f"bad NudeNet rule {label}={action}:{threshold}")
        parsed[label] = (action, float(threshold))
    return parsed


def judge(detections: list[dict], rules: dict[str, tuple[str, float]]) -> tuple[str, list[dict]]:
    """("pass" | "review" | "block", the detections that decided it, with their action)."""
    decision, labels = "pass", []
    for detection in detections:
        action, threshold = rules.get(detection["label"], ("allow", 1.0))
        if action == "allow" or detection["score"] < threshold:
            continue
        labels.append({"provider": "nudenet", "label": detection["label"], "score": detection["score"],
                       "threshold": threshold, "action": action, "box": detection["box"]})
        if action == "block" or decision == "pass":
            decision = action
    return decision, labels
