"""The Extras key (#14): what SillyTavern holds instead of an API token. It opens only the Extras
routes, as a bearer or as the Extras URL's path prefix (the browser's <img> feed sends no
header), is revoked at once (open feeds end within a recheck), never reaches another user's
character; and a user's live feeds are limited, each freed when its client goes away. Against a
live server with a real HTTP client."""
from __future__ import annotations

import contextlib
import io
import logging
import time

import httpx
import pytest
from PIL import Image

from tests.backend.test_talking_api import _no_earlier_characters, jpeg_frames  # noqa: F401
from tests.backend.test_websocket import LiveServer
from tests.conftest import STACK

FEED = "/api/talkinghead/result_feed"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("extras-key"),
                      extra_env={"TALKINGHEAD_FEED_RECHECK_SECONDS": "0.5",
                                 "TALKINGHEAD_MAX_FEEDS": "2"})
    yield live
    live.stop()


class Person:
    """A user of the live server: their API token, and an Extras key issued with it."""

    def __init__(self, server: LiveServer, openid: str) -> None:
        self.server = server
        login = httpx.post(f"{server.url}/auth/dev", json={"openid": openid}).json()
        self.token, self.user_id = login["token"], login["user"]["id"]
        self.api = httpx.Client(base_url=server.url, timeout=30,
                                headers={"Authorization": f"Token {self.token}"})
        issued = self.api.post("/talking/extras-key")
        assert issued.status_code == 201, issued.text
        self.key, self.extras_url = issued.json()["key"], issued.json()["extras_url"]
        # SillyTavern's Extras URL, with no header at all (as the browser's <img> fetches).
        self.extras = httpx.Client(base_url=self.extras_url, timeout=30)

    def load(self, picture: bytes) -> httpx.Response:
        return self.extras.post("/api/talkinghead/load",
                                files={"file": ("talkinghead.jpg", picture, "image/jpeg")})


@pytest.fixture
def person(server, transactional_db):
    people = []

    def make(openid: str) -> Person:
        people.append(Person(server, openid))
        return people[-1]

    yield make
    for one in people:
        one.api.close()
        one.extras.close()


def refusal(url: str, **headers) -> tuple[int, str | None]:
    """A feed request's status and error code; a feed that streams (200) is not read."""
    with httpx.stream("GET", url, timeout=30, headers=headers) as response:
        if response.status_code == 200:
            return 200, None
        response.read()
        return response.status_code, response.json()["error"]["code"]


def frames_of(url: str, count: int = 2, **headers) -> list[bytes]:
    with httpx.stream("GET", url, timeout=30, headers=headers) as feed:
        assert feed.status_code == 200, feed.read()
        return jpeg_frames(feed.iter_bytes(), count)


def test_the_extras_url_opens_every_extras_route_and_the_feed_without_a_header(
        person, astronaut_jpeg):
    alice = person("alice")
    assert alice.key.startswith("mxst_") and alice.extras_url.endswith(f"/st/{alice.key}")
    assert alice.extras.get("/api/modules").json()["modules"] == ["talkinghead", "classify"]
    assert alice.load(astronaut_jpeg).status_code == 200
    assert alice.extras.post("/api/talkinghead/set_emotion",
                             json={"emotion_name": "joy"}).json()["emotion"] == "joy"
    # As SillyTavern builds it: `${extrasUrl}/api/talkinghead/result_feed`, also with the
    # Extras URL typed with a trailing slash.
    for url in (alice.extras_url + FEED, alice.extras_url + "/" + FEED):
        frames = frames_of(url)
        assert Image.open(io.BytesIO(frames[0])).size == (512, 512)
    # SillyTavern's other calls replace the URL's path (url.pathname = '/api/...') and send the
    # Extras API key as the bearer: the key works there too.
    bearer = {"Authorization": f"Bearer {alice.key}"}
    started = httpx.get(f"{alice.server.url}/api/talkinghead/start_talking", headers=bearer)
    assert started.json()["talking"] is True
    assert len(frames_of(alice.server.url + FEED, **bearer)) == 2
    assert alice.api.get("/talking/extras-key").json()["hint"] == alice.key[:9]


def test_the_key_opens_nothing_but_the_extras_routes(person, server):
    bob = person("bob")
    for method, path in (("GET", "/jobs"), ("DELETE", "/me"), ("GET", "/uploads"),
                         ("POST", "/talking/extras-key"), ("DELETE", "/talking/extras-key")):
        under_prefix = bob.extras.request(method, path)
        assert (under_prefix.status_code, under_prefix.json()["error"]["code"]) == (
            404, "not_found"), path
        as_bearer = httpx.request(method, server.url + path,
                                  headers={"Authorization": f"Bearer {bob.key}"})
        assert as_bearer.status_code == 401, path
    assert bob.api.get("/jobs").status_code == 200  # the account is untouched


