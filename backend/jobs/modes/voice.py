"""Mode ``voice``: a spoken (or typed) description becomes a picture, once its owner has
confirmed what was understood (issue #15).

The pipeline runs twice (``confirm_first``). First pass: the recording transcribed, the words
parsed into slots, and the question to confirm, written and spoken (result ``question``, a WAV).
Second pass, after ``POST /jobs/{id}/confirm``: the picture drawn from the stored slots.
"""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import InputSpec, Output, Pipeline, PipelineInput, register
from backend.uploads.models import UploadKind
from core.errors import BadRequest
from inference.errors import InferenceError

LANGUAGES = ("auto", "zh", "en")


class VoiceParams(serializers.Serializer):
    language = serializers.ChoiceField(choices=LANGUAGES, default="auto",
                                       help_text="of the recording: auto (Chinese or English)")
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1)

    def validate(self, attrs: dict) -> dict:
        # One description: a recording or a typed text, never both, never neither.
        spoken, typed = "voice" in self.context.get("inputs", {}), bool(self.context.get("text"))
        if spoken == typed:
            raise BadRequest(_("Send either a recording (inputs.voice) or a typed description "
                               "(text), not both and not neither."), code="voice_or_text")
        return attrs


def description_of(text: str, *, language: str | None = None,
                   source: str = "text") -> tuple[dict, bytes]:
    """(metadata, question WAV) for a description: what is shown and asked back, spoken in the
    user's language. ``language`` is what speech recognition heard, if any."""
    from inference.voice import describe, speak

    description = describe(text)
    language = language or description.slots.language
    metadata = {"transcript": text, "language": language, "source": source,
                "slots": description.slots.as_dict(), "prompt": description.prompt,
                "negative_prompt": description.negative_prompt,
                "unknown": list(description.slots.unknown), "question": description.question,
                "confirmed": False}
    return metadata, speak(description.question, language=description.slots.language)


def question_output(metadata: dict, wav: bytes) -> Output:
    return Output(kind="question", data=wav, format="wav", content_type="audio/wav", width=0,
                  height=0, engine="espeak-ng", image=None, metadata=metadata)


def _ask(job: PipelineInput) -> list[Output]:
    if "voice" not in job.inputs:
        job.progress("describe", 0.5)
        return [question_output(*description_of(job.text))]
    from inference.voice.transcribe import transcribe

    job.progress("transcribe", 0.1)
    heard = transcribe(job.inputs["voice"], language=job.params.get("language", "auto"))
    if not heard.text.strip():
        raise InferenceError("No words were heard in the recording; speak a little closer, or "
                             "type the description.", code="nothing_heard")
    job.progress("describe", 0.8)
    metadata, wav = description_of(heard.text, language=heard.language, source="voice")
    metadata["asr_engine"] = heard.engine
    return [question_output(metadata, wav)]


def _draw(job: PipelineInput) -> list[Output]:
    from inference.voice import Description, Slots

    stored = job.metadata
    description = Description(text=stored["transcript"], slots=Slots.from_dict(stored["slots"]),
                              prompt=stored["prompt"], negative_prompt=stored["negative_prompt"],
                              question=stored["question"])
    picture = description.draw(seed=job.params.get("seed", 0),
                               sd_model_dir=settings.SD_MODEL_DIR or None,
                               models_dir=settings.MODELS_DIR,
                               anime_style=settings.VOICE_ANIME_STYLE, progress=job.progress)
    metadata = {**stored, **picture.as_metadata(), "confirmed": True}
    return [Output.from_image(Image.fromarray(picture.image), kind="picture",
                              engine=picture.engine, metadata=metadata)]


def run(job: PipelineInput) -> list[Output]:
    return _draw(job) if job.metadata.get("confirmed") else _ask(job)


register(Pipeline(
    mode="voice",
    queue="gpu" if settings.SD_MODEL_DIR and settings.GPU_QUEUE else "cpu",
    params=VoiceParams, run=run, confirm_first=True,
    inputs=(InputSpec("voice", kind=UploadKind.AUDIO, required=False),),
    description="A spoken (inputs.voice) or typed (text) description, in Chinese or English, to "
                "a 768×768 picture. The job first waits in awaiting_confirmation with the "
                "question (also spoken, result kind question); POST /jobs/{id}/confirm."))
