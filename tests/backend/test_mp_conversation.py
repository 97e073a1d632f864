"""The Official Account's conversations against the fake WeChat, on this stack's worker: the
anime avatar, the sticker and the voice description, each to the picture the follower gets;
a photo without a keyword; WeChat's retries; and the answer within 4.5 s with the picture sent
afterwards through the customer-service API."""
from __future__ import annotations

import io
import time
import uuid

import pytest
from PIL import Image

from backend.jobs.models import Job
from backend.mpbot import replies
from backend.mpbot.models import Delivery, Follower
from tests.backend.mp_client import mp, post, reply_of  # noqa: F401 - fixture
from tests.conftest import jpeg_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def face_jpeg():
    from tests.conftest import fixture_photo

    return fixture_photo("obama.jpg").read_bytes()


def follower_openid() -> str:
    return f"oMP{uuid.uuid4().hex[:20]}"


def say(mp, openid: str, text: str, **kw) -> dict:
    response, took = post(mp, mp.mp_text(openid, text), **kw)
    assert took < 4.5, took
    return reply_of(mp, response, encrypted=kw.get("encrypt", False))


def sent_to(mp, openid: str, *, count: int = 1, timeout: float = 120) -> dict:
    """The follower's ``count``-th customer-service message, once it has come."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [m for m in mp.sent if m["touser"] == openid]
        if len(mine) >= count:
            return mine[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"no message {count} for {openid}: {mp.sent}")


def text_received(mp, openid: str, reply: dict, *, count: int = 1) -> str:
    """A text the follower gets: the passive reply's, or the one sent after "正在生成…"."""
    if reply.get("Content") not in (replies.WORKING, None):
        return reply["Content"]
    message = sent_to(mp, openid, count=count)
    assert message["msgtype"] == "text", message
    return message["text"]["content"]


def picture_received(mp, openid: str, reply: dict, timeout: float = 120) -> Image.Image:
    """The picture the follower gets: the passive reply's, or the customer-service message's
    that follows "正在生成…"."""
    if reply.get("MsgType") == "image":
        media_id = reply["MediaId"]
    else:
        assert reply.get("Content") in (replies.WORKING, replies.CONFIRMED), reply
        message = sent_to(mp, openid, timeout=timeout)
        assert message["msgtype"] == "image", message
        media_id = message["image"]["media_id"]
    uploaded = mp.uploaded[media_id]
    assert uploaded["type"] == "image"
    return Image.open(io.BytesIO(uploaded["data"]))


def test_an_anime_avatar_from_a_keyword_and_a_photo(mp, face_jpeg):
    openid = follower_openid()
    assert say(mp, openid, "动漫化")["Content"] == replies.ASK_PHOTO
    response, took = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)), encrypt=True)
    assert took < 4.5, took
    picture = picture_received(mp, openid, reply_of(mp, response, encrypted=True))
    assert picture.format == "PNG" and picture.width == picture.height >= 256
    follower = Follower.objects.get(openid=openid)
    [job] = Job.objects.filter(owner=follower.user)
    assert (job.mode, job.params["mode"], job.state) == ("anime", "avatar", "succeeded")
    [delivery] = Delivery.objects.filter(follower=follower)
    assert delivery.state == "sent" and delivery.how in ("passive", "custom")
    assert mp.calls("media_get")[0]["query"]["media_id"]  # fetched by MediaId


def test_a_sticker_from_its_words_and_a_photo(mp, face_jpeg):
    openid = follower_openid()
    assert say(mp, openid, "表情包")["Content"] == replies.ASK_STICKER_TEXT
    assert say(mp, openid, "表情包 开心")["Content"] == replies.ASK_STICKER_PHOTO.format(text="开心")
    response, took = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert took < 4.5, took
    picture = picture_received(mp, openid, reply_of(mp, response))
    assert picture.format in ("PNG", "GIF") and picture.size == (240, 240)
    [job] = Job.objects.filter(owner__mp_follower__openid=openid)
    assert (job.mode, job.text, job.state) == ("sticker", "开心", "succeeded")


def test_a_photo_without_a_keyword_gets_the_menu_then_the_keyword_uses_it(mp, face_jpeg):
    openid = follower_openid()
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert reply_of(mp, response)["Content"] == replies.MENU
    assert not Job.objects.filter(owner__mp_follower__openid=openid).exists()
    assert say(mp, openid, "帮助")["Content"] == replies.HELP
    picture = picture_received(mp, openid, say(mp, openid, "头像"))
    assert picture.format == "PNG"
    [job] = Job.objects.filter(owner__mp_follower__openid=openid)
    assert job.mode == "anime" and job.state == "succeeded"


