"""Run a loaded generator fast: the backend is chosen per machine when the checkpoint loads.

``GeneratorRunner.run`` gives the output of the plain eager fp32 module to within a mean absolute
difference of 1/255: ONNX Runtime in fp32 (far closer than that), or, on a CPU with native
bfloat16, the eager module in bfloat16 and channels-last layout (checked against fp32 on a probe
before it is chosen). Large images go through ``tiling.run_tiled``.
"""
from __future__ import annotations

import copy
import hashlib
import io
import os
import tempfile
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

from inference.anime import tiling
from inference.anime.generator import Generator, to_rgb, to_tensor
from inference.config import animegan_backend, inference_threads
from inference.progress import Progress, silent

# Above this many pixels the image is processed in tiles so memory stays bounded.
UNTILED_MAX_PIXELS = 1024 * 1024


# The backends a runner can use. "torch" is the plain eager fp32 module and always works.
BACKENDS = ("torch", "torch-bf16", "onnxruntime")
# How far (mean absolute difference, in 0..255 levels) a faster backend may stray from eager
# fp32 on the load-time probe and still be chosen: under the 1-level bound, with a margin.
ACCURACY_BUDGET = 0.9


class GeneratorRunner:
    """One generator, ready to style RGB uint8 images; safe to share between threads.

    ``backend`` forces one of ``BACKENDS``; by default (or with ``ANIMEGAN_BACKEND=auto``) each
    backend this machine can run is timed on a probe image, and the fastest one whose output
    stays within ``ACCURACY_BUDGET`` of eager fp32 is kept. bfloat16 is only a candidate where
    the CPU computes it natively (AVX-512 BF16 or AMX); elsewhere it is emulated and slow.
    """

    def __init__(self, generator: Generator, *, backend: str | None = None) -> None:
        # Shared by every thread without a lock: the eager modules keep no state between runs
        # (tiling's statistics and grid are arguments of each run, see generator.py) and an ORT
        # session's ``run`` is documented as safe to call concurrently.
        self.generator = generator.eval()
        self._session = None
        self._bf16: Generator | None = None
        backend = backend or animegan_backend()
        if backend != "auto" and backend not in BACKENDS:
            raise ValueError(f"Unknown AnimeGAN backend {backend!r}: use auto or one of {', '.join(BACKENDS)}.")
        self.probe: dict[str, dict[str, float]] = {}  # backend -> seconds and MAD on the probe
        self.backend = _choose_backend(self) if backend == "auto" else backend
        self._prepare(self.backend)

    def run(self, rgb: np.ndarray, *, progress: Progress = silent) -> np.ndarray:
        if rgb.shape[0] * rgb.shape[1] > UNTILED_MAX_PIXELS:
            # Tiles replay whole-image statistics, which only the eager modules can do.
            return tiling.run_tiled(self._eager, rgb, progress=progress)
        out = self.run_whole(rgb)
        progress("generator", 1.0)
        return out

    def run_whole(self, rgb: np.ndarray) -> np.ndarray:
        """The generator on the whole image at once, on the chosen backend."""
        if self.backend == "onnxruntime":
            x = to_tensor(rgb).numpy()
            (y,) = self._session.run(None, {"image": x})
            return to_rgb(torch.from_numpy(y))
        with torch.inference_mode():
            return to_rgb(self._eager(to_tensor(rgb)))

    @property
    def _eager(self) -> Generator:
        """The torch module that runs: the bf16 copy on that backend, else the fp32 original."""
        return self._bf16 if self.backend == "torch-bf16" else self.generator

    def _prepare(self, backend: str) -> None:
        """Build what ``backend`` needs, and drop what the others built."""
        self._build(backend)
        if backend != "onnxruntime":
            self._session = None
        if backend != "torch-bf16":
            self._bf16 = None

    def _build(self, backend: str) -> None:
        if backend == "onnxruntime" and self._session is None:
            self._session = _onnx_session(self.generator)
        if backend == "torch-bf16" and self._bf16 is None:
            self._bf16 = copy.deepcopy(self.generator).to(torch.bfloat16).to(memory_format=torch.channels_last)


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


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 convolutions natively (AVX-512 BF16 or AMX)."""
    try:
        return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def _candidates() -> list[str]:
    candidates = ["torch"]
    if native_bf16():
        candidates.append("torch-bf16")
    try:
        import onnx  # noqa: F401  (torch's exporter needs it)
        import onnxruntime  # noqa: F401
        candidates.append("onnxruntime")
    except ImportError:
        pass
    return candidates


def _choose_backend(runner: GeneratorRunner) -> str:
    """Time each backend this machine offers on a probe image; keep the fastest whose output
    stays within ``ACCURACY_BUDGET`` of eager fp32. Results are left in ``runner.probe``."""
    torch.set_num_threads(inference_threads())
    # Smooth noise: closer to a photo's statistics than white noise.
    coarse = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    probe = cv2.resize(coarse, (256, 256), interpolation=cv2.INTER_LINEAR)
    usable = []
    for backend in _candidates():
        try:
            runner._build(backend)
        except Exception:  # an exporter failure must not stop styling: eager torch always works
            continue
        usable.append(backend)
    timings: dict[str, list[float]] = {backend: [] for backend in usable}
    outputs: dict[str, np.ndarray] = {}
    for _ in range(3):  # interleaved and best-of, so a busy neighbour does not decide
        for backend in usable:
            runner.backend = backend
            start = time.perf_counter()
            outputs[backend] = runner.run_whole(probe)
            timings[backend].append(time.perf_counter() - start)
    reference = outputs["torch"].astype(np.float32)
    for backend in usable:
        mad = float(np.abs(outputs[backend].astype(np.float32) - reference).mean())
        runner.probe[backend] = {"seconds": min(timings[backend]), "mad": mad}
    accurate = [backend for backend in usable if runner.probe[backend]["mad"] <= ACCURACY_BUDGET]
    return min(accurate, key=lambda backend: runner.probe[backend]["seconds"])
