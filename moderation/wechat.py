"""WeChat content security: msgSecCheck v2 (text), mediaCheckAsync v2 (images, audio) and the
push.

All calls go to ``WECHAT_API_BASE``. The access_token comes from getStableAccessToken, is
cached in Django's cache (Redis in production, so every process shares one token), refreshed
``WECHAT_TOKEN_REFRESH_MARGIN`` seconds before it expires, and replaced when WeChat answers
40001/42001 (stale or expired token): from the cache if another process already did, else from
getStableAccessToken, force-refreshed only if that still returns the stale one.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
import xml.etree.ElementTree as ET

import httpx
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

STALE_TOKEN_ERRCODES = {40001, 40014, 42001}
# msgSecCheck / mediaCheckAsync v2 labels.
LABELS = {100: "normal", 10001: "ads", 20001: "politics", 20002: "porn", 20003: "abuse",
          20006: "crime", 20008: "fraud", 20012: "vulgar", 20013: "copyright", 21000: "other"}
# mediaCheckAsync's media_type.
MEDIA_AUDIO, MEDIA_IMAGE = 1, 2


class WeChatError(Exception):
    """WeChat answered with an errcode we cannot act on."""

    def __init__(self, errcode: int, errmsg: str = "") -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached, timed out, answered garbage or said 'system busy' (-1)."""


