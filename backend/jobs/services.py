"""Creating, running and finishing jobs. Celery tasks and the in-process worker both call
``job_run``; it is safe to call twice for one job (redelivery after a worker died)."""
from __future__ import annotations

import io
import json
import logging
import time
import uuid
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from core.errors import (BadRequest, Gone, NotFound, ServiceError, Unavailable,
                            flatten_validation)
from core.inputs import reject_unknown_fields
from backend.jobs import events
from backend.jobs.models import Job, JobState, Result
from backend.jobs.pipelines import Output, PipelineInput, REGISTRY, pipeline_for
from backend.jobs.selectors import job_as_seen
from core.storage import StorageError, get_storage
from backend.uploads.models import ModerationState, Upload
from backend.uploads.services import retention_deadline
from inference.errors import InferenceError
from moderation.services import moderate_image, moderate_text

log = logging.getLogger(__name__)

UNDER_REVIEW = ("under_review", "This content is waiting for a moderator; you will be notified.")
MAX_TEXT = 100


def job_create(*, user, upload_id, mode: str, params: dict | None, text: str = "",
               idempotency_key: str | None = None) -> Job:
    """Validate a generation request and queue it (or hold it for review)."""
    pipeline = pipeline_for(mode)
    if pipeline is None:
        raise BadRequest(f"Unknown mode {mode!r}; choose one of {sorted(REGISTRY)}.",
                         code="unknown_mode")
    upload = Upload.objects.filter(owner=user, id=upload_id).first()
    if upload is None:
        raise NotFound("No such upload; upload the photo first.", code="upload_not_found")

    reject_unknown_fields(params or {}, pipeline.params().fields, where="params")
    checked = pipeline.params(data=params or {})
    if not checked.is_valid():
        raise BadRequest(flatten_validation(checked.errors), code="invalid_params")
    params = dict(checked.validated_data)
    text = (text or "").strip()
    if idempotency_key:
        existing = Job.objects.filter(owner=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, mode=mode, upload_id=upload.id, params=params, text=text)

    if upload.expires_at <= timezone.now():
        raise Gone("This upload has expired; upload the photo again.", code="upload_expired")
    if len(text) > MAX_TEXT:
        raise BadRequest(f"Keep the text under {MAX_TEXT} characters.", code="text_too_long")
    if pipeline.text_required and not text:
        raise BadRequest("This mode needs a short text.", code="text_required")

    job = Job(owner=user, upload=upload, mode=mode, params=params, text=text,
              idempotency_key=idempotency_key or None, expires_at=retention_deadline())
    # Everything the user typed is screened: the text and any free-text parameter (a caption).
    typed = " ".join([text] + [params[name] for name in pipeline.text_params
                               if isinstance(params.get(name), str)]).strip()
    text_case = None
    if typed:
        verdict = moderate_text(text=typed, user=user, subject=f"{mode}_text")
        if verdict.decision == "block":
            raise ServiceError(verdict.message or "This text is not allowed; try other words.",
                               code="text_blocked", status=422)
        if verdict.decision == "review":
            text_case = verdict.case_id
            _hold(job, text_case)
    if upload.moderation_state == ModerationState.HELD:
        # The photo is decided first; a held text waits its turn (see job_release).
        _hold(job, upload.moderation_case_id)
        if text_case is not None:
            job.metadata = {"text_case_id": text_case}

    if pipeline.cache_key:
        job.cache_key = pipeline.cache_key(upload.sha256, params, text) or ""

    try:
        with transaction.atomic():
            job.save()
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        existing = Job.objects.get(owner=user, idempotency_key=idempotency_key)
        return _same_request(existing, mode=mode, upload_id=upload.id, params=params, text=text)
    if job.state == JobState.QUEUED:
        cached = job.cache_key and _cached_job(user=user, cache_key=job.cache_key, exclude=job.id)
        try:
            if cached:
                job_copy_results(job=job, source=cached)
                return job
        except (StorageError, KeyError):
            log.warning("cache copy for job %s failed; generating instead", job.id, exc_info=True)
        job_dispatch(job=job)
    return job


def _same_request(job: Job, *, mode: str, upload_id, params: dict, text: str) -> Job:
    same = (job.mode == mode and str(job.upload_id) == str(upload_id)
            and job.params == json.loads(json.dumps(params)) and job.text == text)
    if not same:
        raise ServiceError("This Idempotency-Key was already used for another request.",
                           code="idempotency_key_reused", status=409)
    return job


