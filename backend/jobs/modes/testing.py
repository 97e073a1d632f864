"""Test-only mode ``test_slow``: a deterministic job that reports progress over ``steps`` steps of
``delay`` seconds in two stages and returns the photo shrunk to 64 px. Registered when
MX_TEST_MODES=1 (settings.TEST_MODES) by the web app (backend/asgi.py) and the Celery worker
(backend/jobs/tasks.py), so a worker process knows it too; importing this module registers it."""
from __future__ import annotations

import time

from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import Output, Pipeline, PipelineInput, register

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
