"""The moderators' console in Chromium: a moderator signs in, a user's flagged photo arrives in
the queue while the page is open (over the console's websocket, no reload), the moderator
decides with the keyboard (J/K to move, A to approve, R and a reason to reject), the approved
job runs, and both cases are in the decided view with their audit trail. Also a 375-px phone,
the word lists and the English switch; every page must log no JavaScript error.

The photo is flagged for real: the server runs with a NudeNet rule that holds the face NudeNet
finds on the astronaut photo (FACE_FEMALE, ~0.8) for review, as tests/moderation do."""
from __future__ import annotations

import time
import uuid

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import PHONE
from tests.live import serving

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "console-pw-4821"


@pytest.fixture(scope="module")
def flagging_server(django_db_setup, tmp_path_factory, request):
    """The app with uploads' faces held for review (results stay clear: the rule's threshold is
    above the face NudeNet finds on a 64-px thumbnail)."""
    with serving(request, tmp_path_factory, "console-browser",
                 {"MODERATION_NUDENET_RULES": "FACE_FEMALE=review:0.5",
                  "MODERATION_WECHAT": "0"}) as live:
        yield live


@pytest.fixture
def moderator(transactional_db):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=f"mod-{uuid.uuid4().hex[:6]}",
                                                password=PASSWORD, is_staff=True)


def wait(window, condition, timeout: float = 60):
    return WebDriverWait(window.driver, timeout, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,
                                             NoSuchElementException)).until(lambda d: condition(d))


def sign_in(window, server, moderator) -> None:
    window.driver.get(f"{server.url}/console/")
    assert "/console/login" in window.driver.current_url  # sent to the sign-in page
    # Chinese first: headless Chromium asks for English, so the page's switch sets Chinese.
    window.driver.find_element(By.CSS_SELECTOR, ".language button[value=zh-hans]").click()
    wait(window, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans")
    assert "/console/login?next=/console/" in window.driver.current_url
    window.driver.find_element(By.NAME, "username").send_keys(moderator.username)
    window.driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    window.shot("sign-in")
    window.driver.find_element(By.CSS_SELECTOR, "form button").click()
    wait(window, lambda d: d.current_url.rstrip("/").endswith("/console"))
    # Live: the console's socket is open (the badge says so).
    wait(window, lambda d: d.find_element(By.ID, "live").get_attribute("data-state") == "on")


def flag_a_photo(user, photo: bytes, *, with_job: bool) -> tuple[str, str | None]:
    upload = user.http.post("/upload", files={"image": ("photo.jpg", photo, "image/jpeg")})
    assert upload.status_code == 201 and upload.json()["moderation"] == "under_review", upload.text
    job_id = None
    if with_job:
        job = user.http.post("/generate", json={"upload_id": upload.json()["id"], "mode": "test_slow",
                                                "params": {"steps": 2, "delay": 0.05}})
        assert (job.status_code, job.json()["state"]) == (202, "held"), job.text
        job_id = job.json()["job_id"]
    return upload.json()["id"], job_id


def cards(window) -> list:
    return window.driver.find_elements(By.CSS_SELECTOR, "#queue > .case:not([data-gone])")


def selected_case(window) -> str:
    return window.driver.find_element(By.CSS_SELECTOR, "#queue > .case.selected").get_attribute("data-case")


def press(window, key: str) -> None:
    ActionChains(window.driver).send_keys(key).perform()


def test_flagged_photos_arrive_live_and_are_decided_with_the_keyboard(
        browser, flagging_server, moderator, astronaut_jpeg):
    from moderation.models import CaseEvent, ModerationCase

    server = flagging_server
    window = browser()
    sign_in(window, server, moderator)
    assert cards(window) == []
    window.shot("queue-empty")
    window.driver.execute_script("window.sameDocument = true")  # gone if the page reloads

    user = server.client(f"flagged-{uuid.uuid4().hex[:10]}")
    upload_id, job_id = flag_a_photo(user, astronaut_jpeg, with_job=True)
    second_id, _ = flag_a_photo(user, astronaut_jpeg, with_job=False)
    wait(window, lambda d: len(cards(window)) == 2)
    assert window.driver.execute_script("return window.sameDocument") is True
    first, second = (ModerationCase.objects.get(subject_id=i) for i in (upload_id, second_id))
    assert [c.get_attribute("data-case") for c in cards(window)] == [str(first.id), str(second.id)]
    wait(window, lambda d: d.execute_script(
        "return [...document.querySelectorAll('#queue img')].every(i => i.complete && i.naturalWidth > 0)"))
    assert window.driver.find_element(By.ID, "pending-count").text == "2"
    text = cards(window)[0].text
    assert "FACE_FEMALE" in text and "nudenet" in text and "违规 0/3" in text
    window.shot("queue-arrived")

    assert selected_case(window) == str(first.id)
    press(window, "j")
    assert selected_case(window) == str(second.id)
    press(window, "k")
    assert selected_case(window) == str(first.id)
    press(window, "a")  # approve the photo that holds the job
    wait(window, lambda d: [c.get_attribute("data-case") for c in cards(window)] == [str(second.id)])
    assert selected_case(window) == str(second.id)
    window.shot("approved")

    press(window, "r")
    reason = window.driver.switch_to.active_element
    assert reason.get_attribute("name") == "reason"  # R opened the reason, focused
    reason.send_keys("测试：拒绝这张照片", Keys.ENTER)
    wait(window, lambda d: cards(window) == [] and d.find_element(By.ID, "queue-empty").is_displayed())
    assert window.driver.find_element(By.ID, "pending-count").text == "0"
    window.shot("queue-done")

    # The decisions went through the services: the held job ran, the rejected photo is gone.
    deadline = time.monotonic() + 90
    while user.job(job_id)["state"] != "succeeded" and time.monotonic() < deadline:
        time.sleep(0.3)
    assert user.job(job_id)["state"] == "succeeded"
    assert user.http.get("/uploads").json()["results"][0]["id"] == upload_id
    assert [(e.action, e.actor_id) for e in CaseEvent.objects.filter(case=first)] == [
        ("opened", None), ("approved", moderator.id)]
    assert CaseEvent.objects.get(case=second, action="rejected").reason == "测试：拒绝这张照片"

    window.driver.find_element(By.CSS_SELECTOR, "nav a[href$='/console/decided']").click()
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, "#decided > .case"))
    decided = {c.get_attribute("data-case"): c.text
               for c in window.driver.find_elements(By.CSS_SELECTOR, "#decided > .case")}
    assert list(decided) == [str(second.id), str(first.id)]  # the latest decision first
    assert "立案" in decided[str(first.id)] and "已通过" in decided[str(first.id)]  # opened, approved
    assert moderator.username in decided[str(first.id)]
    assert "测试：拒绝这张照片" in decided[str(second.id)]
    window.shot("decided")


