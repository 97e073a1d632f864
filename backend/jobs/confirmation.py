"""A voice job's confirmation by its owner (``POST /jobs/{id}/confirm``): go on and draw, correct
the words and be asked again, or cancel; and the sweep that cancels what nobody confirmed in
time (code ``confirmation_timeout``)."""
from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.jobs import events
from backend.jobs.creation import job_dispatch, text_check
from backend.jobs.execution import (delete_objects, job_await_confirmation, job_finish, job_held,
                                    outputs_put)
from backend.jobs.models import Job, JobState, Result
from backend.jobs.modes.voice import description_of, question_output
from backend.jobs.presenter import result_payloads
from backend.jobs.selectors import job_get
from core.errors import BadRequest, ServiceError, Unavailable
from inference.errors import InferenceError
from moderation.services import BLOCK, REVIEW, moderate_text

log = logging.getLogger(__name__)


def job_confirm(*, user, job_id, confirm: bool | None = None, text: str | None = None) -> Job:
    """``confirm`` true: the job is queued to draw; false: it is cancelled. ``text``: the
    description replaced by these words, screened, and asked about again."""
    job = job_get(user=user, job_id=job_id)
    if text is not None:
        return _job_correct(job, text.strip())
    with transaction.atomic():
        current = _locked_awaiting(job.id)
        if not confirm:
            current.message = ""
            job_finish(current, state=JobState.CANCELLED)
            return current
        current.metadata = {**current.metadata, "confirmed": True}
        current.state, current.stage, current.progress = JobState.QUEUED, "queued", 0
        current.message, current.deadline_at = "", None
        current.save()
        transaction.on_commit(lambda: job_dispatch(job=current))
    events.publish(current)
    return current


def _locked_awaiting(job_id) -> Job:
    job = Job.objects.select_for_update().get(id=job_id)
    _check_awaiting(job)
    return job


def _check_awaiting(job: Job) -> None:
    if job.state != JobState.AWAITING_CONFIRMATION:
        raise ServiceError(_("This job is not waiting for a confirmation (it is %(state)s).")
                           % {"state": job.state},
                           code="not_awaiting_confirmation", status=409)


def _job_correct(job: Job, text: str) -> Job:
    if not text:
        raise BadRequest(_("Send the corrected description in text."), code="text_required")
    text_check(text)
    _check_awaiting(job)  # before any work; checked again under the lock
    verdict = moderate_text(text=text, user=job.owner, subject=f"{job.mode}_text")
    if verdict.decision == BLOCK:
        raise ServiceError(verdict.message or _("This text is not allowed; try other words."),
                           code="text_blocked", status=422)
    try:
        metadata, wav = description_of(text)
    except InferenceError as exc:  # espeak-ng missing or failing: nothing was changed
        log.warning("confirmation of job %s: %s", job.id, exc.message)  # the operator's detail
        raise Unavailable(_("The spoken question cannot be made right now; try again "
                            "shortly."), code=exc.code) from exc
    rows: list[Result] = []
    try:
        outputs_put(job, [question_output(metadata, wav)], rows)
        with transaction.atomic():
            current = _locked_awaiting(job.id)
            earlier = list(current.results.filter(kind="question"))
            current.results.filter(kind="question").delete()
            Result.objects.bulk_create(rows)
            current.text, current.metadata = text, metadata
            if verdict.decision == REVIEW:
                job_held(current, verdict.case_id)  # released, it is asked again
            else:
                job_await_confirmation(current)
            current.save()
    except BaseException:
        delete_objects(rows)
        raise
    delete_objects(earlier)
    events.publish(current, results=result_payloads(current))
    return current


def jobs_cancel_unconfirmed(*, now: datetime | None = None) -> int:
    """Cancel jobs whose owner did not confirm within VOICE_CONFIRM_TIMEOUT."""
    now = now or timezone.now()
    minutes = max(1, round(settings.VOICE_CONFIRM_TIMEOUT / 60))
    count = 0
    for job in Job.objects.filter(state=JobState.AWAITING_CONFIRMATION, deadline_at__lt=now):
        with transaction.atomic():
            current = Job.objects.select_for_update().filter(id=job.id).first()
            if (current is None or current.state != JobState.AWAITING_CONFIRMATION
                    or current.deadline_at >= now):
                continue  # confirmed, corrected or cancelled meanwhile
            current.message = ""
            job_finish(current, state=JobState.CANCELLED, code="confirmation_timeout",
                       message=f"This description was not confirmed within {minutes} minutes; "
                               "describe it again.")
            count += 1
    if count:
        log.info("sweeper: cancelled %d unconfirmed jobs", count)
    return count
