"""make_sticker: photo + text → 240x240 sticker, a larger preview and optionally a GIF.

detect → upright head crop → expression warp → (diffusion or anime style) → head cut-out →
overlays → composition with the template → caption → (animation)."""
from __future__ import annotations

import io
import time
from dataclasses import dataclass, field, replace

import numpy as np
from PIL import Image

from inference.errors import InferenceError, NoFaceError
from inference.progress import Progress, scaled, silent
from inference.sticker.caption import find_font
from inference.sticker.compose import Head, caption_layer, compose_layers
from inference.sticker.cutout import cut_out_head, keep_skin_tone
from inference.sticker.headcrop import crop_head
from inference.sticker.lexicon import Expression, parse_expression
from inference.sticker.overlays import draw_overlays
from inference.sticker.templates import DEFAULT_TEMPLATE, Template
from inference.sticker.warp import warp_expression
from inference.working_size import fit_within

ENGINE = "procedural-sticker-v1"
STICKER_SIZE = 240
PREVIEW_SIZE = 480
CROP_SIZE = 480
# The long side a photo is worked at: the head crop is 480 px, which a face a fifth of the
# photo's width still fills at 1280; detection works at 800 px anyway.
WORKING_SIDE = 1280

NO_FACE_MESSAGE = ("No face found in this photo. Upload a clear, frontal photo of one face, "
                   "well lit and not covered (没有找到人脸，请上传一张清晰的正脸照片).")


@dataclass
class StickerResult:
    sticker: Image.Image  # RGBA 240x240
    preview: Image.Image  # RGBA 480x480
    animation: bytes | None  # transparent GIF, or None
    expression: Expression
    engine: str
    path: str  # "embedded", "anime" or "diffusion"
    caption: str
    template_id: str
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {
            "engine": self.engine,
            "path": self.path,
            "expression": self.expression.as_metadata(),
            "caption": self.caption,
            "template": self.template_id,
            "size": list(self.sticker.size),
            "preview_size": list(self.preview.size),
            "animated": self.animation is not None,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            **self.extra,
        }

    def encode(self) -> dict[str, bytes]:
        """PNG bytes of the sticker and preview, and the GIF when there is one."""
        files = {"sticker": _png(self.sticker), "preview": _png(self.preview)}
        if self.animation is not None:
            files["animation"] = self.animation
        return files


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self._last
        self._last = now


def _checked(rgb) -> np.ndarray:
    if isinstance(rgb, Image.Image):
        rgb = np.asarray(rgb.convert("RGB"))
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise InferenceError("Expected an RGB uint8 image of shape (H, W, 3).", code="bad_image")
    return np.ascontiguousarray(rgb)


def _head(image: np.ndarray, alpha: np.ndarray, expression: Expression, landmarks: np.ndarray,
          crop_landmarks: np.ndarray, unit: float) -> Head:
    rgba = Image.fromarray(np.dstack([image, np.round(alpha * 255).astype(np.uint8)]), "RGBA")
    rgba = draw_overlays(rgba, expression.params.overlays, landmarks, unit)
    return Head.from_image(rgba, crop_landmarks, unit)