def answer_checked(response: httpx.Response) -> dict:
    """WeChat's JSON answer, or the error it carries (-1, a 5xx or garbage: unavailable)."""
    if response.status_code >= 500:
        raise WeChatUnavailable(-1, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise WeChatUnavailable(-1, repr(exc)) from exc
    if not isinstance(body, dict):
        raise WeChatUnavailable(-1, "answer is not a JSON object")
    errcode = int(body.get("errcode") or 0)
    if errcode == -1:
        raise WeChatUnavailable(errcode, body.get("errmsg", ""))
    if errcode:
        raise WeChatError(errcode, body.get("errmsg", ""))
    return body


class ContentSecurity:
    def __init__(self, *, base: str | None = None, appid: str | None = None,
                 secret: str | None = None, timeout: float | None = None) -> None:
        self.base = (base or settings.WECHAT_API_BASE).rstrip("/")
        self.appid = appid or settings.WECHAT_APPID
        self.secret = secret or settings.WECHAT_SECRET
        self.timeout = timeout or settings.WECHAT_TIMEOUT
        digest = hashlib.sha1(f"{self.base}|{self.appid}".encode()).hexdigest()[:16]
        self._cache_key = f"moderation:wechat-token:{digest}"

    # -- transport -----------------------------------------------------------------------------

    def _post(self, path: str, payload: dict, *, params: dict | None = None) -> dict:
        try:
            response = httpx.post(f"{self.base}{path}", params=params, timeout=self.timeout,
                                  content=json.dumps(payload, ensure_ascii=False).encode(),
                                  headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            raise WeChatUnavailable(-1, repr(exc)) from exc
        return answer_checked(response)

    # -- access_token --------------------------------------------------------------------------

    def access_token(self, *, force_refresh: bool = False) -> str:
        margin = settings.WECHAT_TOKEN_REFRESH_MARGIN
        cached = cache.get(self._cache_key)
        if cached and not force_refresh and cached["expires_at"] - margin > time.time():
            return cached["token"]
        body = self._post("/cgi-bin/stable_token", {
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
            "force_refresh": force_refresh})
        token, expires_in = body.get("access_token"), int(body.get("expires_in") or 0)
        if not token or expires_in <= 0:
            raise WeChatUnavailable(-1, "stable_token answered without a token")
        cache.set(self._cache_key, {"token": token, "expires_at": time.time() + expires_in},
                  timeout=max(expires_in - 1, 1))
        return token

    def forget_token(self) -> None:
        cache.delete(self._cache_key)

    def _call(self, path: str, payload: dict) -> dict:
        token = self.access_token()
        try:
            return self._post(path, payload, params={"access_token": token})
        except WeChatError as exc:
            if exc.errcode not in STALE_TOKEN_ERRCODES:
                raise
            return self._post(path, payload, params={"access_token": self._fresh_token(stale=token)})

    def replace_stale_token(self, *, stale: str) -> str:
        """For other WeChat APIs on the same token (the Official Account's media and messages):
        a token other than ``stale``, which WeChat just refused."""
        return self._fresh_token(stale=stale)

    def _fresh_token(self, *, stale: str) -> str:
        """A token other than ``stale``, forcing a refresh only as the last resort: WeChat allows
        few forced refreshes a day and each one invalidates the token every other process holds."""
        log.info("wechat access_token stale; getting another")
        cached = cache.get(self._cache_key)
        if cached and cached["token"] != stale:
            return cached["token"]  # another process already refreshed it
        cache.delete(self._cache_key)
        token = self.access_token()
        return token if token != stale else self.access_token(force_refresh=True)

    # -- content security ----------------------------------------------------------------------

    def msg_sec_check(self, *, content: str, openid: str, scene: int) -> dict:
        """The v2 verdict: ``{"suggest": risky|review|pass, "label": int, "trace_id", "detail"}``."""
        body = self._call("/wxa/msg_sec_check", {"content": content, "version": 2,
                                                 "scene": scene, "openid": openid})
        result = body.get("result") or {}
        if result.get("suggest") not in ("risky", "review", "pass"):
            raise WeChatUnavailable(-1, "msg_sec_check answered without result.suggest")
        return {"suggest": result["suggest"], "label": int(result.get("label") or 0),
                "trace_id": body.get("trace_id", ""), "detail": body.get("detail", [])}

    def media_check_async(self, *, media_url: str, openid: str, scene: int,
                          media_type: int = MEDIA_IMAGE) -> str:
        """Submits an image or a recording; returns the trace_id its later push will carry."""
        body = self._call("/wxa/media_check_async", {
            "media_url": media_url, "media_type": media_type, "version": 2, "scene": scene,
            "openid": openid})
        if not body.get("trace_id"):
            raise WeChatUnavailable(-1, "media_check_async answered without trace_id")
        return body["trace_id"]


# -- message push ------------------------------------------------------------------------------

def push_signature_valid(*, token: str, signature: str, timestamp: str, nonce: str,
                         max_age: int = 0, skew: int = 0) -> bool:
    """WeChat signs pushes with sha1(sorted(token, timestamp, nonce)). With `max_age`, the
    timestamp must also be at most that old and at most `skew` seconds ahead of our clock."""
    if not (token and signature and timestamp and nonce):
        return False
    expected = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return False
    if max_age:
        try:
            return -skew <= time.time() - int(timestamp) <= max_age
        except ValueError:
            return False
    return True


def push_first_use(*, timestamp: str, nonce: str, max_age: int, skew: int) -> bool:
    """Records a signed (timestamp, nonce) pair; False if it was seen before.

    The plaintext signature covers neither the body nor the method, so one record serves the
    GET verification and the POSTs alike: a triple a verification used cannot carry a push.
    The record lives until the timestamp itself is refused as too old, however far ahead (within
    `skew`) it was stamped."""
    ttl = max_age + skew - (time.time() - int(timestamp))
    return cache.add(f"moderation:wechat-push:{timestamp}:{nonce}", 1, max(1, math.ceil(ttl)))


def parse_push(body: bytes, content_type: str = "") -> dict:
    """A push as a dict, from its JSON or XML form (XML lists: repeated ``detail`` elements)."""
    text = body.decode("utf-8").strip()
    if "json" in content_type or text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("push is not a JSON object")
        return data
    root = ET.fromstring(text)  # stdlib parser: no external entities are fetched

    def convert(element):
        children = list(element)
        if not children:
            value = (element.text or "").strip()
            return int(value) if value.lstrip("-").isdigit() else value
        out: dict = {}
        for child in children:
            value = convert(child)
            if child.tag == "detail":
                out.setdefault("detail", []).append(value)
            else:
                out[child.tag] = value
        return out

    return convert(root)
