"""The issue's moderator flow across both pages at once: a user's photo is flagged for real
(NudeNet), the user's web page shows the held job; in another window the moderator sees the case
arrive in the console, approves it with the keyboard, and the user's page — never reloaded —
shows the job run and its picture."""
from __future__ import annotations

import uuid

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import PHONE
from tests.browser.test_console_browser import (  # noqa: F401 - fixtures
    cards, flag_a_photo, flagging_server, moderator, press)
from tests.browser.test_console_browser import sign_in as console_sign_in
from tests.browser.test_web_client import RECORDER, css, speaks, wait
from tests.browser.test_web_client import sign_in as user_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_moderators_approval_in_the_console_reaches_the_users_open_page(
        browser, flagging_server, moderator, astronaut_jpeg):
    from moderation.models import ModerationCase

    server = flagging_server
    console = browser()
    console_sign_in(console, server, moderator)

    phone = browser(size=PHONE)
    speaks(phone, "zh-CN")
    openid = f"round-{uuid.uuid4().hex[:10]}"
    user_sign_in(phone, server, openid)
    upload_id, job_id = flag_a_photo(server.client(openid), astronaut_jpeg, with_job=True)
    phone.driver.execute_script(f"location.hash = '#/job/{job_id}'")
    card = f".job-card[data-job-id='{job_id}']"
    wait(phone, lambda d: d.find_elements(By.CSS_SELECTOR, card))
    wait(phone, lambda d: css(phone, card).get_attribute("data-live") == "open", timeout=15)
    assert css(phone, card).get_attribute("data-state") == "held"
    phone.driver.execute_script(RECORDER + "window.__samePage = 'yes';")
    phone.shot("user-held")

    case = ModerationCase.objects.get(subject_id=upload_id)
    wait(console, lambda d: [c.get_attribute("data-case") for c in cards(console)] == [str(case.id)])
    console.shot("console-case")
    press(console, "a")
    wait(console, lambda d: cards(console) == [])

    wait(phone, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state")
         in ("succeeded", "failed", "blocked"), timeout=90)
    states = phone.driver.execute_script("return window.__seen.states")
    assert states[-1] == "succeeded" and "running" in states, states
    assert phone.driver.execute_script("return window.__samePage") == "yes"  # no reload
    wait(phone, lambda d: d.execute_script(
        "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth",
        f"{card} img.result"), timeout=30)
    phone.driver.execute_script("return new Promise(r => setTimeout(r, 500))")  # the bar's transition
    phone.shot("user-approved")
