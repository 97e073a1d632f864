"""AI portraits (AI写真): the API credentials PAI's SDK signs with, the identities (PAI's
``model_id``) learnt from a user's photos, and the integer job numbers PAI's clients expect."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class ApiCredential(models.Model):
    """An ``appid`` and its token. The token is kept encrypted, never in plain text: checking an
    HMAC signature needs the token itself, so a one-way hash cannot do (see ``secrets``)."""

    appid = models.CharField(max_length=32, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="api_credentials")
    token_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"credential {self.appid}"


class Identity(models.Model):
    """A person learnt from their photos: PAI's ``model_id``. Its file (an npz, biometric data)
    is the result of kind ``identity`` of the training job, stored under the owner's prefix and
    deleted with the job, at retention or with the account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="identities")
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="identity")
    name = models.CharField(max_length=64, blank=True, default="")  # PAI's model_name
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"identity {self.id}"


class PublicJob(models.Model):
    """The integer number a job is known by to PAI's clients (``data.job_id``)."""

    id = models.BigAutoField(primary_key=True)
    job = models.OneToOneField("jobs.Job", on_delete=models.CASCADE, related_name="public")
    app_id = models.CharField(max_length=32, blank=True, default="")

    def __str__(self) -> str:
        return f"public job {self.id}"


class PortraitTemplate(models.Model):
    """A template of the admins' library: a photo with one or more faces, kept in storage, with
    a smaller preview for the picker."""

    id = models.SlugField(primary_key=True, max_length=40)
    name = models.CharField(max_length=60)
    image_key = models.CharField(max_length=255)
    preview_key = models.CharField(max_length=255)
    faces = models.PositiveSmallIntegerField(default=1)  # how many identities it takes
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"
