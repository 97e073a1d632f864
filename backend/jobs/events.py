"""Job events for websocket subscribers, published through the channel layer.

Groups: ``job.<id>`` (one job) and ``user.<owner id>`` (all of a user's jobs). Synchronous
callers (Celery workers, the in-process worker, sync views) publish on one long-lived event loop
per process, so channels_redis keeps one connection pool instead of opening one per event (and
never meets a closed loop, the ``async_to_sync`` pitfall).
"""
from __future__ import annotations

import asyncio
import logging
import os
import threading

from channels.layers import InMemoryChannelLayer, get_channel_layer

from backend.jobs.models import JobState
from backend.jobs.presenter import job_event

log = logging.getLogger(__name__)

SEND_TIMEOUT = 5.0
# A job's state moves forward in this order; subscribers drop an event older than what they sent.
# A job awaiting confirmation has run its first pass; confirmed, its second pass is a new
# attempt, so its events still go out after it.
STATE_RANK = {JobState.QUEUED: 0, JobState.HELD: 0, JobState.RUNNING: 1,
              JobState.AWAITING_CONFIRMATION: 2, JobState.SUCCEEDED: 3, JobState.FAILED: 3,
              JobState.BLOCKED: 3, JobState.EXPIRED: 3, JobState.CANCELLED: 3}
# A job held after it ran (its results wait for a moderator) is past running, before its end;
# held before running it ranks with queued, so its release (back to queued) still goes out.
HELD_RESULTS_RANK = 2

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()
# The ASGI server's loop: an in-memory layer's queues live there (embedded mode).
_server_loop: asyncio.AbstractEventLoop | None = None


def job_group(job_id) -> str:
    return f"job.{job_id}"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def event_order(event: dict) -> tuple:
    """Sort key of a job's events: a newer attempt, a later state, more progress."""
    attempt, state = event.get("attempt", 0), event["state"]
    rank = HELD_RESULTS_RANK if state == JobState.HELD and attempt else STATE_RANK.get(state, 0)
    return (attempt, rank, event["progress"])


def publish(job, *, results: list | None = None) -> None:
    """Send the job's current state to its subscribers; never fails the caller."""
    groups_send([job_group(job.id), user_group(job.owner_id)], job_event(job, results=results),
                what=f"job {job.id}")


def groups_send(groups: list[str], event: dict, *, what: str) -> None:
    """Send one event to channel-layer groups from synchronous or asynchronous code, on this
    process's publishing loop; a lost event is logged, never raised."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        loop = _loop_for(layer)
        if loop is None:
            return  # in-memory layer and no server in this process: nobody can be listening
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        coro = _send(layer, event, groups)
        if running is loop:
            loop.create_task(coro)  # called from async code on that very loop
        else:
            asyncio.run_coroutine_threadsafe(coro, loop).result(SEND_TIMEOUT)
    except Exception:  # noqa: BLE001 - a lost progress event must not fail the job
        log.warning("could not publish event for %s", what, exc_info=True)


async def _send(layer, event, groups) -> None:
    for group in groups:
        await layer.group_send(group, event)


def remember_server_loop() -> None:
    """Called from the ASGI server's loop (consumers do on connect): the in-memory layer's
    queues are bound to it, so events from worker threads must be sent on it."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def _loop_for(layer) -> asyncio.AbstractEventLoop | None:
    if isinstance(layer, InMemoryChannelLayer):
        return _server_loop if _server_loop is not None and not _server_loop.is_closed() else None
    return _publisher_loop()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """This process's publishing loop, running in a daemon thread; a forked child (Celery
    prefork) starts its own rather than inherit a loop whose thread did not survive the fork."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="job-events", daemon=True).start()
        return _loop


def reset_after_fork() -> None:
    """Forget the parent's loop and the channel layer (its pools belong to the parent)."""
    global _loop, _loop_pid
    from channels.layers import channel_layers

    _loop, _loop_pid = None, None
    channel_layers.backends.clear()