def _hold(job: Job, case_id) -> None:
    job.state = JobState.BLOCKED
    job.stage = "review"
    job.error_code, job.error_message = UNDER_REVIEW
    job.moderation_case_id = case_id


def _cached_job(*, user, cache_key: str, exclude=None) -> Job | None:
    if not cache_key:
        return None
    query = Job.objects.filter(owner=user, cache_key=cache_key, state=JobState.SUCCEEDED,
                               results__expires_at__gt=timezone.now())
    if exclude is not None:
        query = query.exclude(id=exclude)
    return query.order_by("-created_at").first()


def job_copy_results(*, job: Job, source: Job) -> None:
    """Finish ``job`` at once with copies of an identical earlier job's results (the cache)."""
    storage = get_storage()
    rows = []
    for result in source.results.all():
        rid = uuid.uuid4()
        key = f"u/{job.owner_id}/results/{job.id}/{rid}.{result.format}"
        storage.put(key, storage.get(result.storage_key), result.content_type)
        rows.append(Result(id=rid, job=job, owner_id=job.owner_id, kind=result.kind,
                           storage_key=key, format=result.format, content_type=result.content_type,
                           width=result.width, height=result.height, size_bytes=result.size_bytes,
                           engine=result.engine, metadata={**result.metadata, "cached_from": str(source.id)},
                           expires_at=retention_deadline()))
    Result.objects.bulk_create(rows)
    now = timezone.now()
    Job.objects.filter(id=job.id).update(state=JobState.SUCCEEDED, progress=100, stage="done",
                                         message="cached", engine=source.engine,
                                         metadata={**source.metadata, "cached": True},
                                         started_at=now, finished_at=now)
    job.refresh_from_db()
    events.publish(job, results=result_payloads(job))


def job_dispatch(*, job: Job) -> None:
    """Hand a queued job to the workers: Celery (production) or the in-process pool."""
    pipeline = pipeline_for(job.mode)
    if settings.TASK_RUNNER == "celery":
        from backend.jobs.tasks import run_job_task

        try:
            run_job_task.apply_async(args=[str(job.id)], queue=pipeline.queue)
        except Exception as exc:  # noqa: BLE001 - the broker is down
            job_fail(job=job, code="queue_unavailable",
                     message="The job queue is unavailable; try again shortly.")
            raise Unavailable("The job queue is unavailable; try again shortly.",
                              code="queue_unavailable") from exc
    else:
        from backend.jobs import runner

        runner.submit(job.id)


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


