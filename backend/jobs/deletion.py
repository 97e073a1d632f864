"""Deleting on request what a user made: one job with its results, or everything of a user.

Objects go first, then rows: a storage failure answers 503 ``storage_unavailable`` with the rows
kept, so the same call, retried, finishes the work. A job still queued or running is cancelled
first: its worker's attempt token no longer matches, so it stores nothing and deletes what it
had put (see ``execution``)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from backend.jobs.models import Job, JobState, Result
from backend.stickers.models import Rating
from backend.talking.character import character_forget
from core.errors import NotFound, Unavailable
from core.storage import StorageError, get_storage
from moderation.models import CaseEvent, ModerationCase, SubjectType

ACTIVE_STATES = (JobState.QUEUED, JobState.HELD, JobState.RUNNING)
CANCELLED = {"state": JobState.FAILED, "stage": JobState.FAILED, "attempt_token": "",
             "error_code": "job_cancelled", "error_message": "This job was deleted."}


def jobs_cancel(jobs) -> int:
    """Cancel the active jobs of a queryset: a worker running one stops at its next progress
    report and keeps nothing."""
    return jobs.filter(state__in=ACTIVE_STATES).update(**CANCELLED)


def job_delete(*, user, job_id) -> None:
    """Delete the user's job, its results' objects and rows, and the ratings of them."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(owner=user, id=job_id).first()
        if job is None:
            raise NotFound(_("No such job."), code="job_not_found")
        jobs_cancel(Job.objects.filter(id=job.id))
    result_ids = list(job.results.values_list("id", flat=True))
    _delete_objects(f"u/{user.pk}/results/{job.id}/")
    with transaction.atomic():
        case_ids = {job.moderation_case_id, job.metadata.get("text_case_id")} - {None}
        cases_forget(ModerationCase.objects.filter(
            Q(subject_type=SubjectType.RESULT, subject_id__in=[str(i) for i in result_ids])
            | Q(subject_type=SubjectType.TEXT, id__in=case_ids)), reason="the user deleted the job")
        Rating.objects.filter(result_id__in=result_ids).delete()
        job.delete()  # its results and inputs go with it


def user_content_delete(*, user) -> None:
    """Everything of a user in storage and the database, except the user and their tokens:
    jobs cancelled, every object under ``u/<id>/`` deleted, the live character forgotten, then
    uploads, jobs, results and ratings; their moderation cases keep the audit row without the content."""
    jobs_cancel(Job.objects.filter(owner=user))
    _delete_objects(f"u/{user.pk}/")  # the live character's pictures too
    character_forget(user_id=user.pk)
    with transaction.atomic():
        cases_forget(ModerationCase.objects.filter(user=user),
                     reason="the user deleted the account")
        Rating.objects.filter(user=user).delete()
        Result.objects.filter(owner=user).delete()
        Job.objects.filter(owner=user).delete()
        user.uploads.all().delete()


def cases_forget(cases, *, reason: str) -> None:
    """Keep each case's audit (verdict, labels, decision) without the content: no text, no
    preview, no matched words; an event says why."""
    for case in cases.exclude(preview_key="", text=""):
        case.labels = [{k: v for k, v in label.items() if k != "text"} for label in case.labels]
        case.text, case.preview_key = "", ""
        case.save(update_fields=["labels", "text", "preview_key"])
        CaseEvent.objects.create(case=case, action="content_deleted", reason=reason)


def _delete_objects(prefix: str) -> None:
    try:
        get_storage().delete_prefix(prefix)
    except StorageError as exc:
        raise Unavailable(_("Storage is unavailable; try the deletion again shortly."),
                          code="storage_unavailable") from exc
