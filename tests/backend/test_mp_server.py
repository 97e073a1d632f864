"""The Official Account's message server as WeChat sees it: off while unconfigured, the URL
check, signatures, plain and safe mode (WeChat's published WXBizMsgCrypt vectors), hostile XML,
subscribe and unsubscribe, and moderation of what followers write."""
from __future__ import annotations

import time
import uuid

import pytest

from backend.jobs.models import Job
from backend.mpbot import replies
from backend.mpbot.crypto import CryptoError, MessageCrypto
from backend.mpbot.messages import MessageError, parse_xml
from backend.mpbot.models import Follower
from tests.backend.mp_client import mp, post, reply_of, request  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # the key of WeChat's own samples


# -- WeChat's published vectors ------------------------------------------------------------------

def test_wechats_published_encryption_vector():
    # WXBizMsgCryptTest (WeChat's Java sample): a fixed random prefix gives this ciphertext.
    crypto = MessageCrypto(token="pamtest", encoding_aes_key=KEY, appid="wxb11529c136998cb6")
    assert crypto.encrypt("我是中文abcd123", random_prefix=b"aaaabbbbccccdddd") == (
        "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==")
    assert crypto.decrypt(crypto.encrypt("我是中文abcd123")) == "我是中文abcd123"


SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8P"
    "GHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h"
    "6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCO"
    "p3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnh"
    "vQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=")


def test_wechats_published_decryption_vector():
    # WeChat's Python sample (demo.py): token spamtest, its msg_signature and ciphertext.
    crypto = MessageCrypto(token="spamtest", encoding_aes_key=KEY, appid="wx2c2769f8efd9abc2")
    assert crypto.verify("1409735669", "1320562132", SAMPLE_ENCRYPT,
                         "5d197aaffba7e9b25a30732f161a50dee96bd5fa")
    assert not crypto.verify("1409735670", "1320562132", SAMPLE_ENCRYPT,
                             "5d197aaffba7e9b25a30732f161a50dee96bd5fa")
    fields = parse_xml(crypto.decrypt(SAMPLE_ENCRYPT).encode())
    assert fields["Content"] == "abcdteT" and fields["MsgId"] == "6054768590064713728"
    other = MessageCrypto(token="spamtest", encoding_aes_key=KEY, appid="wx0000000000000000")
    with pytest.raises(CryptoError, match="another appid"):
        other.decrypt(SAMPLE_ENCRYPT)
    with pytest.raises(CryptoError):
        crypto.decrypt(SAMPLE_ENCRYPT[:-8] + "AAAAAAA=")  # a damaged last block: bad padding


BOMBS = {
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
                      + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
                                 for i in range(9))
                      + b']><xml><Content>&j;</Content></xml>',
    "external entity": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                       b'<xml><Content>&e;</Content></xml>',
    "quadratic blowup": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "' + b"A" * 20000
                        + b'">]><xml><Content>' + b"&a;" * 2000 + b"</Content></xml>",
    "oversize": b"<xml><Content>" + b"A" * 70000 + b"</Content></xml>",
}


@pytest.mark.parametrize("name", BOMBS)
def test_hostile_xml_is_refused_before_it_expands(name):
    started = time.monotonic()
    with pytest.raises(MessageError):
        parse_xml(BOMBS[name])
    assert time.monotonic() - started < 0.5


# -- the server ----------------------------------------------------------------------------------

