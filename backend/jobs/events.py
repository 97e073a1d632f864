"""Job events for websocket subscribers, published through the channel layer.

Groups: ``job.<id>`` (one job) and ``user.<owner id>`` (all of a user's jobs).
"""
from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def job_group(job_id) -> str:
    return f"job.{job_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def job_event(job, *, results: list | None = None) -> dict:
    event = {"type": "job.progress", "job_id": str(job.id), "state": job.state,
             "stage": job.stage, "progress": job.progress, "message": job.message}
    if job.error_code:
        event["error"] = {"code": job.error_code, "message": job.error_message}
    if results is not None:
        event["results"] = results
    return event


def publish(job, *, results: list | None = None) -> None:
    """Send the job's current state to its subscribers; never fails the caller."""
    layer = get_channel_layer()
    if layer is None:
        return
    event = job_event(job, results=results)
    try:
        async_to_sync(_send)(layer, event, job.id, job.owner_id)
    except Exception:  # noqa: BLE001 - a lost progress event must not fail the job
        log.warning("could not publish event for job %s", job.id, exc_info=True)


async def _send(layer, event, job_id, owner_id) -> None:
    await layer.group_send(job_group(job_id), event)
    await layer.group_send(user_group(owner_id), event)