def test_a_spoken_description_is_asked_about_in_chat_then_drawn(mp):
    openid = follower_openid()
    voice = mp.add_media(b"#!AMR\n" + b"\x00" * 64, "audio/amr")
    response, took = post(mp, mp.mp_voice(openid, voice, recognition="一个戴眼镜的黑发男孩在樱花树下看书"))
    assert took < 4.5, took
    question = text_received(mp, openid, reply_of(mp, response))
    assert question.startswith("您想生成") and question.endswith(replies.CONFIRM_HINT)
    [job] = Job.objects.filter(owner__mp_follower__openid=openid)
    assert job.mode == "voice" and job.state == "awaiting_confirmation"
    assert not mp.calls("media_get")  # WeChat's Recognition was used, not the recording
    # A spoken correction is asked about again.
    response, _ = post(mp, mp.mp_voice(openid, voice, recognition="一个红头发的女孩在海边"))
    again = reply_of(mp, response)["Content"]
    assert again.endswith(replies.CONFIRM_HINT) and again != question
    job.refresh_from_db()
    assert job.metadata["slots"]["hair_colour"] == "red"
    picture = picture_received(mp, openid, say(mp, openid, "1"))
    assert picture.format == "PNG" and picture.size == (768, 768)
    job.refresh_from_db()
    assert job.state == "succeeded" and job.metadata["confirmed"]


def test_a_recording_without_recognition_goes_to_our_speech_recognition(mp):
    from inference.voice import speak

    openid = follower_openid()
    wav = speak("一个戴眼镜的男孩", language="zh")
    response, _ = post(mp, mp.mp_voice(openid, mp.add_media(wav, "audio/wav")))
    answer = text_received(mp, openid, reply_of(mp, response))
    [job] = Job.objects.filter(owner__mp_follower__openid=openid)
    assert job.mode == "voice" and [i.name for i in job.inputs.all()] == ["voice"]
    assert job.inputs.get().upload.kind == "audio"
    assert mp.calls("media_get")
    # Whisper heard it (a question) or is not installed here (said so, in words).
    assert answer.endswith(replies.CONFIRM_HINT) or answer == replies.FAILURES["asr_model_missing"]


def test_wechat_retries_start_one_job_and_send_once(mp, face_jpeg):
    openid = follower_openid()
    say(mp, openid, "动漫化")
    mp.delays["media_upload"] = 4.6  # too slow for the passive reply: the picture comes later
    message = mp.mp_image(openid, mp.add_media(face_jpeg), msg_id=int(uuid.uuid4().int % 10**18))
    answers = []
    for _ in range(3):
        response, took = post(mp, message)
        assert took < 4.5, took
        answers.append(reply_of(mp, response))
    assert answers[0]["Content"] == replies.WORKING and answers[1:] == [{}, {}]
    picture_received(mp, openid, answers[0])
    time.sleep(1.5)
    assert len([m for m in mp.sent if m["touser"] == openid]) == 1
    assert Job.objects.filter(owner__mp_follower__openid=openid).count() == 1
    assert Delivery.objects.get(follower__openid=openid).how == "custom"


def test_a_slow_result_is_answered_in_time_and_sent_afterwards(mp, face_jpeg):
    openid = follower_openid()
    say(mp, openid, "动漫化")
    mp.delays["media_upload"] = 4.6
    response, took = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)), encrypt=True)
    assert 3.5 < took < 4.5, took  # it waited for the picture as long as WeChat allows
    reply = reply_of(mp, response, encrypted=True)
    assert reply["Content"] == replies.WORKING and reply["MsgType"] == "text"
    picture = picture_received(mp, openid, reply)
    assert picture.format == "PNG"
    [send] = [c for c in mp.calls("custom_send")]
    assert send["body"]["touser"] == openid


def test_failed_sends_are_retried_with_backoff(mp, face_jpeg):
    openid = follower_openid()
    say(mp, openid, "动漫化")
    mp.errors["custom_send"] = [-1, 45047]  # system busy, then a quota error; then it works
    mp.delays["media_upload"] = 4.6
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    picture_received(mp, openid, reply_of(mp, response), timeout=60)
    delivery = Delivery.objects.get(follower__openid=openid)
    assert delivery.state == "sent" and delivery.attempts == 2
    sends = mp.calls("custom_send")
    assert len(sends) == 3


