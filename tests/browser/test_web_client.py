"""The web client at / in a real Chromium, as a user: sign in, upload a photo, make a sticker,
watch its progress bar reach 100 %, see the picture, rate it, delete it; every screen
photographed, on a desktop and on a 375-px phone (no sideways scrolling); English and Chinese;
and a held job's card moving on by itself when a moderator approves it."""
from __future__ import annotations

import re
import uuid

import httpx
import pytest
from PIL import Image
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import DESKTOP, PHONE
from tests.conftest import FACES

SCREENS = ("anime", "sticker", "portrait", "talking", "voice", "things")

# Every value the progress bars and card states take, recorded in the page as they change.
RECORDER = """
window.__seen = {progress: [], states: []};
new MutationObserver((changes) => {
  for (const change of changes) {
    const node = change.target;
    if (change.attributeName === 'aria-valuenow') window.__seen.progress.push(Number(node.getAttribute('aria-valuenow')));
    if (change.attributeName === 'data-state' && node.classList.contains('job-card')) window.__seen.states.push(node.dataset.state);
  }
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-state']});
"""


@pytest.fixture
def photo(tmp_path) -> str:
    """A fixture portrait, or scikit-image's astronaut where ../shared is absent."""
    path = FACES / "obama.jpg"
    if path.exists():
        return str(path)
    from skimage import data

    path = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(path, "JPEG", quality=92)
    return str(path)


def speaks(window, language: str) -> None:
    """The browser's Accept-Language (headless Chromium ignores --lang)."""
    window.driver.execute_cdp_cmd("Network.enable", {})
    window.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                                  {"headers": {"Accept-Language": language}})


def wait(window, condition, timeout: float = 60):
    """Wait for a condition; when it never comes, say what the page showed instead."""
    try:
        return WebDriverWait(window.driver, timeout, poll_frequency=0.05).until(condition)
    except TimeoutException:
        shown = window.driver.execute_script(
            "const s = document.querySelector('.screen:not([hidden])');"
            "return [s && s.innerText, document.getElementById('toast').innerText].join(' | ')")
        raise AssertionError(f"waited {timeout} s in vain; the page shows: {shown}") from None


def css(window, selector: str):
    return window.driver.find_element(By.CSS_SELECTOR, selector)


def sign_in(window, server, openid: str) -> str:
    window.driver.get(server.url + "/")
    wait(window, lambda d: d.find_element(By.ID, "signin-form").is_displayed())
    field = css(window, "#signin-form input[name=openid]")
    field.clear()
    field.send_keys(openid)
    css(window, "#signin-form button[type=submit]").click()
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, "[data-screen=home]").is_displayed())
    return window.driver.execute_script("return localStorage.getItem('mx.token')")


def open_screen(window, name: str) -> None:
    window.driver.execute_script(f"location.hash = '#/{name}'")
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, f"[data-screen={name}]").is_displayed())


def no_sideways_scroll(window, width: int) -> None:
    scroll = window.driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide in a {width}-px window"


