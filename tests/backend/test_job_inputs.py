"""Named inputs: a mode declares the uploads it needs and of which kind; a job with a photo and
a voice runs with both decoded (RGB uint8, float32 16 kHz mono), a missing or wrong-kind input is
refused by name, a held input holds the job, and a mode may need no upload at all."""
from __future__ import annotations

import hashlib
import io
import math
import os
import uuid
import wave

import numpy as np
import pytest
from PIL import Image

from backend.jobs.decoding import audio_array, image_array
from backend.jobs.models import Job, JobInput
from backend.uploads.models import ModerationState, Upload, UploadKind
from backend.uploads.services import retention_deadline
from core.storage import get_storage

os.environ["MX_TEST_MODES"] = "1"  # a Celery worker started by the services stack knows the modes
import backend.jobs.modes.testing  # noqa: E402,F401 - registers the test modes here


def wav_bytes(seconds: float, *, rate: int = 16_000, channels: int = 1,
              frequency: float = 440.0, amplitude: float = 0.5) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (amplitude * 32767 * np.sin(2 * math.pi * frequency * t)).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.repeat(tone, channels).tobytes())
    return buffer.getvalue()


def audio_upload(user_id, data: bytes, *, seconds: float) -> Upload:
    """A stored voice recording, as the audio upload path keeps one (16 kHz mono WAV)."""
    upload_id = uuid.uuid4()
    key = f"u/{user_id}/uploads/{upload_id}.wav"
    get_storage().put(key, data, "audio/wav")
    return Upload.objects.create(
        id=upload_id, owner_id=user_id, kind=UploadKind.AUDIO, storage_key=key, format="wav",
        content_type="audio/wav", source_format="wav", width=0, height=0,
        size_bytes=len(data), duration_ms=int(seconds * 1000),
        sha256=hashlib.sha256(data).hexdigest(), expires_at=retention_deadline())


def generate(api, mode: str, inputs: dict, text: str = ""):
    # In English: the refusals' wording is asserted ("'voice' takes an audio").
    return api.post("/generate", {"mode": mode, "inputs": inputs, "text": text},
                    HTTP_ACCEPT_LANGUAGE="en")


def test_a_job_with_a_photo_and_a_voice_runs_with_both_decoded(login, astronaut_jpeg,
                                                               jobs_worker):
    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    voice = audio_upload(api.user_id, wav_bytes(1.5), seconds=1.5)
    response = generate(api, "test_voice", {"photo": photo, "voice": str(voice.id)})
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert job["state"] == "succeeded", job
    assert job["inputs"] == {"photo": photo, "voice": str(voice.id)}
    assert job["upload_id"] == photo  # the shorthand still names the photo
    heard = job["metadata"]
    assert heard["voice_seconds"] == 1.5 and heard["voice_dtype"] == "float32"
    assert abs(heard["voice_rms"] - 0.5 / math.sqrt(2)) < 0.01
    assert api.get(job["results"][0]["download_url"]).status_code in (200, 302)


@pytest.mark.django_db
def test_a_mode_refuses_a_missing_or_wrong_kind_input_by_name(login, astronaut_jpeg):
    api, other = login(), login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    voice = str(audio_upload(api.user_id, wav_bytes(0.2), seconds=0.2).id)
    foreign = str(audio_upload(other.user_id, wav_bytes(0.2), seconds=0.2).id)
    cases = [
        ({"photo": photo}, 400, "input_missing", "'voice'"),
        ({"photo": photo, "voice": photo}, 400, "input_wrong_kind", "'voice' takes an audio"),
        ({"photo": voice, "voice": voice}, 400, "input_wrong_kind", "'photo' takes an image"),
        ({"photo": photo, "voice": voice, "photos": [photo]}, 400, "unknown_input", "photos"),
        ({"photo": photo, "voice": foreign}, 404, "upload_not_found", "'voice'"),
        ({"photo": photo, "voice": [voice]}, 400, "invalid_input", "inputs.voice"),
    ]
    for inputs, status, code, named in cases:
        response = generate(api, "test_voice", inputs)
        assert response.status_code == status, (inputs, response.content)
        error = response.json()["error"]
        assert error["code"] == code and named in error["message"], (inputs, error)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_upload_id_and_inputs_photo_must_agree(login, astronaut_jpeg):
    api = login()
    first, second = (api.upload(astronaut_jpeg).json()["id"] for _ in range(2))
    response = api.post("/generate", {"mode": "test_slow", "upload_id": first,
                                      "inputs": {"photo": second}})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"


