"""Token authentication for HTTP (DRF) and websockets (Channels) from one lookup."""
from __future__ import annotations

from django.utils import timezone
from rest_framework import authentication, exceptions

from backend.accounts.models import AuthToken


def user_for_token(token: str):
    """The active user a token belongs to, or None when it is unknown or expired."""
    if not token or len(token) > 200:
        return None
    row = (AuthToken.objects.select_related("user")
           .filter(digest=AuthToken.digest_of(token), expires_at__gt=timezone.now()).first())
    if row is None or not row.user.is_active:
        return None
    return row.user


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
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Token <token>'.")
        user = user_for_token(token)
        if user is None:
            raise exceptions.AuthenticationFailed("Your session has expired; log in again.")
        return user, token

    def authenticate_header(self, request):
        return "Token"
