"""The Stable Diffusion path of the stickers: img2img on an aligned face, the face kept.

Used when a diffusers SD1.5 pipeline folder is configured; heavy imports (torch, diffusers)
happen only when a pipeline is loaded, so ``sd_available`` is cheap to call anywhere.
"""
from inference.diffusion.img2img import DiffusionResult, img2img
from inference.diffusion.loading import SDPipelineHandle, load_sd_pipeline, sd_available

__all__ = ["DiffusionResult", "SDPipelineHandle", "img2img", "load_sd_pipeline", "sd_available"]
