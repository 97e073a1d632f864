"""A local fake of the WeChat server API, answering as WeChat's documentation says.

Runs a threaded ``http.server`` on 127.0.0.1 (random port). Point ``WECHAT_API_BASE`` at
``fake.base_url``. Endpoints:

- ``GET  /sns/jscode2session``        login: appid, secret, js_code, grant_type=authorization_code
- ``POST /cgi-bin/stable_token``      getStableAccessToken: {access_token, expires_in}
- ``POST /wxa/msg_sec_check``         text security check v2: {errcode:0, result:{suggest,label}, ...}
- ``POST /wxa/media_check_async``     image (media_type 2) or audio (1) check v2: {errcode:0,
                                      trace_id}; the verdict is pushed later as a signed
                                      ``wxa_media_check`` event

The Official Account (its own ``mp_appid``/``mp_secret``; stable_token serves both accounts):

- ``GET  /cgi-bin/media/get``         a follower's file by media_id: the bytes with their
                                      Content-Type; unknown id 40007 as JSON
- ``POST /cgi-bin/media/upload``      temporary media, multipart field ``media``, ``type``
                                      image|voice|video|thumb: {type, media_id, created_at}
- ``POST /cgi-bin/message/custom/send`` customer-service message {touser, msgtype text|image,
                                      text:{content} | image:{media_id}}: {errcode:0}
- ``GET  /cgi-bin/user/info``         a user's profile by ``openid`` (and ``lang``): a follower
                                      in ``mp_users`` {subscribe:1, openid, unionid?, ...}; any
                                      other well-formed openid {subscribe:0, openid}; no openid
                                      40003
- ``GET  /mmbiz_jpg/<media_id>``      an image host's copy of a follower's photo (PicUrl)

and the other side of the account: ``mp_push(xml, encrypt=…)`` builds the signed query and
body WeChat POSTs to the message server (plain, or safe mode with its own WXBizMsgCrypt);
``mp_text``/``mp_image``/``mp_voice``/``mp_event`` build the messages; ``mp_decrypt_reply``
opens an encrypted passive reply.

Knobs (plain attributes, change them in a test):

- ``sessions[code] = {"openid", "session_key", "unionid"?}``; an unknown code answers 40029.
- ``errors[name] = errcode`` answers that error on every call of endpoint ``name``
  ("jscode2session", "stable_token", "msg_sec_check", "media_check_async"); a list of errcodes
  is consumed one per call, then the endpoint answers normally again.
- ``delays[name] = seconds`` sleeps before answering (to test client timeouts).
- ``down = True`` answers every call with HTTP 502 and an HTML page, as a broken gateway does.
- ``text_verdicts[substring] = ("risky", 20002)``: the first substring found in ``content`` decides;
  otherwise ``("pass", 100)``.
- ``media_verdict = ("pass", 100)``; ``media_verdicts[url_substring]`` overrides per URL.
- ``push_url`` (str: POSTed over HTTP) or ``push_to`` (callable(query: dict, body: bytes,
  content_type: str) -> (status, text)); ``push_format`` "json" | "xml"; ``push_delay`` seconds;
  ``auto_push = False`` keeps pushes queued until ``deliver_pushes()``.
- ``expire_tokens()`` makes every issued access_token stale (calls then answer 40001);
  ``revoke_tokens()`` too, but stable_token keeps handing the revoked one out until forced.
- ``requests``: every call as {"name", "method", "path", "query", "body"}; ``pushes``: every push
  sent with its answer.
- ``mp_users[openid] = {"unionid"?: …}``: the Official Account's followers as user/info
  describes them (``unionid`` only when the account is bound to an Open Platform account).
- ``media[media_id] = (bytes, content_type)``: followers' files (``add_media`` stores one);
  ``uploaded[media_id]``: what was uploaded; ``sent``: every customer-service message.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

# errmsg texts as WeChat spells them.
ERRMSG = {
    -1: "system error",
    0: "ok",
    40001: "invalid credential, access_token is invalid or not latest",
    40003: "invalid openid",
    40013: "invalid appid",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    40226: "code blocked",
    41001: "access_token missing",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach-limit, mustslower retry next minute",
    47001: "data format error",
    61010: "user access expired",
}

TOKEN_ENDPOINTS = {"msg_sec_check", "media_check_async", "media_get", "media_upload",
                   "custom_send", "user_info"}
ERRMSG.update({40007: "invalid media_id", 44002: "empty post data", 40004: "invalid media type",
               48001: "api unauthorized"})


def push_signature(token: str, timestamp: str, nonce: str) -> str:
    """The plaintext-mode message-push signature: sha1 of the sorted, joined three strings."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