def test_a_mode_may_need_no_upload_at_all(login, jobs_worker):
    api = login()
    response = generate(api, "test_text", {}, text="a cat in a hat")
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert (job["state"], job["inputs"], job["upload_id"]) == ("succeeded", {}, None), job
    assert job["metadata"] == {"inputs": []}


@pytest.mark.django_db
def test_a_held_voice_holds_the_job(login, astronaut_jpeg):
    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    voice = audio_upload(api.user_id, wav_bytes(0.2), seconds=0.2)
    Upload.objects.filter(id=voice.id).update(moderation_state=ModerationState.HELD,
                                              moderation_case_id=4242)
    response = generate(api, "test_voice", {"photo": photo, "voice": str(voice.id)})
    assert response.json()["state"] == "held", response.content
    job = Job.objects.get()
    assert job.moderation_case_id == 4242
    assert set(JobInput.objects.values_list("name", flat=True)) == {"photo", "voice"}


@pytest.mark.django_db
def test_an_expired_voice_is_refused(login, astronaut_jpeg):
    from django.utils import timezone

    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    voice = audio_upload(api.user_id, wav_bytes(0.2), seconds=0.2)
    Upload.objects.filter(id=voice.id).update(expires_at=timezone.now())
    response = generate(api, "test_voice", {"photo": photo, "voice": str(voice.id)})
    assert response.status_code == 410 and response.json()["error"]["code"] == "upload_expired"
    assert "'voice'" in response.json()["error"]["message"]


def test_a_full_size_jpeg_is_decoded_at_the_working_size():
    big = Image.new("RGB", (4000, 3000), (200, 120, 40))
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=90)
    rgb = image_array(buffer.getvalue(), side=1024)
    assert rgb.dtype == np.uint8 and rgb.shape == (768, 1024, 3)
    assert np.abs(rgb[384, 512].astype(int) - (200, 120, 40)).max() <= 3


def test_a_stereo_44k_wav_becomes_16k_mono_float32():
    samples = audio_array(wav_bytes(0.5, rate=44_100, channels=2))
    assert samples.dtype == np.float32 and samples.ndim == 1 and len(samples) == 8000
    assert 0.45 < np.abs(samples).max() <= 0.51


@pytest.mark.django_db(transaction=True)
def test_a_job_with_two_held_inputs_waits_for_both_cases(login, astronaut_jpeg, settings):
    from django.contrib.auth import get_user_model

    from moderation.models import ModerationCase
    from moderation.services import case_approve

    settings.TASK_RUNNER = "inprocess"
    api, staff = login(), login(staff=True)
    photo = Upload.objects.get(id=api.upload(astronaut_jpeg).json()["id"])
    voice = audio_upload(api.user_id, wav_bytes(0.3), seconds=0.3)
    cases = {}
    for upload in (photo, voice):
        cases[upload.id] = ModerationCase.objects.create(subject_type="upload",
                                                         subject_id=str(upload.id)).id
        Upload.objects.filter(id=upload.id).update(moderation_state=ModerationState.HELD,
                                                   moderation_case_id=cases[upload.id])
    job_id = generate(api, "test_voice", {"photo": str(photo.id),
                                          "voice": str(voice.id)}).json()["job_id"]
    moderator = get_user_model().objects.get(id=staff.user_id)

    case_approve(case_id=Job.objects.get(id=job_id).moderation_case_id, moderator=moderator)
    assert api.get(f"/jobs/{job_id}").json()["state"] == "held"  # the other upload's turn
    case_approve(case_id=Job.objects.get(id=job_id).moderation_case_id, moderator=moderator)
    assert api.wait(job_id)["state"] == "succeeded"
