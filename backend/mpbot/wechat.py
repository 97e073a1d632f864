"""The Official Account's calls to WeChat: temporary media in and out, customer-service messages.

The access token is the cached stable token moderation keeps (``ContentSecurity``), for the
Official Account's own appid and secret: one token per account shared by every process, replaced
when WeChat answers that it is stale.
"""
from __future__ import annotations

import json

import httpx
from django.conf import settings

from moderation.wechat import (STALE_TOKEN_ERRCODES, ContentSecurity, WeChatError,
                               WeChatUnavailable)

MEDIA_MAX_BYTES = 10 * 2**20  # WeChat's limit for a temporary image or voice


def _account() -> ContentSecurity:
    return ContentSecurity(appid=settings.WECHAT_MP_APPID, secret=settings.WECHAT_MP_SECRET)


def _checked(response: httpx.Response) -> dict:
    if response.status_code >= 500:
        raise WeChatUnavailable(-1, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise WeChatUnavailable(-1, "answer is not JSON") from exc
    if not isinstance(body, dict):
        raise WeChatUnavailable(-1, "answer is not a JSON object")
    errcode = int(body.get("errcode") or 0)
    if errcode == -1:
        raise WeChatUnavailable(errcode, body.get("errmsg", ""))
    if errcode:
        raise WeChatError(errcode, body.get("errmsg", ""))
    return body


def _with_token(call):
    """Run ``call(token)``; once more with a fresh token when WeChat says it is stale."""
    account = _account()
    token = account.access_token()
    try:
        return call(account, token)
    except WeChatError as exc:
        if exc.errcode not in STALE_TOKEN_ERRCODES:
            raise
        return call(account, account.replace_stale_token(stale=token))


def _request(method: str, path: str, token: str, **kwargs) -> httpx.Response:
    try:
        return httpx.request(method, f"{settings.WECHAT_API_BASE.rstrip('/')}{path}",
                             params={"access_token": token, **kwargs.pop("params", {})},
                             timeout=settings.WECHAT_TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise WeChatUnavailable(-1, repr(exc)) from exc


def media_get(media_id: str) -> bytes:
    """A follower's image or voice by its MediaId (kept by WeChat for three days)."""
    def call(account, token):
        response = _request("GET", "/cgi-bin/media/get", token, params={"media_id": media_id})
        kind = response.headers.get("content-type", "")
        if response.status_code == 200 and "json" not in kind and "text" not in kind:
            if len(response.content) > MEDIA_MAX_BYTES:
                raise WeChatError(40006, "media larger than WeChat allows")
            return response.content
        _checked(response)
        raise WeChatUnavailable(-1, "media/get answered without the file")
    return _with_token(call)


def media_upload(data: bytes, *, filename: str, content_type: str, kind: str = "image") -> str:
    """Uploads a temporary media (three days); returns its media_id."""
    def call(account, token):
        body = _checked(_request("POST", "/cgi-bin/media/upload", token, params={"type": kind},
                                 files={"media": (filename, data, content_type)}))
        if not body.get("media_id"):
            raise WeChatUnavailable(-1, "media/upload answered without media_id")
        return body["media_id"]
    return _with_token(call)


def custom_send(*, openid: str, text: str = "", media_id: str = "") -> None:
    """A customer-service message (allowed for 48 hours after the follower's last message)."""
    message = ({"touser": openid, "msgtype": "image", "image": {"media_id": media_id}}
               if media_id else {"touser": openid, "msgtype": "text", "text": {"content": text}})
    payload = json.dumps(message, ensure_ascii=False).encode()

    def call(account, token):
        _checked(_request("POST", "/cgi-bin/message/custom/send", token, content=payload,
                          headers={"Content-Type": "application/json"}))
    _with_token(call)
