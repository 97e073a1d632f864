"""The JSON of PAI's protocol, built in this one place: its envelope and its job."""
from __future__ import annotations

import json
import uuid

from backend.jobs.models import Job, JobState
from backend.portraits.models import PublicJob

# PAI's job states.
INITIALISED, RUNNING, SUCCEEDED, FAILED = 0, 1, 2, 3
_STATES = {JobState.QUEUED: INITIALISED, JobState.HELD: INITIALISED,
           JobState.RUNNING: RUNNING, JobState.SUCCEEDED: SUCCEEDED}
_MESSAGES = {INITIALISED: "model requesting", RUNNING: "model requesting", SUCCEEDED: "success"}


def pai_body(data, *, code: str = "OK", message: str = "success") -> dict:
    return {"request_id": str(uuid.uuid4()), "code": code, "message": message, "data": data}


def pai_state(job: Job) -> int:
    return _STATES.get(job.state, FAILED)


def pai_job(public: PublicJob) -> dict:
    """``data.job`` of ``async_jobs``: ``Result`` is a JSON string once it succeeded, as PAI
    sends it; ``job_uuid`` is our id of the same job (``GET /jobs/{id}``, the websocket)."""
    job = public.job
    state = pai_state(job)
    result = ""
    if state == SUCCEEDED:
        payload = {"cost_time": (job.finished_at - job.created_at).total_seconds()}
        if job.mode == "portrait_train":
            payload.update(states=job.metadata.get("states", []), model_id=str(job.identity.id))
        else:
            portrait = job.results.first()
            payload.update(model_id=",".join(job.metadata.get("model_ids", [])),
                           similarity=job.metadata.get("similarity"), engine=job.engine,
                           path=job.metadata.get("path"),
                           result_id=str(portrait.id) if portrait else None)
        result = json.dumps(payload)
    return {"id": public.id, "app_id": public.app_id, "state": state,
            "message": _MESSAGES.get(state, job.error_message or job.state),
            "create_time": job.created_at.isoformat(), "type": "Image", "Result": result,
            "job_uuid": str(job.id)}