class FakeWeChat:
    def __init__(self, *, appid: str = "wx0fake0appid0000", secret: str = "fake-app-secret",
                 push_token: str = "fake-push-token", token_ttl: int = 7200,
                 mp_appid: str = "wx0fake0mp0000000", mp_secret: str = "fake-mp-secret",
                 mp_token: str = "fake-mp-token",
                 mp_aes_key: str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG") -> None:
        self.appid = appid
        self.secret = secret
        self.mp_appid, self.mp_secret = mp_appid, mp_secret
        self.mp_token, self.mp_aes_key = mp_token, mp_aes_key
        self.mp_original_id = "gh_fake0mp000000"
        self.media: dict[str, tuple[bytes, str]] = {}
        self.uploaded: dict[str, dict] = {}
        self.sent: list[dict] = []
        self.mp_users: dict[str, dict] = {}
        self.push_token = push_token
        self.token_ttl = token_ttl
        self.original_id = "gh_fake00000000"
        self.sessions: dict[str, dict] = {}
        self.single_use_codes = False  # WeChat's codes work once; opt in to get 40163 on reuse
        self.errors: dict[str, int | list[int]] = {}
        self.delays: dict[str, float] = {}
        self.down = False
        self.text_verdicts: dict[str, tuple[str, int]] = {}
        self.media_verdict: tuple[str, int] = ("pass", 100)
        self.media_verdicts: dict[str, tuple[str, int]] = {}
        self.push_url = ""
        self.push_to = None
        self.push_format = "json"
        self.push_delay = 0.0
        self.auto_push = True
        self.requests: list[dict] = []
        self.pushes: list[dict] = []
        self.queued_pushes: list[dict] = []
        self._used_codes: set[str] = set()
        self._tokens: dict[str, tuple[str, float]] = {}  # appid -> (token, expires)
        self._valid_tokens: dict[str, float] = {}  # token -> expires
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeWeChat":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        for thread in list(self._threads):
            thread.join(timeout=5)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "FakeWeChat":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- helpers for tests -------------------------------------------------------------------

    def add_session(self, code: str, *, openid: str | None = None, unionid: str | None = None) -> dict:
        session = {"openid": openid or f"o{secrets.token_hex(13)}", "session_key": secrets.token_urlsafe(16)}
        if unionid:
            session["unionid"] = unionid
        self.sessions[code] = session
        return session

    def expire_tokens(self) -> None:
        """Every issued token is stale; the next stable_token call issues a new one."""
        with self._lock:
            self._valid_tokens.clear()
            self._tokens.clear()

    def revoke_tokens(self) -> None:
        """Every issued token answers 40001, yet stable_token keeps returning it until a
        force_refresh (as after an appsecret reset)."""
        with self._lock:
            self._valid_tokens.clear()

    def calls(self, name: str) -> list[dict]:
        return [r for r in self.requests if r["name"] == name]

    def deliver_pushes(self) -> list[dict]:
        """Send every queued push now (for ``auto_push = False``); returns what was sent."""
        with self._lock:
            queued, self.queued_pushes = self.queued_pushes, []
        return [self._send_push(event) for event in queued]

    def wait_for_pushes(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.pushes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.pushes

    def signed_query(self, *, at: float | None = None, **extra: str) -> dict:
        """Query parameters WeChat adds to a push (or to the GET that verifies the push URL),
        stamped now or `at` (a time.time() value)."""
        timestamp, nonce = str(int(time.time() if at is None else at)), secrets.token_hex(5)
        query = {"signature": push_signature(self.push_token, timestamp, nonce),
                 "timestamp": timestamp, "nonce": nonce}
        query.update(extra)
        return query

    # -- request handling --------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        if content_type.startswith("multipart/form-data"):
            body = _multipart(raw, content_type)
        else:
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
        routes = {
            ("GET", "/sns/jscode2session"): ("jscode2session", self._jscode2session),
            ("POST", "/cgi-bin/stable_token"): ("stable_token", self._stable_token),
            ("POST", "/wxa/msg_sec_check"): ("msg_sec_check", self._msg_sec_check),
            ("POST", "/wxa/media_check_async"): ("media_check_async", self._media_check_async),
            ("GET", "/cgi-bin/media/get"): ("media_get", self._media_get),
            ("POST", "/cgi-bin/media/upload"): ("media_upload", self._media_upload),
            ("POST", "/cgi-bin/message/custom/send"): ("custom_send", self._custom_send),
            ("GET", "/cgi-bin/user/info"): ("user_info", self._user_info),
        }
        name, route = routes.get((method, parsed.path), ("unknown", None))
        if method == "GET" and parsed.path.startswith("/mmbiz_jpg/"):
            name, route = "image_host", self._image_host
            query["_path_id"] = parsed.path.rsplit("/", 1)[-1]
        with self._lock:
            self.requests.append({"name": name, "method": method, "path": parsed.path,
                                  "query": query, "body": body})
        if self.delays.get(name):
            time.sleep(self.delays[name])
        if self.down:
            return self._reply(handler, 502, b"<html><body>502 Bad Gateway</body></html>", "text/html")
        if route is None:
            return self._reply_json(handler, {"errcode": 404, "errmsg": "invalid url"}, status=404)
        if body is None:
            return self._reply_json(handler, self._error(47001))
        forced = self._forced_error(name)
        if forced is not None:
            return self._reply_json(handler, self._error(forced))
        if name in TOKEN_ENDPOINTS:
            token = query.get("access_token", "")
            if not token:
                return self._reply_json(handler, self._error(41001))
            with self._lock:
                valid = time.time() < self._valid_tokens.get(token, 0)
            if not valid:
                return self._reply_json(handler, self._error(40001))
        answer = route(query, body)
        if isinstance(answer, tuple):  # a file: (bytes, content type)
            return self._reply(handler, 200, answer[0], answer[1])
        self._reply_json(handler, answer)

    def _forced_error(self, name: str) -> int | None:
        with self._lock:
            error = self.errors.get(name)
            if isinstance(error, list):
                if not error:
                    del self.errors[name]
                    return None
                return error.pop(0)
            return error

    @staticmethod
    def _error(errcode: int) -> dict:
        return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}

    def _reply_json(self, handler, payload: dict, status: int = 200) -> None:
        self._reply(handler, status, json.dumps(payload, ensure_ascii=False).encode(),
                    "application/json; encoding=utf-8")

    @staticmethod
    def _reply(handler, status: int, data: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- endpoints ---------------------------------------------------------------------------

    def _jscode2session(self, query: dict, body: dict) -> dict:
        if query.get("appid") != self.appid:
            return self._error(40013)
        if query.get("secret") != self.secret:
            return self._error(40125)
        if query.get("grant_type") != "authorization_code":
            return self._error(47001)
        code = query.get("js_code", "")
        session = self.sessions.get(code)
        if session is None:
            return self._error(40029)
        with self._lock:
            if self.single_use_codes and code in self._used_codes:
                return self._error(40163)
            self._used_codes.add(code)
        return dict(session)

    def _stable_token(self, query: dict, body: dict) -> dict:
        if body.get("grant_type") != "client_credential":
            return self._error(47001)
        secrets_by_appid = {self.appid: self.secret, self.mp_appid: self.mp_secret}
        appid = body.get("appid")
        if appid not in secrets_by_appid:
            return self._error(40013)
        if body.get("secret") != secrets_by_appid[appid]:
            return self._error(40125)
        now = time.time()
        with self._lock:
            # Like WeChat: the same token until it expires, unless force_refresh asks for a new
            # one; each account has its own.
            token, expires = self._tokens.get(appid, ("", 0.0))
            if body.get("force_refresh") or now >= expires or not token:
                self._valid_tokens.pop(token, None)
                token, expires = f"FAKE_TOKEN_{secrets.token_hex(16)}", now + self.token_ttl
                self._tokens[appid] = (token, expires)
                self._valid_tokens[token] = expires
            return {"access_token": token, "expires_in": int(expires - now)}

    def _msg_sec_check(self, query: dict, body: dict) -> dict:
        content = body.get("content")
        if (body.get("version") != 2 or not isinstance(content, str) or not content
                or len(content) > 2500 or body.get("scene") not in (1, 2, 3, 4)):
            return self._error(47001)
        if not body.get("openid"):
            return self._error(40003)
        content = body["content"]
        suggest, label, keyword = "pass", 100, ""
        for needle, (verdict, verdict_label) in self.text_verdicts.items():
            if needle in content:
                suggest, label, keyword = verdict, verdict_label, needle
                break
        detail = [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}]
        if keyword:
            detail.append({"strategy": "keyword", "errcode": 0, "suggest": suggest, "label": label,
                           "level": 20, "keyword": keyword})
        return {"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label},
                "detail": detail, "trace_id": self._trace_id()}

    def _media_check_async(self, query: dict, body: dict) -> dict:
        if (body.get("version") != 2 or body.get("media_type") not in (1, 2)
                or not body.get("media_url") or body.get("scene") not in (1, 2, 3, 4)):
            return self._error(47001)
        if not body.get("openid"):
            return self._error(40003)
        trace_id = self._trace_id()
        suggest, label = self.media_verdict
        for needle, verdict in self.media_verdicts.items():
            if needle in body["media_url"]:
                suggest, label = verdict
                break
        event = {
            "ToUserName": self.original_id, "FromUserName": body["openid"],
            "CreateTime": int(time.time()), "MsgType": "event", "Event": "wxa_media_check",
            "appid": self.appid, "trace_id": trace_id, "version": 2,
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest,
                        "label": label, "prob": 90}],
            "errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": label},
        }
        if self.auto_push:
            thread = threading.Thread(target=self._push_later, args=(event,), daemon=True)
            self._threads.append(thread)
            thread.start()
        else:
            with self._lock:
                self.queued_pushes.append(event)
        return {"errcode": 0, "errmsg": "ok", "trace_id": trace_id}

    def _media_get(self, query: dict, body: dict):
        found = self.media.get(query.get("media_id", ""))
        if found is None:
            return self._error(40007)
        return found

    def _image_host(self, query: dict, body: dict):
        return self._media_get({"media_id": query.get("_path_id", "")}, body)

    def _media_upload(self, query: dict, body: dict) -> dict:
        kind = query.get("type")
        if kind not in ("image", "voice", "video", "thumb"):
            return self._error(40004)
        media = (body or {}).get("media")
        if not media or not media["data"]:
            return self._error(44002)
        media_id = f"MEDIA_{secrets.token_hex(12)}"
        with self._lock:
            self.uploaded[media_id] = {"type": kind, **media}
        return {"type": kind, "media_id": media_id, "created_at": int(time.time())}

    def _custom_send(self, query: dict, body: dict) -> dict:
        msgtype = body.get("msgtype")
        if not body.get("touser"):
            return self._error(40003)
        if msgtype == "text" and (body.get("text") or {}).get("content"):
            pass
        elif msgtype == "image" and (body.get("image") or {}).get("media_id") in self.uploaded:
            pass
        elif msgtype == "image":
            return self._error(40007)
        else:
            return self._error(47001)
        with self._lock:
            self.sent.append({**body, "at": time.monotonic()})
        return {"errcode": 0, "errmsg": "ok"}

    def _user_info(self, query: dict, body: dict) -> dict:
        openid = query.get("openid", "")
        if not openid:
            return self._error(40003)
        user = self.mp_users.get(openid)
        if user is None:  # not following (any more): WeChat says only that
            return {"subscribe": 0, "openid": openid}
        return {"subscribe": 1, "openid": openid, "language": query.get("lang", "zh_CN"),
                "subscribe_time": int(time.time()), "remark": "", "groupid": 0,
                "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE", **user}

    # -- the Official Account's side: what WeChat posts to the message server -----------------

    def add_media(self, data: bytes, content_type: str = "image/jpeg") -> str:
        media_id = f"FOLLOWER_MEDIA_{secrets.token_hex(10)}"
        self.media[media_id] = (data, content_type)
        return media_id

    def pic_url(self, media_id: str) -> str:
        return f"{self.base_url}/mmbiz_jpg/{media_id}"

    def wait_for_sent(self, count: int, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.sent) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.sent)

    def mp_message(self, openid: str, msg_type: str, *, msg_id: int | None = None,
                   at: int | None = None, **fields) -> str:
        event = {"ToUserName": self.mp_original_id, "FromUserName": openid,
                 "CreateTime": at or int(time.time()), "MsgType": msg_type, **fields}
        if msg_type != "event":
            event["MsgId"] = msg_id if msg_id is not None else secrets.randbelow(10**18)
        return event_xml(event)

    def mp_text(self, openid: str, content: str, **kw) -> str:
        return self.mp_message(openid, "text", Content=content, **kw)

    def mp_image(self, openid: str, media_id: str, **kw) -> str:
        return self.mp_message(openid, "image", PicUrl=self.pic_url(media_id), MediaId=media_id,
                               **kw)

    def mp_voice(self, openid: str, media_id: str, recognition: str = "", **kw) -> str:
        return self.mp_message(openid, "voice", MediaId=media_id, Format="amr",
                               Recognition=recognition, **kw)

    def mp_event(self, openid: str, event: str, **kw) -> str:
        return self.mp_message(openid, "event", Event=event, **kw)

    def mp_push(self, xml: str, *, encrypt: bool = False, at: float | None = None
                ) -> tuple[dict, bytes]:
        """The signed query and body of WeChat's POST to the message server."""
        timestamp, nonce = str(int(time.time() if at is None else at)), secrets.token_hex(5)
        query = {"signature": push_signature(self.mp_token, timestamp, nonce),
                 "timestamp": timestamp, "nonce": nonce, "openid": "o"}
        if not encrypt:
            return query, xml.encode()
        ciphertext = _mp_encrypt(self.mp_aes_key, self.mp_appid, xml)
        query.update(encrypt_type="aes", msg_signature=hashlib.sha1("".join(sorted(
            [self.mp_token, timestamp, nonce, ciphertext])).encode()).hexdigest())
        body = (f"<xml><ToUserName><![CDATA[{self.mp_original_id}]]></ToUserName>"
                f"<Encrypt><![CDATA[{ciphertext}]]></Encrypt></xml>")
        return query, body.encode()

    def mp_decrypt_reply(self, body: bytes) -> str:
        """An encrypted passive reply opened, its msg_signature checked, as WeChat does."""
        import xml.etree.ElementTree as ET

        root = ET.fromstring(body)
        ciphertext = root.findtext("Encrypt")
        expected = hashlib.sha1("".join(sorted([self.mp_token, root.findtext("TimeStamp"),
                                                root.findtext("Nonce"), ciphertext])).encode())
        assert expected.hexdigest() == root.findtext("MsgSignature"), "bad msg_signature"
        return _mp_decrypt(self.mp_aes_key, self.mp_appid, ciphertext)

    @staticmethod
    def _trace_id() -> str:
        return f"{secrets.token_hex(4)}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"

    # -- pushes --------------------------------------------------------------------------------

    def _push_later(self, event: dict) -> None:
        # The push comes after the API call has answered, as with WeChat.
        time.sleep(max(self.push_delay, 0.05))
        self._send_push(event)

    def _send_push(self, event: dict) -> dict:
        query = self.signed_query()
        if self.push_format == "xml":
            body, content_type = event_xml(event).encode(), "text/xml"
        else:
            body, content_type = json.dumps(event).encode(), "application/json"
        status, text = 0, ""
        try:
            if self.push_to is not None:
                status, text = self.push_to(query, body, content_type)
            elif self.push_url:
                url = f"{self.push_url}?{urllib.parse.urlencode(query)}"
                request = urllib.request.Request(url, data=body, method="POST",
                                                 headers={"Content-Type": content_type})
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status, text = response.status, response.read().decode()
                except urllib.error.HTTPError as exc:
                    status, text = exc.code, exc.read().decode(errors="replace")
        except Exception as exc:  # a failed push is recorded, as WeChat would just retry
            text = f"push failed: {exc!r}"
        record = {"event": event, "query": query, "format": self.push_format,
                  "status": status, "response": text}
        with self._lock:
            self.pushes.append(record)
        return record


