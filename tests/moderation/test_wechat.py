"""WeChat content security against the local fake: verdicts, the late signed push (JSON and
XML), access_token caching and refresh, and WeChat being down (fail closed or open)."""
import json
import time
import urllib.parse

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image
from skimage import data

from backend.accounts.models import WechatAccount
from moderation.models import ModerationCase
from moderation.services import moderate_image, moderate_text
from moderation.wechat import ContentSecurity, push_signature_valid
from tests.backend.test_websocket import LiveServer
from tests.fakes.wechat import push_signature

pytestmark = pytest.mark.django_db


@pytest.fixture
def wechat(fake_wechat, settings):
    settings.MODERATION_WECHAT = True
    settings.MODERATION_FAIL_OPEN = False
    settings.MODERATION_PUBLIC_BASE_URL = "http://testserver"
    settings.WECHAT_TIMEOUT = 2.0
    fake_wechat.auto_push = False  # pushes are delivered by the test, through Django's client
    client = Client()

    def push(query, body, content_type):
        response = client.post(f"/moderation/wechat/push?{urllib.parse.urlencode(query)}",
                               data=body, content_type=content_type)
        return response.status_code, response.content.decode()

    fake_wechat.push_to = push
    return fake_wechat


@pytest.fixture
def user():
    user = get_user_model().objects.create_user(username="wx-user")
    WechatAccount.objects.create(user=user, openid="o-wx-user")
    return user


@pytest.fixture
def photo():
    return Image.fromarray(data.astronaut())


@pytest.mark.parametrize("suggest, decision", [("risky", "block"), ("review", "review"), ("pass", "pass")])
def test_text_verdicts(wechat, user, suggest, decision):
    wechat.text_verdicts["你好世界"] = (suggest, 20001)
    verdict = moderate_text(text="你好世界", user=user, subject="sticker_text")
    assert verdict.decision == decision
    call = wechat.calls("msg_sec_check")[-1]
    assert call["body"]["version"] == 2 and call["body"]["openid"] == "o-wx-user"
    if decision != "pass":
        label = next(l for l in verdict.labels if l["provider"] == "wechat")
        assert (label["label"], label["suggest"]) == ("politics", suggest)


def test_long_text_is_checked_in_pieces_of_2500(wechat, user):
    wechat.text_verdicts["坏话"] = ("risky", 20003)
    text = "很好" * 2000 + "坏话"
    verdict = moderate_text(text=text, user=user, subject="transcript")
    assert verdict.decision == "block"
    sizes = [len(call["body"]["content"]) for call in wechat.calls("msg_sec_check")]
    assert sizes == [2500, 1502]


def test_local_block_skips_wechat(wechat, user):
    assert moderate_text(text="傻逼", user=user, subject="sticker_text").decision == "block"
    assert wechat.calls("msg_sec_check") == []


def test_token_is_cached_and_replaced_on_40001_without_forcing(wechat, user):
    for _ in range(3):
        assert moderate_text(text="hello", user=user, subject="description").passed
    assert len(wechat.calls("stable_token")) == 1
    wechat.expire_tokens()
    assert moderate_text(text="hello again", user=user, subject="description").passed
    tokens = wechat.calls("stable_token")
    assert len(tokens) == 2 and tokens[1]["body"]["force_refresh"] is False
    checks = wechat.calls("msg_sec_check")
    assert checks[-2]["query"]["access_token"] != checks[-1]["query"]["access_token"]


def test_a_revoked_token_is_force_refreshed(wechat, user):
    assert moderate_text(text="hello", user=user, subject="description").passed
    wechat.revoke_tokens()
    assert moderate_text(text="hello again", user=user, subject="description").passed
    assert [c["body"]["force_refresh"] for c in wechat.calls("stable_token")] == [False, False, True]


def test_a_token_another_process_refreshed_is_taken_from_the_cache(wechat, user):
    security = ContentSecurity()
    stale = security.access_token()
    wechat.expire_tokens()
    fresh = security.access_token(force_refresh=True)  # "another process" refreshed and cached it
    assert security._fresh_token(stale=stale) == fresh
    assert len(wechat.calls("stable_token")) == 2


def test_token_is_refreshed_before_it_expires(wechat, user, settings):
    wechat.token_ttl = 200
    settings.WECHAT_TOKEN_REFRESH_MARGIN = 300  # every cached token is already too old
    ContentSecurity().access_token()
    ContentSecurity().access_token()
    assert len(wechat.calls("stable_token")) == 2


@pytest.mark.parametrize("fail_open, decision", [(False, "review"), (True, "pass")])
def test_wechat_down(wechat, user, settings, fail_open, decision):
    settings.MODERATION_FAIL_OPEN = fail_open
    wechat.down = True
    verdict = moderate_text(text="hello", user=user, subject="description")
    assert verdict.decision == decision
    assert any(l["label"] == "unavailable" for l in verdict.labels)
    wechat.down = False
    wechat.errors["msg_sec_check"] = -1  # "system busy" counts as down too
    assert moderate_text(text="hello", user=user, subject="description").decision == decision


