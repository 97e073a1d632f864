"""Websocket routes: one job's progress, or all of the user's jobs; any other path is refused
on the handshake."""
from django.urls import path, re_path

from backend.jobs.consumers import JobConsumer, UserJobsConsumer


async def refuse_unknown_path(scope, receive, send) -> None:
    """An unknown path, or a job id that is not a UUID: no socket to open, so the handshake is
    answered HTTP 403 (uvicorn also logs an error for any denial with a body, such as a 404)."""
    await receive()  # websocket.connect
    await send({"type": "websocket.close"})


websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    path("ws/jobs/", UserJobsConsumer.as_asgi()),
    re_path(r"", refuse_unknown_path),
]
