"""Token authentication for HTTP (DRF) and websockets (Channels) from one lookup."""
from __future__ import annotations

import threading
import time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from backend.accounts.models import AuthToken


_cache: dict[str, tuple[object, float]] = {}
_cache_lock = threading.Lock()
_CACHE_LIMIT = 10_000


def user_for_token(token: str):
    """The active user a token belongs to, or None when it is unknown or expired.

    Every request asks, so answers are kept in this process for ``TOKEN_CACHE_SECONDS`` (never
    past the token's expiry); a deactivated user or deleted token is refused within that time."""
    if not token or len(token) > 200:
        return None
    digest = AuthToken.digest_of(token)
    now = time.monotonic()
    hit = _cache.get(digest)
    if hit is not None and hit[1] > now:
        return hit[0]
    row = (AuthToken.objects.select_related("user")
           .filter(digest=digest, expires_at__gt=timezone.now()).first())
    if row is None or not row.user.is_active:
        return None
    ttl = min(settings.TOKEN_CACHE_SECONDS, (row.expires_at - timezone.now()).total_seconds())
    with _cache_lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[digest] = (row.user, now + ttl)
    return row.user


def forget_user(user_id) -> None:
    """Drop this process's cached answers for one user (their account is being deleted)."""
    with _cache_lock:
        for digest in [d for d, (user, _) in _cache.items() if user.pk == user_id]:
            del _cache[digest]


def forget_cached_tokens() -> None:
    """Drop every cached answer (tests that expire or delete tokens call this)."""
    with _cache_lock:
        _cache.clear()


def token_from_header(value: str) -> str | None:
    """The token in an ``Authorization: Token <t>`` (or ``Bearer <t>``) header value."""
    parts = value.split()
    if len(parts) == 2 and parts[0].lower() in {"token", "bearer"}:
        return parts[1]
    return None


class BearerTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        token = token_from_header(header)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Send the header as 'Authorization: Token <token>'."))
        user = user_for_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Your session has expired; log in again."))
        return user, token

    def authenticate_header(self, request):
        return "Token"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``BearerTokenAuthentication`` in the OpenAPI schema."""

    target_class = BearerTokenAuthentication
    name = "TokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <token>`, the token from POST /auth/wechat "
                               "(or /auth/dev); `Bearer <token>` is accepted too."}
