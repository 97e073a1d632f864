"""Celery tasks: thin interfaces over the job services."""
from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backend.jobs import housekeeping
from backend.jobs.creation import RUN_JOB_TASK
from backend.jobs.execution import job_run
from backend.memory import release_memory

if settings.TEST_MODES:
    from backend.jobs.modes import testing  # noqa: F401 - registers the test-only modes


@shared_task(name=RUN_JOB_TASK, acks_late=True, reject_on_worker_lost=True)
def run_job_task(job_id: str) -> None:
    try:
        job_run(job_id=job_id)
    finally:
        release_memory()  # a worker process lives for many jobs: keep it at its idle size


@shared_task(name="backend.jobs.tasks.purge_expired_task")
def purge_expired_task() -> dict:
    report = housekeeping.housekeeping()
    return {"results": report.results, "uploads": report.uploads,
            "jobs_expired": report.jobs_expired,
            "character_pictures": report.character_pictures, "failures": len(report.failures)}


@shared_task(name="backend.jobs.tasks.sweep_stuck_task")
def sweep_stuck_task() -> int:
    return housekeeping.jobs_sweep_stuck()


@shared_task(name="backend.jobs.tasks.recover_task")
def recover_task() -> None:
    housekeeping.recoveries_run()
