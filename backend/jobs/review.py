"""A moderator's decisions on what held a job: released, it runs or succeeds; rejected, its
results go."""
from __future__ import annotations

from django.db import transaction

from backend.jobs import events
from backend.jobs.creation import job_dispatch
from backend.jobs.execution import delete_objects, job_await_confirmation, job_finish
from backend.jobs.models import Job, JobState
from backend.jobs.presenter import result_payloads
from backend.uploads.models import ModerationState, Upload
from moderation.models import CaseState
from moderation.selectors import case_get


def job_release(*, job: Job) -> None:
    """A moderator approved something that held this job. Once nothing holds it any more, a
    job held before running is queued, and a job whose results were held succeeds."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if current.state != JobState.HELD:
            return
        waiting = Upload.objects.filter(job_inputs__job=current,
                                        moderation_state=ModerationState.HELD).first()
        if waiting is not None:
            current.moderation_case_id = waiting.moderation_case_id  # the next upload's turn
            current.save(update_fields=["moderation_case_id", "updated_at"])
            return
        text_case_id = current.metadata.get("text_case_id")
        if text_case_id and current.moderation_case_id != text_case_id:
            text_case = case_get(case_id=text_case_id)
            if text_case is not None and text_case.state == CaseState.REJECTED:
                transaction.on_commit(lambda: job_reject(job=current))
                return
            if text_case is not None and text_case.state == CaseState.PENDING:
                current.moderation_case_id = text_case_id  # now the text's turn
                current.save(update_fields=["moderation_case_id", "updated_at"])
                return
        results = current.results.all()
        if results.filter(moderation_state=ModerationState.HELD,
                          moderation_case_id__isnull=False).exists():
            return  # another output's case is still open
        if results.exists():
            results.update(moderation_state=ModerationState.CLEAR)
            if current.metadata.get("confirmed") is False:
                # A first pass held for what was said: now its owner is asked.
                job_await_confirmation(current)
                current.save()
                transaction.on_commit(lambda: events.publish(
                    current, results=result_payloads(current)))
            else:
                job_finish(current, state=JobState.SUCCEEDED)
            return
        current.state, current.stage, current.progress = JobState.QUEUED, "queued", 0
        current.message = ""
        current.save()
    transaction.on_commit(lambda: job_dispatch(job=current))


def job_reject(*, job: Job) -> None:
    """A moderator refused something this job holds: its results go at once, it is blocked."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if current.state != JobState.HELD:
            return
        delete_objects(list(current.results.all()))
        current.results.all().delete()
        current.message = ""
        job_finish(current, state=JobState.BLOCKED, code="content_rejected",
                   message="A moderator found this content not allowed.")
