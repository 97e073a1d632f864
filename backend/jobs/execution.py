"""Running a job: the pipeline with its progress, then its outputs stored and moderated, or
the job failed. Celery tasks and the in-process worker both call ``job_run``; it is safe to call
twice for one job (redelivery after a worker died)."""
from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from backend.jobs import events
from backend.jobs.models import HELD_MESSAGE, Job, JobState, Result
from backend.jobs.decoding import audio_array, image_array
from backend.jobs.pipelines import Output, Pipeline, PipelineInput, pipeline_for, thumbnail_of
from backend.jobs.presenter import result_payloads
from backend.uploads.models import ModerationState, UploadKind
from backend.uploads.services import retention_deadline
from core.errors import Gone, ServiceError
from core.storage import get_storage
from inference.errors import InferenceError
from moderation.services import BLOCK, REVIEW, moderate_image, moderate_text

log = logging.getLogger(__name__)


class ProgressReporter:
    """The ``progress(stage, fraction)`` callback a pipeline gets: it writes the job row and
    publishes an event, at most ``max_rate`` times a second except when the stage changes."""

    def __init__(self, job: Job, token: str, max_rate: float | None = None) -> None:
        self.job, self.token = job, token
        self.min_interval = 1.0 / (max_rate or settings.JOB_PROGRESS_MAX_RATE)
        self.last_sent = 0.0
        # Celery enforces the time limits itself; the in-process worker has only this
        # cooperative one, checked whenever the pipeline reports progress.
        self.deadline = time.monotonic() + settings.JOB_SOFT_TIME_LIMIT

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now > self.deadline:
            raise ServiceError("This took too long; try a smaller photo.", code="job_timeout")
        percent = max(1, min(99, int(round(fraction * 100))))
        changed_stage = stage != self.job.stage
        if not changed_stage and (now - self.last_sent < self.min_interval
                                  or percent <= self.job.progress):
            return
        self.last_sent = now
        self.job.stage, self.job.progress = stage[:40], max(percent, self.job.progress)
        updated = Job.objects.filter(id=self.job.id, attempt_token=self.token,
                                     state=JobState.RUNNING).update(
            stage=self.job.stage, progress=self.job.progress, updated_at=timezone.now())
        if updated:
            events.publish(self.job)
        elif not Job.objects.filter(id=self.job.id, attempt_token=self.token).exists():
            # Deleted, cancelled or taken over by a newer attempt: stop working for nothing.
            raise ServiceError("This job was cancelled.", code="job_cancelled")


