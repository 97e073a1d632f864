"""Run a loaded generator fast: the backend is chosen per machine when the checkpoint loads.

``GeneratorRunner.run`` gives the same output as the plain eager fp32 module (mean absolute
difference far below 1/255); large images go through ``tiling.run_tiled``.
"""
from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from inference.anime import tiling
from inference.anime.generator import Generator, to_rgb, to_tensor
from inference.config import inference_threads
from inference.progress import Progress, silent

# Above this many pixels the image is processed in tiles so memory stays bounded.
UNTILED_MAX_PIXELS = 1024 * 1024


class GeneratorRunner:
    """One generator, ready to style RGB uint8 images; safe to share between threads."""

    def __init__(self, generator: Generator, *, backend: str | None = None) -> None:
        self.generator = generator.eval()
        # The eager module records and replays statistics in its norm layers while tiling:
        # one such run at a time.
        self._eager_lock = threading.Lock()
        self._session = None
        self.backend = backend or _choose_backend(self)
        if self.backend == "onnxruntime" and self._session is None:
            self._session = _onnx_session(self.generator)

    def run(self, rgb: np.ndarray, *, progress: Progress = silent) -> np.ndarray:
        if rgb.shape[0] * rgb.shape[1] > UNTILED_MAX_PIXELS:
            with self._eager_lock:
                return tiling.run_tiled(self.generator, rgb, progress=progress)
        out = self.run_whole(rgb)
        progress("generator", 1.0)
        return out

    def run_whole(self, rgb: np.ndarray) -> np.ndarray:
        """The generator on the whole image at once, on the chosen backend."""
        if self.backend == "onnxruntime":
            x = to_tensor(rgb).numpy()
            (y,) = self._session.run(None, {"image": x})
            return to_rgb(torch.from_numpy(y))
        with self._eager_lock, torch.inference_mode():
            return to_rgb(self.generator(to_tensor(rgb)))


def _onnx_session(generator: Generator):
    """An ORT session for the loaded weights. The ONNX graph is exported in-process from those
    weights (export takes seconds) and cached in the temp dir under a hash of the weights."""
    import onnxruntime as ort

    path = _onnx_cache_path(generator)
    if not path.is_file():
        buffer = io.BytesIO()
        example = torch.zeros(1, 3, 64, 64)
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                generator, (example,), buffer, input_names=["image"], output_names=["styled"],
                dynamic_axes={"image": {2: "height", 3: "width"}, "styled": {2: "height", 3: "width"}},
                opset_version=17, dynamo=False,
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(buffer.getvalue())
        os.replace(partial, path)  # atomic: a concurrent reader never sees half a file
    options = ort.SessionOptions()
    options.intra_op_num_threads = inference_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _onnx_cache_path(generator: Generator) -> Path:
    digest = hashlib.sha256(torch.__version__.encode())
    for name, tensor in generator.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return Path(tempfile.gettempdir()) / "mengxiang-onnx" / f"animegan-{digest.hexdigest()[:24]}.onnx"


def _choose_backend(runner: GeneratorRunner) -> str:
    """Time each available backend on a small image on this machine and keep the faster."""
    torch.set_num_threads(inference_threads())
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    try:
        runner._session = _onnx_session(runner.generator)
    except Exception:  # an exporter failure must not stop styling: eager torch always works
        return "torch"
    probe = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    timings = {"torch": [], "onnxruntime": []}
    for _ in range(3):  # interleaved and best-of, so a busy neighbour does not decide
        for backend in timings:
            runner.backend = backend
            start = time.perf_counter()
            runner.run_whole(probe)
            timings[backend].append(time.perf_counter() - start)
    timings = {backend: min(times) for backend, times in timings.items()}
    best = min(timings, key=timings.get)
    if best == "torch":
        runner._session = None
    return best
