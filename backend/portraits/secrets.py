"""API tokens encrypted at rest with a Fernet key derived from SECRET_KEY: the database alone
does not reveal them, and a changed SECRET_KEY makes every credential unreadable (reissue)."""
from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    key = hashlib.sha256(b"mengxiang portraits api token\0" + settings.SECRET_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def token_new() -> str:
    return secrets.token_hex(20)


def token_encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


def token_decrypt(encrypted: str) -> str | None:
    """The token, or None when it was encrypted under another SECRET_KEY."""
    try:
        return _fernet().decrypt(encrypted.encode()).decode()
    except InvalidToken:
        return None
