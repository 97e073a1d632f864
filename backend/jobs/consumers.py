"""Websocket consumers that stream job progress: one job, or all of a user's jobs.

The socket is accepted, then closed with 4401 (no valid token) or 4404 (no such job of yours):
a close before the handshake completes would reach the client as a bare HTTP 403. Clients have
nothing to send; a frame that is not a small JSON text closes the socket with a code.
"""
from __future__ import annotations

import json
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from backend.jobs import events
from backend.jobs.models import TERMINAL_STATES, Job, JobState
from backend.jobs.presenter import SHOWN_STATES, job_event, result_payloads

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_BINARY = 1003  # "unsupported data"
CLOSE_NOT_JSON = 1007  # "invalid frame payload data"
CLOSE_TOO_BIG = 1009
MAX_CLIENT_FRAME = 4096  # characters; nothing a client sends is read, a ping fits many times
# On connect, /ws/jobs/ also repeats jobs that finished this recently (a reconnect missed them).
RECENT = timedelta(minutes=10)
SNAPSHOT_LIMIT = 50


def is_final(event: dict) -> bool:
    """Nothing more will happen to the job (a held one waits for a moderator)."""
    return event["state"] in TERMINAL_STATES


class JobStream(AsyncJsonWebsocketConsumer):
    """Events for the jobs of ``self.groups_joined``; each job's events go out in order, once."""

    async def connect(self) -> None:
        events.remember_server_loop()
        self.sent: dict[str, tuple] = {}
        self.joined: list[str] = []
        await self.accept(self.scope.get("subprotocol"))
        user = self.scope.get("user")
        if user is None:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        await self.start(user)

    async def join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.append(group)

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None:
            await self.close(code=CLOSE_BINARY)
        elif len(text_data) > MAX_CLIENT_FRAME:
            await self.close(code=CLOSE_TOO_BIG)
        else:
            try:
                json.loads(text_data)
            except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
                await self.close(code=CLOSE_NOT_JSON)

    async def disconnect(self, code) -> None:
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def forward(self, event: dict) -> bool:
        """Send an event unless the subscriber already saw it or something newer."""
        order, content = events.event_order(event), {**event, "at": None}
        last = self.sent.get(event["job_id"])
        if last is not None and (order < last[0] or content == last[1]):
            return False
        self.sent[event["job_id"]] = (order, content)
        await self.send_json(event)
        return True

    async def start(self, user) -> None:
        raise NotImplementedError


class JobConsumer(JobStream):
    """``/ws/jobs/<id>/``: the job's current state at once, every change after it, then close."""

    async def start(self, user) -> None:
        job_id = self.scope["url_route"]["kwargs"]["job_id"]
        # Join before reading the state: an event between the two is then seen, not lost.
        await self.join(events.job_group(job_id))
        snapshot = await _job_snapshot(user, job_id)
        if snapshot is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.job_progress(snapshot)

    async def job_progress(self, event: dict) -> None:
        if await self.forward(event) and is_final(event):
            await self.close()


class UserJobsConsumer(JobStream):
    """``/ws/jobs/``: the state of the user's active (and just finished) jobs, then every event
    of any of their jobs; stays open."""

    async def start(self, user) -> None:
        await self.join(events.user_group(user.id))
        for snapshot in await _user_snapshots(user):
            await self.forward(snapshot)

    async def job_progress(self, event: dict) -> None:
        await self.forward(event)


@database_sync_to_async
def _job_snapshot(user, job_id) -> dict | None:
    job = Job.objects.filter(id=job_id, owner=user).first()
    return None if job is None else _event_of(job)


@database_sync_to_async
def _user_snapshots(user) -> list[dict]:
    now = timezone.now()
    since = now - RECENT
    jobs = (Job.objects.filter(owner=user, expires_at__gt=now)
            .exclude(state__in=TERMINAL_STATES, finished_at__lt=since)
            .exclude(state=JobState.EXPIRED).order_by("-created_at")[:SNAPSHOT_LIMIT])
    return [_event_of(job) for job in reversed(jobs)]


def _event_of(job: Job) -> dict:
    results = result_payloads(job) if job.state in SHOWN_STATES else None
    return job_event(job, results=results)
