"""Websocket routes: one job's progress, or all of the user's jobs."""
from django.urls import path

from backend.jobs.consumers import JobConsumer, UserJobsConsumer

websocket_urlpatterns = [
    path("ws/jobs/<uuid:job_id>/", JobConsumer.as_asgi()),
    path("ws/jobs/", UserJobsConsumer.as_asgi()),
]
