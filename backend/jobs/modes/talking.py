"""Mode ``talking``: a picture with a face says a line (typed, spoken by TTS) or lip-syncs the
user's own recording, as an MP4 with its poster and an animated preview."""
from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import (SAMPLE_RATE, InputSpec, Output, Pipeline, PipelineInput,
                                    register)
from backend.uploads.models import UploadKind
from inference.errors import InferenceError
from inference.talking import known_emotions, make_talking_clip

# The named input ``voice`` is a recording; the parameter ``voice`` is the TTS voice.
RECORDING = InputSpec("voice", kind=UploadKind.AUDIO, required=False)


class EmotionField(serializers.CharField):
    def to_internal_value(self, data):
        name = super().to_internal_value(data).strip().lower()
        if name not in known_emotions():
            raise serializers.ValidationError(
                f"unknown emotion {name!r}; use one of {', '.join(known_emotions())}")
        return name


class TalkingParams(serializers.Serializer):
    emotion = EmotionField(default="neutral", max_length=40)
    voice = serializers.ChoiceField(choices=["auto", "zh", "en"], default="auto")
    rate = serializers.FloatField(min_value=0.5, max_value=2.0, default=1.0)
    size = serializers.IntegerField(min_value=256, max_value=768, default=512)
    fps = serializers.IntegerField(min_value=10, max_value=30, default=25)
    idle = serializers.BooleanField(default=True)
    face_box = serializers.ListField(child=serializers.FloatField(min_value=0), min_length=4,
                                     max_length=4, required=False,
                                     help_text="left, top, right, bottom around a drawn face")


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """float32 mono samples in [-1, 1] as a 16-bit WAV file."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def run(job: PipelineInput) -> list[Output]:
    recording = job.inputs.get("voice")
    if recording is None and not job.text:
        raise InferenceError("Give a line to say (text) or a recording (inputs.voice).",
                             code="text_required")
    face_box = job.params.get("face_box")
    clip = make_talking_clip(
        job.image, text=job.text,  # with a recording too: refused as bad_request
        audio=wav_bytes(recording) if recording is not None else None,
        emotion=job.params["emotion"], voice=job.params["voice"], rate=job.params["rate"],
        size=job.params["size"], fps=job.params["fps"], idle=job.params["idle"],
        face_box=tuple(face_box) if face_box else None, progress=job.progress)
    metadata = clip.as_metadata()
    poster = Image.open(io.BytesIO(clip.poster))
    poster.load()
    with Image.open(io.BytesIO(clip.preview)) as preview:
        preview_size, preview_first = preview.size, preview.convert("RGB")
    return [
        Output.from_video(clip.video, poster=poster, kind="video", engine=clip.engine,
                          metadata=metadata),
        Output(kind="poster", data=clip.poster, format="png", content_type="image/png",
               width=poster.width, height=poster.height, engine=clip.engine, image=poster,
               metadata=metadata),
        Output(kind="preview", data=clip.preview, format="webp", content_type="image/webp",
               width=preview_size[0], height=preview_size[1], engine=clip.engine,
               image=preview_first, metadata=metadata),
    ]


register(Pipeline(
    mode="talking", queue="cpu", params=TalkingParams, run=run,
    inputs=(InputSpec("photo"), RECORDING), working_side=1024,
    description="A face says a line (text by TTS, or inputs.voice, the user's recording): "
                "MP4 (H.264 + AAC), poster PNG and animated WebP preview."))