def make_sticker(rgb, *, text: str, caption: bool | str = True, template: Template | None = None,
                 style: str = "photo", animated: bool = False, sd_model_dir=None,
                 sd_options: dict | None = None, font_path=None,
                 progress: Progress = silent) -> StickerResult:
    """Turn the largest face in ``rgb`` into a sticker making the expression ``text`` asks for.

    ``caption``: True puts the text (or the expression's default words) under the face, a
    string puts that string, False none. ``style``: "photo" keeps the photo's look, "anime"
    runs the anime stylizer on the head. ``sd_model_dir``: a Stable Diffusion 1.5 pipeline
    folder; when given and usable, img2img redraws the head around the kept face. A photo
    larger than ``WORKING_SIDE`` is scaled down first.
    """
    from inference.faces import detect_faces

    if style not in ("photo", "anime"):
        raise InferenceError(f"Unknown sticker style {style!r}: use 'photo' or 'anime'.",
                             code="bad_request")
    template = template or DEFAULT_TEMPLATE
    clock = _Clock()
    rgb = fit_within(_checked(rgb), WORKING_SIDE)
    expression = parse_expression(text)
    caption_text = expression.caption if caption is True else (caption or "")
    # Find the font before the slow steps so a missing one fails fast.
    font = find_font(font_path) if caption_text.strip() else None
    progress("detect", 0.0)

    faces = detect_faces(rgb)
    if not faces:
        raise NoFaceError(NO_FACE_MESSAGE)
    clock.lap("detect")
    crop = crop_head(rgb, faces[0].landmarks, size=CROP_SIZE)
    progress("expression", 0.15)
    warped = warp_expression(crop.image, crop.landmarks, expression.params, crop.unit)
    clock.lap("warp")

    image, engine, path, extra = warped.image, ENGINE, "embedded", {}
    if sd_model_dir is not None:
        from inference.sticker.diffusion import redraw_head

        redrawn = redraw_head(image, warped.landmarks, crop, expression, sd_model_dir,
                              sd_options or {}, scaled(progress, 0.2, 0.7))
        if redrawn is not None:
            image, extra["diffusion"] = redrawn.image, redrawn.as_metadata()
            engine, path = f"{redrawn.engine}+{ENGINE}", "diffusion"
        else:
            extra["diffusion"] = {"skipped": f"no Stable Diffusion pipeline in {sd_model_dir}"}
        clock.lap("diffusion")
    if style == "anime":
        try:
            from inference.anime import stylize
        except ImportError as error:
            raise InferenceError("The anime sticker style is not installed on this server; "
                                 "choose the photo style.", code="style_unavailable") from error

        styled = stylize(image, mode="full", progress=scaled(progress, 0.7, 0.8))
        image = np.asarray(styled.image.convert("RGB")) if isinstance(styled.image, Image.Image) \
            else styled.image
        # The style lightens and warms skin; a sticker of you keeps your skin tone.
        image = keep_skin_tone(image, warped.image, crop, warped.landmarks)
        engine = f"{engine}+{styled.engine}"
        path = "anime" if path == "embedded" else path
        extra["anime"] = styled.as_metadata() if hasattr(styled, "as_metadata") else {}
        clock.lap("anime")

    progress("cutout", 0.8)
    # Cut on the photo itself and let the cut follow the warp: every expression of one photo
    # gets the same outline, and flat anime colours or a redrawn surround cannot confuse GrabCut.
    cut = cut_out_head(crop)
    alpha = warped.follow(cut)
    clock.lap("cutout")
    head = _head(image, alpha, expression, warped.landmarks, crop.landmarks, crop.unit)
    clock.lap("overlays")

    progress("compose", 0.9)
    tilt = expression.params.head_tilt
    preview = compose_layers(head, template, PREVIEW_SIZE, tilt=tilt)
    sticker = preview.resize((STICKER_SIZE, STICKER_SIZE), Image.LANCZOS)
    if font is not None:
        for size, canvas in ((PREVIEW_SIZE, "preview"), (STICKER_SIZE, "sticker")):
            layer = caption_layer(caption_text, template, size, font)
            if canvas == "preview":
                preview = Image.alpha_composite(preview, layer)
            else:
                sticker = Image.alpha_composite(sticker, layer)
    clock.lap("compose")

    animation = None
    if animated:
        from inference.sticker.animate import animate_sticker

        progress("animate", 0.95)
        motion = expression.params.motion
        closed = None
        if motion == "blink" and path != "embedded":
            motion = "bounce"  # the shut-eye frame would have to be styled again
        elif motion == "blink":
            # The same expression with the eyes shut, warped from the photo like the open one.
            shut = warp_expression(crop.image, crop.landmarks,
                                   replace(expression.params, eye_open=0.12), crop.unit)
            closed = _head(shut.image, shut.follow(cut), expression, shut.landmarks,
                           crop.landmarks, crop.unit)
        animation = animate_sticker(head, template, motion, caption_text, font,
                                    size=STICKER_SIZE, tilt=tilt, closed_head=closed)
        clock.lap("animate")
    progress("done", 1.0)
    return StickerResult(sticker, preview, animation, expression, engine, path, caption_text,
                         template.id, clock.timings, extra)