@translation.override("en")  # what a job stores (errors, verdicts) stays English, as before
def job_run(*, job_id) -> None:
    """Run one job to its end. Safe to call again for the same job: a finished job is left
    alone, and only the latest attempt may store results."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.state not in (JobState.QUEUED, JobState.RUNNING):
            return
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job_finish(job, state=JobState.FAILED, code="too_many_attempts",
                       message="This job failed repeatedly; try another photo.")
            return
        now = timezone.now()
        job.state, job.stage, job.progress = JobState.RUNNING, "starting", 0
        job.attempts += 1
        job.attempt_token = token
        job.started_at = now
        job.deadline_at = now + timedelta(seconds=settings.JOB_DEADLINE_SECONDS)
        job.save()
    events.publish(job)
    try:
        outputs = _run_pipeline(job, token)
        _store_outputs(job, token, outputs)
    except InferenceError as exc:
        job_fail(job=job, code=exc.code, message=exc.message, token=token)
    except ServiceError as exc:
        job_fail(job=job, code=exc.code, message=exc.message, token=token)
    except Exception as exc:  # noqa: BLE001
        if type(exc).__name__ == "SoftTimeLimitExceeded":
            job_fail(job=job, code="job_timeout",
                     message="This took too long; try a smaller photo.", token=token)
            return
        log.exception("job %s crashed", job.id)
        job_fail(job=job, code="internal_error",
                 message="Something went wrong while generating; try again.", token=token)


def _run_pipeline(job: Job, token: str) -> list[Output]:
    pipeline = pipeline_for(job.mode)
    reporter = ProgressReporter(job, token)
    outputs = pipeline.run(PipelineInput(inputs=_decoded_inputs(job, pipeline),
                                         params=job.params, text=job.text, progress=reporter,
                                         metadata=job.metadata))
    thumbnail = thumbnail_of(outputs)
    return outputs + [thumbnail] if thumbnail is not None else outputs


def _decoded_inputs(job: Job, pipeline: Pipeline) -> dict:
    rows = list(job.inputs.select_related("upload"))
    declared = {spec.name: spec for spec in pipeline.inputs}
    missing = [spec.name for spec in pipeline.inputs
               if spec.required and not any(row.name == spec.name for row in rows)]
    if missing or any(row.upload.expires_at <= timezone.now() for row in rows):
        raise Gone("An upload of this job has expired or was deleted; upload it again.",
                   code="upload_expired")
    storage, side = get_storage(), pipeline.working_side or settings.UPLOAD_WORKING_SIDE
    decoded: dict = {}
    for row in rows:
        data = storage.get(row.upload.storage_key)
        value = (audio_array(data) if row.upload.kind == UploadKind.AUDIO
                 else image_array(data, side=side, keep_alpha=pipeline.keeps_alpha))
        if declared[row.name].many:
            decoded.setdefault(row.name, []).append(value)
        else:
            decoded[row.name] = value
    return decoded


def _store_outputs(job: Job, token: str, outputs: list[Output]) -> None:
    asking = pipeline_for(job.mode).confirm_first and not job.metadata.get("confirmed")
    # Words heard in a recording are screened like typed ones before anyone is asked about them
    # (typed ones were screened when the job was created).
    spoken = asking and outputs and outputs[0].metadata.get("source") == "voice"
    heard = spoken and outputs[0].metadata.get("transcript")
    text_case = None
    if heard:
        verdict = moderate_text(text=heard, user=job.owner, subject=f"{job.mode}_transcript")
        if verdict.decision == BLOCK:
            job_fail(job=job, code="text_blocked", token=token, state=JobState.BLOCKED,
                     message=verdict.message or "What was said is not allowed; try other words.")
            return
        text_case = verdict.case_id if verdict.decision == REVIEW else None
    rows: list[Result] = []
    try:
        outputs_put(job, outputs, rows)
        held_case, blocked = None, False
        # A moderator's preview must be a picture: a video's case shows the job's first one.
        picture_key = next((row.storage_key for row, output in zip(rows, outputs)
                            if output.is_image), "")
        for row, output in zip(rows, outputs):
            if output.image is None:
                continue  # not a picture (a spoken question): nothing for image moderation
            verdict = moderate_image(image=output.image, user=job.owner, subject_type="result",
                                     subject_id=row.id,
                                     preview_key=row.storage_key if output.is_image
                                     else picture_key)
            if verdict.decision == BLOCK:
                blocked = True
            elif verdict.decision == REVIEW:
                row.moderation_case_id = verdict.case_id
                held_case = held_case or verdict.case_id
        if held_case is not None:
            # The outputs are one picture in several sizes: one held, all held.
            for row in rows:
                row.moderation_state = ModerationState.HELD
    except BaseException:
        delete_objects(rows)
        raise
    if blocked:
        delete_objects(rows)
        rows = []
    with transaction.atomic():
        current = Job.objects.select_for_update().filter(id=job.id).first()
        if current is None or current.attempt_token != token or current.state != JobState.RUNNING:
            delete_objects(rows)  # deleted, cancelled, or a newer attempt owns this job now
            return
        Result.objects.bulk_create(rows)
        current.engine = outputs[0].engine if outputs else ""
        current.metadata = outputs[0].metadata if outputs else {}
        if blocked:
            job_finish(current, state=JobState.BLOCKED, code="content_blocked",
                       message="The result was not allowed by our content rules.")
        elif held_case is not None or text_case is not None:
            job_held(current, held_case or text_case)
            current.save()
            transaction.on_commit(lambda: events.publish(current))
        elif asking:
            job_await_confirmation(current)
            current.save()
            transaction.on_commit(lambda: events.publish(current, results=result_payloads(current)))
        else:
            job_finish(current, state=JobState.SUCCEEDED)
    job.__dict__.update({f: getattr(current, f) for f in ("state", "progress", "stage")})


def outputs_put(job: Job, outputs: list[Output], rows: list[Result]) -> None:
    """Store each output's object and append its (unsaved) row to ``rows``, so that a caller
    whose later step fails knows which objects to delete."""
    storage = get_storage()
    for output in outputs:
        rid = uuid.uuid4()
        key = f"u/{job.owner_id}/results/{job.id}/{rid}.{output.format}"
        storage.put(key, output.data, output.content_type)
        rows.append(Result(id=rid, job_id=job.id, owner_id=job.owner_id, kind=output.kind,
                           storage_key=key, format=output.format,
                           content_type=output.content_type, width=output.width,
                           height=output.height, size_bytes=len(output.data),
                           engine=output.engine, metadata=output.metadata,
                           expires_at=retention_deadline()))


def delete_objects(rows: list[Result]) -> None:
    """Delete results' stored objects, best effort (retention removes what is left)."""
    storage = get_storage()
    for row in rows:
        try:
            storage.delete(row.storage_key)
        except Exception:  # noqa: BLE001 - retention will remove it later
            log.warning("could not delete %s", row.storage_key, exc_info=True)


def job_finish(job: Job, *, state: str, code: str = "", message: str = "") -> None:
    """Move a locked job to a final state and tell its subscribers."""
    job.state = state
    job.error_code, job.error_message = code, message[:300]
    job.finished_at = timezone.now()
    if state == JobState.SUCCEEDED:
        job.progress, job.stage, job.message = 100, "done", ""
    else:
        job.stage = state
    job.save()
    transaction.on_commit(lambda: events.publish(job, results=result_payloads(job)))


def job_held(job: Job, case_id) -> None:
    """Mark a job held by the moderation case ``case_id`` (the caller saves it)."""
    job.state, job.stage, job.message = JobState.HELD, "review", HELD_MESSAGE
    job.error_code = job.error_message = ""
    job.moderation_case_id = case_id


def job_await_confirmation(job: Job) -> None:
    """Mark a job waiting for its owner to confirm what its first pass understood (its
    ``metadata``) until VOICE_CONFIRM_TIMEOUT from now (the caller saves it)."""
    job.state, job.stage, job.progress = JobState.AWAITING_CONFIRMATION, "confirm", 100
    job.message = job.metadata.get("question", "")[:200]
    job.error_code = job.error_message = ""
    job.deadline_at = timezone.now() + timedelta(seconds=settings.VOICE_CONFIRM_TIMEOUT)


def job_fail(*, job: Job, code: str, message: str, token: str | None = None,
             state: str = JobState.FAILED) -> None:
    with transaction.atomic():
        current = Job.objects.select_for_update().filter(id=job.id).first()
        if current is None or current.is_terminal:
            return  # deleted meanwhile, or already over
        if token is not None and current.attempt_token != token:
            return
        job_finish(current, state=state, code=code, message=message)
    job.state = state
