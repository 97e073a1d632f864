"""Sticker templates made by admins (built-in ones live in code) and users' ratings of results."""
from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models


class StickerTemplate(models.Model):
    """An admin's template: the layout (``spec``, the inference Template's fields) plus optional
    background and frame images kept in object storage."""

    id = models.CharField(primary_key=True, max_length=40,
                          validators=[RegexValidator(r"^[a-z0-9][a-z0-9_-]*$")])
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=16, default="sticker")
    spec = models.JSONField(default=dict, blank=True)
    background_key = models.CharField(max_length=255, blank=True, default="")
    frame_key = models.CharField(max_length=255, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


class Rating(models.Model):
    """A user's 1-5 score of one result; the expression and template are copied from the result
    so admins can compare them after the result itself has expired."""

    result_id = models.UUIDField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="ratings")
    score = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    mode = models.CharField(max_length=32)
    expression = models.CharField(max_length=32, blank=True, default="")
    template_id = models.CharField(max_length=40, blank=True, default="")
    engine = models.CharField(max_length=160, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["result_id", "user"], name="one_rating_per_user")]
