"""The moderators' console (/console/): staff only through a Django session, the queue with
previews, labels and the user's history, filters, decisions through the moderation API and its
services, the decided view with its audit trail, word lists, and the live socket."""
from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from html import unescape

import httpx
import pytest
import websockets
from django.contrib.auth import get_user_model
from django.test import Client

from core.storage import get_storage
from moderation.models import CaseEvent, CaseState, ModerationCase, SensitiveWord
from moderation.services import moderate_text
from moderation.signals import case_decided
from tests.live import serving

os.environ["MX_TEST_MODES"] = "1"

pytestmark = pytest.mark.django_db


def make_user(name: str, *, staff: bool = False, password: str | None = None):
    user = get_user_model().objects.create_user(username=f"{name}-{uuid.uuid4().hex[:8]}",
                                                password=password, is_staff=staff)
    return user


def browser_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def image_case(user=None, *, label="BUTTOCKS_EXPOSED", score=0.61, **fields) -> ModerationCase:
    key = f"u/{uuid.uuid4().hex}/uploads/photo.jpg"
    get_storage().put(key, b"\xff\xd8\xff\xe0fake-jpeg", "image/jpeg")
    return ModerationCase.objects.create(**{
        "subject_type": "upload", "subject_id": uuid.uuid4().hex, "subject": "upload",
        "user": user, "preview_key": key, "providers": "nudenet", "verdict": "review",
        "labels": [{"provider": "nudenet", "label": label, "score": score, "action": "review"}],
        **fields})


def text_case(user, text="加微信 看看") -> ModerationCase:
    verdict = moderate_text(text=text, user=user, subject="sticker_text")
    assert verdict.decision == "review", verdict
    return ModerationCase.objects.get(id=verdict.case_id)


def case_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-case="(\d+)"', html)]


# -- who may enter -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/console/", "/console/decided", "/console/words"])
def test_anonymous_and_non_staff_are_sent_to_the_sign_in_page(path):
    anonymous = Client().get(path)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"/console/login?next={path}"
    member = browser_for(make_user("member")).get(path)
    assert member.status_code == 302 and member["Location"].startswith("/console/login")
    assert browser_for(make_user("mod", staff=True)).get(path).status_code == 200


def test_a_token_does_not_open_the_console(login):
    staff = login(staff=True)  # an API token of a staff member: the console wants a session
    response = staff.client.get("/console/")
    assert response.status_code == 302


def test_sign_in_with_a_password_and_out():
    make_user("keeper", staff=True, password="s3cret-pass")
    user = get_user_model().objects.get(username__startswith="keeper-")
    client = Client(enforce_csrf_checks=False)
    page = client.get("/console/login?next=/console/words")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    wrong = client.post("/console/login", {"username": user.username, "password": "nope"})
    assert wrong.status_code == 200 and client.get("/console/").status_code == 302
    signed = client.post("/console/login", {"username": user.username, "password": "s3cret-pass",
                                            "next": "/console/words"})
    assert (signed.status_code, signed["Location"]) == (302, "/console/words")
    assert client.get("/console/").status_code == 200
    assert client.post("/console/logout").status_code == 302
    assert client.get("/console/").status_code == 302


def test_a_member_who_signs_in_is_told_they_are_not_a_moderator():
    member = make_user("member", password="pw-123456")
    client = Client()
    client.post("/console/login", {"username": member.username, "password": "pw-123456"})
    assert client.get("/console/").status_code == 302
    page = client.get("/console/login?next=/console/", HTTP_ACCEPT_LANGUAGE="en")
    assert "is not a moderator" in page.content.decode()


def test_removing_a_word_is_refused_to_non_staff():
    word = SensitiveWord.objects.filter(is_active=True).first()
    response = browser_for(make_user("member")).post(f"/console/words/{word.id}/remove")
    assert response.status_code == 302 and SensitiveWord.objects.filter(id=word.id).exists()


# -- the queue -----------------------------------------------------------------------------------

def test_the_queue_lists_pending_cases_oldest_first_with_preview_labels_and_history():
    author = make_user("author")
    first = image_case(author)
    second = text_case(author)
    ModerationCase.objects.create(subject_type="upload", user=author, state=CaseState.REJECTED,
                                  verdict="block", providers="nudenet")
    decided = image_case(author, state=CaseState.APPROVED)
    client = browser_for(make_user("mod", staff=True))
    html = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert case_ids(html) == [first.id, second.id]  # oldest first; the decided one is not here
    assert decided.id not in case_ids(html)
    assert "BUTTOCKS_EXPOSED" in html and "0.61" in html
    assert "<mark" in html and "加微信" in html  # the text with the word filter's hit marked
    assert "strikes 1/3" in html and author.username in html  # one rejected case in the window
    preview = unescape(re.search(r'<img src="([^"]+)"', html).group(1))  # &amp; in S3's query
    served = client.get(preview) if preview.startswith("/") else httpx.get(preview, timeout=10)
    assert served.status_code == 200  # a short-lived signed link (or S3 presigned URL)


