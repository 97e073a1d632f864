"""What the live talking head keeps in the database: each user's Extras key (the credential
SillyTavern holds, good for the Extras routes only) and the stored picture of each loaded
character, so that retention and account deletion find it."""
from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models


class ExtrasKey(models.Model):
    """One per user at most. Only its SHA-256 is stored; the key is shown once, when issued.
    Issuing a new one replaces it; deleting it revokes every URL that carries it."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="extras_key")
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)  # the key's first characters, to tell keys apart
    created_at = models.DateTimeField(auto_now_add=True)

    @staticmethod
    def digest_of(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class CharacterPicture(models.Model):
    """A live character's stored picture; deleted with the character, or at ``expires_at``
    (RETENTION_HOURS after it was loaded) by retention."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="character_pictures")
    storage_key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