def test_a_follower_with_the_mini_programs_unionid_shares_its_account(mp, face_jpeg, login):
    from backend.accounts.models import WechatAccount

    api = login()
    WechatAccount.objects.filter(user_id=api.user_id).update(unionid="union-1")
    openid = follower_openid()
    response, _ = post(mp, mp.mp_text(openid, "动漫化", UnionId="union-1"))
    assert reply_of(mp, response)["Content"] == replies.ASK_PHOTO
    xml = mp.mp_image(openid, mp.add_media(face_jpeg))
    response, _ = post(mp, xml)
    picture_received(mp, openid, reply_of(mp, response))
    assert Follower.objects.get(openid=openid).user_id == api.user_id
    [result] = [r for r in api.get("/results").json()["results"] if r["kind"] == "avatar"]
    assert result["mode"] == "anime"


def test_a_blocked_photo_is_refused_and_a_held_one_is_sent_once_approved(mp, face_jpeg, settings):
    from django.contrib.auth import get_user_model

    from backend.uploads.models import Upload
    from moderation.services import case_approve

    from moderation.imagecheck import session

    session(settings.MODERATION_NUDENET_THREADS)  # loaded, as a server's warm-up does
    openid = follower_openid()
    say(mp, openid, "动漫化")
    settings.MODERATION_NUDENET_RULES = "FACE_MALE=block:0.2,FACE_FEMALE=block:0.2"  # forbidden
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert reply_of(mp, response)["Content"] == replies.REFUSED
    assert not Upload.objects.filter(owner__mp_follower__openid=openid).exists()
    settings.MODERATION_NUDENET_RULES = "FACE_MALE=review:0.2,FACE_FEMALE=review:0.2"  # to review
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert reply_of(mp, response)["Content"] == replies.HELD
    [job] = Job.objects.filter(owner__mp_follower__openid=openid)
    assert job.state == "held" and not mp.sent
    moderator = get_user_model().objects.create_user(username=f"mod-{uuid.uuid4().hex[:6]}",
                                                     is_staff=True)
    settings.MODERATION_NUDENET_RULES = ""  # the picture made from it is not held again
    case_approve(case_id=job.moderation_case_id, moderator=moderator)
    message = sent_to(mp, openid)
    assert message["msgtype"] == "image"
    assert Image.open(io.BytesIO(mp.uploaded[message["image"]["media_id"]]["data"])).format == "PNG"


def test_followers_have_the_mini_programs_throttles(mp, face_jpeg, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "upload", "1/min")
    openid = follower_openid()
    first, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert reply_of(mp, first)["Content"] == replies.MENU
    second, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    assert reply_of(mp, second)["Content"] == replies.THROTTLED
    # Another follower has their own allowance.
    other, _ = post(mp, mp.mp_image(follower_openid(), mp.add_media(face_jpeg)))
    assert reply_of(mp, other)["Content"] == replies.MENU


# -- the unionid, from WeChat's user/info ----------------------------------------------------

def user_info_calls(mp, openid: str) -> list[dict]:
    return [c for c in mp.calls("user_info") if c["query"].get("openid") == openid]


def test_a_follower_whose_user_info_has_a_mini_program_unionid_shares_its_account(
        mp, face_jpeg, login):
    from backend.accounts.models import WechatAccount

    api = login()
    WechatAccount.objects.filter(user_id=api.user_id).update(unionid="union-info-1")
    openid = follower_openid()
    mp.mp_users[openid] = {"unionid": "union-info-1"}  # the account is bound: WeChat tells
    response, _ = post(mp, mp.mp_event(openid, "subscribe"))  # no UnionId in the event
    assert reply_of(mp, response)["Content"] == replies.WELCOME
    assert say(mp, openid, "动漫化")["Content"] == replies.ASK_PHOTO
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    picture_received(mp, openid, reply_of(mp, response))
    follower = Follower.objects.get(openid=openid)
    assert follower.user_id == api.user_id and follower.unionid == "union-info-1"
    [result] = [r for r in api.get("/results").json()["results"] if r["kind"] == "avatar"]
    assert result["mode"] == "anime"
    # Asked once, on subscribe, as WeChat documents it; never again once known.
    [call] = user_info_calls(mp, openid)
    assert call["method"] == "GET" and call["query"]["lang"] == "zh_CN"
    assert call["query"]["access_token"]


