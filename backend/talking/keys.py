"""Extras keys: the credential a user gives SillyTavern instead of their API token. A key opens
only SillyTavern-extras' routes (modules, classify, talkinghead), never the account, and it is
revocable. SillyTavern sends it as its Extras API key (``Authorization: Bearer``); a browser's
``<img src=.../api/talkinghead/result_feed>`` sends no header, so the key also works as a path
prefix: Extras URL ``https://host/st/<key>``, under which every Extras route answers."""
from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from backend.accounts.auth import token_from_header, user_for_token
from backend.talking.models import ExtrasKey

KEY_PREFIX = "mxst_"
PATH_PREFIX = "/st/"
REVOKED_MESSAGE = _("This Extras key is unknown or was revoked; get a new one with "
                    "POST /talking/extras-key and set SillyTavern's Extras URL again.")


def extras_key_issue(*, user) -> tuple[str, ExtrasKey]:
    """A new key for ``user``, replacing (revoking) any earlier one; the key is returned once."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        ExtrasKey.objects.filter(owner=user).delete()
        row = ExtrasKey.objects.create(owner=user, digest=ExtrasKey.digest_of(key),
                                       hint=key[:len(KEY_PREFIX) + 4])
    return key, row


def extras_key_revoke(*, user) -> bool:
    """Revoke the user's key; whether there was one."""
    deleted, _ = ExtrasKey.objects.filter(owner=user).delete()
    return bool(deleted)


def user_for_extras_key(key: str):
    """The active user an Extras key belongs to, or None. Not cached: a revoked key stops at
    once (one indexed lookup per Extras request; a feed checks again every few seconds)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    row = (ExtrasKey.objects.select_related("owner")
           .filter(digest=ExtrasKey.digest_of(key)).first())
    if row is None or not row.owner.is_active:
        return None
    return row.owner


def is_extras_path(path: str) -> bool:
    return path in ("/api/modules", "/api/classify") or path.startswith("/api/talkinghead/")


def split_prefixed(path: str) -> tuple[str, str] | None:
    """``/st/<key>/api/...`` as (key, ``/api/...``); None for any other path. A doubled slash
    after the key (an Extras URL typed with a trailing ``/``) is one slash."""
    if not path.startswith(PATH_PREFIX):
        return None
    key, slash, rest = path[len(PATH_PREFIX):].partition("/")
    return key, "/" + rest.lstrip("/") if slash else "/"


def key_from_scope(scope) -> str | None:
    """The key of a request that came in under the ``/st/<key>/`` prefix (set by backend/asgi.py
    only: a client cannot put anything in a scope)."""
    return scope.get("extras_key") if scope else None


def credential_of(scope) -> tuple[str, str] | None:
    """("extras", key) under the Extras URL prefix (the only credential looked at there), else
    the bearer: an Extras key or an API token; None without one."""
    key = key_from_scope(scope)
    if key is not None:
        return "extras", key
    header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
    token = token_from_header(header) if header else None
    if not token:
        return None
    return ("extras", token) if token.startswith(KEY_PREFIX) else ("token", token)


def user_of(credential: tuple[str, str] | None):
    """The user a credential from ``credential_of`` names, or None."""
    if credential is None:
        return None
    kind, value = credential
    return user_for_extras_key(value) if kind == "extras" else user_for_token(value)


class ExtrasKeyAuthentication(authentication.BaseAuthentication):
    """For the Extras routes: the key in the path prefix (which then is the only credential
    looked at), else an Extras key as the bearer; any other bearer is left to token auth."""

    def authenticate(self, request):
        key = key_from_scope(getattr(request._request, "scope", None))
        if key is None:
            header = request.META.get("HTTP_AUTHORIZATION", "").split()
            if len(header) != 2 or not header[1].startswith(KEY_PREFIX):
                return None
            key = header[1]
        user = user_for_extras_key(key)
        if user is None:
            raise exceptions.AuthenticationFailed(REVOKED_MESSAGE)
        return user, None

    def authenticate_header(self, request):
        return "Bearer"


class ExtrasKeyScheme(OpenApiAuthenticationExtension):
    """Documents ``ExtrasKeyAuthentication`` in the OpenAPI schema."""

    target_class = ExtrasKeyAuthentication
    name = "ExtrasKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An Extras key from POST /talking/extras-key (`mxst_...`), as "
                               "SillyTavern's Extras API key; or no header under the Extras "
                               "URL `/st/<key>/`."}
