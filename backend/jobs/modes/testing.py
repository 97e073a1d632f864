"""Test-only modes. ``test_slow``: a deterministic job that reports progress over ``steps`` steps
of ``delay`` seconds in two stages and returns the photo shrunk to 64 px. ``test_voice``: a photo
and a voice recording in, the photo at 64 px out with what it heard in its metadata.
``test_text``: no upload at all, a typed description in. Registered when
MX_TEST_MODES=1 (settings.TEST_MODES) by the web app (backend/asgi.py) and the Celery worker
(backend/jobs/tasks.py), so a worker process knows it too; importing this module registers it."""
from __future__ import annotations

import time

import numpy as np
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import (PHOTO, SAMPLE_RATE, InputSpec, Output, Pipeline,
                                   PipelineInput, register)
from backend.uploads.models import UploadKind

ENGINE = "test_slow/1"


class SlowParams(serializers.Serializer):
    steps = serializers.IntegerField(min_value=1, max_value=1000, default=20)
    delay = serializers.FloatField(min_value=0.0, max_value=5.0, default=0.05)


def run(job: PipelineInput) -> list[Output]:
    steps, delay = job.params["steps"], job.params["delay"]
    for step in range(1, steps + 1):
        time.sleep(delay)
        job.progress("warming" if step <= steps // 2 else "painting", step / (steps + 1))
    image = Image.fromarray(job.image)
    image.thumbnail((64, 64))
    return [Output.from_image(image, kind="image", engine=ENGINE, metadata={"steps": steps})]


register(Pipeline(mode="test_slow", queue="cpu", params=SlowParams, run=run,
                  description="Test only: slow, deterministic, visible progress."))


class NoParams(serializers.Serializer):
    pass


def run_voice(job: PipelineInput) -> list[Output]:
    voice = job.inputs["voice"]
    image = Image.fromarray(job.image)
    image.thumbnail((64, 64))
    heard = {"voice_seconds": round(len(voice) / SAMPLE_RATE, 3),
             "voice_rms": round(float(np.sqrt(np.mean(np.square(voice)))), 4),
             "voice_dtype": str(voice.dtype)}
    return [Output.from_image(image, kind="image", engine="test_voice/1", metadata=heard)]


def run_text(job: PipelineInput) -> list[Output]:
    image = Image.new("RGB", (32, 32), (len(job.text) * 7 % 256, 90, 160))
    return [Output.from_image(image, kind="image", engine="test_text/1",
                              metadata={"inputs": sorted(job.inputs)})]


register(Pipeline(mode="test_voice", queue="cpu", params=NoParams, run=run_voice,
                  inputs=(PHOTO, InputSpec("voice", kind=UploadKind.AUDIO)),
                  description="Test only: a photo and a voice."))
register(Pipeline(mode="test_text", queue="cpu", params=NoParams, run=run_text, inputs=(),
                  text_required=True, description="Test only: a typed description, no upload."))
