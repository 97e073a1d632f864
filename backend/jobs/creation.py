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
from django.utils.translation import gettext_lazy as _

from backend.jobs import events, runner
from backend.jobs.execution import job_fail, job_held, job_run
from backend.jobs.inputs import inputs_check_fresh, inputs_resolve
from backend.jobs.models import TEXT_MAX, Job, JobInput, JobState, Result
from backend.jobs.pipelines import REGISTRY, pipeline_for
from backend.jobs.presenter import result_payloads
from backend.uploads.models import ModerationState, Upload
from backend.uploads.services import retention_deadline
from core.errors import BadRequest, ServiceError, Unavailable, flatten_validation
from core.inputs import reject_unknown_fields
from core.storage import StorageError, get_storage
from moderation.services import BLOCK, REVIEW, moderate_text

log = logging.getLogger(__name__)

# The Celery task that runs a job, by name: dispatching needs no import of the task module.
RUN_JOB_TASK = "backend.jobs.tasks.run_job_task"


def job_create(*, user, mode: str, params: dict | None, text: str = "", upload_id=None,
               inputs: dict | None = None, idempotency_key: str | None = None) -> Job:
    """Validate a generation request and queue it (or hold it for review). ``upload_id`` is
    a shorthand for ``inputs["photo"]``."""
    pipeline = pipeline_for(mode)
    if pipeline is None:
        raise BadRequest(_("Unknown mode %(mode)s; choose one of %(modes)s.")
                         % {"mode": repr(mode), "modes": sorted(REGISTRY)},
                         code="unknown_mode")
    inputs = dict(inputs or {})
    if upload_id is not None:
        if inputs.get("photo") not in (None, str(upload_id)):
            raise BadRequest(_("upload_id and inputs.photo name different uploads; send one."),
                             code="invalid_input")
        inputs["photo"] = str(upload_id)
    uploads = inputs_resolve(user=user, pipeline=pipeline, inputs=inputs)

    reject_unknown_fields(params or {}, pipeline.params().fields, where="params")
    # A mode's parameters may depend on the text (a sticker's default caption is the text) and
    # on which inputs were sent (a voice description is a recording or a text).
    checked = pipeline.params(data=params or {},
                              context={"text": (text or "").strip(), "inputs": uploads})
    if not checked.is_valid():
        raise BadRequest(flatten_validation(checked.errors), code="invalid_params")
    params = dict(checked.validated_data)
    if pipeline.check_params is not None:
        pipeline.check_params(user=user, params=params)
    text = (text or "").strip()
    request = {"mode": mode, "inputs": _ids_of(uploads), "params": params, "text": text}
    if idempotency_key:
        existing = Job.objects.filter(owner=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, **request)

    inputs_check_fresh(uploads)
    text_check(text)
    if pipeline.text_required and not text:
        raise BadRequest(_("This mode needs a short text."), code="text_required")
    if pipeline.check_inputs is not None:
        pipeline.check_inputs(user=user, params=params, inputs=uploads, text=text)

    photo = uploads["photo"][0] if "photo" in uploads else None
    job = Job(owner=user, upload=photo, mode=mode, params=params, text=text,
              idempotency_key=idempotency_key or None, expires_at=retention_deadline())
    # Everything the user typed is screened: the text and any free-text parameter (a caption).
    typed = " ".join([text] + [params[name] for name in pipeline.text_params
                               if isinstance(params.get(name), str)]).strip()
    text_case = None
    if typed:
        verdict = moderate_text(text=typed, user=user, subject=f"{mode}_text")
        if verdict.decision == BLOCK:
            raise ServiceError(verdict.message or _("This text is not allowed; try other words."),
                               code="text_blocked", status=422)
        if verdict.decision == REVIEW:
            text_case = verdict.case_id
            job_held(job, text_case)
    held = [u for group in uploads.values() for u in group
            if u.moderation_state == ModerationState.HELD]
    if held:
        # The uploads are decided first; a held text waits its turn (see review.job_release).
        job_held(job, held[0].moderation_case_id)
        if text_case is not None:
            job.metadata = {"text_case_id": text_case}

    if pipeline.cache_key:
        job.cache_key = pipeline.cache_key(photo.sha256 if photo else "", params, text) or ""

    try:
        with transaction.atomic():
            job.save()
            JobInput.objects.bulk_create(
                JobInput(job=job, name=name, upload=upload, position=position)
                for name, group in uploads.items() for position, upload in enumerate(group))
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        existing = Job.objects.get(owner=user, idempotency_key=idempotency_key)
        return _same_request(existing, **request)
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


def _ids_of(uploads: dict[str, list[Upload]]) -> dict[str, list[str]]:
    return {name: [str(u.id) for u in group] for name, group in uploads.items()}


def _same_request(job: Job, *, mode: str, inputs: dict, params: dict, text: str) -> Job:
    earlier: dict[str, list[str]] = {}
    for row in job.inputs.all():
        earlier.setdefault(row.name, []).append(str(row.upload_id))
    same = (job.mode == mode and earlier == inputs
            and job.params == json.loads(json.dumps(params)) and job.text == text)
    if not same:
        raise ServiceError(_("This Idempotency-Key was already used for another request."),
                           code="idempotency_key_reused", status=409)
    return job


def text_check(text: str) -> None:
    if len(text.strip()) > TEXT_MAX:
        raise BadRequest(_("Keep the text within %(n)s characters.") % {"n": TEXT_MAX},
                         code="text_too_long")


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
        raise Unavailable(_("The job queue is unavailable; try again shortly."),
                          code="queue_unavailable") from exc
