"""A real Celery worker dies mid-job (SIGKILL) and the job still completes, once, with one result
set; a job queued while no worker runs is done by the worker started later. Services stack only:
the workers here take their jobs from a Redis database of their own (the shared test worker
never sees them), with a visibility timeout of a few seconds so a dead worker's job comes back
quickly."""
from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
from django.conf import settings

from tests.conftest import STACK, start_celery_worker, stop_process

pytestmark = [pytest.mark.services,
              pytest.mark.skipif(STACK != "services", reason="needs Redis and Celery workers")]

VISIBILITY = 4


def own_broker() -> str:
    """The test Redis with the next database number: a broker no other worker reads."""
    parts = urlsplit(settings.REDIS_URL)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


@pytest.fixture
def worker_env(transactional_db):
    from tests.backend.test_websocket import database_url

    return database_url(), {"MX_TEST_MODES": "1", "CELERY_BROKER_URL": own_broker(),
                            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)}


@pytest.fixture
def start_worker(worker_env, tmp_path):
    started = []

    def start(name: str):
        url, env = worker_env
        proc = start_celery_worker(url, tmp_path / f"{name}.log", concurrency=1, extra_env=env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_process(proc)


@pytest.fixture
def slow_job(login, astronaut_jpeg):
    """A queued ``test_slow`` job of ~4 s, sent to the workers' own broker."""
    from backend.celery import app
    from backend.jobs.models import Job, JobInput
    from backend.jobs.tasks import run_job_task
    from backend.uploads.services import retention_deadline

    api = login()
    upload = api.upload(astronaut_jpeg).json()
    job = Job.objects.create(owner_id=api.user_id, upload_id=upload["id"], mode="test_slow",
                             params={"steps": 40, "delay": 0.1}, expires_at=retention_deadline())
    JobInput.objects.create(job=job, name="photo", upload_id=upload["id"])
    with app.connection_for_write(own_broker()) as connection:
        run_job_task.apply_async(args=[str(job.id)], queue="cpu", connection=connection)
    return job


def wait_for(job, predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if predicate(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{job} did not get there: {job.state} {job.stage} {job.progress}")


def assert_done_once(job) -> None:
    job = wait_for(job, lambda j: j.is_terminal, timeout=90)
    assert (job.state, job.error_code) == ("succeeded", "")
    assert job.attempts == 2
    # One picture and its thumbnail, stored once: nothing left from the killed attempt.
    assert sorted(job.results.values_list("kind", flat=True)) == ["image", "thumbnail"]
    assert {r.engine for r in job.results.all()} == {"test_slow/1"}


def test_a_job_whose_worker_process_is_killed_is_redelivered_and_completes_once(
        start_worker, slow_job):
    parent = start_worker("worker")
    wait_for(slow_job, lambda j: j.state == "running" and j.progress >= 20)
    # The prefork child running the job dies; the parent rejects the message back to the queue.
    (child,) = psutil.Process(parent.pid).children()
    os.kill(child.pid, signal.SIGKILL)
    assert_done_once(slow_job)


def test_a_job_whose_whole_worker_is_killed_is_done_by_the_next_worker(start_worker, slow_job):
    first = start_worker("first")
    wait_for(slow_job, lambda j: j.state == "running" and j.progress >= 20)
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker, as when its machine dies
    first.wait()
    stuck_at = slow_job.progress
    time.sleep(1)
    slow_job.refresh_from_db()
    assert (slow_job.state, slow_job.progress) == ("running", stuck_at)

    start_worker("second")  # finds the unacknowledged job once its visibility timeout passed
    assert_done_once(slow_job)


def test_a_job_queued_while_no_worker_runs_waits_in_redis_for_the_next_one(start_worker, slow_job):
    time.sleep(1)
    slow_job.refresh_from_db()
    assert slow_job.state == "queued"
    start_worker("late")
    job = wait_for(slow_job, lambda j: j.is_terminal, timeout=90)
    assert (job.state, job.attempts, job.results.count()) == ("succeeded", 1, 2)  # + thumbnail
