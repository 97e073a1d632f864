"""Logging in: WeChat's code2Session through a local fake of its API, dev login, tokens."""
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from backend.accounts.models import AuthToken, WechatAccount

pytestmark = pytest.mark.django_db


def test_wechat_login_creates_user_and_hides_session_key(fake_wechat):
    fake_wechat.sessions["code-1"] = {"openid": "oA1", "session_key": "sk-secret", "unionid": "uX"}
    response = APIClient().post("/auth/wechat", {"code": "code-1"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["user"]["openid"] == "oA1" and body["user"]["unionid"] == "uX"
    assert "sk-secret" not in response.content.decode()
    account = WechatAccount.objects.get(openid="oA1")
    assert account.session_key == "sk-secret"
    # The code went to WeChat with our app's credentials.
    sent = [r for r in fake_wechat.requests if "jscode2session" in r["path"]][-1]
    assert sent["query"]["js_code"] == "code-1" and sent["query"]["appid"] == fake_wechat.appid
    # The token works, and only its digest is stored.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/jobs").status_code == 200
    assert not AuthToken.objects.filter(digest=body["token"]).exists()


def test_second_login_finds_the_same_user(fake_wechat):
    fake_wechat.sessions["c1"] = {"openid": "oSame", "session_key": "k1"}
    fake_wechat.sessions["c2"] = {"openid": "oSame", "session_key": "k2"}
    first = APIClient().post("/auth/wechat", {"code": "c1"}, format="json").json()
    second = APIClient().post("/auth/wechat", {"code": "c2"}, format="json").json()
    assert first["user"]["id"] == second["user"]["id"]
    assert WechatAccount.objects.get(openid="oSame").session_key == "k2"


@pytest.mark.parametrize("errcode, status, code", [
    (40029, 400, "invalid_code"),
    (45011, 429, "wechat_rate_limited"),
    (40226, 403, "wechat_risky_user"),
    (-1, 503, "wechat_unavailable"),
])
def test_wechat_errcodes_map_to_clear_errors(fake_wechat, errcode, status, code):
    fake_wechat.errors["jscode2session"] = errcode
    response = APIClient().post("/auth/wechat", {"code": "whatever"}, format="json")
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_wechat_down_is_503(fake_wechat):
    fake_wechat.down = True
    response = APIClient().post("/auth/wechat", {"code": "c"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "wechat_unavailable"


def test_wechat_unreachable_is_503(settings):
    settings.WECHAT_APPID, settings.WECHAT_SECRET = "wx-app", "secret"
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    response = APIClient().post("/auth/wechat", {"code": "c"}, format="json",
                                HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    assert "could not be reached" in response.json()["error"]["message"]


def test_wechat_login_without_credentials_says_it_is_not_configured(settings):
    settings.WECHAT_APPID = settings.WECHAT_SECRET = ""
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"
    response = APIClient().post("/auth/wechat", {"code": "c"}, format="json",
                                HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "wechat_not_configured"
    assert "not configured" in error["message"] and "reached" not in error["message"]


def test_login_needs_a_code():
    response = APIClient().post("/auth/wechat", {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_dev_login_is_off_unless_enabled(settings):
    settings.DEV_LOGIN = False
    response = APIClient().post("/auth/dev", {"openid": "o1"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "dev_login_disabled"


@pytest.mark.parametrize("header", ["", "Token nope", "Basic abc", "Token a b"])
def test_routes_need_a_valid_token(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/jobs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] in {"not_authenticated", "invalid_token"}


def test_expired_token_is_refused(login):
    from datetime import timedelta

    from django.utils import timezone

    from backend.accounts.auth import forget_cached_tokens

    api = login()
    assert api.get("/jobs").status_code == 200  # now this process trusts the token a while
    AuthToken.objects.filter(user_id=api.user_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    forget_cached_tokens()  # as TOKEN_CACHE_SECONDS passing does
    assert api.get("/jobs").status_code == 401


def test_token_cache_is_bounded_by_its_ttl(login, settings):
    from backend.accounts.auth import forget_cached_tokens

    settings.TOKEN_CACHE_SECONDS = 0
    api = login()
    assert api.get("/jobs").status_code == 200
    AuthToken.objects.filter(user_id=api.user_id).delete()
    assert api.get("/jobs").status_code == 401  # no caching: refused at once
    forget_cached_tokens()