def test_the_server_is_off_while_unconfigured(settings):
    settings.WECHAT_MP_TOKEN = ""
    response, _ = request("GET", {"signature": "x", "timestamp": "1", "nonce": "n", "echostr": "e"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    response, _ = request("POST", {}, b"<xml/>")
    assert response.status_code == 404


def test_the_url_check_echoes_only_a_correct_signature(mp):
    query = mp.signed_query(echostr="7312059812468212345")
    query["signature"] = __import__("hashlib").sha1("".join(sorted(
        [mp.mp_token, query["timestamp"], query["nonce"]])).encode()).hexdigest()
    response, _ = request("GET", query)
    assert response.status_code == 200 and response.text == "7312059812468212345"
    for bad in ({**query, "signature": "0" * 40}, {**query, "nonce": "other"},
                {k: v for k, v in query.items() if k != "signature"}):
        response, _ = request("GET", bad)
        assert response.status_code == 403 and response.json()["error"]["code"] == "bad_signature"


def test_a_post_needs_a_fresh_valid_signature_and_a_valid_msg_signature(mp):
    openid = f"o{uuid.uuid4().hex[:20]}"
    query, body = mp.mp_push(mp.mp_text(openid, "帮助"))
    response, _ = request("POST", {**query, "signature": "0" * 40}, body)
    assert response.status_code == 403
    old_query, old_body = mp.mp_push(mp.mp_text(openid, "帮助"), at=time.time() - 3600)
    response, _ = request("POST", old_query, old_body)
    assert response.status_code == 403 and response.json()["error"]["code"] == "stale_timestamp"
    query, body = mp.mp_push(mp.mp_text(openid, "帮助"), encrypt=True)
    response, _ = request("POST", {**query, "msg_signature": "0" * 40}, body)
    assert response.status_code == 403
    response, _ = request("POST", query, body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA"))
    assert response.status_code == 403  # the ciphertext changed: its msg_signature no longer holds
    assert not Follower.objects.filter(openid=openid).exists()


def test_plain_and_safe_mode_round_trips(mp):
    openid = f"o{uuid.uuid4().hex[:20]}"
    plain, _ = post(mp, mp.mp_text(openid, "帮助"))
    assert plain.headers["content-type"].startswith("application/xml")
    reply = reply_of(mp, plain)
    assert (reply["MsgType"], reply["Content"]) == ("text", replies.HELP)
    assert (reply["ToUserName"], reply["FromUserName"]) == (openid, mp.mp_original_id)
    safe, _ = post(mp, mp.mp_text(openid, "帮助"), encrypt=True)
    assert b"<Encrypt>" in safe.content and "帮助".encode() not in safe.content
    reply = reply_of(mp, safe, encrypted=True)  # the fake checks msg_signature and the appid
    assert (reply["MsgType"], reply["Content"]) == ("text", replies.HELP)


@pytest.mark.parametrize("name", BOMBS)
def test_hostile_xml_is_refused_by_the_server(mp, name):
    query, _ = mp.mp_push("<xml/>")
    response, took = request("POST", query, BOMBS[name])
    assert response.status_code in (400, 413) and took < 2
    assert not Job.objects.exists() and not Follower.objects.exists()
    # Inside safe mode too: the decrypted message is parsed as strictly.
    if name != "oversize":
        query, body = mp.mp_push(BOMBS[name].decode(), encrypt=True)
        response, _ = request("POST", query, body)
        assert response.status_code == 400 and response.json()["error"]["code"] == "bad_message"


def test_subscribe_welcomes_and_unsubscribe_deletes_the_followers_data(mp):
    from backend.mpbot.models import Delivery
    from backend.uploads.models import Upload
    from core.storage import get_storage
    from tests.conftest import fixture_photo

    openid = f"o{uuid.uuid4().hex[:20]}"
    response, _ = post(mp, mp.mp_event(openid, "subscribe"))
    assert reply_of(mp, response)["Content"] == replies.WELCOME
    follower = Follower.objects.get(openid=openid)
    user_id = follower.user_id
    post(mp, mp.mp_text(openid, "动漫化"))
    photo = fixture_photo("obama.jpg").read_bytes()
    post(mp, mp.mp_image(openid, mp.add_media(photo)))
    deadline = time.monotonic() + 120
    while not Delivery.objects.filter(follower=follower, state="sent").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    keys = [u.storage_key for u in Upload.objects.filter(owner_id=user_id)]
    assert keys and Job.objects.filter(owner_id=user_id).exists()
    # WeChat sends the event again if the first answer was lost: still one deletion, no error.
    event = mp.mp_event(openid, "unsubscribe")
    for _ in range(2):
        response, _ = post(mp, event)
        assert response.status_code == 200 and response.content == b"success"
    assert not Follower.objects.filter(openid=openid).exists()
    assert not Job.objects.filter(owner_id=user_id).exists()
    assert not Upload.objects.filter(owner_id=user_id).exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(id=user_id).exists()
    assert not any(get_storage().exists(key) for key in keys)


@pytest.mark.parametrize("text", ["习近平下台", "打倒 習 近 平", "xi jinping must step down",
                                  "法轮大法好", "傻逼"])
def test_political_and_abusive_text_is_refused_politely(mp, text):
    openid = f"o{uuid.uuid4().hex[:20]}"
    response, _ = post(mp, mp.mp_text(openid, text))
    assert reply_of(mp, response)["Content"] == replies.REFUSED
    # Nor does it reach a job as a sticker's words.
    response, _ = post(mp, mp.mp_text(openid, f"表情包 {text}"))
    assert reply_of(mp, response)["Content"] == replies.REFUSED
    assert not Job.objects.exists()


def test_text_a_moderator_must_see_is_submitted_for_review(mp):
    openid = f"o{uuid.uuid4().hex[:20]}"
    response, _ = post(mp, mp.mp_text(openid, "表情包 加我微信"))
    assert reply_of(mp, response)["Content"] == replies.HELD_TEXT
    from moderation.models import ModerationCase

    assert ModerationCase.objects.filter(user__mp_follower__openid=openid, state="pending").exists()


def test_a_picurl_is_fetched_only_from_wechats_image_hosts(mp, settings, monkeypatch):
    from backend.mpbot import conversation
    from tests.conftest import fixture_photo

    openid = f"o{uuid.uuid4().hex[:20]}"
    post(mp, mp.mp_text(openid, "动漫化"))
    photo = mp.add_media(fixture_photo("obama.jpg").read_bytes())
    # A MediaId WeChat no longer knows, so the PicUrl is tried; the fake's address is not one of
    # WeChat's image hosts, so nothing is fetched (the fetcher is never called).
    real_fetch = conversation.fetch_url

    def must_not_fetch(*args, **kwargs):
        raise AssertionError("fetched a PicUrl off WeChat's image hosts")

    monkeypatch.setattr(conversation, "fetch_url", must_not_fetch)
    xml = mp.mp_message(openid, "image", PicUrl=mp.pic_url(photo), MediaId="gone")
    response, _ = post(mp, xml)
    assert reply_of(mp, response)["Content"] == replies.MEDIA_UNAVAILABLE
    assert not mp.calls("image_host") and not Job.objects.exists()
    # Once the fake's address counts as WeChat's image host (and may be reached), it is used,
    # through the SSRF-safe fetcher, with no redirect followed.
    monkeypatch.setattr(conversation, "fetch_url", real_fetch)
    settings.WECHAT_MP_PICURL_HOSTS = ["127.0.0.1"]
    settings.UPLOAD_URL_ALLOW_NETWORKS = ["127.0.0.1/32"]
    response, _ = post(mp, mp.mp_message(openid, "image", PicUrl=mp.pic_url(photo),
                                         MediaId="gone"))
    assert reply_of(mp, response)["MsgType"] in ("image", "text")
    assert mp.calls("image_host")
    assert Job.objects.filter(owner__mp_follower__openid=openid, mode="anime").count() == 1


def test_unsubscribing_from_a_shared_account_deletes_only_what_the_bot_made(mp, login):
    from backend.accounts.models import WechatAccount
    from backend.mpbot.models import Delivery
    from tests.conftest import fixture_photo

    api = login()
    WechatAccount.objects.filter(user_id=api.user_id).update(unionid="union-shared")
    photo = fixture_photo("obama.jpg").read_bytes()
    mine = api.generate(api.upload(photo).json()["id"], mode="anime").json()["job_id"]
    openid = f"o{uuid.uuid4().hex[:20]}"
    post(mp, mp.mp_text(openid, "动漫化", UnionId="union-shared"))
    post(mp, mp.mp_image(openid, mp.add_media(photo)))
    follower = Follower.objects.get(openid=openid)
    assert follower.user_id == api.user_id
    deadline = time.monotonic() + 120
    while not Delivery.objects.filter(follower=follower, state="sent").exists():
        assert time.monotonic() < deadline
        time.sleep(0.2)
    bots = Delivery.objects.get(follower=follower).job_id
    api.wait(mine)
    response, _ = post(mp, mp.mp_event(openid, "unsubscribe"))
    assert response.content == b"success"
    assert not Follower.objects.filter(openid=openid).exists()
    assert not Job.objects.filter(id=bots).exists()
    assert api.get(f"/jobs/{mine}").json()["state"] == "succeeded"  # the mini-program's stays
    assert api.get(f"/jobs/{bots}").status_code == 404


def test_an_unsubscribe_while_storage_is_down_is_finished_later(mp, monkeypatch):
    from backend.mpbot.followers import followers_forget_pending
    from core.storage import StorageError, get_storage

    openid = f"o{uuid.uuid4().hex[:20]}"
    post(mp, mp.mp_event(openid, "subscribe"))
    user_id = Follower.objects.get(openid=openid).user_id
    storage = get_storage()

    def down(prefix):
        raise StorageError("storage is down")

    monkeypatch.setattr(storage, "delete_prefix", down)
    response, _ = post(mp, mp.mp_event(openid, "unsubscribe"))
    assert response.status_code == 200
    follower = Follower.objects.get(openid=openid)
    assert follower.unsubscribed_at is not None  # kept, to be deleted again
    response, _ = post(mp, mp.mp_text(openid, "动漫化"))
    assert reply_of(mp, response)["Content"] == replies.BUSY  # nothing new meanwhile
    assert followers_forget_pending() == 0  # still down
    monkeypatch.undo()
    assert followers_forget_pending() == 1
    from django.contrib.auth import get_user_model

    assert not Follower.objects.filter(openid=openid).exists()
    assert not get_user_model().objects.filter(id=user_id).exists()
