"""Mode ``sticker``: a selfie and a few words become a sticker (表情包) of that person."""
from __future__ import annotations

import hashlib
import io
import json

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import Output, Pipeline, PipelineInput, register
from inference.sticker import CAPTION_MAX_CHARS, caption_fits, parse_expression


class CaptionField(serializers.Field):
    """``true``/``false``/``"on"``/``"off"``, or the caption text itself."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str):
            if "\x00" in data or any("\ud800" <= ch <= "\udfff" for ch in data):
                raise serializers.ValidationError(
                    _("the caption has characters that cannot be drawn"))
            lowered = data.strip().lower()
            if lowered in {"on", "true", ""}:
                return True
            if lowered in {"off", "false"}:
                return False
            if not caption_fits(data.strip()):
                raise serializers.ValidationError(
                    _("a caption is at most %(n)s characters (an emoji counts as one), so that "
                      "it fits two legible lines") % {"n": CAPTION_MAX_CHARS})
            return data.strip()
        raise serializers.ValidationError(_("use true/false, 'on'/'off' or the caption text"))

    def to_representation(self, value):
        return value


class StickerParams(serializers.Serializer):
    caption = CaptionField(required=False, default=True)
    template_id = serializers.CharField(required=False, max_length=40)
    style = serializers.ChoiceField(choices=["photo", "anime"], default="photo")
    animated = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        # With the default caption the sticker shows the expression's words, which for a text
        # the lexicon does not know are the text itself: it must fit like a typed caption.
        text = self.context.get("text", "")
        if attrs.get("caption", True) is True and text:
            drawn = parse_expression(text).caption
            if not caption_fits(drawn):
                raise serializers.ValidationError({"caption": [
                    _("the caption would be your text, longer than %(n)s characters; send a "
                      "shorter text, a shorter caption, or caption false")
                    % {"n": CAPTION_MAX_CHARS}]})
        return attrs

    def validate_template_id(self, value: str) -> str:
        from backend.stickers.selectors import template_ids

        if value not in template_ids(kind="sticker"):
            raise serializers.ValidationError(
                _("unknown template; see GET /templates?kind=sticker"))
        return value


def cache_key(upload_sha256: str, params: dict, text: str) -> str:
    """Equal uploads, normalised texts and parameters (and the same engine) give equal stickers."""
    expression = parse_expression(text)
    caption = params.get("caption", True)
    # What the sticker shows: the expression, and the caption only when one is drawn (drawn
    # as typed, so "开心!!" and "開心" differ from "开心" only then).
    drawn = caption if isinstance(caption, str) else (expression.caption if caption else "")
    key = {"upload": upload_sha256, "expression": expression.name, "caption": drawn,
           "params": params, "sd": bool(settings.SD_MODEL_DIR), "version": 1}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def run(job: PipelineInput) -> list[Output]:
    from backend.stickers.selectors import template_load
    from inference.sticker import make_sticker

    template_id = job.params.get("template_id")
    template = template_load(template_id=template_id) if template_id else None
    sticker = make_sticker(job.image, text=job.text, caption=job.params.get("caption", True),
                           template=template, style=job.params["style"],
                           animated=job.params["animated"],
                           sd_model_dir=settings.SD_MODEL_DIR or None, progress=job.progress)
    metadata = sticker.as_metadata()
    outputs = [
        Output.from_image(sticker.sticker, kind="sticker", engine=sticker.engine, metadata=metadata),
        Output.from_image(sticker.preview, kind="preview", engine=sticker.engine, metadata=metadata),
    ]
    if sticker.animation is not None:
        with Image.open(io.BytesIO(sticker.animation)) as gif:
            first = gif.convert("RGBA")
            size = gif.size
        outputs.append(Output(kind="animation", data=sticker.animation, format="gif",
                              content_type="image/gif", width=size[0], height=size[1],
                              engine=sticker.engine, image=first, metadata=metadata))
    return outputs


register(Pipeline(
    mode="sticker",
    queue="gpu" if settings.SD_MODEL_DIR and settings.GPU_QUEUE else "cpu",
    params=StickerParams, run=run, text_required=True, text_params=("caption",),
    cache_key=cache_key,
    description="Selfie + a few words (开心, 惊讶, 666…) to a 240×240 sticker, PNG and GIF."))
