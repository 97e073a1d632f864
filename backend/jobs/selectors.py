"""Reading jobs and results, always scoped to their owner, as the owner may see them: past its
deadline a job or result is gone for the user at once, whatever the purge schedule."""
from __future__ import annotations

import copy
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound
from backend.jobs.models import Job, JobState, Result
from backend.uploads.models import ModerationState

# What an expired job keeps: the purge writes these fields, and the presenters show them from
# the deadline on, so nothing the user made or typed outlives ``expires_at`` in an answer.
EXPIRED_JOB = {"state": JobState.EXPIRED, "stage": "expired", "params": {}, "text": "",
               "metadata": {}, "message": "", "error_code": "", "error_message": ""}


def job_list(*, user):
    return (Job.objects.filter(owner=user).prefetch_related("results", "inputs")
            .order_by("-created_at"))


def job_get(*, user, job_id) -> Job:
    try:
        return Job.objects.prefetch_related("results", "inputs").get(owner=user, id=job_id)
    except Job.DoesNotExist:
        raise NotFound(_("No such job."), code="job_not_found") from None


def result_list(*, user):
    """The user's results they may download now, newest first."""
    now = timezone.now()
    return (Result.objects.filter(owner=user, job__state=JobState.SUCCEEDED,
                                  moderation_state=ModerationState.CLEAR, expires_at__gt=now,
                                  job__expires_at__gt=now)
            .exclude(storage_key="").select_related("job").order_by("-created_at", "id"))


def result_get(*, user, result_id) -> Result:
    """The user's result, also once expired or purged (its row stays as a tombstone), so that
    callers can answer 410 ``expired`` rather than a misleading 404."""
    result = Result.objects.select_related("job").filter(owner=user, id=result_id).first()
    if result is None:
        raise NotFound(_("No such result."), code="result_not_found")
    return result


def job_is_expired(job: Job, *, now: datetime | None = None) -> bool:
    return job.state == JobState.EXPIRED or job.expires_at <= (now or timezone.now())


def result_is_expired(result: Result, *, now: datetime | None = None) -> bool:
    """A result goes with its own deadline or its job's, whichever comes first."""
    now = now or timezone.now()
    return result.expires_at <= now or job_is_expired(result.job, now=now)


def job_as_seen(job: Job, *, now: datetime | None = None) -> Job:
    """The job as its owner sees it: past its deadline, a copy carrying the tombstone's fields
    (the row itself is left to the purge)."""
    if job.state == JobState.EXPIRED or not job_is_expired(job, now=now):
        return job
    seen = copy.copy(job)
    seen.__dict__.update(EXPIRED_JOB)
    return seen