def test_the_queue_speaks_chinese_by_default_and_english_when_asked():
    client = browser_for(make_user("mod", staff=True))
    chinese = client.get("/console/").content.decode()
    english = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="zh-hans"' in chinese and "审核" in chinese and "Queue" not in chinese
    assert 'lang="en"' in english and "Queue" in english
    switched = client.post("/console/language", {"language": "en", "next": "/console/"})
    assert switched.status_code == 302
    assert 'lang="en"' in client.get("/console/").content.decode()  # the switch is remembered


def test_filters_by_kind_provider_and_label():
    author = make_user("author")
    nude = image_case(author, label="BUTTOCKS_EXPOSED")
    covered = image_case(author, label="FEMALE_GENITALIA_COVERED")
    wechat = image_case(author, label="pending", providers="wechat")
    text = text_case(author)
    client = browser_for(make_user("mod", staff=True))
    ids = lambda query: case_ids(client.get(f"/console/?{query}").content.decode())  # noqa: E731
    assert ids("kind=text") == [text.id]
    assert ids("kind=upload") == [nude.id, covered.id, wechat.id]
    assert ids("provider=wechat") == [wechat.id]
    assert ids("provider=wordfilter") == [text.id]
    assert ids("label=FEMALE_GENITALIA_COVERED") == [covered.id]
    assert ids("label=ads") == [text.id]
    assert ids("kind=text&label=BUTTOCKS_EXPOSED") == []
    assert ids("kind=bogus") == [nude.id, covered.id, wechat.id, text.id]  # unknown: no filter


