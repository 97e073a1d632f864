"""A generation job and the results it produced."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from backend.uploads.models import StoredImage


class JobState(models.TextChoices):
    QUEUED = "queued"
    HELD = "held"  # a moderator must decide on its photo, its text or its results first
    RUNNING = "running"
    # A voice job's first pass is done: it waits for its owner to confirm what was heard.
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    BLOCKED = "blocked"  # moderation refused its content: nothing more will happen
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # its owner said no, or did not confirm in time


TERMINAL_STATES = {JobState.SUCCEEDED, JobState.FAILED, JobState.BLOCKED, JobState.EXPIRED,
                   JobState.CANCELLED}
# What a user may type into a job; the request, the service and the column share it.
TEXT_MAX = 100
HELD_MESSAGE = "This content is waiting for a moderator; you will be notified."


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    upload = models.ForeignKey("uploads.Upload", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="jobs")
    mode = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    text = models.CharField(max_length=TEXT_MAX, blank=True, default="")
    state = models.CharField(max_length=24, choices=JobState.choices, default=JobState.QUEUED,
                             db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=40, default="queued")
    message = models.CharField(max_length=200, blank=True, default="")
    error_code = models.CharField(max_length=40, blank=True, default="")
    error_message = models.CharField(max_length=300, blank=True, default="")
    engine = models.CharField(max_length=160, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)
    cache_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    moderation_case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Which attempt owns the job; only that attempt may store results (redelivery guard).
    attempt_token = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True, db_index=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False),
                                    name="job_idempotency_per_owner"),
        ]

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    def __str__(self) -> str:
        return f"job {self.id} ({self.mode}, {self.state})"


class Result(StoredImage):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="results")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="results")
    kind = models.CharField(max_length=24)
    # Longer than an upload's: a result may be a file such as a LoRA's "safetensors".
    format = models.CharField(max_length=16)
    engine = models.CharField(max_length=160)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"result {self.id} ({self.kind})"


class JobInput(models.Model):
    """One named input of a job (``photo``, ``voice``, one of ``photos``…): an upload of the
    user's. A real key, so that deleting an upload reaches the jobs that use it."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="inputs")
    name = models.CharField(max_length=16)
    upload = models.ForeignKey("uploads.Upload", on_delete=models.CASCADE,
                               related_name="job_inputs")
    position = models.PositiveSmallIntegerField(default=0)  # order within a list input

    class Meta:
        ordering = ["name", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "name", "position"],
                                               name="one_upload_per_input_slot")]

    def __str__(self) -> str:
        return f"{self.name}[{self.position}] of job {self.job_id}"
