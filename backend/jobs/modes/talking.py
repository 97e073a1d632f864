"""Mode ``talking``: a picture with a face says a line (typed, spoken by TTS) or lip-syncs the
user's own recording, as an MP4 with its poster and an animated preview. What can be known before
rendering (no face, a silent or too long recording, no line or two) is refused when the job is
asked for, not failed later."""
from __future__ import annotations

import io
import wave

import numpy as np
from django.utils.translation import gettext_lazy as _
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import (SAMPLE_RATE, InputSpec, Output, Pipeline, PipelineInput,
                                    register)
from backend.uploads.models import UploadKind
from core.errors import BadRequest
from core.storage import get_storage
from inference.errors import InferenceError
from inference.talking import known_emotions, make_talking_clip
from inference.talking.encode import ffmpeg_exe
from inference.talking.face import THA3_SIZE, is_tha3_input
from inference.talking.pipeline import picture_rgb
from inference.talking.speech import MAX_AUDIO_SECONDS, decode_recording

# The named input ``voice`` is a recording; the parameter ``voice`` is the TTS voice.
RECORDING = InputSpec("voice", kind=UploadKind.AUDIO, required=False)
# inference/ speaks English only; what it refuses in a recording at creation, in the user's
# language (by the same stable code).
RECORDING_REFUSALS = {
    "bad_audio": _("The recording could not be read: send a WAV, MP3, M4A or AMR file."),
    "audio_too_long": _("The speech is longer than %(seconds)s s: send a shorter recording or "
                        "line."),
    "audio_silent": _("The recording is silent: check the microphone and record again."),
}


class EmotionField(serializers.CharField):
    def to_internal_value(self, data):
        name = super().to_internal_value(data).strip().lower()
        if name not in known_emotions():
            raise serializers.ValidationError(
                _("unknown emotion %(name)s; use one of %(names)s")
                % {"name": repr(name), "names": ", ".join(known_emotions())})
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
                                     help_text="left, top, right, bottom around a drawn face, "
                                               "in the photo's pixels (its upload's width and "
                                               "height)")


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


def check_inputs(*, user, params: dict, inputs: dict, text: str) -> None:
    """Refuse now what would fail the job: a line and a recording (or neither), a recording
    that is silent or too long, and a photo without a face (its upload found none, it has no
    face_box and it is not a THA3 picture)."""
    recording = inputs.get("voice", [None])[0]
    if recording is not None and text:
        raise BadRequest(_("Send a line to say (text) or a recording (inputs.voice), not "
                           "both."),
                         code="voice_or_text")
    if recording is None and not text:
        raise BadRequest(_("Give a line to say (text) or a recording (inputs.voice)."),
                         code="text_required")
    if recording is not None:
        try:  # the same decoding and limits as the job's
            decode_recording(get_storage().get(recording.storage_key), ffmpeg_exe())
        except InferenceError as exc:
            refusal = RECORDING_REFUSALS.get(exc.code)
            message = refusal % {"seconds": f"{MAX_AUDIO_SECONDS:g}"} if refusal else exc.message
            raise BadRequest(message, code=exc.code) from exc
    photo = inputs["photo"][0]
    box = params.get("face_box")
    if box is not None:
        left, top, right, bottom = box
        if not (left < right <= photo.width and top < bottom <= photo.height
                and right - left >= 24 and bottom - top >= 24):
            raise BadRequest(_("face_box %(box)s must be a box of at least 24x24 pixels "
                               "inside the %(width)sx%(height)s photo.")
                             % {"box": list(box), "width": photo.width,
                                "height": photo.height},
                             code="invalid_params")
    elif photo.faces == 0 and not _is_tha3_upload(photo):
        raise BadRequest(_("No face found: send a photo where the face is clear and facing "
                           "the camera, or give face_box (left, top, right, bottom) around a "
                           "drawn character's face."), code="no_face")


def _is_tha3_upload(photo) -> bool:
    """A 512² picture with transparency (kept as PNG) whose head box is opaque: THA3's input."""
    if (photo.width, photo.height) != (THA3_SIZE, THA3_SIZE) or photo.format != "png":
        return False
    with Image.open(io.BytesIO(get_storage().get(photo.storage_key))) as picture:
        if picture.mode != "RGBA":
            return False
        rgb, alpha = picture_rgb(np.asarray(picture))
    return is_tha3_input(rgb, alpha)


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
    # working_side 0: the upload's own copy, so face_box is in the pixels its client was told.
    inputs=(InputSpec("photo"), RECORDING), working_side=0, keeps_alpha=True,
    check_inputs=check_inputs,
    description="A face says a line (text by TTS, or inputs.voice, the user's recording): "
                "MP4 (H.264 + AAC), poster PNG and animated WebP preview."))