def test_a_decision_from_the_console_goes_through_the_api_and_its_services():
    author, moderator = make_user("author"), make_user("mod", staff=True)
    case = text_case(author)
    seen = []
    receiver = lambda sender, case, **kw: seen.append((case.id, case.state))  # noqa: E731
    case_decided.connect(receiver)
    try:
        client = browser_for(moderator, enforce_csrf_checks=True)
        client.get("/console/")  # the page sets the CSRF cookie its script sends back
        token = client.cookies["csrftoken"].value
        forged = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "x"},
                             content_type="application/json")
        assert forged.status_code == 403 and seen == []  # no CSRF header, no decision
        answer = client.post(f"/moderation/cases/{case.id}/reject", {"reason": "spam ad"},
                             content_type="application/json", HTTP_X_CSRFTOKEN=token)
        assert answer.status_code == 200, answer.content
    finally:
        case_decided.disconnect(receiver)
    assert seen == [(case.id, "rejected")]
    event = CaseEvent.objects.get(case=case, action="rejected")
    assert (event.actor, event.reason) == (moderator, "spam ad")
    assert case.id not in case_ids(client.get("/console/").content.decode())
    decided = client.get("/console/decided", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert case_ids(decided) == [case.id]
    trail = decided[decided.index("Audit trail"):]
    assert "opened" in trail and "rejected" in trail and moderator.username in trail
    assert "spam ad" in trail


def test_the_decided_view_filters_by_decision_and_lists_the_latest_first():
    author, moderator = make_user("author"), make_user("mod", staff=True)
    from moderation.services import case_approve, case_reject

    approved, rejected = image_case(author), image_case(author)
    case_approve(case_id=approved.id, moderator=moderator, reason="fine")
    case_reject(case_id=rejected.id, moderator=moderator, reason="nude")
    client = browser_for(moderator)
    assert case_ids(client.get("/console/decided").content.decode()) == [rejected.id, approved.id]
    assert case_ids(client.get("/console/decided?state=approved").content.decode()) == [approved.id]
    assert case_ids(client.get("/console/decided?state=rejected&kind=text").content.decode()) == []


# -- word lists ----------------------------------------------------------------------------------

def test_word_lists_are_shown_by_category_and_searched():
    client = browser_for(make_user("mod", staff=True))
    html = client.get("/console/words?category=ads&q=微信").content.decode()
    assert "加微信" in html and "加我微信" in html
    assert "ads" in html and "politics" in html  # every category is listed
    assert "赌博" not in html.split('class="words"')[1]  # another category's words are not


def test_add_test_and_remove_a_word():
    moderator = make_user("mod", staff=True)
    client = browser_for(moderator, enforce_csrf_checks=False)
    before = client.get("/console/words?category=abuse&text=你是个大笨蛋吧",
                        HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Passes" in before
    added = client.post("/console/words", {"category": "abuse", "word": "大笨蛋", "whole_word": ""})
    assert added.status_code == 302 and added["Location"] == "/console/words?category=abuse"
    word = SensitiveWord.objects.get(word="大笨蛋", category__name="abuse")
    assert word.is_active and word.whole_word is None
    after = client.get("/console/words?category=abuse&text=你是个大笨蛋吧",
                       HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Blocked" in after and "<mark>大笨蛋</mark>" in after  # at once, no reload wait
    # The same filter the API uses sees it (the word lists are one source of truth).
    assert moderate_text(text="大笨蛋", user=None, subject="t").decision == "block"
    again = client.post("/console/words", {"category": "abuse", "word": "大笨蛋"}, follow=True,
                        HTTP_ACCEPT_LANGUAGE="en")
    assert "already listed" in again.content.decode()
    removed = client.post(f"/console/words/{word.id}/remove")
    assert removed.status_code == 302 and not SensitiveWord.objects.filter(id=word.id).exists()
    gone = client.get("/console/words?category=abuse&text=你是个大笨蛋吧",
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Passes" in gone


@pytest.mark.parametrize("form, message", [
    ({"category": "abuse", "word": "   "}, "1 to 100 characters"),
    ({"category": "abuse", "word": "x" * 101}, "1 to 100 characters"),
    ({"category": "abuse", "word": "!!! ..."}, "no letter or digit"),
    ({"category": "nosuch", "word": "hello"}, "No such word category"),
])
def test_a_bad_word_is_refused_with_a_message(form, message):
    client = browser_for(make_user("mod", staff=True))
    count = SensitiveWord.objects.count()
    page = client.post("/console/words", form, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and message in page.content.decode()
    assert SensitiveWord.objects.count() == count


def test_a_whole_word_entry_and_a_held_category_in_the_tester():
    client = browser_for(make_user("mod", staff=True))
    client.post("/console/words", {"category": "vulgar", "word": "dork", "whole_word": "yes"})
    assert SensitiveWord.objects.get(word="dork").whole_word is True
    held = client.get("/console/words?text=what+a+dork", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Held for review" in held and "vulgar" in held
    inside = client.get("/console/words?text=dorky", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Passes" in inside


# -- the live socket -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory, request):
    with serving(request, tmp_path_factory, "console-asgi") as live:
        yield live


def session_cookie(server, user, password: str) -> str:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        http.get("/console/login")
        answer = http.post("/console/login", data={
            "username": user.username, "password": password, "next": "/console/",
            "csrfmiddlewaretoken": http.cookies["csrftoken"]})
        assert answer.status_code == 302, answer.text
        return f"sessionid={http.cookies['sessionid']}"


async def first_messages(url: str, headers: dict, count: int, action=None) -> tuple[list, int | None]:
    received = []
    async with websockets.connect(url, additional_headers=headers, open_timeout=10) as ws:
        try:
            async with asyncio.timeout(60):
                async for message in ws:
                    received.append(json.loads(message))
                    if len(received) == 1 and action is not None:
                        await asyncio.to_thread(action)
                    if len(received) >= count:
                        break
        except websockets.ConnectionClosed:
            pass
    return received, ws.close_code


@pytest.mark.django_db(transaction=True)
def test_the_console_socket_announces_a_new_case_to_staff_only(server, astronaut_jpeg):
    moderator = make_user("mod", staff=True, password="pw-mod-123")
    member = make_user("member", password="pw-member-1")
    url, origin = f"{server.ws_url}/ws/console/", server.url
    cookie = session_cookie(server, moderator, "pw-mod-123")
    user = server.client(f"writer-{uuid.uuid4().hex[:10]}")

    def held_text() -> None:  # a caption the word lists hold: the server opens a case
        upload = user.http.post("/upload", files={"image": ("p.jpg", astronaut_jpeg, "image/jpeg")})
        job = user.http.post("/generate", json={"upload_id": upload.json()["id"], "mode": "sticker",
                                                "text": "加微信"})
        assert (job.status_code, job.json()["state"]) == (202, "held"), job.text

    received, _ = asyncio.run(first_messages(url, {"Cookie": cookie, "Origin": origin}, 2,
                                             action=held_text))
    case = ModerationCase.objects.get(user__username=f"wx_{user.openid}", state="pending")
    assert received == [{"type": "console.ready"},
                        {"type": "console.case", "case_id": case.id, "state": "pending"}]

    async def refused(headers):
        return (await first_messages(url, headers, 1))[1]

    assert asyncio.run(refused({"Origin": origin})) == 4401  # no session
    assert asyncio.run(refused({"Cookie": session_cookie(server, member, "pw-member-1"),
                                "Origin": origin})) == 4403  # not staff
    assert asyncio.run(refused({"Cookie": cookie, "Origin": "http://evil.example"})) == 4403
    auth = {"Authorization": f"Token {user.token}", "Origin": origin}
    assert asyncio.run(refused(auth)) == 4401  # an API token is not a console session
