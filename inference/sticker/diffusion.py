"""The sticker's diffusion step: a prompt built from the expression, a keep-mask over the
warped face from its landmarks, and one img2img call that redraws hair and surround around it."""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions
from inference.progress import Progress
from inference.sticker.headcrop import HeadCrop
from inference.sticker.lexicon import Expression

# What each expression looks like in words a SD1.5 checkpoint knows.
EXPRESSION_PROMPTS = {
    "neutral": "calm face",
    "happy": "happy smiling face, joyful",
    "laugh": "laughing out loud, big open-mouth laugh, eyes squinting with joy",
    "surprise": "surprised face, wide open eyes, open mouth, shocked",
    "angry": "angry face, furrowed brows, frowning, furious",
    "cry": "crying face, tears streaming, sad, sobbing",
    "sad": "sad face, downturned mouth, gloomy",
    "shy": "shy face, blushing cheeks, bashful smile",
    "speechless": "speechless face, awkward, deadpan, sweat drop",
    "awesome": "confident grin, proud, cool",
}
NEGATIVE_PROMPT = ("lowres, blurry, deformed face, extra eyes, extra mouth, distorted, bad anatomy, "
                   "watermark, text, nsfw")
_LOAD_OPTIONS = ("device", "dtype", "lora_path", "lcm_lora_path")


def sticker_prompt(expression: Expression) -> str:
    """The img2img prompt for ``expression``: sticker look first, then the face."""
    face = EXPRESSION_PROMPTS.get(expression.name, EXPRESSION_PROMPTS["neutral"])
    return (f"cute chat sticker portrait, {face}, head and shoulders, clean simple background, "
            "vivid colours, sharp focus")


def face_keep_mask(landmarks: np.ndarray, size: int, unit: float) -> np.ndarray:
    """1 over the face from brows to chin (where identity and the warped expression live),
    0 elsewhere; img2img feathers it outwards."""
    mask = np.zeros((size, size), np.float32)
    outline = np.concatenate([landmarks[regions.JAW],
                              landmarks[regions.BROWS][::-1] - (0, 0.1 * unit)])
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(outline).astype(np.int32)), 1.0)
    return cv2.erode(mask, np.ones((3, 3), np.uint8))


def redraw_head(image: np.ndarray, landmarks: np.ndarray, crop: HeadCrop, expression: Expression,
                model_dir, options: dict, progress: Progress):
    """img2img of the warped head crop, or None when ``model_dir`` holds no pipeline."""
    from inference.diffusion import img2img, load_sd_pipeline, sd_available

    if not sd_available(model_dir):
        return None
    options = dict(options)
    load = {k: options.pop(k) for k in _LOAD_OPTIONS if k in options}
    handle = load_sd_pipeline(model_dir, **load)
    options.setdefault("strength", 0.45)
    return img2img(handle, image, prompt=options.pop("prompt", sticker_prompt(expression)),
                   negative_prompt=options.pop("negative_prompt", NEGATIVE_PROMPT),
                   keep_mask=face_keep_mask(landmarks, crop.size, crop.unit), progress=progress,
                   **options)
