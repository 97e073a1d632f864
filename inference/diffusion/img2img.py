"""Stable Diffusion img2img on an aligned face, keeping the face region from the input."""
from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from PIL import Image

from inference.diffusion.blend import blend_kept_region, feather_keep_mask
from inference.diffusion.loading import SDPipelineHandle
from inference.errors import InferenceError
from inference.progress import Progress, silent

SCHEDULERS = ("default", "lcm")
# LCM wants few steps and little or no classifier-free guidance.
DEFAULT_STEPS = {"default": 20, "lcm": 4}
DEFAULT_GUIDANCE = {"default": 7.0, "lcm": 1.5}


@dataclass
class DiffusionResult:
    image: np.ndarray  # RGB uint8, the input's size
    engine: str  # "sd:<folder>@<unet hash>", plus "+lcm" when the LCM scheduler ran
    seed: int
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {"engine": self.engine, "seed": self.seed, "timings": dict(self.timings), **self.params}


def img2img(
    handle: SDPipelineHandle,
    image: np.ndarray,
    *,
    prompt: str,
    negative_prompt: str = "",
    keep_mask: np.ndarray | None = None,
    strength: float = 0.5,
    steps: int | None = None,
    guidance: float | None = None,
    scheduler: str = "default",
    seed: int | None = None,
    size: int | None = None,
    feather: float | None = None,
    adapters: Mapping[str, float] | None = None,
    progress: Progress = silent,
) -> DiffusionResult:
    """Redraw ``image`` (RGB uint8) after ``prompt``, then put back the pixels ``keep_mask`` keeps.

    ``steps`` is the schedule length as in diffusers (20, or 4 with LCM); about
    ``steps * strength`` of them run, at least one. ``guidance`` defaults to 7.0 (1.5 with LCM).
    ``size`` is the working resolution's long side (default: the checkpoint's native one, 512 for
    SD1.5); the result comes back at the input's size. ``keep_mask`` (HxW float, 1 = keep the
    input) is feathered outwards over ``feather`` pixels (default 3% of the short side).
    ``adapters``: LoRAs loaded by ``handle.call_lora`` to use, name -> weight.
    Progress is reported as stage "diffusion", the fraction of denoising steps done.
    """
    started = time.perf_counter()
    _check_arguments(image, keep_mask, strength, scheduler)
    steps = steps or DEFAULT_STEPS[scheduler]
    guidance = DEFAULT_GUIDANCE[scheduler] if guidance is None else guidance
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    height, width = image.shape[:2]
    work_w, work_h = _working_size(handle, width, height, size)
    work_image = Image.fromarray(image).resize((work_w, work_h), Image.LANCZOS)

    generated, steps_run = _generate(
        handle,
        work_image,
        prompt=prompt,
        negative_prompt=negative_prompt,
        strength=strength,
        # Ask for enough schedule steps that at least one of them runs at this strength.
        num_inference_steps=max(steps, math.ceil(1 / strength)),
        guidance=guidance,
        scheduler=scheduler,
        seed=seed,
        adapters=adapters,
        progress=progress,
    )
    generated_at = time.perf_counter()

    output = np.asarray(generated.resize((width, height), Image.LANCZOS))
    if keep_mask is not None:
        radius = 0.03 * min(width, height) if feather is None else feather
        output = blend_kept_region(image, output, feather_keep_mask(keep_mask, radius=radius))
    finished = time.perf_counter()

    params = {
        "prompt": prompt,
        "negative_prompt": negative_prompt,
        "strength": strength,
        "steps": steps,
        "steps_run": steps_run,
        "guidance": guidance,
        "scheduler": scheduler,
        "size": [work_w, work_h],
        "device": handle.device,
    }
    if scheduler == "lcm" and handle.lcm_lora_note:
        params["lcm_lora"] = handle.lcm_lora_note
    return DiffusionResult(
        image=output,
        engine=handle.engine_for(scheduler),
        seed=seed,
        timings={
            "generate_s": round(generated_at - started, 3),
            "blend_s": round(finished - generated_at, 3),
            "total_s": round(finished - started, 3),
        },
        params=params,
    )


def _generate(
    handle: SDPipelineHandle,
    image: Image.Image,
    *,
    prompt: str,
    negative_prompt: str,
    strength: float,
    num_inference_steps: int,
    guidance: float,
    scheduler: str,
    seed: int,
    adapters: Mapping[str, float] | None,
    progress: Progress,
) -> tuple[Image.Image, int]:
    """Run the pipeline under the handle's lock; return the image and how many steps ran."""
    import torch

    steps_run = 0

    def on_step_end(pipe, step_index, timestep, callback_kwargs):
        nonlocal steps_run
        steps_run = step_index + 1
        progress("diffusion", steps_run / max(pipe.num_timesteps, 1))
        return callback_kwargs

    # The noise comes from a CPU generator so a seed gives the same picture on any device.
    generator = torch.Generator(device="cpu").manual_seed(seed)
    pipe = handle.pipe
    with handle.lock:
        pipe.scheduler = handle.lcm_scheduler if scheduler == "lcm" else handle.default_scheduler
        handle.use_adapters_for(scheduler, adapters)
        try:
            out = pipe(
                prompt=prompt,
                negative_prompt=negative_prompt or None,
                image=image,
                strength=strength,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance,
                generator=generator,
                output_type="pil",
                callback_on_step_end=on_step_end,
            )
        except RuntimeError as exc:  # out of memory, mostly
            raise InferenceError(
                f"Stable Diffusion failed ({exc}); try again, or with a smaller size.", code="diffusion_failed"
            ) from exc
        finally:
            pipe.scheduler = handle.default_scheduler
            if adapters:
                handle.use_adapters_for("default")
    return out.images[0], steps_run


def _working_size(handle: SDPipelineHandle, width: int, height: int, size: int | None) -> tuple[int, int]:
    """Scale so the long side is ``size``, each side a multiple the VAE and UNet can divide."""
    pipe = handle.pipe
    native = pipe.unet.config.sample_size * pipe.vae_scale_factor
    multiple = pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    scale = (size or native) / max(width, height)
    return tuple(max(multiple, round(side * scale / multiple) * multiple) for side in (width, height))


def _check_arguments(image, keep_mask, strength, scheduler) -> None:
    if not (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3):
        raise ValueError("image must be an RGB uint8 array of shape HxWx3")
    if keep_mask is not None and keep_mask.shape != image.shape[:2]:
        raise ValueError(f"keep_mask must be HxW like the image, {image.shape[:2]}, not {keep_mask.shape}")
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1], not {strength}")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, not {scheduler!r}")