def job_run(*, job_id) -> None:
    """Run one job to its end. Safe to call again for the same job: a finished job is left
    alone, and only the latest attempt may store results."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.state not in (JobState.QUEUED, JobState.RUNNING):
            return
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            _finish(job, state=JobState.FAILED, code="too_many_attempts",
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
            job_fail(job=job, code="job_timeout", message="This took too long; try a smaller photo.",
                     token=token)
            return
        log.exception("job %s crashed", job.id)
        job_fail(job=job, code="internal_error",
                 message="Something went wrong while generating; try again.", token=token)


def _run_pipeline(job: Job, token: str) -> list[Output]:
    upload = Upload.objects.filter(id=job.upload_id).first()
    if upload is None or upload.expires_at <= timezone.now():
        raise Gone("The photo of this job has expired; upload it again.", code="upload_expired")
    with Image.open(io.BytesIO(get_storage().get(upload.storage_key))) as image:
        rgb = np.asarray(image.convert("RGB"))
    pipeline = pipeline_for(job.mode)
    reporter = ProgressReporter(job, token)
    return pipeline.run(PipelineInput(image=rgb, params=job.params, text=job.text,
                                      progress=reporter))


def _store_outputs(job: Job, token: str, outputs: list[Output]) -> None:
    storage = get_storage()
    rows: list[Result] = []
    try:
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
        held_case, blocked = None, False
        for row, output in zip(rows, outputs):
            verdict = moderate_image(image=output.image, user=job.owner, subject_type="result",
                                     subject_id=row.id, preview_key=row.storage_key)
            if verdict.decision == "block":
                blocked = True
            elif verdict.decision == "review":
                row.moderation_case_id = verdict.case_id
                held_case = held_case or verdict.case_id
        if held_case is not None:
            # The outputs are one picture in several sizes: one held, all held.
            for row in rows:
                row.moderation_state = ModerationState.HELD
    except BaseException:
        _delete_objects(rows)
        raise
    if blocked:
        _delete_objects(rows)
        rows = []
    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if current.attempt_token != token or current.state != JobState.RUNNING:
            _delete_objects(rows)  # a newer attempt owns this job now
            return
        Result.objects.bulk_create(rows)
        current.engine = outputs[0].engine if outputs else ""
        current.metadata = outputs[0].metadata if outputs else {}
        if blocked:
            _finish(current, state=JobState.BLOCKED, code="content_blocked",
                    message="The result was not allowed by our content rules.")
        elif held_case is not None:
            current.moderation_case_id = held_case
            _finish(current, state=JobState.BLOCKED, code=UNDER_REVIEW[0], message=UNDER_REVIEW[1])
        else:
            _finish(current, state=JobState.SUCCEEDED)
    job.__dict__.update({f: getattr(current, f) for f in ("state", "progress", "stage")})


def _delete_objects(rows: list[Result]) -> None:
    storage = get_storage()
    for row in rows:
        try:
            storage.delete(row.storage_key)
        except Exception:  # noqa: BLE001 - retention will remove it later
            log.warning("could not delete %s", row.storage_key, exc_info=True)


def _finish(job: Job, *, state: str, code: str = "", message: str = "") -> None:
    """Move a locked job to a final (or blocked) state and tell its subscribers."""
    job.state = state
    job.error_code, job.error_message = code, message[:300]
    job.finished_at = timezone.now()
    if state == JobState.SUCCEEDED:
        job.progress, job.stage, job.message = 100, "done", ""
    elif state == JobState.BLOCKED:
        job.stage = "review" if code == UNDER_REVIEW[0] else "blocked"
    else:
        job.stage = state
    job.save()
    transaction.on_commit(lambda: events.publish(job, results=result_payloads(job)))


def job_fail(*, job: Job, code: str, message: str, token: str | None = None) -> None:
    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if token is not None and current.attempt_token != token:
            return
        if current.is_terminal:
            return
        _finish(current, state=JobState.FAILED, code=code, message=message)
    job.state = JobState.FAILED


def job_release(*, job: Job) -> None:
    """A moderator approved something that held this job. Once nothing holds it any more, a
    job held before running is queued, and a job whose results were held succeeds."""
    from moderation.selectors import case_get

    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if current.state != JobState.BLOCKED or current.error_code != UNDER_REVIEW[0]:
            return
        text_case_id = current.metadata.get("text_case_id")
        if text_case_id and current.moderation_case_id != text_case_id:
            text_case = case_get(case_id=text_case_id)
            if text_case is not None and text_case.state == "rejected":
                transaction.on_commit(lambda: job_reject(job=current))
                return
            if text_case is not None and text_case.state == "pending":
                current.moderation_case_id = text_case_id  # now the text's turn
                current.save(update_fields=["moderation_case_id", "updated_at"])
                return
        results = current.results.all()
        if results.filter(moderation_state=ModerationState.HELD,
                          moderation_case_id__isnull=False).exists():
            return  # another output's case is still open
        if results.exists():
            results.update(moderation_state=ModerationState.CLEAR)
            _finish(current, state=JobState.SUCCEEDED)
            return
        current.state, current.stage, current.progress = JobState.QUEUED, "queued", 0
        current.error_code = current.error_message = ""
        current.save()
    transaction.on_commit(lambda: job_dispatch(job=current))


def job_reject(*, job: Job) -> None:
    """A moderator refused something this job holds: its results go at once, it stays blocked."""
    with transaction.atomic():
        current = Job.objects.select_for_update().get(id=job.id)
        if current.state != JobState.BLOCKED:
            return
        _delete_objects(list(current.results.all()))
        current.results.all().delete()
        _finish(current, state=JobState.BLOCKED, code="content_rejected",
                message="A moderator found this content not allowed.")


def result_payloads(job: Job) -> list[dict]:
    """The results a client may see: only a succeeded job's, until its deadline."""
    if job_as_seen(job).state != JobState.SUCCEEDED:
        return []
    return [result_payload(r) for r in job.results.filter(moderation_state=ModerationState.CLEAR)]


def result_payload(result: Result) -> dict:
    return {"id": str(result.id), "kind": result.kind, "format": result.format,
            "width": result.width, "height": result.height, "engine": result.engine,
            "download_url": reverse("download", args=[result.id])}
