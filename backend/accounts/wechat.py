"""The WeChat login exchange (code2Session) at ``WECHAT_API_BASE``, errcodes mapped to our errors."""
from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, Forbidden, ServiceError, Throttled, Unavailable


@dataclass(frozen=True)
class WechatSession:
    openid: str
    session_key: str
    unionid: str = ""


# errcode -> (error class, our code, message for the user)
_ERRORS = {
    40029: (BadRequest, "invalid_code", _("The login code is invalid or used; call wx.login again.")),
    40163: (BadRequest, "invalid_code", _("The login code was already used; call wx.login again.")),
    45011: (Throttled, "wechat_rate_limited", _("Too many logins; wait a minute and try again.")),
    40226: (Forbidden, "wechat_risky_user", _("WeChat blocked this login for a high-risk account.")),
    -1: (Unavailable, "wechat_unavailable", _("WeChat is busy; try again in a moment.")),
}


def code_to_session(code: str) -> WechatSession:
    """Exchange a ``wx.login`` code for the user's openid and session_key."""
    if not settings.WECHAT_APPID or not settings.WECHAT_SECRET:
        raise Unavailable(_("WeChat login is not configured on this server (WECHAT_APPID and "
                            "WECHAT_SECRET are empty); use another way to log in, or ask its "
                            "operator to set them."), code="wechat_not_configured")
    params = {"appid": settings.WECHAT_APPID, "secret": settings.WECHAT_SECRET,
              "js_code": code, "grant_type": "authorization_code"}
    url = settings.WECHAT_API_BASE.rstrip("/") + "/sns/jscode2session"
    try:
        response = httpx.get(url, params=params, timeout=settings.WECHAT_TIMEOUT)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unavailable(_("WeChat could not be reached; try again in a moment."),
                          code="wechat_unavailable") from exc
    errcode = int(body.get("errcode") or 0)
    if errcode:
        cls, code_word, message = _ERRORS.get(
            errcode, (Unavailable, "wechat_error",
                      _("WeChat refused the login (errcode %(errcode)s).") % {"errcode": errcode}))
        raise cls(message, code=code_word)
    if not body.get("openid") or not body.get("session_key"):
        raise ServiceError(_("WeChat answered without an openid."), code="wechat_error", status=503)
    return WechatSession(openid=body["openid"], session_key=body["session_key"],
                         unionid=body.get("unionid", ""))
