"""Mode ``anime``: a photo becomes an anime avatar (face) or an anime picture (full)."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import Output, Pipeline, PipelineInput, register
from inference.voice.prompt import SUBJECT_TAGS

# Beside the painted styles: the voice illustrator drawing what it reads from the photo (hair
# colour and length, eye colour, glasses, facial hair, face shape, skin tone, expression), as it
# draws a spoken description.
ILLUSTRATED = "illustrated"


def best_style() -> str:
    """The configured style, or with ``auto`` the best one installed (a checkpoint beats the
    procedural style)."""
    from inference.anime import available_styles

    if settings.ANIME_DEFAULT_STYLE != "auto":
        return settings.ANIME_DEFAULT_STYLE
    names = [s["name"] for s in available_styles(settings.MODELS_DIR)]
    for preferred in ("face_paint_512_v2", "face_paint_512_v1", "celeba_distill", "paprika"):
        if preferred in names:
            return preferred
    return "procedural"


def style_list() -> list[dict]:
    """The styles a job may name (``GET /anime/styles``): the installed ones and illustrated."""
    from inference.anime import available_styles
    from inference.voice.illustrate import ENGINE as ILLUSTRATOR

    default = best_style()
    styles = [{"name": s["name"], "engine": s["engine"]}
              for s in available_styles(settings.MODELS_DIR)]
    styles.append({"name": ILLUSTRATED, "engine": ILLUSTRATOR})
    return [{**style, "default": style["name"] == default} for style in styles]


class AnimeParams(serializers.Serializer):
    style = serializers.CharField(required=False, max_length=64)
    mode = serializers.ChoiceField(choices=["face", "avatar", "full"], default="face")
    strength = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.6)
    subject = serializers.ChoiceField(choices=sorted(SUBJECT_TAGS), required=False,
                                      help_text="style illustrated: who is drawn (default girl)")

    def validate_style(self, value: str) -> str:
        from inference.anime import available_styles

        names = {s["name"] for s in available_styles(settings.MODELS_DIR)} | {ILLUSTRATED}
        if value not in names:
            raise serializers.ValidationError(_("unknown style; choose one of %(styles)s")
                                              % {"styles": sorted(names)})
        return value


def illustrated(job: PipelineInput) -> list[Output]:
    from inference.voice.illustrate import illustrate
    from inference.voice.photo import read_slots

    job.progress("read", 0.1)
    reading = read_slots(job.image, subject=job.params.get("subject", "girl"))
    job.progress("illustrate", 0.5)
    picture = illustrate(reading.slots)
    return [Output.from_image(Image.fromarray(picture.image), kind="image", engine=picture.engine,
                              metadata={**picture.as_metadata(), **reading.as_metadata()})]


def run(job: PipelineInput) -> list[Output]:
    if job.params.get("style") == ILLUSTRATED:
        return illustrated(job)
    # Imported here so the web process never loads torch; workers load it once.
    from inference.anime import stylize

    styled = stylize(job.image, style=job.params.get("style") or best_style(),
                     mode=job.params["mode"], strength=job.params["strength"],
                     models_dir=settings.MODELS_DIR, progress=job.progress)
    image = Image.fromarray(styled.image)
    return [Output.from_image(image, kind="avatar" if styled.mode == "avatar" else "image",
                              engine=styled.engine, format="png",
                              metadata=styled.as_metadata())]


register(Pipeline(mode="anime", queue="cpu", params=AnimeParams, run=run,
                  description="Photo to anime avatar (face) or anime picture (full); style "
                              "illustrated draws the person's hair, eyes, glasses, facial hair, "
                              "face shape, skin tone and expression as the voice illustrator "
                              "would (768×768)."))
