"""Signing a browser in with a short-lived code from the mini-program: a signed-in user asks
for a code (``POST /auth/browser-code``) and types it into the web page, which trades it for a
token of that user (``POST /auth/browser-code/redeem``).

A code is 6 characters from an alphabet without look-alikes (0/O, 1/I/L), ~8.9e8 of them. Only
its keyed hash is kept, in the cache, for ``BROWSER_CODE_TTL_SECONDS``; a user has one code at a
time (asking again replaces it); redeeming deletes it, and only the request whose delete took
it away gets a token, so two browsers racing with one code get one token between them. Guessing
is bounded per client address by the ``browser_code`` throttle and, across all addresses, by
``BROWSER_CODE_FAILURES_PER_MINUTE`` wrong codes a minute, past which every redeem is refused
for the rest of that minute (the mini-program's own login is not affected)."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from backend.accounts.services import Login, token_issue
from core.errors import BadRequest, Throttled

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 6
_SALT = "mengxiang.browser-code"


@dataclass(frozen=True)
class BrowserCode:
    code: str
    expires_at: datetime
    expires_in: int


def _digest(code: str) -> str:
    return salted_hmac(_SALT, code, algorithm="sha256").hexdigest()


def _code_key(digest: str) -> str:
    return f"browser-code:{digest}"


def _user_key(user_id) -> str:
    return f"browser-code:user:{user_id}"


def _failures_key(minute: int) -> str:
    return f"browser-code:failures:{minute}"


def normalise(code: str) -> str:
    """As people type it: any case, with spaces or a dash in the middle."""
    return "".join(code.split()).replace("-", "").upper()


def browser_code_issue(*, user) -> BrowserCode:
    """A fresh code for ``user``; the one they had before stops working."""
    ttl = settings.BROWSER_CODE_TTL_SECONDS
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    digest = _digest(code)
    previous = cache.get(_user_key(user.pk))
    if previous:
        cache.delete(_code_key(previous))
    cache.set(_code_key(digest), user.pk, timeout=ttl)
    cache.set(_user_key(user.pk), digest, timeout=ttl)
    return BrowserCode(code=code, expires_at=timezone.now() + timedelta(seconds=ttl),
                       expires_in=ttl)


def _refuse_while_guessed() -> None:
    if cache.get(_failures_key(int(time.time() // 60)), 0) >= \
            settings.BROWSER_CODE_FAILURES_PER_MINUTE:
        raise Throttled(_("Too many wrong codes were tried; wait a minute and try again."),
                        code="browser_codes_locked", retry_after=60 - int(time.time()) % 60)


def _count_failure() -> None:
    key = _failures_key(int(time.time() // 60))
    cache.add(key, 0, timeout=120)
    try:
        cache.incr(key)
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=120)


def browser_code_redeem(*, code: str) -> Login:
    """A new token of the code's user; the code is used up. A wrong, expired or used code is
    400 ``browser_code_invalid`` (one answer for all three: nothing to learn from it)."""
    _refuse_while_guessed()
    code = normalise(code)
    user_id = None
    if len(code) == LENGTH and all(c in ALPHABET for c in code):
        key = _code_key(_digest(code))
        user_id = cache.get(key)
        # Only the request whose delete removed the code may use it.
        if user_id is not None and not cache.delete(key):
            user_id = None
    user = (get_user_model().objects.filter(pk=user_id, is_active=True).first()
            if user_id is not None else None)
    if user is None:
        _count_failure()
        raise BadRequest(_("This code is wrong, used or expired: get a new one in the "
                           "mini-program."), code="browser_code_invalid")
    cache.delete(_user_key(user.pk))
    return token_issue(user=user)
