"""The Official Account's calls to WeChat: temporary media in and out, customer-service messages,
a follower's profile (for the unionid).

The access token is the cached stable token moderation keeps (``ContentSecurity``), for the
Official Account's own appid and secret: one token per account shared by every process, replaced
when WeChat answers that it is stale.
"""
from __future__ import annotations

import json

import httpx
from django.conf import settings

from moderation.wechat import (STALE_TOKEN_ERRCODES, ContentSecurity, WeChatError,
                               WeChatUnavailable, answer_checked)

MEDIA_MAX_BYTES = 10 * 2**20  # WeChat's limit for a temporary image or voice


def _account() -> ContentSecurity:
    return ContentSecurity(appid=settings.WECHAT_MP_APPID, secret=settings.WECHAT_MP_SECRET)


def _with_token(call):
    """Run ``call(token)``; once more with a fresh token when WeChat says it is stale."""
    account = _account()
    token = account.access_token()
    try:
        return call(token)
    except WeChatError as exc:
        if exc.errcode not in STALE_TOKEN_ERRCODES:
            raise
        return call(account.replace_stale_token(stale=token))


def _request(method: str, path: str, token: str, **kwargs) -> httpx.Response:
    try:
        return httpx.request(method, f"{settings.WECHAT_API_BASE.rstrip('/')}{path}",
                             params={"access_token": token, **kwargs.pop("params", {})},
                             timeout=settings.WECHAT_TIMEOUT, **kwargs)
    except httpx.HTTPError as exc:
        raise WeChatUnavailable(-1, repr(exc)) from exc


def media_get(media_id: str) -> bytes:
    """A follower's image or voice by its MediaId (kept by WeChat for three days), read no
    further than WeChat's own size limit."""
    def call(token):
        url = f"{settings.WECHAT_API_BASE.rstrip('/')}/cgi-bin/media/get"
        try:
            with httpx.stream("GET", url, params={"access_token": token, "media_id": media_id},
                              timeout=settings.WECHAT_TIMEOUT) as response:
                kind = response.headers.get("content-type", "")
                if response.status_code != 200 or "json" in kind or "text" in kind:
                    response.read()
                    answer_checked(response)
                    raise WeChatUnavailable(-1, "media/get answered without the file")
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MEDIA_MAX_BYTES:
                        raise WeChatError(40006, "media larger than WeChat allows")
                return bytes(data)
        except httpx.HTTPError as exc:
            raise WeChatUnavailable(-1, repr(exc)) from exc
    return _with_token(call)


def media_upload(data: bytes, *, filename: str, content_type: str, kind: str = "image") -> str:
    """Uploads a temporary media (three days); returns its media_id."""
    def call(token):
        body = answer_checked(_request("POST", "/cgi-bin/media/upload", token,
                                       params={"type": kind},
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

    def call(token):
        answer_checked(_request("POST", "/cgi-bin/message/custom/send", token,
                                content=payload, headers={"Content-Type": "application/json"}))
    _with_token(call)


def user_unionid(openid: str) -> str:
    """The follower's unionid from ``/cgi-bin/user/info``: "" when the Official Account is not
    bound to an Open Platform account (WeChat then sends none). WeChat's refusals raise
    ``WeChatError``; a stale token is replaced and the call made once more."""
    def call(token):
        body = answer_checked(_request("GET", "/cgi-bin/user/info", token,
                                       params={"openid": openid, "lang": "zh_CN"}))
        if body.get("openid", openid) != openid:
            raise WeChatUnavailable(-1, "user/info answered about another openid")
        return str(body.get("unionid") or "")
    return _with_token(call)
