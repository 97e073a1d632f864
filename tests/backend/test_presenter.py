"""What a person reads about a job: words for its step, in English and Chinese, never our
stage names; a job's own message (a question) wins."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from backend.accounts.services import account_for_openid
from backend.jobs.models import Job, JobState
from backend.jobs.presenter import STAGE_WORDS, job_event, job_payload

pytestmark = pytest.mark.django_db


def _job(**fields) -> Job:
    user = account_for_openid(openid="presenter-test")
    return Job.objects.create(owner=user, mode="sticker",
                              expires_at=timezone.now() + timedelta(days=1), **fields)


@pytest.mark.parametrize("stage", ["cutout", "detect", "transcribe", "fuse", "render"])
def test_a_running_job_says_its_step_in_words(stage):
    job = _job(state=JobState.RUNNING, stage=stage, progress=40)
    for shown in (job_payload(job), job_event(job)):
        assert (shown["message"], shown["message_zh"]) == STAGE_WORDS[stage]
        assert shown["message"] != stage and shown["stage"] == stage


def test_an_unknown_step_still_reads_as_words_and_the_jobs_own_message_wins():
    running = _job(state=JobState.RUNNING, stage="some_new_step")
    assert job_payload(running)["message"] == "Working on it"
    assert job_payload(running)["message_zh"] == "处理中"
    asking = _job(state=JobState.RUNNING, stage="describe", message="您想生成一只猫吗？")
    assert job_event(asking)["message"] == job_event(asking)["message_zh"] == "您想生成一只猫吗？"


def test_held_queued_succeeded_and_failed_jobs():
    assert job_payload(_job(state=JobState.QUEUED, stage="queued"))["message_zh"] == "排队中"
    assert job_payload(_job(state=JobState.HELD, stage="review"))["message"] == \
        "Waiting for a moderator"
    assert job_payload(_job(state=JobState.SUCCEEDED, stage="done"))["message_zh"] == "完成"
    failed = job_payload(_job(state=JobState.FAILED, stage="failed", error_code="no_face",
                              error_message="No face found."))
    assert failed["message"] == "" and failed["error"]["code"] == "no_face"


def test_a_thumbnail_is_a_small_webp_of_the_first_picture():
    """Galleries load the thumbnail, not the 600-KB PNG: at most 256 px and 60 KB, even for a
    noisy picture that compresses badly; nothing to show for a job without a picture."""
    import io

    import numpy as np
    from PIL import Image

    from backend.jobs.pipelines import (THUMBNAIL_MAX_BYTES, THUMBNAIL_SIDE, Output,
                                        thumbnail_of)

    noise = Image.fromarray(np.random.default_rng(1).integers(0, 256, (1024, 768, 3), np.uint8))
    wav = Output(kind="question", data=b"RIFF", format="wav", content_type="audio/wav",
                 width=0, height=0, engine="e", image=None)
    picture = Output.from_image(noise, kind="picture", engine="e", format="jpeg")
    thumb = thumbnail_of([wav, picture])
    assert thumb.kind == "thumbnail" and thumb.content_type == "image/webp"
    assert len(thumb.data) <= THUMBNAIL_MAX_BYTES
    with Image.open(io.BytesIO(thumb.data)) as decoded:
        assert decoded.size == (THUMBNAIL_SIDE * 3 // 4, THUMBNAIL_SIDE)
    assert thumb.image is None  # decided with its source, not moderated again
    assert thumbnail_of([wav]) is None
