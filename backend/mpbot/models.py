"""Followers of the Official Account, their conversation, and what the bot still has to send."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Awaiting(models.TextChoices):
    NOTHING = ""
    PHOTO = "photo"  # a keyword was sent: the next photo makes `mode`
    CONFIRM = "confirm"  # a voice description was asked about: "1", or a correction


class Follower(models.Model):
    """A WeChat user following the account: an account of ours, keyed by the openid (and joined
    to the mini-program's account when the unionid matches)."""

    openid = models.CharField(max_length=64, unique=True)
    unionid = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # WeChat's user/info has answered for this follower (with a unionid or without one, when the
    # account is not bound to an Open Platform account): it is not asked again.
    unionid_asked = models.BooleanField(default=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="mp_follower")
    # The conversation: what the next message answers, until `expires_at`.
    awaiting = models.CharField(max_length=12, choices=Awaiting.choices, blank=True, default="")
    mode = models.CharField(max_length=16, blank=True, default="")  # anime | sticker
    sticker_text = models.CharField(max_length=100, blank=True, default="")
    photo = models.ForeignKey("uploads.Upload", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")  # a photo sent without a keyword, kept for one
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")  # the voice job awaiting confirmation
    expires_at = models.DateTimeField(null=True, blank=True)
    # Unsubscribed, but deleting the data failed (storage down): the sender tries again.
    unsubscribed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.openid


class DeliveryState(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(models.Model):
    """A job's outcome owed to a follower: sent as the passive reply when it is ready within the
    request's 4.5 s, else through the customer-service API (retried with backoff)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    follower = models.ForeignKey(Follower, on_delete=models.CASCADE, related_name="deliveries")
    job = models.ForeignKey("jobs.Job", null=True, blank=True, on_delete=models.CASCADE,
                            related_name="+")
    text = models.CharField(max_length=600, blank=True, default="")  # a late text answer
    state = models.CharField(max_length=8, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    not_before = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    how = models.CharField(max_length=8, blank=True, default="")  # passive | custom
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "not_before"])]
