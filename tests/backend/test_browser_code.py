"""Signing a browser in with a code from the mini-program: POST /auth/browser-code (a signed-in
user) and POST /auth/browser-code/redeem (anyone, throttled). A code is short-lived, used once,
only ever yields its own user's account, and guessing is bounded."""
from __future__ import annotations

import time
import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from backend.accounts import browser_code

pytestmark = pytest.mark.django_db


def redeem(code, address: str | None = None, **extra):
    """A redeem from a browser of its own (no token), from ``address``: each test its own, so
    that the per-address throttle counts only its attempts."""
    return APIClient().post("/auth/browser-code/redeem", {"code": code}, format="json",
                            REMOTE_ADDR=address or f"10.{uuid.uuid4().int % 250}.0.1", **extra)


def issue(api) -> dict:
    response = api.post("/auth/browser-code")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_code_signs_a_browser_in_as_its_user_once(login):
    api = login()
    issued = issue(api)
    assert len(issued["code"]) == 6 and set(issued["code"]) <= set(browser_code.ALPHABET)
    assert issued["expires_in"] == 120
    signed_in = redeem(issued["code"])
    assert signed_in.status_code == 200, signed_in.content
    body = signed_in.json()
    assert body["user"]["id"] == api.user_id and body["token"] != api.login["token"]
    browser = APIClient()
    browser.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert browser.get("/uploads").status_code == 200
    # Used up: the same code again is refused like any wrong one.
    again = redeem(issued["code"])
    assert (again.status_code, again.json()["error"]["code"]) == (400, "browser_code_invalid")


def test_a_code_is_read_as_people_type_it(login):
    api = login()
    code = issue(api)["code"]
    typed = f" {code[:3].lower()}-{code[3:]} "
    response = redeem(typed)
    assert response.status_code == 200 and response.json()["user"]["id"] == api.user_id


def test_only_the_codes_hash_is_kept(login):
    api = login()
    code = issue(api)["code"]
    assert cache.get(f"browser-code:{code}") is None
    assert cache.get(f"browser-code:{browser_code._digest(code)}") == api.user_id


def test_a_code_expires(login, settings):
    settings.BROWSER_CODE_TTL_SECONDS = 1
    api = login()
    issued = issue(api)
    assert issued["expires_in"] == 1
    time.sleep(1.6)
    response = redeem(issued["code"])
    assert (response.status_code, response.json()["error"]["code"]) == (400, "browser_code_invalid")


def test_asking_again_replaces_the_code(login):
    api = login()
    first, second = issue(api)["code"], issue(api)["code"]
    assert redeem(first).json()["error"]["code"] == "browser_code_invalid"
    assert redeem(second).json()["user"]["id"] == api.user_id


@pytest.mark.parametrize("body, code", [
    ({"code": "ZZZZZZ"}, "browser_code_invalid"), ({"code": "0O1IL0"}, "browser_code_invalid"),
    ({"code": "ABC"}, "browser_code_invalid"), ({"code": "A" * 32}, "browser_code_invalid"),
    ({"code": "A" * 33}, "invalid_input"), ({"code": ""}, "invalid_input")])
def test_wrong_and_malformed_codes_are_refused_with_a_stable_code(login, body, code):
    issue(login())  # a live code exists, and is not this one
    response = APIClient().post("/auth/browser-code/redeem", body, format="json",
                                REMOTE_ADDR="10.9.9.9")
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


@pytest.mark.parametrize("body, code", [
    ({}, "invalid_input"), ({"code": None}, "invalid_input"), ([], "malformed_request"),
    ({"code": 123456}, "browser_code_invalid"),  # read as text: a number is never a code
    ({"code": "ABCDEF", "user_id": 1}, "unknown_field")])
def test_a_bad_body_is_a_clear_400(body, code):
    response = APIClient().post("/auth/browser-code/redeem", body, format="json",
                                REMOTE_ADDR="10.9.9.8")
    assert (response.status_code, response.json()["error"]["code"]) == (400, code)


def test_asking_for_a_code_needs_a_signed_in_user():
    response = APIClient().post("/auth/browser-code")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_another_users_code_never_yields_your_account(login):
    alice, bob = login(), login()
    alices, bobs = issue(alice)["code"], issue(bob)["code"]
    # Bob redeeming Alice's code, even with his own token sent along, is signed in as Alice.
    as_bob = APIClient()
    as_bob.credentials(HTTP_AUTHORIZATION=f"Token {bob.login['token']}")
    response = as_bob.post("/auth/browser-code/redeem", {"code": alices}, format="json")
    assert response.json()["user"]["id"] == alice.user_id
    assert redeem(bobs).json()["user"]["id"] == bob.user_id
    # A code belongs to one user only: whoever redeems it, it never yields another account.
    for _ in range(5):
        user, other = login(), login()
        assert redeem(issue(user)["code"]).json()["user"]["id"] == user.user_id != other.user_id


def test_a_deleted_accounts_code_signs_nobody_in(login):
    api = login()
    code = issue(api)["code"]
    assert api.client.delete("/me").status_code == 204
    response = redeem(code)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "browser_code_invalid")


def test_attempts_are_throttled_per_address(login, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "browser_code", "3/min")
    api = login()
    code = issue(api)["code"]
    address = f"10.77.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    for _ in range(3):
        assert redeem("ZZZZZZ", address).status_code == 400
    throttled = redeem(code, address)  # even the right code: the address is over its rate
    assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # The code was not spent by the refused attempt: another address may still use it.
    assert redeem(code).json()["user"]["id"] == api.user_id


def test_many_wrong_codes_from_everywhere_lock_redeeming_for_the_minute(login, settings,
                                                                         monkeypatch):
    settings.BROWSER_CODE_FAILURES_PER_MINUTE = 3
    now = (time.time() // 60) * 60 + 1000 * 60 * 60 * 24 * 365  # a minute of its own
    monkeypatch.setattr(browser_code.time, "time", lambda: now + 5)
    cache.delete(browser_code._failures_key(int((now + 5) // 60)))
    api = login()
    code = issue(api)["code"]
    for i in range(3):
        assert redeem("ZZZZZZ", f"10.8.{i}.1").status_code == 400
    locked = redeem(code, "10.8.9.1")
    assert (locked.status_code, locked.json()["error"]["code"]) == (429, "browser_codes_locked")
    assert int(locked["Retry-After"]) == 55
    monkeypatch.setattr(browser_code.time, "time", lambda: now + 65)  # the next minute
    assert redeem(code, "10.8.9.2").json()["user"]["id"] == api.user_id


def test_a_wrong_code_is_explained_in_chinese_by_default_and_english_on_request():
    chinese = redeem("ZZZZZZ").json()["error"]
    english = redeem("ZZZZZZ", HTTP_ACCEPT_LANGUAGE="en").json()["error"]
    assert chinese["code"] == english["code"] == "browser_code_invalid"
    assert "验证码" in chinese["message"]
    assert english["message"].startswith("This code is wrong, used or expired")


@pytest.mark.django_db(transaction=True)
def test_browsers_racing_with_one_code_get_one_token_between_them(login):
    import threading

    from django.db import connection

    from core.errors import ServiceError

    api = login()
    code = issue(api)["code"]
    barrier, outcomes = threading.Barrier(6), []

    def race():
        try:
            barrier.wait()
            outcomes.append(browser_code.browser_code_redeem(code=code).user.pk)
        except ServiceError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes, key=str) == sorted([api.user_id] + ["browser_code_invalid"] * 5,
                                               key=str), outcomes
