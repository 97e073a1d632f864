"""An uploaded photo or recording: already sanitised, re-encoded and stored; deleted after
retention."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ModerationState(models.TextChoices):
    CLEAR = "clear"
    HELD = "held"  # a moderator must look at it first
    REJECTED = "rejected"


class UploadKind(models.TextChoices):
    IMAGE = "image"
    AUDIO = "audio"  # stored normalised: 16 kHz mono


class StoredImage(models.Model):
    """What uploads and results share: an image in object storage, moderated, and deleted
    ``RETENTION_HOURS`` after creation."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    storage_key = models.CharField(max_length=255)
    format = models.CharField(max_length=8)
    content_type = models.CharField(max_length=32)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    moderation_state = models.CharField(max_length=12, choices=ModerationState.choices,
                                        default=ModerationState.CLEAR)
    moderation_case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        abstract = True


class Upload(StoredImage):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="uploads")
    kind = models.CharField(max_length=8, choices=UploadKind.choices, default=UploadKind.IMAGE)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)  # audio only
    # Faces found in a photo, so a client can say "no face" before a job is queued.
    faces = models.PositiveSmallIntegerField(null=True, blank=True)
    source_format = models.CharField(max_length=8)
    source_url = models.URLField(max_length=2048, blank=True, default="")
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"upload {self.id}"
