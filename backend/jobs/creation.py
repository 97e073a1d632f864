"""Creating jobs: a request checked, held for review or queued, answered from the cache of an
identical earlier job, or dispatched to the workers by the task's name."""
from __future__ import annotations

import json
import logging
import uuid

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.jobs import events, runner
from backend.jobs.execution import job_fail, job_held, job_run
from backend.jobs.models import TEXT_MAX, Job, JobState, Result
from backend.jobs.pipelines import REGISTRY, pipeline_for
from backend.jobs.presenter import result_payloads
from backend.uploads.models import ModerationState, Upload
from backend.uploads.services import retention_deadline
from core.errors import BadRequest, Gone, NotFound, ServiceError, Unavailable, flatten_validation
from core.inputs import reject_unknown_fields
from core.storage import StorageError, get_storage
from moderation.services import BLOCK, REVIEW, moderate_text

log = logging.getLogger(__name__)

# The Celery task that runs a job, by name: dispatching needs no import of the task module.
RUN_JOB_TASK = "backend.jobs.tasks.run_job_task"


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
    text_check(text)
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
        if verdict.decision == BLOCK:
            raise ServiceError(verdict.message or "This text is not allowed; try other words.",
                               code="text_blocked", status=422)
        if verdict.decision == REVIEW:
            text_case = verdict.case_id
            job_held(job, text_case)
    if upload.moderation_state == ModerationState.HELD:
        # The photo is decided first; a held text waits its turn (see review.job_release).
        job_held(job, upload.moderation_case_id)
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


def text_check(text: str) -> None:
    if len(text.strip()) > TEXT_MAX:
        raise BadRequest(f"Keep the text within {TEXT_MAX} characters.", code="text_too_long")


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
                           engine=result.engine,
                           metadata={**result.metadata, "cached_from": str(source.id)},
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
    if settings.TASK_RUNNER != "celery":
        runner.submit(job_run, job_id=job.id)
        return
    try:
        current_app.send_task(RUN_JOB_TASK, args=[str(job.id)],
                              queue=pipeline_for(job.mode).queue)
    except Exception as exc:  # noqa: BLE001 - the broker is down
        job_fail(job=job, code="queue_unavailable",
                 message="The job queue is unavailable; try again shortly.")
        raise Unavailable("The job queue is unavailable; try again shortly.",
                          code="queue_unavailable") from exc
