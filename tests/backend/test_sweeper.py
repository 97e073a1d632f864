"""The sweeper fails jobs running past their deadline (job_stuck) and nothing else; a restart
resumes the jobs a dead process left behind; a stale attempt never stores a second result set."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import override_settings
from django.utils import timezone

from backend.jobs import events, runner
from backend.jobs.execution import job_run
from backend.jobs.housekeeping import jobs_resume, jobs_sweep_stuck
from backend.jobs.models import Job, JobInput, JobState
from backend.jobs.modes import testing  # noqa: F401 - registers test_slow
from backend.uploads.services import retention_deadline


def make_job(api, upload_id=None, **fields) -> Job:
    values = {"mode": "test_slow", "params": {"steps": 4, "delay": 0.01},
              "expires_at": retention_deadline(), **fields}
    job = Job.objects.create(owner_id=api.user_id, upload_id=upload_id, **values)
    if upload_id is not None:
        JobInput.objects.create(job=job, name="photo", upload_id=upload_id)
    return job


@pytest.mark.django_db
def test_jobs_running_past_their_deadline_fail_with_job_stuck(login):
    api, now = login(), timezone.now()
    stuck = make_job(api, state=JobState.RUNNING, attempt_token="a1", attempts=1,
                     started_at=now - timedelta(minutes=10), deadline_at=now - timedelta(seconds=1))
    busy = make_job(api, state=JobState.RUNNING, attempt_token="b1", attempts=1,
                    started_at=now, deadline_at=now + timedelta(minutes=5))
    queued = make_job(api)
    done = make_job(api, state=JobState.SUCCEEDED, deadline_at=now - timedelta(hours=1))

    assert jobs_sweep_stuck(now=now) == 1

    stuck.refresh_from_db()
    assert (stuck.state, stuck.error_code, stuck.stage) == ("failed", "job_stuck", "failed")
    assert stuck.finished_at is not None and "try again" in stuck.error_message
    for job, state in ((busy, "running"), (queued, "queued"), (done, "succeeded")):
        job.refresh_from_db()
        assert job.state == state
    assert api.get(f"/jobs/{stuck.id}").json()["error"]["code"] == "job_stuck"


@pytest.mark.django_db(transaction=True)
def test_subscribers_hear_that_a_job_was_swept(login):
    api, now = login(), timezone.now()
    stuck = make_job(api, state=JobState.RUNNING, attempt_token="a1", attempts=1,
                     deadline_at=now - timedelta(seconds=1))
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.job_group(stuck.id), channel)

    with _publishing_loop():
        jobs_sweep_stuck(now=now)

    event = async_to_sync(layer.receive)(channel)
    assert (event["state"], event["error"]["code"]) == ("failed", "job_stuck")


@pytest.mark.django_db(transaction=True)
def test_a_restart_resumes_queued_jobs_and_jobs_a_dead_embedded_worker_left_running(
        login, astronaut_jpeg):
    api = login()
    upload = api.upload(astronaut_jpeg).json()["id"]
    queued = make_job(api, upload)
    orphan = make_job(api, upload, state=JobState.RUNNING, attempt_token="dead", attempts=1,
                      stage="warming", progress=40,
                      deadline_at=timezone.now() + timedelta(minutes=5))

    with override_settings(TASK_RUNNER="inprocess"):
        assert jobs_resume() == 2
        runner.wait_idle()

    for job, attempts in ((queued, 1), (orphan, 2)):
        job.refresh_from_db()
        # One picture and its thumbnail.
        assert (job.state, job.attempts, job.results.count()) == ("succeeded", attempts, 2)


@pytest.mark.django_db(transaction=True)
def test_an_attempt_overtaken_by_a_redelivery_stores_nothing(login, astronaut_jpeg):
    """Two deliveries of one job at once (a redelivery while the first worker still ran): the
    later claim owns the job and only its results are kept."""
    api = login()
    job = make_job(api, api.upload(astronaut_jpeg).json()["id"],
                   params={"steps": 20, "delay": 0.05})
    first = threading.Thread(target=_run, args=(job.id,))
    first.start()
    _wait_running(job)
    second = threading.Thread(target=_run, args=(job.id,))
    second.start()
    first.join(30)
    second.join(30)

    job.refresh_from_db()
    assert (job.state, job.attempts, job.results.count()) == ("succeeded", 2, 2)


def _run(job_id) -> None:
    from django.db import connection

    try:
        job_run(job_id=job_id)
    finally:
        connection.close()


def _wait_running(job, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state == JobState.RUNNING and job.progress > 0:
            return
        time.sleep(0.02)
    raise AssertionError("the first attempt never started")


class _publishing_loop:
    """The in-memory layer delivers on the loop it lives on (an ASGI server's); give it one."""

    def __enter__(self):
        import asyncio

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(_remember(), self.loop).result(5)
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        events._server_loop = None


async def _remember() -> None:
    events.remember_server_loop()
