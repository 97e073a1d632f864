"""Celery tasks: thin interfaces over the job services."""
from __future__ import annotations

from celery import shared_task

from backend.jobs import housekeeping, services


@shared_task(name="backend.jobs.tasks.run_job_task", acks_late=True, reject_on_worker_lost=True)
def run_job_task(job_id: str) -> None:
    services.job_run(job_id=job_id)


@shared_task(name="backend.jobs.tasks.purge_expired_task")
def purge_expired_task() -> dict:
    report = housekeeping.housekeeping()
    return {"results": report.results, "uploads": report.uploads,
            "jobs_expired": report.jobs_expired, "failures": len(report.failures)}