def _multipart(raw: bytes, content_type: str) -> dict | None:
    """A multipart/form-data body as {field: {"filename", "content_type", "data"}}."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        return None
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        fields[name] = {"filename": part.get_filename() or "",
                        "content_type": part.get_content_type(),
                        "data": part.get_payload(decode=True) or b""}
    return fields


def _mp_cipher(aes_key: str):
    import base64

    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(aes_key + "=")
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def _mp_encrypt(aes_key: str, appid: str, xml: str) -> str:
    """WeChat's side of safe mode, written apart from the server's: random(16) + length +
    message + appid, PKCS#7 to 32 bytes, AES-256-CBC, base64."""
    import base64
    import os
    import struct

    data = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(data)) + data + appid.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = _mp_cipher(aes_key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def _mp_decrypt(aes_key: str, appid: str, ciphertext: str) -> str:
    import base64
    import struct

    decryptor = _mp_cipher(aes_key).decryptor()
    plain = decryptor.update(base64.b64decode(ciphertext)) + decryptor.finalize()
    plain = plain[:-plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length:] == appid.encode(), "reply encrypted for another appid"
    return plain[20:20 + length].decode()


def event_xml(event: dict) -> str:
    """A push event in WeChat's XML form: strings in CDATA, lists repeat their element."""
    def render(key: str, value) -> str:
        if isinstance(value, dict):
            return f"<{key}>{''.join(render(k, v) for k, v in value.items())}</{key}>"
        if isinstance(value, list):
            return "".join(render(key, item) for item in value)
        if isinstance(value, str):
            return f"<{key}><![CDATA[{value}]]></{key}>"
        return f"<{key}>{escape(str(value))}</{key}>"
    return "<xml>" + "".join(render(k, v) for k, v in event.items()) + "</xml>"


@pytest.fixture
def fake_wechat(settings):
    """A started FakeWeChat with the WECHAT_* settings pointing at it."""
    with FakeWeChat() as fake:
        settings.WECHAT_API_BASE = fake.base_url
        settings.WECHAT_APPID = fake.appid
        settings.WECHAT_SECRET = fake.secret
        settings.WECHAT_PUSH_TOKEN = fake.push_token
        yield fake


@pytest.fixture
def fake_wechat_mp(fake_wechat, settings):
    """The fake with the Official Account's settings (WECHAT_MP_*) pointing at it."""
    settings.WECHAT_MP_APPID = fake_wechat.mp_appid
    settings.WECHAT_MP_SECRET = fake_wechat.mp_secret
    settings.WECHAT_MP_TOKEN = fake_wechat.mp_token
    settings.WECHAT_MP_ENCODING_AES_KEY = fake_wechat.mp_aes_key
    return fake_wechat
