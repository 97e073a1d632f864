"""Mode ``anime``: a photo becomes an anime avatar (face) or an anime picture (full)."""
from __future__ import annotations

from django.conf import settings
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import Output, Pipeline, PipelineInput, register


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


class AnimeParams(serializers.Serializer):
    style = serializers.CharField(required=False, max_length=64)
    mode = serializers.ChoiceField(choices=["face", "avatar", "full"], default="face")
    strength = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.6)

    def validate_style(self, value: str) -> str:
        from inference.anime import available_styles

        names = {s["name"] for s in available_styles(settings.MODELS_DIR)}
        if value not in names:
            raise serializers.ValidationError(f"unknown style; choose one of {sorted(names)}")
        return value


def run(job: PipelineInput) -> list[Output]:
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
                  description="Photo to anime avatar (face) or anime picture (full)."))