def shoot(window, name: str, width: int) -> None:
    """A screenshot, checked for sideways overflow first on a phone."""
    window.driver.execute_script("return new Promise(r => setTimeout(r, 150))")  # fonts, layout
    if width <= PHONE[0]:
        no_sideways_scroll(window, width)
    window.shot(name)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_user_makes_a_sticker_watches_it_rates_it_and_deletes_it(app_server, browser, photo,
                                                                    size):
    window = browser(size=size)
    speaks(window, "zh-CN,zh;q=0.9")
    token = sign_in(window, app_server, f"web-{uuid.uuid4().hex[:10]}")
    assert token and window.driver.execute_script("return document.documentElement.lang") == "zh-Hans"
    assert "今天做点什么" in css(window, "[data-screen=home]").text
    shoot(window, "home", size[0])

    open_screen(window, "sticker")
    css(window, "[data-screen=sticker] .photo-input").send_keys(photo)
    status = "[data-screen=sticker] .photo-status"
    wait(window, lambda d: "张人脸" in d.find_element(By.CSS_SELECTOR, status).text)
    assert re.search(r"7[01] 小时 \d+ 分后过期", css(window, status).text), css(window, status).text
    # Templates come from GET /templates: the built-in ones by their Chinese names.
    wait(window, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#sticker-templates input")) >= 4)
    assert "粉色软萌" in css(window, "#sticker-templates").text
    css(window, "#sticker-form input[name=text]").send_keys("开心")
    shoot(window, "sticker", size[0])

    window.driver.execute_script(RECORDER)
    css(window, "#sticker-form button[type=submit]").click()
    card = "[data-jobs=sticker] .job-card"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, card))
    shoot(window, "sticker-progress", size[0])
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state")
         in ("succeeded", "failed", "blocked"), timeout=120)
    assert css(window, card).get_attribute("data-state") == "succeeded", css(window, card).text
    assert css(window, f"{card} .progress").get_attribute("aria-valuenow") == "100"
    assert "100 %" in css(window, f"{card} .progress-text").text
    assert 100 in window.driver.execute_script("return window.__seen.progress")
    # The picture itself, loaded from the result's short-lived link.
    image = f"{card} img.result"
    wait(window, lambda d: d.execute_script(
        "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth",
        image), timeout=30)
    assert window.driver.execute_script(
        "return document.querySelector(arguments[0]).naturalWidth", image) >= 240
    assert re.search(r"7[01] 小时 \d+ 分后过期", css(window, f"{card} .expiry").text)
    window.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", card)
    shoot(window, "sticker-done", size[0])

    job_id = css(window, card).get_attribute("data-job-id")
    css(window, f"{card} .star[data-score='4']").click()
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, f"{card} .stars")
         .get_attribute("data-rated") == "4")
    from backend.jobs.models import Result
    from backend.stickers.models import Rating

    results = list(Result.objects.filter(job_id=job_id).values_list("id", flat=True))
    assert Rating.objects.get(result_id__in=results).score == 4
    assert len(window.driver.find_elements(By.CSS_SELECTOR, f"{card} .star.on")) == 4

    css(window, f"{card} .delete").click()
    wait(window, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed())
    shoot(window, "delete-confirm", size[0])
    css(window, "#confirm-yes").click()
    wait(window, lambda d: not d.find_elements(By.CSS_SELECTOR, card))
    gone = httpx.get(f"{app_server.url}/jobs/{job_id}", headers={"Authorization": f"Token {token}"})
    assert gone.status_code == 404
    assert not Rating.objects.filter(result_id__in=results).exists()

    for name in SCREENS:
        open_screen(window, name)
        if name == "anime":  # styles come from GET /anime/styles
            wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, "#anime-styles input[value=procedural]"))
        if name == "things":  # the photo is still there, with its expiry
            wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, "#things-uploads li"))
            assert re.search(r"7[01] 小时 \d+ 分后过期", css(window, "#things-uploads li").text)
        shoot(window, f"screen-{name}", size[0])


def test_english_by_accept_language_and_chinese_by_the_switch(app_server, browser, photo):
    window = browser(size=PHONE)
    speaks(window, "en-US,en;q=0.9")
    sign_in(window, app_server, f"web-{uuid.uuid4().hex[:10]}")
    assert window.driver.execute_script("return document.documentElement.lang") == "en"
    assert "What shall we make?" in css(window, "[data-screen=home]").text
    open_screen(window, "anime")
    css(window, "[data-screen=anime] .photo-input").send_keys(photo)
    status = "[data-screen=anime] .photo-status"
    wait(window, lambda d: "face" in d.find_element(By.CSS_SELECTOR, status).text)
    assert re.search(r"expires in 7[01] h \d+ min", css(window, status).text), css(window, status).text
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, "#anime-styles input"))
    assert "Hand-painted" in css(window, "#anime-styles").text
    shoot(window, "anime-en", PHONE[0])

    css(window, "#lang-switch").click()  # 中文: remembered in the language cookie
    wait(window, lambda d: d.execute_script("return document.documentElement.lang") == "zh-Hans")
    assert "今天做点什么" in window.driver.execute_script(
        "return document.querySelector('[data-screen=home] h1').textContent")
    window.driver.get(app_server.url + "/#/things")  # still signed in, still Chinese
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, "[data-screen=things]").is_displayed())
    assert "我的作品" in css(window, "[data-screen=things] h1").text
    shoot(window, "things-zh", PHONE[0])