def test_a_phone_the_word_lists_and_english(browser, flagging_server, moderator, astronaut_jpeg):
    server = flagging_server
    phone = browser(size=PHONE)
    sign_in(phone, server, moderator)
    user = server.client(f"phone-{uuid.uuid4().hex[:10]}")
    flag_a_photo(user, astronaut_jpeg, with_job=False)
    wait(phone, lambda d: len(cards(phone)) == 1)
    wait(phone, lambda d: d.execute_script("return document.querySelector('#queue img').naturalWidth > 0"))
    assert phone.driver.execute_script("return window.innerWidth") == 375
    no_sideways = "return document.documentElement.scrollWidth <= window.innerWidth"
    assert phone.driver.execute_script(no_sideways)
    phone.shot("phone-queue")
    approve = phone.driver.find_element(By.CSS_SELECTOR, "#queue .case button.approve")
    approve.click()  # touch: the buttons do what the keys do
    wait(phone, lambda d: cards(phone) == [])

    phone.driver.get(f"{server.url}/console/words?category=ads&text=加我微信聊聊")
    result = phone.driver.find_element(By.ID, "test-result").text
    assert "需要人工审核" in result and "加我微信" in result
    assert phone.driver.execute_script(no_sideways)
    phone.shot("phone-words")
    field = phone.driver.find_element(By.CSS_SELECTOR, ".add-word input[name=word]")
    field.send_keys("发传单", Keys.ENTER)
    wait(phone, lambda d: "发传单" in d.find_element(By.CSS_SELECTOR, ".words").text)
    assert "已加入" in phone.driver.find_element(By.CSS_SELECTOR, ".messages").text

    phone.driver.get(f"{server.url}/console/decided")
    assert phone.driver.execute_script(no_sideways)
    phone.shot("phone-decided")

    desktop = browser()
    sign_in(desktop, server, moderator)
    desktop.driver.find_element(By.CSS_SELECTOR, ".language button[value=en]").click()
    wait(desktop, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    wait(desktop, lambda d: d.find_element(By.ID, "live").text == "Live")
    assert "Waiting for a decision" in desktop.driver.find_element(By.TAG_NAME, "h1").text
    desktop.driver.get(f"{server.url}/console/words?category=ads&q=微信&text=加我微信")
    desktop.shot("words-en")