def test_wechat_timeout_fails_closed(wechat, user, settings):
    settings.WECHAT_TIMEOUT = 0.3
    wechat.delays["msg_sec_check"] = 1.0
    assert moderate_text(text="hello", user=user, subject="description").decision == "review"


@pytest.mark.parametrize("push_format", ["json", "xml"])
def test_image_is_held_until_the_push_says_pass(wechat, user, photo, decided, push_format):
    wechat.push_format = push_format
    verdict = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-1",
                             preview_key="u/1/uploads/up-1.jpg")
    assert (verdict.decision, verdict.code) == ("review", "under_review")
    call = wechat.calls("media_check_async")[-1]["body"]
    assert call["media_url"].startswith("http") and call["media_type"] == 2  # absolute: WeChat fetches it
    case = ModerationCase.objects.get(id=verdict.case_id)
    assert case.state == "pending" and case.awaiting_trace_id
    [push] = wechat.deliver_pushes()
    assert (push["status"], push["response"]) == (200, "success")
    case.refresh_from_db()
    assert (case.state, case.awaiting_trace_id) == ("approved", "")
    assert decided == [(case.id, "approved")]
    assert case.events.filter(action="provider_verdict").exists()


def test_risky_push_rejects(wechat, user, photo, decided):
    wechat.media_verdict = ("risky", 20002)
    verdict = moderate_image(image=photo, user=user, subject_type="result", subject_id="r-1",
                             preview_key="u/1/results/r-1.png")
    wechat.deliver_pushes()
    case = ModerationCase.objects.get(id=verdict.case_id)
    assert case.state == "rejected" and "risky (porn)" in case.reason
    assert decided == [(case.id, "rejected")]


def test_pass_push_leaves_a_case_another_provider_holds(wechat, user, photo, settings, decided):
    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": ("review", 0.5)}
    verdict = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-2",
                             preview_key="u/1/uploads/up-2.jpg")
    wechat.deliver_pushes()
    case = ModerationCase.objects.get(id=verdict.case_id)
    assert case.state == "pending" and decided == []
    assert {l["provider"]: l["action"] for l in case.labels} == {"nudenet": "review", "wechat": "pass"}


def test_review_push_waits_for_a_person(wechat, user, photo, decided):
    wechat.media_verdict = ("review", 21000)
    verdict = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-3",
                             preview_key="u/1/uploads/up-3.jpg")
    wechat.deliver_pushes()
    assert ModerationCase.objects.get(id=verdict.case_id).state == "pending" and decided == []


def test_media_check_down_fails_closed_or_open(wechat, user, photo, settings):
    wechat.errors["media_check_async"] = -1
    held = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-4",
                          preview_key="u/1/uploads/up-4.jpg")
    assert held.decision == "review"
    settings.MODERATION_FAIL_OPEN = True
    assert moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-5",
                          preview_key="u/1/uploads/up-5.jpg").passed


def test_push_endpoint_checks_the_signature(wechat, settings):
    client = Client()
    query = wechat.signed_query(echostr="hello-echo")
    ok = client.get("/moderation/wechat/push", query)
    assert (ok.status_code, ok.content) == (200, b"hello-echo")
    bad = dict(query, signature="0" * 40)
    assert client.get("/moderation/wechat/push", bad).status_code == 403
    body = json.dumps({"Event": "wxa_media_check", "trace_id": "t"})
    forged = client.post("/moderation/wechat/push?" + urllib.parse.urlencode(bad), data=body,
                         content_type="application/json")
    assert forged.status_code == 403
    stale = {"timestamp": "1000", "nonce": "n"}
    stale["signature"] = push_signature(wechat.push_token, "1000", "n")
    assert client.get("/moderation/wechat/push", stale).status_code == 403  # replayed, too old
    assert push_signature_valid(token=wechat.push_token, **stale)  # valid apart from its age


def test_push_for_an_unknown_trace_or_other_event_is_acknowledged(wechat):
    client = Client()
    for event in ({"Event": "wxa_media_check", "trace_id": "nope", "errcode": 0,
                   "result": {"suggest": "pass", "label": 100}}, {"Event": "subscribe_msg_popup_event"},
                  {"Event": "wxa_media_check", "trace_id": "nope", "errcode": "x", "result": "odd"}):
        query = urllib.parse.urlencode(wechat.signed_query())
        response = client.post(f"/moderation/wechat/push?{query}", data=json.dumps(event),
                               content_type="application/json")
        assert (response.status_code, response.content) == (200, b"success")


def test_a_replayed_or_odd_push_is_refused(wechat):
    client = Client()
    query = urllib.parse.urlencode(wechat.signed_query())
    event = json.dumps({"Event": "subscribe_msg_popup_event"})
    first = client.post(f"/moderation/wechat/push?{query}", data=event, content_type="application/json")
    again = client.post(f"/moderation/wechat/push?{query}", data=event, content_type="application/json")
    assert first.status_code == 200
    assert again.status_code == 403 and again.json()["error"]["code"] == "replayed_push"
    xml_text = client.post(f"/moderation/wechat/push?{urllib.parse.urlencode(wechat.signed_query())}",
                           data="<xml>abc</xml>", content_type="text/xml")
    assert xml_text.status_code == 400 and xml_text.json()["error"]["code"] == "malformed_push"
    odd_signature = client.get("/moderation/wechat/push?signature=%C3%A9&timestamp=1&nonce=n")
    assert odd_signature.status_code == 403



