"""The portrait screen of the web client with a template from the admins' library: five photos
of one person uploaded and checked one by one, the face learnt with a live progress bar, the
library template picked, the portrait made and shown."""
from __future__ import annotations

import uuid

import numpy as np
import pytest
from PIL import Image
from selenium.webdriver.common.by import By

from backend.portraits.models import PortraitTemplate
from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.test_web_client import RECORDER, css, open_screen, shoot, sign_in, speaks, wait
from tests.conftest import FACES, jpeg_bytes
from tests.inference.portrait_photos import face_square, photo_set


def _faces() -> tuple[np.ndarray, np.ndarray]:
    """The person to learn and the template's person: two fixture photos, or scikit-image's
    astronaut (learnt) and its mirror image (template) where ../shared is absent."""
    if (FACES / "obama.jpg").exists() and (FACES / "biden.jpg").exists():
        with Image.open(FACES / "obama.jpg") as a, Image.open(FACES / "biden.jpg") as b:
            return np.asarray(a.convert("RGB")), np.asarray(b.convert("RGB"))
    from skimage import data

    astronaut = data.astronaut()
    return astronaut, np.ascontiguousarray(astronaut[:, ::-1])


def add_library_template(window, server, tmp_path) -> str:
    """A template added to the library the way admins add one: the Django admin's form, with a
    photo of someone else's face, which stores the photo, its preview and its face count."""
    from django.contrib.auth import get_user_model

    _person, other = _faces()
    photo = tmp_path / "template.jpg"
    photo.write_bytes(jpeg_bytes(face_square(other, 512)))
    name, password = f"admin-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    get_user_model().objects.create_superuser(name, f"{name}@example.com", password)
    template_id = f"studio-{uuid.uuid4().hex[:6]}"
    window.driver.get(server.url + "/admin/portraits/portraittemplate/add/")
    css(window, "#id_username").send_keys(name)
    css(window, "#id_password").send_keys(password)
    css(window, "#login-form [type=submit]").click()
    wait(window, lambda d: d.find_elements(By.ID, "id_photo"))
    css(window, "#id_id").send_keys(template_id)
    css(window, "#id_name").send_keys("Studio")
    css(window, "#id_photo").send_keys(str(photo))
    css(window, "[name=_save]").click()
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, ".messagelist .success"))
    template = PortraitTemplate.objects.get(id=template_id)
    assert template.faces == 1 and template.preview_key and template.image_key
    return template_id


def wait_for_template(window, template_id: str) -> str:
    """The library's template in the picker (GET /templates?kind=portrait), its preview loaded."""
    pick = f"#portrait-templates input[value='{template_id}']"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, pick))
    assert "Studio · 1 人" in css(window, "#portrait-templates").text
    wait(window, lambda d: d.execute_script(
        "const i = document.querySelector('#portrait-templates img');"
        "return i.complete && i.naturalWidth"), timeout=30)
    return pick


def make_portrait(window, pick: str, width: int) -> None:
    """Pick the library template, fill its one slot with the learnt face, and make it."""
    slot = "#portrait-identities select[name=identity] option"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, slot))
    assert css(window, slot).text == "我"
    window.driver.execute_script("document.querySelector(arguments[0]).click()", pick)
    assert len(window.driver.find_elements(By.CSS_SELECTOR, "#portrait-identities select")) == 1
    shoot(window, "portrait-picked", width)
    css(window, "#portrait-create-form button[type=submit]").click()
    card = "[data-jobs=portrait] .job-card"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, card))
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, card).get_attribute("data-state")
         in ("succeeded", "failed", "blocked"), timeout=180)
    assert css(window, card).get_attribute("data-state") == "succeeded", css(window, card).text
    image = f"{card} img.result"
    wait(window, lambda d: d.execute_script(
        "const i = document.querySelector(arguments[0]); return i && i.complete && i.naturalWidth",
        image), timeout=30)
    assert window.driver.execute_script(
        "return document.querySelector(arguments[0]).naturalWidth", image) >= 256
    window.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", card)
    shoot(window, "portrait-done", width)


# Transactional, and one test per module (its own live server): the admin's form writes a log
# entry naming the model's content type, which the server caches; a second test, after the
# first one's flush, would find that cached id gone.
@pytest.mark.django_db(transaction=True)
def test_a_user_learns_their_face_and_makes_a_portrait_from_a_library_template(
        app_server, browser, tmp_path):
    person, _other = _faces()
    photos = []
    for i, rgb in enumerate(photo_set(person)):
        path = tmp_path / f"me-{i}.jpg"
        path.write_bytes(jpeg_bytes(rgb))
        photos.append(str(path))

    window = browser(size=DESKTOP)
    speaks(window, "zh-CN")
    template_id = add_library_template(window, app_server, tmp_path)
    openid = f"portrait-{uuid.uuid4().hex[:10]}"
    sign_in(window, app_server, openid)
    open_screen(window, "portrait")
    pick = wait_for_template(window, template_id)

    # Five photos at once: each uploaded, then checked, its result on its own row.
    css(window, "#portrait-check-form input[name=photos]").send_keys("\n".join(photos))
    rows = "#portrait-checks li"
    wait(window, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 5
         and all(r.get_attribute("class") != "check pending"
                 for r in d.find_elements(By.CSS_SELECTOR, rows)), timeout=120)
    checks = window.driver.find_elements(By.CSS_SELECTOR, rows)
    assert [row.get_attribute("class") for row in checks] == ["check ok"] * 5, \
        [row.text for row in checks]
    assert all("✓ 合格" in row.text for row in checks), [row.text for row in checks]
    assert all(row.find_element(By.CSS_SELECTOR, ".pai-message").text for row in checks)
    assert "5" in css(window, "#portrait-count").text
    shoot(window, "portrait-checked", DESKTOP[0])

    # Learning the face: a card with a progress bar that reaches 100 %.
    css(window, "#portrait-check-form input[name=model_name]").send_keys("我")
    window.driver.execute_script(RECORDER)
    assert css(window, "#portrait-train").is_enabled()
    css(window, "#portrait-train").click()
    train = "[data-jobs=portrait_train] .job-card"
    wait(window, lambda d: d.find_elements(By.CSS_SELECTOR, train))
    wait(window, lambda d: d.find_element(By.CSS_SELECTOR, train).get_attribute("data-state")
         in ("succeeded", "failed", "blocked"), timeout=180)
    assert css(window, train).get_attribute("data-state") == "succeeded", css(window, train).text
    assert css(window, f"{train} .progress").get_attribute("aria-valuenow") == "100"
    assert 100 in window.driver.execute_script("return window.__seen.progress")
    window.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView()", train)
    shoot(window, "portrait-trained", DESKTOP[0])
    make_portrait(window, pick, DESKTOP[0])

    # The same account on a phone: the learnt face is there; another portrait from the library.
    phone = browser(size=PHONE)
    speaks(phone, "zh-CN")
    sign_in(phone, app_server, openid)
    open_screen(phone, "portrait")
    phone.folder = phone.folder / "phone"
    make_portrait(phone, wait_for_template(phone, template_id), PHONE[0])
