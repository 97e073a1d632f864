"""The fake WeChat server answers as WeChat's documentation says (so tests against it mean something)."""
import json
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fakes.wechat import FakeWeChat, push_signature


def call(fake, method, path, query=None, body=None):
    url = f"{fake.base_url}{path}?{urllib.parse.urlencode(query or {})}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture
def fake():
    with FakeWeChat() as fake:
        yield fake


def login(fake, code):
    return call(fake, "GET", "/sns/jscode2session", {"appid": fake.appid, "secret": fake.secret,
                                                     "js_code": code, "grant_type": "authorization_code"})


def token(fake, force=False):
    return call(fake, "POST", "/cgi-bin/stable_token", body={
        "grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret,
        "force_refresh": force})


def test_jscode2session_answers_the_session_for_a_known_code(fake):
    fake.sessions["c1"] = {"openid": "o-1", "session_key": "sk", "unionid": "u-1"}
    assert login(fake, "c1") == {"openid": "o-1", "session_key": "sk", "unionid": "u-1"}
    assert fake.requests[-1]["query"]["js_code"] == "c1"


@pytest.mark.parametrize("errcode", [40029, 45011, 40226, -1])
def test_jscode2session_errors(fake, errcode):
    fake.add_session("c1")
    fake.errors["jscode2session"] = errcode
    assert login(fake, "c1")["errcode"] == errcode


def test_unknown_code_is_invalid_and_reuse_is_refused_when_single_use(fake):
    assert login(fake, "nope")["errcode"] == 40029
    fake.add_session("c1")
    fake.single_use_codes = True
    assert "openid" in login(fake, "c1")
    assert login(fake, "c1")["errcode"] == 40163


def test_error_lists_are_consumed_one_per_call(fake):
    fake.add_session("c1")
    fake.errors["jscode2session"] = [-1]
    assert login(fake, "c1")["errcode"] == -1
    assert "openid" in login(fake, "c1")


def test_stable_token_is_stable_until_forced_or_expired(fake):
    first = token(fake)
    assert first["expires_in"] > 7000
    assert token(fake)["access_token"] == first["access_token"]
    forced = token(fake, force=True)["access_token"]
    assert forced != first["access_token"]
    check = {"content": "hi", "version": 2, "scene": 2, "openid": "o"}
    assert call(fake, "POST", "/wxa/msg_sec_check", {"access_token": first["access_token"]}, check)["errcode"] == 40001
    assert call(fake, "POST", "/wxa/msg_sec_check", {"access_token": forced}, check)["errcode"] == 0
    fake.expire_tokens()
    assert call(fake, "POST", "/wxa/msg_sec_check", {"access_token": forced}, check)["errcode"] == 40001
    assert token(fake)["access_token"] != forced


def test_msg_sec_check_verdicts(fake):
    fake.text_verdicts["赌博"] = ("risky", 20006)
    access = token(fake)["access_token"]
    risky = call(fake, "POST", "/wxa/msg_sec_check", {"access_token": access},
                 {"content": "来赌博吧", "version": 2, "scene": 2, "openid": "o"})
    assert risky["errcode"] == 0 and risky["result"] == {"suggest": "risky", "label": 20006}
    assert risky["detail"][1]["keyword"] == "赌博" and risky["trace_id"]
    clean = call(fake, "POST", "/wxa/msg_sec_check", {"access_token": access},
                 {"content": "你好", "version": 2, "scene": 2, "openid": "o"})
    assert clean["result"]["suggest"] == "pass"
    assert call(fake, "POST", "/wxa/msg_sec_check", {"access_token": access},
                {"content": "x", "scene": 2, "openid": "o"})["errcode"] == 47001


def test_media_check_async_pushes_a_signed_verdict_later(fake):
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            received.append((query, self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"success")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fake.push_url = f"http://127.0.0.1:{server.server_address[1]}/push"
        fake.media_verdict = ("risky", 20002)
        access = token(fake)["access_token"]
        answer = call(fake, "POST", "/wxa/media_check_async", {"access_token": access},
                      {"media_url": "http://x/a.jpg", "media_type": 2, "version": 2, "scene": 1, "openid": "o"})
        assert answer["errcode"] == 0
        pushes = fake.wait_for_pushes(1)
        assert pushes[0]["status"] == 200 and pushes[0]["response"] == "success"
        query, body = received[0]
        assert query["signature"] == push_signature(fake.push_token, query["timestamp"], query["nonce"])
        event = json.loads(body)
        assert event["trace_id"] == answer["trace_id"] and event["Event"] == "wxa_media_check"
        assert event["result"] == {"suggest": "risky", "label": 20002}
    finally:
        server.shutdown()
        server.server_close()


def test_manual_xml_push_and_down(fake):
    got = []
    fake.auto_push = False
    fake.push_format = "xml"
    fake.push_to = lambda query, body, content_type: got.append(body) or (200, "success")
    access = token(fake)["access_token"]
    call(fake, "POST", "/wxa/media_check_async", {"access_token": access},
         {"media_url": "http://x/a.jpg", "media_type": 2, "version": 2, "scene": 1, "openid": "o"})
    assert not got
    fake.deliver_pushes()
    assert b"<Event><![CDATA[wxa_media_check]]></Event>" in got[0]
    fake.down = True
    with pytest.raises(urllib.error.HTTPError) as exc:
        token(fake)
    assert exc.value.code == 502
