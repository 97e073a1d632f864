"""Where dev login is off, a browser signs in with a one-time code that the mini-program got
from POST /auth/browser-code: the page offers the code form (no dev login form), a wrong code
is refused in the page's language, the right one signs in as the mini-program's user, once."""
from __future__ import annotations

import uuid

import httpx
import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import PHONE
from tests.browser.test_web_client import css, shoot, speaks, wait
from tests.live import serving


@pytest.fixture(scope="module")
def no_dev_login_server(django_db_setup, tmp_path_factory, request):
    with serving(request, tmp_path_factory, "browser-code-asgi", {"DEV_LOGIN": "0"}) as live:
        yield live


@pytest.fixture
def mini_program_user(django_db_blocker):
    """A user signed in as the mini-program signs in (their token), committed for the server."""
    from backend.accounts.services import account_for_openid, token_issue

    with django_db_blocker.unblock():
        user = account_for_openid(openid=f"mp-{uuid.uuid4().hex[:12]}")
        return user.pk, token_issue(user=user).token


@pytest.mark.js_errors_expected  # the wrong code's 400, which Chromium logs; checked below
def test_a_browser_signs_in_with_a_code_from_the_mini_program(no_dev_login_server, browser,
                                                               mini_program_user):
    server = no_dev_login_server
    user_id, mp_token = mini_program_user
    window = browser(size=PHONE)
    speaks(window, "zh-CN")
    window.driver.get(server.url + "/")
    wait(window, lambda d: d.find_element(By.ID, "code-form").is_displayed())
    assert not window.driver.find_elements(By.ID, "signin-form")  # no dev login here
    assert "用验证码登录" in css(window, "#code-form").text
    assert httpx.post(f"{server.url}/auth/dev", json={"openid": "x"}).status_code == 404

    # The mini-program asks for a code with its token.
    issued = httpx.post(f"{server.url}/auth/browser-code",
                        headers={"Authorization": f"Token {mp_token}"})
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]

    wrong = "".join("Z" if c != "Z" else "Y" for c in code)
    css(window, "#code-form input[name=code]").send_keys(wrong)
    css(window, "#code-form button[type=submit]").click()
    wait(window, lambda d: d.find_element(By.ID, "toast").is_displayed())
    assert "验证码错误" in css(window, "#toast").text
    assert window.driver.execute_script("return localStorage.getItem('mx.token')") is None
    shoot(window, "wrong-code", PHONE[0])

    field = css(window, "#code-form input[name=code]")
    field.clear()
    field.send_keys(f"{code[:3].lower()} {code[3:]}")  # as people type it
    shoot(window, "code-typed", PHONE[0])
    css(window, "#code-form button[type=submit]").click()
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, "[data-screen=home]").is_displayed())
    shoot(window, "signed-in", PHONE[0])
    token = window.driver.execute_script("return localStorage.getItem('mx.token')")
    assert token and token != mp_token
    # The browser is the mini-program's user: what one uploads, the other sees.
    upload = httpx.post(f"{server.url}/upload", headers={"Authorization": f"Token {token}"},
                        files={"file": ("p.png", _png(), "image/png")})
    assert upload.status_code == 201, upload.text
    mine = httpx.get(f"{server.url}/uploads", headers={"Authorization": f"Token {mp_token}"})
    assert [u["id"] for u in mine.json()["results"]] == [upload.json()["id"]]
    # Used up.
    again = httpx.post(f"{server.url}/auth/browser-code/redeem", json={"code": code})
    assert (again.status_code, again.json()["error"]["code"]) == (400, "browser_code_invalid")

    errors = window.errors()
    assert len(errors) == 1 and "/auth/browser-code/redeem" in errors[0] and "400" in errors[0], \
        errors


def _png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 150)).save(buffer, "PNG")
    return buffer.getvalue()