def test_a_mini_program_login_with_a_followers_unionid_sees_the_bots_results(mp, face_jpeg):
    from rest_framework.test import APIClient

    openid = follower_openid()
    mp.mp_users[openid] = {"unionid": "union-info-2"}
    assert say(mp, openid, "动漫化")["Content"] == replies.ASK_PHOTO  # first message: asked
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    picture_received(mp, openid, reply_of(mp, response))
    assert len(user_info_calls(mp, openid)) == 1
    # The same person opens the mini-program for the first time.
    mp.sessions["code-u2"] = {"openid": f"oMini{uuid.uuid4().hex[:10]}", "session_key": "sk",
                              "unionid": "union-info-2"}
    client = APIClient()
    body = client.post("/auth/wechat", {"code": "code-u2"}, format="json").json()
    assert body["user"]["id"] == Follower.objects.get(openid=openid).user_id
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    [result] = [r for r in client.get("/results").json()["results"] if r["kind"] == "avatar"]
    assert result["mode"] == "anime"
    # Someone else's unionid never joins them.
    mp.sessions["code-other"] = {"openid": "oMiniOther", "session_key": "sk", "unionid": "u-x"}
    other = APIClient().post("/auth/wechat", {"code": "code-other"}, format="json").json()
    assert other["user"]["id"] != body["user"]["id"]


@pytest.mark.parametrize("refused", [False, True], ids=["not bound", "refused"])
def test_a_follower_without_a_unionid_is_asked_about_once(mp, refused):
    """The account not bound to an Open Platform account (no unionid in the answer), or
    user/info refused (48001: an unverified account has none): the conversation goes on."""
    openid = follower_openid()
    if refused:
        mp.mp_users[openid] = {"unionid": "union-refused"}
        mp.errors["user_info"] = 48001
    assert say(mp, openid, "动漫化")["Content"] == replies.ASK_PHOTO
    assert say(mp, openid, "帮助")["Content"] == replies.HELP
    follower = Follower.objects.get(openid=openid)
    assert follower.unionid == "" and follower.unionid_asked
    assert len(user_info_calls(mp, openid)) == 1


def test_an_unreachable_user_info_is_asked_again_with_the_next_message(mp):
    openid = follower_openid()
    mp.mp_users[openid] = {"unionid": "union-later"}
    mp.errors["user_info"] = [-1]  # system busy, once
    response, _ = post(mp, mp.mp_event(openid, "subscribe"))
    assert reply_of(mp, response)["Content"] == replies.WELCOME
    assert Follower.objects.get(openid=openid).unionid == ""
    assert say(mp, openid, "帮助")["Content"] == replies.HELP
    assert Follower.objects.get(openid=openid).unionid == "union-later"
    say(mp, openid, "帮助")
    assert len(user_info_calls(mp, openid)) == 2


def test_a_stale_token_is_replaced_for_user_info(mp):
    openid = follower_openid()
    mp.mp_users[openid] = {"unionid": "union-fresh"}
    say(mp, f"{openid}x", "帮助")  # a token is cached
    mp.expire_tokens()  # WeChat answers 40001 to it now
    assert say(mp, openid, "帮助")["Content"] == replies.HELP
    assert Follower.objects.get(openid=openid).unionid == "union-fresh"
    tokens = [c["query"]["access_token"] for c in user_info_calls(mp, openid)]
    assert len(tokens) == 2 and tokens[0] != tokens[1]


# -- a sticker's words that do not fit ---------------------------------------------------------

def test_sticker_words_too_long_for_a_caption_are_answered_in_chinese(mp, face_jpeg):
    from inference.sticker import CAPTION_MAX_CHARS

    openid = follower_openid()
    words = "今天天气真好我们一起去公园散步吧还要吃冰淇淋"
    assert len(words) > CAPTION_MAX_CHARS
    assert say(mp, openid, f"表情包 {words}")["Content"] == replies.ASK_STICKER_PHOTO.format(
        text=words)
    response, _ = post(mp, mp.mp_image(openid, mp.add_media(face_jpeg)))
    answer = reply_of(mp, response)["Content"]
    assert answer == f"表情包的文字太长了，请控制在 {CAPTION_MAX_CHARS} 个字以内。"
    assert not Job.objects.filter(owner__mp_follower__openid=openid).exists()
    # Shorter words work with the same follower afterwards.
    assert say(mp, openid, "表情包 开心")["Content"] == replies.ASK_STICKER_PHOTO.format(
        text="开心")


def test_sticker_words_longer_than_a_text_may_be_are_refused_before_the_photo(mp):
    openid = follower_openid()
    answer = say(mp, openid, "表情包 " + "好" * 150)["Content"]
    assert answer == "文字太长了，请控制在 100 字以内。"
    assert Follower.objects.get(openid=openid).awaiting == ""
