"""Websocket progress (#3) against the real ASGI app in a uvicorn subprocess on the test database:
services stack with the Redis channel layer and jobs on a real Celery worker, embedded with
``manage.py serve`` (in-memory layer, in-process worker inside the server). Jobs use the
test-only ``test_slow`` mode (backend/jobs/modes/testing.py), enabled with MX_TEST_MODES=1."""
from __future__ import annotations

import asyncio
import json
import os
import time
import uuid

import pytest
import websockets

from tests.live import Client, LiveServer, database_url, free_port  # noqa: F401 - used by other tests too
from tests.live import serving

# Set before any fixture starts the shared Celery worker, so it knows the test-only modes too.
os.environ["MX_TEST_MODES"] = "1"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory, request):
    with serving(request, tmp_path_factory, "asgi") as live:
        yield live


@pytest.fixture
def settled(server, transactional_db):
    """After the test, wait (up to 60 s) until no job is queued or running: the database is
    emptied next, and a worker still writing a job would deadlock with that TRUNCATE."""
    yield
    from backend.jobs.models import Job, JobState

    deadline = time.monotonic() + 60
    while Job.objects.filter(state__in=[JobState.QUEUED, JobState.RUNNING]).exists():
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)


@pytest.fixture
def alice(server, settled):
    return server.client(f"alice-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def bob(server, settled):
    return server.client(f"bob-{uuid.uuid4().hex[:12]}")


async def listen(url: str, *, timeout: float = 60.0, **connect) -> tuple[list[dict], int | None]:
    """Every message of one websocket, until the server closes it; and the close code."""
    received = []
    async with websockets.connect(url, open_timeout=10, **connect) as ws:
        try:
            async with asyncio.timeout(timeout):
                async for message in ws:
                    received.append({**json.loads(message), "_at": time.monotonic()})
        except websockets.ConnectionClosed:
            pass
    return received, ws.close_code


def auth(client: Client) -> dict:
    return {"additional_headers": {"Authorization": f"Token {client.token}"}}


def test_progress_events_arrive_in_order_and_the_socket_closes_after_the_result(
        server, alice, astronaut_jpeg):
    job_id = alice.start_job(astronaut_jpeg, steps=30, delay=0.05)
    events, code = asyncio.run(listen(f"{server.ws_url}/ws/jobs/{job_id}/", **auth(alice)))

    assert code == 1000
    assert all(e["type"] == "job.progress" and e["job_id"] == job_id for e in events)
    last = events[-1]
    assert last["state"] == "succeeded" and last["progress"] == 100
    assert [(r["kind"], r["engine"]) for r in last["results"]] == [
        ("image", "test_slow/1"), ("thumbnail", "test_slow/1")]
    assert alice.http.get(last["results"][0]["download_url"]).status_code in (200, 302)
    running = [e for e in events if e["state"] == "running"]
    assert len(running) >= 5, events
    progress = [e["progress"] for e in running]
    assert progress == sorted(progress)
    stages = [e["stage"] for e in running if e["stage"] in ("warming", "painting")]
    assert stages == sorted(stages, key=["warming", "painting"].index) and "painting" in stages
    # Throttled to ~10 events/s per job (30 steps at 20/s would otherwise be ~30 events).
    span = running[-1]["_at"] - running[0]["_at"]
    assert len(running) <= 12 * span + 3
    assert alice.job(job_id)["state"] == "succeeded"


def test_a_late_subscriber_gets_the_current_state_at_once(server, alice, astronaut_jpeg):
    job_id = alice.start_job(astronaut_jpeg, steps=40, delay=0.05)
    deadline = time.monotonic() + 60
    while (seen := alice.job(job_id))["progress"] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen["state"] == "running"
    connected = time.monotonic()
    events, code = asyncio.run(listen(f"{server.ws_url}/ws/jobs/{job_id}/", **auth(alice)))
    first = events[0]
    assert first["state"] == "running" and first["progress"] >= seen["progress"]
    assert first["_at"] - connected < 2.0
    assert events[-1]["state"] == "succeeded" and code == 1000

    # After the end: one event with the results, then the close.
    again, code = asyncio.run(listen(f"{server.ws_url}/ws/jobs/{job_id}/", **auth(alice)))
    assert [e["state"] for e in again] == ["succeeded"] and again[0]["results"]
    assert code == 1000


def test_a_browser_sends_the_token_as_a_subprotocol(server, alice, astronaut_jpeg):
    job_id = alice.start_job(astronaut_jpeg, steps=2, delay=0.0)

    async def subscribe():
        async with websockets.connect(f"{server.ws_url}/ws/jobs/{job_id}/",
                                      subprotocols=["token", alice.token]) as ws:
            return ws.subprotocol, json.loads(await ws.recv())

    subprotocol, event = asyncio.run(subscribe())
    assert subprotocol == "token" and event["job_id"] == job_id


def test_strangers_and_foreign_jobs_are_refused(server, alice, bob, astronaut_jpeg):
    job_id = alice.start_job(astronaut_jpeg, steps=2, delay=0.0)
    url = f"{server.ws_url}/ws/jobs/{job_id}/"

    assert asyncio.run(listen(url)) == ([], 4401)
    bad_token = {"additional_headers": {"Authorization": "Token nope"}}
    assert asyncio.run(listen(url, **bad_token)) == ([], 4401)
    # A token in the query string is not read (it would end up in access logs).
    assert asyncio.run(listen(f"{url}?token={alice.token}")) == ([], 4401)
    assert asyncio.run(listen(url, **auth(bob))) == ([], 4404)
    unknown = f"{server.ws_url}/ws/jobs/{uuid.uuid4()}/"
    assert asyncio.run(listen(unknown, **auth(alice))) == ([], 4404)


def test_the_user_stream_carries_all_of_the_users_jobs_and_only_theirs(
        server, alice, bob, astronaut_jpeg):
    async def watch():
        async with websockets.connect(f"{server.ws_url}/ws/jobs/", **auth(alice)) as ws:
            # HTTP calls in a thread, so this loop keeps reading the socket meanwhile.
            started = [await asyncio.to_thread(alice.start_job, astronaut_jpeg, steps=10, delay=0.05)
                       for _ in range(2)]
            await asyncio.to_thread(bob.start_job, astronaut_jpeg, steps=2, delay=0.0)
            finished, seen = set(), []
            try:
                async with asyncio.timeout(90):
                    while finished != set(started):
                        event = json.loads(await ws.recv())
                        seen.append(event)
                        if event["state"] == "succeeded":
                            finished.add(event["job_id"])
            except TimeoutError:
                states = {j: [(await asyncio.to_thread(alice.job, j))[k] for k in ("state", "error")] for j in started}
                pytest.fail(f"no final event for {set(started) - finished}; jobs {states}; seen "
                            f"{[(e['job_id'][:8], e['state'], e['progress']) for e in seen]}; "
                            f"server log: {server.log.read_text()[-4000:]}")
            return started, seen

    started, seen = asyncio.run(watch())
    assert {e["job_id"] for e in seen} == set(started)
    for job_id in started:
        progress = [e["progress"] for e in seen if e["job_id"] == job_id]
        assert progress == sorted(progress) and progress[-1] == 100


def log_since(server: LiveServer, offset: int) -> str:
    time.sleep(0.2)  # let the server flush what the last exchange made it write
    return server.log.read_bytes()[offset:].decode(errors="replace")


@pytest.mark.parametrize("path", [
    "/ws/xyz", "/ws/jobs/abc/", "/ws/jobs/{job_id}", "/ws/jobs", "/ws/jobs/{job_id}/extra/",
])
def test_unknown_paths_and_malformed_ids_are_refused_at_the_handshake(server, alice, path):
    offset = server.log.stat().st_size
    url = server.ws_url + path.format(job_id=uuid.uuid4())
    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(listen(url, **auth(alice)))
    assert refused.value.response.status_code == 403
    log = log_since(server, offset)
    assert "Traceback" not in log and "ERROR" not in log, log


@pytest.mark.parametrize("frame, code", [
    pytest.param("this is not json", 1007, id="not-json"),
    pytest.param(b"\x00\x01binary", 1003, id="binary"),
    pytest.param("[" * 5000 + "]" * 5000, 1009, id="nested-5000-deep"),
    # Small enough to read, too deep to parse.
    pytest.param("[" * 2000 + "]" * 2000, 1007, id="nested-2000-deep"),
    pytest.param(json.dumps({"padding": "x" * 5000}), 1009, id="oversize"),
])
def test_a_bad_client_frame_closes_the_socket_with_a_code(server, alice, frame, code):
    offset = server.log.stat().st_size

    async def send_then_listen():
        async with websockets.connect(f"{server.ws_url}/ws/jobs/", **auth(alice)) as ws:
            await ws.send('{"type": "ping"}')  # well-formed: ignored, the socket stays open
            await ws.send(frame)
            with pytest.raises(websockets.ConnectionClosed):
                async with asyncio.timeout(10):
                    while True:
                        await ws.recv()
        return ws.close_code

    assert asyncio.run(send_then_listen()) == code
    log = log_since(server, offset)
    assert "Traceback" not in log and "ERROR" not in log, log


def held_job(server, photo: bytes, *, steps: int = 4, delay: float = 0.05,
             openid: str | None = None) -> tuple[Client, Client, str, int]:
    """A user's job held because a moderator must see its photo first, and a moderator."""
    from django.contrib.auth import get_user_model

    from backend.uploads.models import ModerationState, Upload
    from moderation.models import ModerationCase

    user = server.client(openid or f"held-{uuid.uuid4().hex[:12]}")
    staff = server.client(f"staff-{uuid.uuid4().hex[:12]}")
    get_user_model().objects.filter(username=f"wx_{staff.openid}").update(is_staff=True)
    upload = user.http.post("/upload", files={"image": ("photo.jpg", photo, "image/jpeg")}).json()
    case = ModerationCase.objects.create(subject_type="upload", subject_id=upload["id"])
    Upload.objects.filter(id=upload["id"]).update(moderation_state=ModerationState.HELD,
                                                  moderation_case_id=case.id)
    job = user.http.post("/generate", json={"upload_id": upload["id"], "mode": "test_slow",
                                            "params": {"steps": steps, "delay": delay}})
    assert (job.status_code, job.json()["state"]) == (202, "held"), job.text
    return user, staff, job.json()["job_id"], case.id


async def decide_while_listening(server, user, staff, job_id, case_id, decision):
    """Listen to the job's socket; once it says held, the moderator decides over HTTP."""
    received = []
    async with websockets.connect(f"{server.ws_url}/ws/jobs/{job_id}/", **auth(user)) as ws:
        try:
            async with asyncio.timeout(60):
                async for message in ws:
                    received.append(json.loads(message))
                    if len(received) == 1:
                        assert received[0]["state"] == "held", received
                        answer = await asyncio.to_thread(
                            staff.http.post, f"/moderation/cases/{case_id}/{decision}",
                            json={"reason": "checked"})
                        assert answer.status_code == 200, answer.text
        except websockets.ConnectionClosed:
            pass
    return received, ws.close_code


def test_a_held_job_approved_runs_and_succeeds_on_the_socket(server, settled, astronaut_jpeg):
    user, staff, job_id, case_id = held_job(server, astronaut_jpeg)
    assert user.job(job_id)["state"] == "held"
    events, code = asyncio.run(decide_while_listening(server, user, staff, job_id, case_id,
                                                      "approve"))
    states = [e["state"] for e in events]
    assert states[0] == "held" and states[-1] == "succeeded" and "running" in states, states
    assert code == 1000 and events[-1]["results"]
    assert user.job(job_id)["state"] == "succeeded"


def test_a_held_job_rejected_ends_blocked_on_the_socket(server, settled, astronaut_jpeg):
    user, staff, job_id, case_id = held_job(server, astronaut_jpeg)
    events, code = asyncio.run(decide_while_listening(server, user, staff, job_id, case_id,
                                                      "reject"))
    assert [e["state"] for e in events] == ["held", "blocked"], events
    assert events[-1]["error"]["code"] == "content_rejected" and code == 1000
    assert user.job(job_id)["state"] == "blocked"
