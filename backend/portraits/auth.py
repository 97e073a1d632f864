"""PAI's request signature: ``Authorization: <appid>:<hex HMAC-SHA256(token, "POST\\n" +
md5(body) + "\\n" + path)>``, with ``{}`` for an empty body. An unknown appid is PAI's 400
``not found appid``; a signature that does not verify, its 401 ``sign error``."""
from __future__ import annotations

import hashlib
import hmac
import json
import re

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication

from backend.portraits.models import ApiCredential
from backend.portraits.secrets import token_decrypt
from core.errors import BadRequest, Unauthorized

_HEADER = re.compile(r"^([A-Za-z0-9_-]{1,32}):([0-9a-fA-F]{64})$")
# PAI's wire words, which its SDK and clients compare: never translated (selectors.pai_message).
NOT_FOUND_APPID = "not found appid"
SIGN_ERROR = "sign error"


def signature(token: str, method: str, path: str, body: str) -> str:
    digest = hashlib.md5(body.encode()).hexdigest()
    message = f"{method}\n{digest}\n{path}"
    return hmac.new(token.encode(), message.encode(), hashlib.sha256).hexdigest()


def _bodies(raw: bytes) -> list[str]:
    """The body as sent, and as ``json.dumps`` writes it (PAI's SDK signs the latter; a client
    that formats its JSON otherwise signs the former)."""
    text = raw.decode("utf-8", errors="replace") or "{}"
    try:
        return [text, json.dumps(json.loads(text))]
    except ValueError:
        return [text]


class PaiSignatureAuthentication(authentication.BaseAuthentication):
    """Authenticates a request signed as PAI's SDK signs; leaves ``Token …`` headers to the
    next class."""

    def authenticate(self, request):
        match = _HEADER.match(request.headers.get("Authorization", "").strip())
        if match is None:
            return None
        appid, sent = match.group(1), match.group(2).lower()
        credential = (ApiCredential.objects.select_related("owner")
                      .filter(appid=appid, revoked_at__isnull=True).first())
        if credential is None or not credential.owner.is_active:
            raise BadRequest(NOT_FOUND_APPID, code="unknown_appid")
        token = token_decrypt(credential.token_encrypted)
        path = request._request.path
        valid = token is not None and any(
            hmac.compare_digest(signature(token, request.method, path, body), sent)
            for body in _bodies(request._request.body))
        if not valid:
            raise Unauthorized(SIGN_ERROR, code="sign_error")
        request.pai_appid = appid
        return credential.owner, credential

    def authenticate_header(self, request) -> str:
        return "Token"


class PaiSignatureScheme(OpenApiAuthenticationExtension):
    """Documents ``PaiSignatureAuthentication`` in the OpenAPI schema."""

    target_class = PaiSignatureAuthentication
    name = "PaiSignature"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`<appid>:<hex HMAC-SHA256(token, \"POST\\n\" + md5(body) + "
                               "\"\\n\" + path)>`, as PAI's SDK signs; credentials from "
                               "POST /portraits/credentials."}