def test_a_verifications_signature_cannot_carry_a_forged_verdict(wechat, user, photo, decided):
    verdict = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-2",
                             preview_key="u/1/uploads/up-2.jpg")
    case = ModerationCase.objects.get(id=verdict.case_id)
    client = Client()
    query = wechat.signed_query(echostr="verify-me")
    assert client.get("/moderation/wechat/push", query).content == b"verify-me"
    forged = json.dumps({"Event": "wxa_media_check", "trace_id": case.awaiting_trace_id,
                         "errcode": 0, "result": {"suggest": "pass", "label": 100}})
    response = client.post(f"/moderation/wechat/push?{urllib.parse.urlencode(query)}",
                           data=forged, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "replayed_push"
    case.refresh_from_db()
    assert case.state == "pending" and decided == []
    again = client.get("/moderation/wechat/push", query)
    assert again.status_code == 403 and again.json()["error"]["code"] == "replayed_push"


@pytest.mark.parametrize("ahead, status", [(30, 200), (120, 403), (10**6, 403)])
def test_a_push_stamped_ahead_of_our_clock_is_accepted_only_within_the_skew(
        wechat, settings, ahead, status):
    settings.WECHAT_PUSH_CLOCK_SKEW = 60
    query = urllib.parse.urlencode(wechat.signed_query(at=time.time() + ahead))
    response = Client().post(f"/moderation/wechat/push?{query}", content_type="application/json",
                             data=json.dumps({"Event": "subscribe_msg_popup_event"}))
    assert response.status_code == status


def test_a_push_is_remembered_until_its_timestamp_is_too_old(wechat, settings):
    settings.WECHAT_PUSH_MAX_AGE, settings.WECHAT_PUSH_CLOCK_SKEW = 1, 1
    # Just after a second starts, stamped with the next one: ~0.95 s ahead, within the skew.
    time.sleep(1.05 - time.time() % 1)
    query = urllib.parse.urlencode(wechat.signed_query(at=time.time() + 1))
    event = json.dumps({"Event": "subscribe_msg_popup_event"})
    client = Client()
    first = client.post(f"/moderation/wechat/push?{query}", data=event,
                        content_type="application/json")
    assert first.status_code == 200
    # Past max_age after its arrival, the timestamp itself is still young enough to pass.
    time.sleep(1.3)
    again = client.post(f"/moderation/wechat/push?{query}", data=event,
                        content_type="application/json")
    assert again.status_code == 403 and again.json()["error"]["code"] == "replayed_push"



@pytest.mark.django_db(transaction=True)  # the server's own processes use the database too
def test_signed_query_strings_stay_out_of_the_server_log(wechat, tmp_path):
    server = LiveServer(tmp_path, {"WECHAT_PUSH_TOKEN": wechat.push_token})
    try:
        query = wechat.signed_query(echostr="echo-4f2a9c", msg_signature="m" * 40)
        response = httpx.get(f"{server.url}/moderation/wechat/push", params=query)
        assert (response.status_code, response.text) == (200, "echo-4f2a9c")
    finally:
        server.stop()
    log = server.log.read_text()
    assert "GET /moderation/wechat/push?" in log  # the request is logged, its signature is not
    for name in ("signature", "timestamp", "nonce", "echostr", "msg_signature"):
        assert query[name] not in log


@pytest.mark.parametrize("fail_open, state", [(False, "pending"), (True, "approved")])
def test_a_push_that_never_comes_is_settled_by_the_fail_rule(wechat, user, photo, settings, decided,
                                                            fail_open, state):
    from django.core.management import call_command

    verdict = moderate_image(image=photo, user=user, subject_type="upload", subject_id="up-6",
                             preview_key="u/1/uploads/up-6.jpg")
    call_command("moderation_expire_waits")  # not yet: the default wait is 30 minutes
    assert ModerationCase.objects.get(id=verdict.case_id).awaiting_trace_id
    settings.MODERATION_FAIL_OPEN = fail_open
    call_command("moderation_expire_waits", "--older-than", "0")
    case = ModerationCase.objects.get(id=verdict.case_id)
    assert (case.state, case.awaiting_trace_id) == (state, "")
    assert case.labels[-1]["label"] == "no_answer"
    wechat.deliver_pushes()  # the late push changes nothing any more
    assert ModerationCase.objects.get(id=verdict.case_id).state == state
    assert decided == ([(case.id, "approved")] if fail_open else [])


def test_a_user_without_openid_cannot_be_checked_so_the_fail_rule_applies(wechat):
    staff = get_user_model().objects.create_user(username="made-by-createsuperuser")
    verdict = moderate_text(text="hello", user=staff, subject="description")
    assert verdict.decision == "review" and verdict.labels[-1]["label"] == "unavailable"
    assert wechat.calls("msg_sec_check") == []
