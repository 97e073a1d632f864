"""Animated stickers: the head bounces, shakes, pulses or blinks under a still caption,
encoded as a looping GIF with a transparent background, kept under WeChat's 500 KB."""
from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image

from inference.sticker.compose import Head, caption_layer, compose_layers, scaled_head
from inference.sticker.templates import Template

GIF_LIMIT_BYTES = 500 * 1024
FRAME_COUNT = 12
FRAME_MS = 70
_TRANSPARENT = 255


def motion_frames(motion: str, count: int = FRAME_COUNT) -> list[dict]:
    """Per-frame placement (tilt in degrees, offset in canvas fractions, zoom, eyes closed)
    for one loop of ``motion``."""
    frames = []
    for k in range(count):
        phase = 2 * math.pi * k / count
        frame = {"tilt": 0.0, "offset": (0.0, 0.0), "zoom": 1.0, "closed": False}
        if motion == "bounce":
            frame["offset"] = (0.0, -0.05 * abs(math.sin(phase)))
            frame["zoom"] = 1.0 + 0.02 * abs(math.sin(phase))
        elif motion == "shake":
            frame["tilt"] = 7.0 * math.sin(2 * phase)
            frame["offset"] = (0.025 * math.sin(2 * phase), 0.0)
        elif motion == "zoom":
            frame["zoom"] = 1.0 + 0.09 * (0.5 - 0.5 * math.cos(phase))
        elif motion == "blink":
            frame["closed"] = k in (count // 2, count // 2 + 1)
            frame["offset"] = (0.0, -0.015 * math.sin(phase))
        frames.append(frame)
    return frames


def encode_gif(frames: list[Image.Image], *, duration_ms: int = FRAME_MS,
               limit: int = GIF_LIMIT_BYTES) -> bytes:
    """A looping GIF of RGBA ``frames`` sharing one palette; pixels less than half opaque
    become transparent. Colours are reduced until the file fits in ``limit`` bytes."""
    for colours in (255, 128, 64, 32):
        data = _encode(frames, duration_ms, colours)
        if len(data) <= limit:
            return data
    # Still too big: drop every other frame and keep the loop's timing.
    return encode_gif(frames[::2], duration_ms=duration_ms * 2, limit=limit) \
        if len(frames) > 2 else data


def _encode(frames: list[Image.Image], duration_ms: int, colours: int) -> bytes:
    rgba = [np.asarray(frame.convert("RGBA")) for frame in frames]
    opaque = [image[..., 3] >= 128 for image in rgba]
    # One palette from the opaque pixels of all frames, so colours do not flicker.
    pixels = np.concatenate([image[..., :3][mask] for image, mask in zip(rgba, opaque)])
    if len(pixels) == 0:
        pixels = np.zeros((1, 3), np.uint8)
    # Median cut's cost grows with the sample; a spread-out fifth of the pixels of one
    # animation gives the same palette.
    pixels = pixels[:: max(1, len(pixels) // 40_000)]
    sample = Image.fromarray(pixels[None, :, :], "RGB")
    palette_image = sample.quantize(colors=min(colours, 255), method=Image.Quantize.MEDIANCUT)
    palette = palette_image.getpalette()[:255 * 3]
    palette += [0] * (255 * 3 - len(palette)) + [255, 0, 255]  # index 255: transparent
    palette_image.putpalette(palette)
    indexed = []
    for image, mask in zip(rgba, opaque):
        rgb = Image.fromarray(np.ascontiguousarray(image[..., :3]), "RGB")
        frame = np.array(rgb.quantize(palette=palette_image, dither=Image.Dither.FLOYDSTEINBERG))
        frame[~mask] = _TRANSPARENT
        out = Image.fromarray(frame, "P")
        out.putpalette(palette)
        out.info["transparency"] = _TRANSPARENT
        indexed.append(out)
    buffer = io.BytesIO()
    indexed[0].save(buffer, "GIF", save_all=True, append_images=indexed[1:], loop=0,
                    duration=duration_ms, transparency=_TRANSPARENT, disposal=2, optimize=False)
    return buffer.getvalue()


def animate_sticker(head: Head, template: Template, motion: str, caption: str,
                    font_path: str | None, *, size: int = 240, tilt: float = 0.0,
                    closed_head: Head | None = None) -> bytes:
    """The GIF for ``motion`` ("bounce", "shake", "zoom" or "blink"; blink needs
    ``closed_head``, the same head with its eyes shut)."""
    layer = caption_layer(caption, template, size, font_path) if font_path else None
    factor = min(1.0, 1.5 * size / head.rgba.shape[0])
    head = scaled_head(head, factor)
    closed_head = scaled_head(closed_head, factor) if closed_head is not None else None
    frames = []
    for frame in motion_frames(motion):
        source = closed_head if frame["closed"] and closed_head is not None else head
        image = compose_layers(source, template, size, tilt=tilt + frame["tilt"],
                               offset=frame["offset"], zoom=frame["zoom"])
        if layer is not None:
            image = Image.alpha_composite(image, layer)
        frames.append(image)
    return encode_gif(frames)