def test_no_wrong_or_revoked_credential_gets_a_feed(person, server, astronaut_jpeg):
    carol = person("carol")
    assert carol.load(astronaut_jpeg).status_code == 200
    refusals = [refusal(server.url + FEED),
                refusal(f"{server.url}/st/mxst_{'x' * 43}{FEED}"),
                refusal(f"{server.url}/st/{FEED}"),
                refusal(server.url + FEED, Authorization="Bearer mxst_guess")]
    old_key, old_url = carol.key, carol.extras_url
    renewed = carol.api.post("/talking/extras-key").json()  # replaces the old key
    refusals += [refusal(old_url + FEED),
                 refusal(server.url + FEED, Authorization=f"Bearer {old_key}")]
    assert len(frames_of(renewed["extras_url"] + FEED, 1)) == 1
    assert carol.api.delete("/talking/extras-key").status_code == 204
    refusals.append(refusal(renewed["extras_url"] + FEED))
    assert refusals == [(401, "not_authenticated")] * 7
    assert carol.api.delete("/talking/extras-key").json()["error"]["code"] == "no_extras_key"
    # The API token still works where it did.
    assert len(frames_of(server.url + FEED, 1, Authorization=f"Bearer {carol.token}")) == 1


def test_a_key_never_reaches_another_users_character(person, server, astronaut_jpeg):
    dave, erin = person("dave"), person("erin")
    assert dave.load(astronaut_jpeg).status_code == 200
    # Erin's Extras URL is Erin, whatever bearer rides along: she has no character.
    assert refusal(erin.extras_url + FEED, Authorization=f"Token {dave.token}") == (
        404, "no_character")
    assert erin.extras.get("/api/talkinghead/start_talking").status_code == 404
    assert erin.extras.get("/api/talkinghead/unload").json() == {"unloaded": False}
    assert len(frames_of(dave.extras_url + FEED, 1)) == 1  # Dave's is still there


def test_revoking_the_key_ends_its_open_feed(person, astronaut_jpeg):
    fay = person("fay")
    assert fay.load(astronaut_jpeg).status_code == 200
    with httpx.stream("GET", fay.extras_url + FEED, timeout=30) as feed:
        chunks = feed.iter_bytes()
        assert len(jpeg_frames(chunks, 2)) == 2
        revoked_at = time.monotonic()
        assert fay.api.delete("/talking/extras-key").status_code == 204
        rest = b"".join(chunks)  # returns once the server ends the stream
    assert rest.endswith(b"--frame--\r\n")
    assert time.monotonic() - revoked_at < 5  # a recheck is every 0.5 s here


def test_live_feeds_are_limited_per_user_and_freed_when_the_client_leaves(person,
                                                                          astronaut_jpeg):
    gus, hal = person("gus"), person("hal")
    assert gus.load(astronaut_jpeg).status_code == 200
    assert hal.load(astronaut_jpeg).status_code == 200
    url = gus.extras_url + FEED
    readers = []  # kept: an abandoned reader closes its connection when collected
    with contextlib.ExitStack() as first, contextlib.ExitStack() as second:
        for held in (first, second):
            feed = held.enter_context(held.enter_context(httpx.Client(timeout=30))
                                      .stream("GET", url))
            assert feed.status_code == 200
            readers.append(feed.iter_bytes())
            assert len(jpeg_frames(readers[-1], 1)) == 1
        assert refusal(url) == (429, "too_many_feeds")
        third = httpx.get(url, timeout=10, headers={"Accept-Language": "en"})  # a 429 is no feed
        assert "2 live feeds" in third.json()["error"]["message"]
        chinese = httpx.get(url, timeout=10).json()["error"]  # the default: Chinese
        assert chinese == {"code": "too_many_feeds",
                           "message": "你已经在观看 2 路实时画面，请关闭一路（关闭后名额立即释放）再试。"}
        assert "retry-after" in third.headers
        assert len(frames_of(hal.extras_url + FEED, 1)) == 1  # another user's count is theirs

        first.close()  # the client goes away: its place is free once the server notices
        deadline = time.monotonic() + 10
        while True:
            with httpx.stream("GET", url, timeout=30) as feed:
                if feed.status_code == 200:
                    assert len(jpeg_frames(feed.iter_bytes(), 1)) == 1
                    break
                feed.read()
                assert feed.status_code == 429
            assert time.monotonic() < deadline, "the place was never freed"
            time.sleep(0.1)


def test_feeds_held_by_another_process_count_too(person, astronaut_jpeg):
    """With Redis (services), this test process is another web process: the places it holds
    are the server's too. Embedded, one process serves all and the cache is its own."""
    if STACK != "services":
        return
    from backend.talking.places import feed_place_release, feed_place_take

    ivy = person("ivy")
    assert ivy.load(astronaut_jpeg).status_code == 200
    held = [feed_place_take(ivy.user_id), feed_place_take(ivy.user_id)]
    try:
        assert None not in held and feed_place_take(ivy.user_id) is None
        assert refusal(ivy.extras_url + FEED) == (429, "too_many_feeds")
    finally:
        for lease in held:
            if lease is not None:
                feed_place_release(lease)
    assert len(frames_of(ivy.extras_url + FEED, 1)) == 1


def test_the_extras_key_is_kept_out_of_the_access_log():
    from backend.http import redact_signed_query

    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s" %d',
                               ("127.0.0.1", "GET", f"/st/mxst_secret{FEED}?x=1", 200), None)
    redact_signed_query(record)
    assert record.args[2] == f"/st/redacted{FEED}?x=1"
    assert "mxst_secret" not in record.getMessage()
