"""Word lists the text filter uses, and the cases (with their audit trail) admins review.

The subject of a case is referred to generically, (subject_type, subject_id): moderation does
not import the backend's models; the backend reacts to decisions through ``case_decided``.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    BLOCK = "block", "block"
    REVIEW = "review", "review"
    ALLOW = "allow", "allow (suppresses hits inside these phrases)"


class WordCategory(models.Model):
    """politics, porn, abuse, ...; ``action`` says what a hit in it does to the content."""

    name = models.SlugField(max_length=32, unique=True)
    description = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.BLOCK)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "word categories"
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.action})"


class SensitiveWord(models.Model):
    category = models.ForeignKey(WordCategory, on_delete=models.CASCADE, related_name="words")
    word = models.CharField(max_length=100)
    # Whole word: the match must not be glued to other Latin letters/digits ("sex" ≠ "Essex").
    # Empty means automatic: whole word for entries of only Latin letters/digits.
    whole_word = models.BooleanField(
        null=True, blank=True, default=None,
        help_text="Empty: automatic (whole word when the entry is only Latin letters/digits).")
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "word"], name="moderation_word_unique")]
        ordering = ["category__name", "word"]

    def __str__(self) -> str:
        return self.word


class SubjectType(models.TextChoices):
    UPLOAD = "upload", "upload"
    RESULT = "result", "result"
    TEXT = "text", "text"


class CaseState(models.TextChoices):
    PENDING = "pending", "pending"
    APPROVED = "approved", "approved"
    REJECTED = "rejected", "rejected"


class ModerationCase(models.Model):
    """One piece of content a provider did not pass: held for review or blocked outright."""

    subject_type = models.CharField(max_length=8, choices=SubjectType.choices)
    subject_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    subject = models.CharField(max_length=40, blank=True, default="")  # "sticker_text", ...
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="moderation_cases")
    text = models.TextField(blank=True, default="")  # the text itself, for text subjects
    preview_key = models.CharField(max_length=300, blank=True, default="")
    providers = models.CharField(max_length=100, blank=True, default="")  # which flagged it
    labels = models.JSONField(default=list, blank=True)  # [{provider, label, score, action, ...}]
    verdict = models.CharField(max_length=8, default="review")  # the automatic decision
    state = models.CharField(max_length=10, choices=CaseState.choices, default=CaseState.PENDING,
                             db_index=True)
    # An asynchronous provider (WeChat mediaCheckAsync) we still wait for: its trace_id.
    awaiting_trace_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "state", "created_at"])]

    def __str__(self) -> str:
        return f"case {self.pk}: {self.subject_type} {self.subject_id} ({self.state})"


class CaseEvent(models.Model):
    """The audit log: every verdict and decision on a case, by whom, when and why."""

    case = models.ForeignKey(ModerationCase, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)  # opened, provider_verdict, approved, rejected
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    provider = models.CharField(max_length=20, blank=True, default="")  # when not a person
    reason = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} on case {self.case_id}"