def test_delete_everything_asks_first_then_signs_out(app_server, browser, photo):
    window = browser()
    speaks(window, "zh-CN")
    token = sign_in(window, app_server, f"web-{uuid.uuid4().hex[:10]}")
    open_screen(window, "anime")
    css(window, "[data-screen=anime] .photo-input").send_keys(photo)
    wait(window, lambda d: "张人脸" in d.find_element(By.CSS_SELECTOR, "[data-screen=anime] .photo-status").text)
    open_screen(window, "things")
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, "#things-uploads li"))
    css(window, "#delete-everything").click()
    wait(window, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed())
    css(window, "#confirm-dialog button[value=no]").click()  # cancelled: nothing happens
    assert httpx.get(f"{app_server.url}/uploads", headers={"Authorization": f"Token {token}"}
                     ).json()["count"] == 1
    css(window, "#delete-everything").click()
    wait(window, lambda d: d.find_element(By.ID, "confirm-dialog").is_displayed())
    css(window, "#confirm-yes").click()
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, "[data-screen=signin]").is_displayed())
    assert window.driver.execute_script("return localStorage.getItem('mx.token')") is None
    assert httpx.get(f"{app_server.url}/uploads",
                     headers={"Authorization": f"Token {token}"}).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_held_jobs_card_moves_on_live_when_a_moderator_approves_it(app_server, browser,
                                                                      astronaut_jpeg):
    """The page the user left open follows the moderator's decision over the websocket:
    held, then running, then the picture, with no reload."""
    from tests.backend.test_websocket import held_job

    window = browser(size=PHONE)
    speaks(window, "zh-CN")
    openid = f"held-{uuid.uuid4().hex[:10]}"
    sign_in(window, app_server, openid)
    user, staff, job_id, case_id = held_job(app_server, astronaut_jpeg, steps=6, delay=0.1,
                                            openid=openid)

    window.driver.execute_script(f"location.hash = '#/job/{job_id}'")
    card = f".job-card[data-job-id='{job_id}']"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, card))
    assert css(window, card).get_attribute("data-state") == "held"
    assert "审核" in css(window, card).text and "通过后" in css(window, f"{card} .progress-text").text
    window.driver.execute_script(RECORDER + "window.__samePage = 'yes';")
    # The card's websocket is open (and has said "held") before the moderator decides.
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-live") == "open",
         timeout=15)
    shoot(window, "held", PHONE[0])

    decided = staff.http.post(f"/moderation/cases/{case_id}/approve", json={"reason": "fine"})
    assert decided.status_code == 200, decided.text
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state")
         in ("succeeded", "failed", "blocked"), timeout=90)
    states = window.driver.execute_script("return window.__seen.states")
    assert states[-1] == "succeeded" and "running" in states, states
    assert window.driver.execute_script("return window.__samePage") == "yes"  # no reload
    image = f"{card} img.result"
    wait(window, lambda d: d.execute_script(
        "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth",
        image), timeout=30)
    shoot(window, "approved", PHONE[0])


def test_a_line_recorded_with_the_microphone_is_uploaded_as_audio(app_server, browser, photo):
    """Chromium's fake microphone (a tone) through MediaRecorder, uploaded as a recording."""
    window = browser(size=PHONE)
    speaks(window, "zh-CN")
    token = sign_in(window, app_server, f"web-{uuid.uuid4().hex[:10]}")
    open_screen(window, "talking")
    record = "[data-screen=talking] .record"
    css(window, record).click()
    wait(window, lambda d: "录音中" in d.find_element(By.CSS_SELECTOR, "[data-screen=talking] .record-status").text)
    window.driver.execute_script("return new Promise(r => setTimeout(r, 2000))")
    css(window, record).click()
    wait(window, lambda d: "已录" in d.find_element(By.CSS_SELECTOR, "[data-screen=talking] .record-status").text)
    shoot(window, "recorded", PHONE[0])
    uploads = httpx.get(f"{app_server.url}/uploads", headers={"Authorization": f"Token {token}"}).json()
    (audio,) = [u for u in uploads["results"] if u["kind"] == "audio"]
    assert audio["format"] == "wav" and audio["source_format"] in ("webm", "ogg") and audio["duration"] > 1.0


def test_a_voice_description_asks_its_question_and_can_be_cancelled(app_server, browser):
    window = browser(size=PHONE)
    speaks(window, "zh-CN")
    sign_in(window, app_server, f"web-{uuid.uuid4().hex[:10]}")
    open_screen(window, "voice")
    css(window, "#voice-form textarea").send_keys("一个戴眼镜的黑发男孩在樱花树下看书")
    css(window, "#voice-form button[type=submit]").click()
    card = "[data-jobs=voice] .job-card"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, card)
         and d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state")
         in ("awaiting_confirmation", "failed"), timeout=120)
    assert css(window, card).get_attribute("data-state") == "awaiting_confirmation", css(window, card).text
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, f"{card} .question").text.endswith("吗？"))
    assert "樱花树下看书" in css(window, f"{card} .transcript").text  # what was typed, shown back
    shoot(window, "voice-question", PHONE[0])
    css(window, f"{card} [data-act=cancel]").click()
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state") == "cancelled")
    assert css(window, f"{card} .badge").text == "已取消"
