"""Loads a Stable Diffusion 1.5 pipeline in the diffusers folder format, once per process.

The handle it returns says which engine it is (folder name and a hash of the UNet), carries the
LCM scheduler next to the checkpoint's own, and serialises use of the pipeline, which is not
safe to call from two threads at once.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

from inference.errors import InferenceError, ModelLoadError

REQUIRED_COMPONENTS = ("unet", "vae", "text_encoder", "tokenizer", "scheduler")
LAYOUT_HINT = (
    "a diffusers Stable Diffusion 1.5 folder holds model_index.json and the folders "
    + ", ".join(f"{name}/" for name in REQUIRED_COMPONENTS)
)
# An LCM-LoRA found here, inside the model folder, is used for scheduler="lcm" calls.
LCM_LORA_NAMES = ("lcm-lora", "lcm-lora.safetensors")
LORA_WEIGHT_NAME = "pytorch_lora_weights.safetensors"


@dataclass
class SDPipelineHandle:
    """A loaded img2img pipeline and what is needed to say which engine made a result."""

    pipe: Any
    model_dir: Path
    device: str
    dtype: Any
    engine: str
    default_scheduler: Any
    lcm_scheduler: Any
    style_lora: str | None = None  # engine fragment of the LoRA applied to every call
    lcm_lora: str | None = None  # engine fragment of the LCM-LoRA applied to LCM calls
    lcm_lora_note: str | None = None  # why an LCM-LoRA next to the model was not used
    # Re-entrant: a caller holding it across several calls (``call_lora``) may call img2img.
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @property
    def base_engine(self) -> str:
        """The checkpoint alone (``sd:<folder>@<unet hash>``), without the LoRAs on it."""
        return self.engine.split("+", 1)[0]

    def adapters_for(self, scheduler: str) -> list[str]:
        """The LoRA adapters active for a call with ``scheduler``."""
        names = ["style"] if self.style_lora else []
        if scheduler == "lcm" and self.lcm_lora:
            names.append("lcm")
        return names

    def use_adapters_for(self, scheduler: str, extra: Mapping[str, float] | None = None) -> None:
        """Switch the pipeline's LoRA adapters to those of a ``scheduler`` call, plus the
        ``extra`` ones a ``call_lora`` loaded (name -> weight) (hold ``lock``)."""
        extra = dict(extra or {})
        if not (self.style_lora or self.lcm_lora or extra):
            return
        names = self.adapters_for(scheduler)
        weights = [1.0] * len(names) + list(extra.values())
        names += list(extra)
        if names:
            self.pipe.enable_lora()
            self.pipe.set_adapters(names, adapter_weights=weights)
        else:
            self.pipe.disable_lora()

    @contextmanager
    def call_lora(self, state_dict: Mapping[str, Any], name: str) -> Iterator[str]:
        """Hold the pipeline with a caller's LoRA (a state dict, kohya or diffusers keys) loaded
        as adapter ``name``, for img2img calls that name it; it is removed on leaving, so the
        next caller gets the pipeline as it was. Other threads wait meanwhile."""
        with self.lock:
            try:
                self.pipe.load_lora_weights(dict(state_dict), adapter_name=name)
            except (OSError, ValueError, RuntimeError, KeyError, TypeError) as exc:
                raise InferenceError(f"The LoRA does not fit this Stable Diffusion model "
                                     f"({self.base_engine}): {exc}; train the identity again.",
                                     code="bad_lora") from exc
            try:
                yield name
            finally:
                self.pipe.delete_adapters(name)
                self.use_adapters_for("default")

    def engine_for(self, scheduler: str) -> str:
        if scheduler != "lcm":
            return self.engine
        return self.engine + "+lcm" + (f"+{self.lcm_lora}" if self.lcm_lora else "")


_cache: dict[tuple, SDPipelineHandle] = {}
_cache_lock = threading.Lock()


def sd_available(model_dir: Path | str | None) -> bool:
    """Whether ``model_dir`` looks like a diffusers pipeline folder (has model_index.json)."""
    return bool(model_dir) and (Path(model_dir) / "model_index.json").is_file()


def load_sd_pipeline(
    model_dir: Path | str,
    *,
    device: str | None = None,
    dtype: Any = None,
    lora_path: Path | str | None = None,
    lcm_lora_path: Path | str | None = None,
) -> SDPipelineHandle:
    """Load (once per process) the SD1.5 img2img pipeline at ``model_dir``.

    ``device`` defaults to cuda when there is one, else cpu; ``dtype`` to float16 on cuda and
    float32 elsewhere. ``lora_path`` is a LoRA (.safetensors in the public format, or a folder
    holding pytorch_lora_weights.safetensors) applied to every call; ``lcm_lora_path`` an
    LCM-LoRA used only with the LCM scheduler, by default ``lcm-lora/`` or
    ``lcm-lora.safetensors`` inside ``model_dir``. LoRAs need the peft package.
    The safety checker is off: results go through our own moderation service.
    """
    import torch

    model_dir = Path(model_dir).expanduser().resolve()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
    lora_path = Path(lora_path).expanduser().resolve() if lora_path else None
    if lcm_lora_path is None:
        lcm_lora_path = next((model_dir / n for n in LCM_LORA_NAMES if (model_dir / n).exists()), None)
    lcm_lora_path = Path(lcm_lora_path).expanduser().resolve() if lcm_lora_path else None

    key = (str(model_dir), device, str(dtype), str(lora_path), str(lcm_lora_path))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _load(model_dir, device, dtype, lora_path, lcm_lora_path)
        return _cache[key]


def _load(model_dir: Path, device: str, dtype: Any, lora_path: Path | None, lcm_lora_path: Path | None):
    from diffusers import LCMScheduler, StableDiffusionImg2ImgPipeline

    _check_layout(model_dir)
    variant = _variant(model_dir / "unet", dtype)
    try:
        with warnings.catch_warnings():
            # Newer diffusers renamed torch_dtype to dtype; the old name works in every version we allow.
            warnings.filterwarnings("ignore", message=".*torch_dtype.*", category=FutureWarning)
            pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
                model_dir,
                torch_dtype=dtype,
                variant=variant,
                local_files_only=True,
                safety_checker=None,
                feature_extractor=None,
                requires_safety_checker=False,
            )
        pipe = pipe.to(device)
    # Whatever goes wrong inside diffusers (corrupt weights, a config that does not fit the
    # weights, an unknown class) is a broken model folder to the caller.
    except Exception as exc:
        raise ModelLoadError(
            f"Could not load the Stable Diffusion pipeline in {model_dir}: {exc}. "
            f"Check that the folder is complete ({LAYOUT_HINT})."
        ) from exc
    pipe.set_progress_bar_config(disable=True)

    handle = SDPipelineHandle(
        pipe=pipe,
        model_dir=model_dir,
        device=device,
        dtype=dtype,
        engine=f"sd:{model_dir.name}@{_unet_digest(model_dir / 'unet', variant)}",
        default_scheduler=pipe.scheduler,
        lcm_scheduler=LCMScheduler.from_config(pipe.scheduler.config),
    )
    if lora_path:
        if not _peft_installed():
            raise ModelLoadError(f"Loading the LoRA {lora_path} needs the peft package: pip install peft.")
        name = lora_path.name.removesuffix(".safetensors")
        handle.style_lora = f"lora:{name}@{_load_lora(pipe, lora_path, 'style')}"
        handle.engine += "+" + handle.style_lora
    if lcm_lora_path:
        if _peft_installed():
            handle.lcm_lora = f"lcm-lora@{_load_lora(pipe, lcm_lora_path, 'lcm')}"
        else:
            handle.lcm_lora_note = f"{lcm_lora_path.name} not used: the peft package is not installed"
    handle.use_adapters_for("default")
    return handle


def checkpoint_engine(model_dir: Path | str) -> str:
    """``sd:<folder>@<unet hash>`` of a pipeline folder, as a full-precision load names it,
    without loading it (what a LoRA trained on it records)."""
    model_dir = Path(model_dir).expanduser().resolve()
    return f"sd:{model_dir.name}@{_unet_digest(model_dir / 'unet', None)}"


def _check_layout(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise ModelLoadError(f"The Stable Diffusion folder {model_dir} does not exist; {LAYOUT_HINT}.")
    index_file = model_dir / "model_index.json"
    if not index_file.is_file():
        raise ModelLoadError(f"{model_dir} has no model_index.json; {LAYOUT_HINT}.")
    try:
        index = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{index_file} is not readable JSON ({exc}); {LAYOUT_HINT}.") from exc
    missing = [
        name
        for name in REQUIRED_COMPONENTS
        if not isinstance(index.get(name), list) or None in index[name] or not (model_dir / name).is_dir()
    ]
    if missing:
        raise ModelLoadError(
            f"{model_dir} lacks the component(s) {', '.join(missing)}; {LAYOUT_HINT}."
        )


def _variant(unet_dir: Path, dtype: Any) -> str | None:
    """Use the fp16 weight files when loading in half precision and the folder has them."""
    import torch

    if dtype == torch.float16 and any(".fp16." in p.name for p in unet_dir.iterdir()):
        return "fp16"
    return None


def _unet_digest(unet_dir: Path, variant: str | None) -> str:
    """A short hash of the UNet's config and weight files: which checkpoint made a result.

    Hashed after loading, when the files are in the page cache, so it costs little beyond the load.
    """
    digest = hashlib.sha256()
    for path in sorted(unet_dir.iterdir()):
        is_weights = path.suffix in (".safetensors", ".bin") and (".fp16." in path.name) == (variant == "fp16")
        if path.name == "config.json" or is_weights:
            digest.update(path.name.encode())
            with path.open("rb") as f:
                digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()[:10]


def _load_lora(pipe: Any, path: Path, adapter_name: str) -> str:
    """Load a LoRA as a named adapter; return a short hash of its weights for the engine string."""
    weights = path / LORA_WEIGHT_NAME if path.is_dir() else path
    if not weights.is_file():
        raise ModelLoadError(
            f"The LoRA {weights} does not exist; give a .safetensors file or a folder holding {LORA_WEIGHT_NAME}."
        )
    try:
        pipe.load_lora_weights(str(weights.parent), weight_name=weights.name, adapter_name=adapter_name)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelLoadError(f"Could not load the LoRA {weights}: {exc}") from exc
    with weights.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()[:10]


def _peft_installed() -> bool:
    return importlib.util.find_spec("peft") is not None
