"""Retention and recovery: delete what is older than RETENTION_HOURS, fail jobs stuck past
their deadline, resume jobs a dead process left queued, and run the other apps' recoveries
(registered in ``recoveries``) when a worker starts and with every sweep."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from backend.accounts.models import AuthToken
from backend.jobs.confirmation import jobs_cancel_unconfirmed
from backend.jobs.creation import job_dispatch
from backend.jobs.execution import job_fail
from backend.jobs.models import Job, JobState, Result
from backend.jobs.selectors import EXPIRED_JOB
from backend.talking.character import pictures_purge
from core.storage import get_storage
from backend.uploads.models import Upload

log = logging.getLogger(__name__)

# What other apps must finish after a process died (the Official Account's unsent messages and
# unfinished deletions), registered by those apps (jobs imports none of them). Each one is
# idempotent: every worker runs them at its start, and both schedulers run them with the sweep.
recoveries: list[Callable[[], object]] = []


@dataclass
class PurgeReport:
    results: int = 0
    uploads: int = 0
    jobs_expired: int = 0
    character_pictures: int = 0  # the live talking heads' stored pictures
    failures: list[str] = field(default_factory=list)


def purge_expired(*, now: datetime | None = None) -> PurgeReport:
    """Delete the stored object of every upload and result past its deadline (a result also
    goes with its expired job), then the upload's row; a result's row stays as a tombstone
    without its object or metadata, so a later download answers 410 ``expired``. A row whose
    object could not be deleted stays as it was, so the next run tries again."""
    now = now or timezone.now()
    report = PurgeReport()
    due = {
        "results": Result.objects.filter(Q(expires_at__lte=now) | Q(job__expires_at__lte=now))
                                 .exclude(storage_key=""),
        "uploads": Upload.objects.filter(expires_at__lte=now),
    }
    storage = get_storage()
    for counter, rows in due.items():
        for row in rows.iterator():
            try:
                storage.delete(row.storage_key)
            except Exception as exc:  # noqa: BLE001
                report.failures.append(f"{row.storage_key}: {exc}")
                continue
            if isinstance(row, Result):
                Result.objects.filter(pk=row.pk).update(storage_key="", metadata={},
                                                        moderation_case_id=None)
            else:
                row.delete()
            setattr(report, counter, getattr(report, counter) + 1)
    report.character_pictures, failures = pictures_purge(now=now)
    report.failures += failures
    report.jobs_expired = (Job.objects.filter(expires_at__lte=now)
                           .exclude(state=JobState.EXPIRED)
                           .update(**EXPIRED_JOB, updated_at=now))
    AuthToken.objects.filter(expires_at__lte=now).delete()
    if report.failures:
        log.warning("purge: %d deletions failed, retried next run", len(report.failures))
    return report


def jobs_sweep_stuck(*, now: datetime | None = None) -> int:
    """Fail jobs still running past their deadline (their worker died or hung, and no
    redelivery took them over) with the code ``job_stuck``; and cancel jobs left awaiting
    confirmation past theirs (``confirmation_timeout``): both schedulers run this sweep."""
    now = now or timezone.now()
    jobs_cancel_unconfirmed(now=now)
    count = 0
    for job in Job.objects.filter(state=JobState.RUNNING, deadline_at__lt=now):
        # With the attempt's token: an attempt that took the job over meanwhile is left alone.
        job_fail(job=job, code="job_stuck",
                 message="This job stopped responding; try again.", token=job.attempt_token)
        count += 1
    if count:
        log.warning("sweeper: failed %d stuck jobs", count)
    return count


def jobs_resume(*, older_than: timedelta = timedelta(0)) -> int:
    """Dispatch queued jobs (and, embedded, jobs left running by a dead process) again."""
    cutoff = timezone.now() - older_than
    if settings.TASK_RUNNER == "inprocess":
        Job.objects.filter(state=JobState.RUNNING).update(state=JobState.QUEUED, stage="queued")
    jobs = list(Job.objects.filter(state=JobState.QUEUED, created_at__lte=cutoff))
    for job in jobs:
        job_dispatch(job=job)
    return len(jobs)


def housekeeping(*, now: datetime | None = None) -> PurgeReport:
    report = purge_expired(now=now)
    jobs_sweep_stuck(now=now)
    return report


def recoveries_run() -> None:
    """One pass of every registered recovery; one that fails is logged and tried next time."""
    for recover in recoveries:
        try:
            recover()
        except Exception:  # noqa: BLE001 - the next pass tries again
            log.exception("recovery %s failed", getattr(recover, "__name__", recover))


def recoveries_start() -> threading.Thread:
    """The recoveries once, in the background: a worker starting (in-process, or a Celery
    process) does not wait for WeChat to answer before it takes jobs."""
    def run():
        try:
            recoveries_run()
        finally:
            close_old_connections()

    thread = threading.Thread(target=run, name="recoveries", daemon=True)
    thread.start()
    return thread
