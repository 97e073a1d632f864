"""Stable Diffusion txt2img from a prompt, on the pipeline ``load_sd_pipeline`` loaded.

The text-to-image pipeline shares every module (UNet, VAE, text encoder) with the loaded
img2img one, so no second copy of the weights is held; it is made once per handle and runs
under the handle's lock like img2img.
"""
from __future__ import annotations

import secrets
import threading
import time

import numpy as np

from inference.diffusion.img2img import DEFAULT_GUIDANCE, DEFAULT_STEPS, SCHEDULERS, \
    DiffusionResult
from inference.diffusion.loading import SDPipelineHandle
from inference.errors import InferenceError
from inference.progress import Progress, silent

_text_pipes: dict[int, object] = {}
_text_pipes_lock = threading.Lock()


def _text_pipe(handle: SDPipelineHandle):
    from diffusers import StableDiffusionPipeline

    with _text_pipes_lock:
        if id(handle) not in _text_pipes:
            pipe = StableDiffusionPipeline.from_pipe(handle.pipe)
            pipe.set_progress_bar_config(disable=True)
            _text_pipes[id(handle)] = pipe
        return _text_pipes[id(handle)]


def txt2img(handle: SDPipelineHandle, *, prompt: str, negative_prompt: str = "",
            size: int | None = None, steps: int | None = None, guidance: float | None = None,
            scheduler: str = "default", seed: int | None = None,
            progress: Progress = silent) -> DiffusionResult:
    """A square picture of ``prompt`` (RGB uint8), ``size`` pixels a side (default: the
    checkpoint's native size, 512 for SD1.5). Steps and guidance default as in img2img.
    Progress is reported as stage "diffusion"."""
    import torch

    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, not {scheduler!r}")
    started = time.perf_counter()
    steps = steps or DEFAULT_STEPS[scheduler]
    guidance = DEFAULT_GUIDANCE[scheduler] if guidance is None else guidance
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    pipe = _text_pipe(handle)
    native = pipe.unet.config.sample_size * pipe.vae_scale_factor
    multiple = pipe.vae_scale_factor * 2 ** (len(pipe.unet.config.block_out_channels) - 1)
    side = max(multiple, round((size or native) / multiple) * multiple)

    def on_step_end(pipe, step_index, timestep, callback_kwargs):
        progress("diffusion", (step_index + 1) / max(pipe.num_timesteps, 1))
        return callback_kwargs

    generator = torch.Generator(device="cpu").manual_seed(seed)
    with handle.lock:
        pipe.scheduler = handle.lcm_scheduler if scheduler == "lcm" else handle.default_scheduler
        handle.use_adapters_for(scheduler)
        try:
            out = pipe(prompt=prompt, negative_prompt=negative_prompt or None, width=side,
                       height=side, num_inference_steps=steps, guidance_scale=guidance,
                       generator=generator, output_type="np", callback_on_step_end=on_step_end)
        except RuntimeError as exc:  # out of memory, mostly
            raise InferenceError(f"Stable Diffusion failed ({exc}); try again, or with a smaller "
                                 "size.", code="diffusion_failed") from exc
        finally:
            pipe.scheduler = handle.default_scheduler
    image = (np.clip(out.images[0], 0, 1) * 255 + 0.5).astype(np.uint8)
    return DiffusionResult(
        image=image, engine=handle.engine_for(scheduler), seed=seed,
        timings={"total_s": round(time.perf_counter() - started, 3)},
        params={"prompt": prompt, "negative_prompt": negative_prompt, "steps": steps,
                "guidance": guidance, "scheduler": scheduler, "size": [side, side],
                "device": handle.device})
