"""Reading jobs and results, always scoped to their owner."""
from __future__ import annotations

from backend.errors import NotFound
from backend.jobs.models import Job, Result


def job_list(*, user):
    return Job.objects.filter(owner=user).prefetch_related("results").order_by("-created_at")


def job_get(*, user, job_id) -> Job:
    try:
        return Job.objects.prefetch_related("results").get(owner=user, id=job_id)
    except Job.DoesNotExist:
        raise NotFound("No such job.", code="job_not_found") from None


def result_get(*, user, result_id) -> Result:
    result = Result.objects.select_related("job").filter(owner=user, id=result_id).first()
    if result is None:
        raise NotFound("No such result.", code="result_not_found")
    return result
