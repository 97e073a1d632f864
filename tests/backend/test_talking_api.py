"""The talking avatar (#14): mode ``talking`` through the API (a photo and a line, or a photo and
a recording, become an MP4 with its poster and preview; bad inputs get their codes), and the
SillyTavern-extras routes against a live server with a real HTTP client."""
from __future__ import annotations

import asyncio
import io
import subprocess
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from backend.jobs.modes.talking import wav_bytes
from core.storage import get_storage
from inference.talking.encode import ffmpeg_exe
from tests.backend.test_websocket import LiveServer
from tests.conftest import STACK

SIZE, FPS = 256, 12  # small and slow: the encoding is what costs


def forget_earlier_runs_characters() -> None:
    """Redis outlives the test database, whose user ids start at 1 again: a live character an
    earlier run left in the cache would be a new user's. Deletes the talking head's keys (this
    stack's Redis database is the tests' own)."""
    if STACK != "services":
        return  # the cache is each process's memory
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(cache.make_key("talkinghead:*")):
        client.delete(key)


@pytest.fixture(scope="module", autouse=True)
def _no_earlier_characters():
    forget_earlier_runs_characters()


def speech_like_wav(seconds: float, *, amplitude: float = 0.4) -> bytes:
    """16-bit mono WAV: syllables of a voiced tone, 0.2 s on, 0.1 s of silence between."""
    t = np.arange(int(seconds * 16_000)) / 16_000
    voiced = (t % 0.3) < 0.2
    tone = amplitude * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return wav_bytes((tone * voiced).astype(np.float32))


def faceless_png() -> bytes:
    gradient = np.tile(np.linspace(0, 255, 320, dtype=np.uint8), (320, 1))
    buffer = io.BytesIO()
    Image.fromarray(np.dstack([gradient, gradient[::-1], gradient.T])).save(buffer, "PNG")
    return buffer.getvalue()


def upload_recording(api, data: bytes) -> str:
    response = api.client.post("/upload", {"file": SimpleUploadedFile("voice.wav", data)},
                               format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def talk(api, inputs: dict, text: str = "", **params):
    return api.post("/generate", {"mode": "talking", "inputs": inputs, "text": text,
                                  "params": {"size": SIZE, "fps": FPS, **params}})


def download(api, result: dict) -> tuple[str, bytes]:
    """A result's content type and bytes, following S3's presigned redirect on that stack."""
    response = api.client.get(result["download_url"])
    if response.status_code == 302:
        fetched = httpx.get(response["Location"], timeout=30)
        return fetched.headers["content-type"], fetched.content
    assert response.status_code == 200, response
    return response["Content-Type"], b"".join(response.streaming_content)


def streams_of(mp4: bytes, tmp_path) -> str:
    path = tmp_path / "clip.mp4"
    path.write_bytes(mp4)
    probe = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                           capture_output=True, text=True, check=False)
    return probe.stderr


def test_a_photo_and_a_line_become_a_video_with_poster_and_preview(login, astronaut_jpeg,
                                                                  jobs_worker, tmp_path):
    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    response = talk(api, {"photo": photo}, "Hello, nice to meet you.", emotion="joy",
                    voice="en")
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert job["state"] == "succeeded", job
    results = {r["kind"]: r for r in job["results"]}
    assert set(results) == {"video", "poster", "preview", "thumbnail"}
    assert (results["video"]["format"], results["video"]["width"]) == ("mp4", SIZE)
    assert job["metadata"]["speech"] == "tts:en" and job["metadata"]["emotion"] == "joy"

    content_type, video = download(api, results["video"])
    assert content_type == "video/mp4"
    streams = streams_of(video, tmp_path)
    assert "Video: h264" in streams and "yuv420p" in streams and "Audio: aac" in streams
    _, poster = download(api, results["poster"])
    assert Image.open(io.BytesIO(poster)).size == (SIZE, SIZE)
    preview_type, preview = download(api, results["preview"])
    assert preview_type == "image/webp" and len(preview) <= 1024 * 1024
    with Image.open(io.BytesIO(preview)) as animation:
        assert animation.n_frames > 1


def test_a_recording_is_lip_synced_for_as_long_as_it_lasts(login, astronaut_jpeg, jobs_worker):
    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    voice = upload_recording(api, speech_like_wav(1.5))
    response = talk(api, {"photo": photo, "voice": voice})
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert job["state"] == "succeeded", job
    assert job["metadata"]["speech"] == "recording"
    assert abs(job["metadata"]["duration"] - 1.5) < 0.2
    assert {r["kind"] for r in job["results"]} == {"video", "poster", "preview", "thumbnail"}


def test_bad_parameters_are_refused_at_once_with_their_codes(login, astronaut_jpeg, db):
    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    unknown = talk(api, {"photo": photo}, "hi", emotion="smug")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (400, "invalid_params")
    assert "'smug'" in unknown.json()["error"]["message"]
    too_long = talk(api, {"photo": photo}, "说" * 101)
    assert (too_long.status_code, too_long.json()["error"]["code"]) == (400, "text_too_long")
    too_big = talk(api, {"photo": photo}, "hi", size=1024)
    assert too_big.status_code == 400 and "size" in too_big.json()["error"]["message"]
    a_photo_as_voice = talk(api, {"photo": photo, "voice": photo})
    assert a_photo_as_voice.status_code == 400


def test_what_could_only_fail_is_refused_when_the_job_is_asked_for(login, astronaut_jpeg, db):
    from backend.jobs.models import Job

    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    faceless = api.upload(faceless_png(), "plain.png").json()
    assert faceless["faces"] == 0
    empty = api.client.post("/upload", {
        "file": SimpleUploadedFile("v.wav", speech_like_wav(1.0, amplitude=0.0))},
        format="multipart")
    assert (empty.status_code, empty.json()["error"]["code"]) == (400, "audio_empty")
    silent = upload_recording(api, speech_like_wav(1.0, amplitude=0.003))  # a hiss, no voice
    long = upload_recording(api, speech_like_wav(32))
    cases = {"no_face": ({"photo": faceless["id"]}, "hello", {}),
             "audio_silent": ({"photo": photo, "voice": silent}, "", {}),
             "audio_too_long": ({"photo": photo, "voice": long}, "", {}),
             "text_required": ({"photo": photo}, "", {}),
             "voice_or_text": ({"photo": photo, "voice": silent}, "a line and a recording", {}),
             "invalid_params": ({"photo": photo}, "hi", {"face_box": [0, 0, 900, 900]})}
    for code, (inputs, text, params) in cases.items():
        response = talk(api, inputs, text, **params)
        assert (response.status_code, response.json()["error"]["code"]) == (400, code), code
    assert "face_box" in talk(api, {"photo": faceless["id"]}, "hi").json()["error"]["message"]
    assert not Job.objects.filter(owner_id=api.user_id).exists()


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_drawn_rgba_character_keeps_its_alpha_and_talks_through_the_tha3_box(
        login, jobs_worker):
    from backend.uploads.models import Upload
    from tests.inference.test_talking import drawn_character

    api = login()
    character = drawn_character()
    upload = api.upload(png_bytes(character), "talkinghead.png").json()
    assert (upload["format"], upload["width"], upload["faces"]) == ("png", 512, 0)
    stored = Image.open(io.BytesIO(get_storage().get(
        Upload.objects.get(id=upload["id"]).storage_key)))
    assert stored.mode == "RGBA"  # the sanitised copy kept the transparency THA3 needs
    assert np.array_equal(np.asarray(stored)[..., 3], character[..., 3])

    response = talk(api, {"photo": upload["id"]}, "Hello there.", voice="en")
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert job["state"] == "succeeded", job
    assert job["metadata"]["face"] == "tha3_box"

    # The same drawing without its alpha is no longer THA3's format: refused, unless boxed.
    flat = api.upload(png_bytes(np.ascontiguousarray(character[..., :3])), "flat.png").json()
    refused = talk(api, {"photo": flat["id"]}, "Hello there.")
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "no_face")
    boxed = talk(api, {"photo": flat["id"]}, "Hello there.", face_box=[204, 82, 308, 198])
    assert boxed.status_code == 202, boxed.content
    assert api.wait(boxed.json()["job_id"])["metadata"]["face"] == "face_box"


def test_a_held_video_shows_the_moderator_a_picture(login, astronaut_jpeg, settings,
                                                    inprocess_jobs):
    from backend.jobs.models import Result
    from moderation.models import ModerationCase

    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": ("review", 0.25)}  # the astronaut's face
    job = api.wait(talk(api, {"photo": photo}, "hi", voice="en").json()["job_id"])
    assert (job["state"], job["results"]) == ("held", [])
    video = Result.objects.get(job_id=job["id"], kind="video")
    case = ModerationCase.objects.get(subject_id=str(video.id))
    assert case.preview_key.endswith(".png") and case.preview_key != video.storage_key
    refused = api.get(f"/download/{video.id}")
    assert refused.status_code == 403


# --- SillyTavern-extras' routes, live.


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("extras"))
    yield live
    live.stop()


@pytest.fixture
def extras(server, transactional_db):
    """An httpx client sending its token the way SillyTavern sends an Extras API key."""
    token = httpx.post(f"{server.url}/auth/dev", json={"openid": "sillytavern"}).json()["token"]
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def jpeg_frames(chunks: Iterator[bytes], count: int) -> list[bytes]:
    """The first ``count`` JPEG parts of a multipart/x-mixed-replace stream (the chunks of one
    part are read whole; the stream is left at a part's end)."""
    buffer, frames = b"", []
    for chunk in chunks:
        buffer += chunk
        while True:
            head_end = buffer.find(b"\r\n\r\n")
            if not buffer.startswith(b"--frame\r\n") or head_end < 0:
                break
            headers = buffer[:head_end].decode().lower()
            length = int(headers.split("content-length:")[1].split("\r\n")[0])
            body_end = head_end + 4 + length
            if len(buffer) < body_end + 2:
                break
            assert "content-type: image/jpeg" in headers
            frames.append(buffer[head_end + 4:body_end])
            buffer = buffer[body_end + 2:]
        if len(frames) >= count:
            return frames
    return frames


def test_every_route_needs_a_token(server):
    for method, path in (("GET", "/api/modules"), ("GET", "/api/talkinghead/result_feed"),
                         ("POST", "/api/classify"), ("GET", "/api/talkinghead/start_talking")):
        response = httpx.request(method, server.url + path, timeout=10)
        assert response.status_code == 401, (path, response.text)
    wrong = httpx.get(f"{server.url}/api/talkinghead/result_feed", timeout=10,
                      headers={"Authorization": "Bearer not-a-token"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "not_authenticated"


def test_load_feed_emotion_talk_and_unload(extras, astronaut_jpeg):
    assert set(extras.get("/api/modules").json()["modules"]) >= {"talkinghead", "classify"}
    assert extras.get("/api/talkinghead/result_feed").status_code == 404  # nothing loaded

    loaded = extras.post("/api/talkinghead/load",
                         files={"file": ("char.jpg", astronaut_jpeg, "image/jpeg")})
    assert loaded.status_code == 200, loaded.text
    if STACK == "services":  # the server's state is in Redis, where this process sees it too
        from backend.accounts.auth import user_for_token
        from backend.talking.character import character_get

        token = extras.headers["Authorization"].split()[1]
        assert character_get(user_id=user_for_token(token).pk)["emotion"] == "neutral"
    with extras.stream("GET", "/api/talkinghead/result_feed") as feed:
        assert feed.headers["content-type"].startswith("multipart/x-mixed-replace")
        frames = jpeg_frames(feed.iter_bytes(), 3)
    assert len(frames) == 3
    first = Image.open(io.BytesIO(frames[0]))
    assert (first.format, first.size) == ("JPEG", (512, 512))

    assert extras.post("/api/talkinghead/set_emotion",
                       json={"emotion_name": "joy"}).json()["emotion"] == "joy"
    refused = extras.post("/api/talkinghead/set_emotion", json={"emotion_name": "smug"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "unknown_emotion")
    assert extras.get("/api/talkinghead/start_talking").json()["talking"] is True
    settings = extras.post("/api/talkinghead/load_animator_settings",
                           json={"target_fps": 20, "blink_interval_min": 1, "format": "QOI"})
    assert settings.json()["applied"]["target_fps"] == 20 and settings.json()["ignored"] == [
        "format"]
    bad = extras.post("/api/talkinghead/load_animator_settings", json={"target_fps": "fast"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_settings")
    templates = extras.post("/api/talkinghead/load_emotion_templates",
                            json={"joy": {"eye_happy_wink": 1.0}})
    assert templates.json() == {"accepted": ["joy"]}

    with extras.stream("GET", "/api/talkinghead/result_feed") as feed:
        chunks = feed.iter_bytes()
        talking = jpeg_frames(chunks, 3)
        assert len(talking) == 3 and talking[0] != frames[0]  # joy shows
        assert extras.get("/api/talkinghead/stop_talking").json()["talking"] is False
        assert extras.get("/api/talkinghead/unload").json() == {"unloaded": True}
        rest = b"".join(chunks)  # the feed ends once the character is gone
    assert rest.endswith(b"--frame--\r\n")
    assert extras.get("/api/talkinghead/start_talking").status_code == 404


def test_a_picture_without_a_face_is_refused_and_a_tha3_drawing_is_loaded(extras):
    from tests.inference.test_talking import drawn_character

    response = extras.post("/api/talkinghead/load",
                           files={"file": ("plain.png", faceless_png(), "image/png")})
    assert (response.status_code, response.json()["error"]["code"]) == (400, "no_face")
    drawn = extras.post("/api/talkinghead/load", files={
        "file": ("talkinghead.png", png_bytes(drawn_character()), "image/png")})
    assert drawn.status_code == 200 and drawn.json()["face"] == "tha3_box"
    missing = extras.post("/api/talkinghead/load", files={"other": ("a.png", b"x")})
    assert missing.status_code == 400


@pytest.mark.parametrize("action, code", [("block", "content_blocked"),
                                          ("review", "content_held")])
def test_a_blocked_or_held_picture_is_refused_and_not_kept(login, astronaut_jpeg, settings, db,
                                                           action, code):
    from rest_framework.test import APIClient

    from backend.talking.character import character_get
    from moderation.models import ModerationCase

    api = login()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.login['token']}")
    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": (action, 0.5)}
    response = client.post("/api/talkinghead/load",
                           {"file": SimpleUploadedFile("c.jpg", astronaut_jpeg)},
                           format="multipart")
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    assert character_get(user_id=api.user_id) is None
    case = ModerationCase.objects.get(user_id=api.user_id, subject_type="upload")
    assert case.preview_key.startswith(f"u/{api.user_id}/talkinghead/")
    assert not get_storage().exists(case.preview_key)


def test_classify_ranks_our_lexicon_as_go_emotions(extras):
    ranked = extras.post("/api/classify", json={"text": "哈哈哈 so funny 😂"}).json()
    labels = ranked["classification"]
    assert labels[0]["label"] == "amusement"
    assert len(labels) == 28 and abs(sum(item["score"] for item in labels) - 1) < 1e-9
    sad = extras.post("/api/classify", json={"text": "今天好难过"}).json()["classification"]
    assert sad[0]["label"] == "sadness"
    assert extras.post("/api/classify", json={}).status_code == 400


# --- The feed's end, driven as an ASGI app in this process.


def run_feed(token: str, *, disconnect_after: int | None) -> tuple[int, list[bytes]]:
    """Drive the feed app; the client leaves after ``disconnect_after`` frames (None: never).
    Returns the status and the body chunks sent."""
    from backend.talking.feed import result_feed

    sent: list[dict] = []
    frames = asyncio.Event()

    async def receive():
        if disconnect_after is None:
            await asyncio.Event().wait()
        while sum(1 for m in sent if m.get("more_body")) < disconnect_after:
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        frames.set()

    scope = {"type": "http", "method": "GET", "path": "/api/talkinghead/result_feed",
             "headers": [(b"authorization", f"Bearer {token}".encode())]}

    async def drive():
        async with asyncio.timeout(30):
            await result_feed(scope, receive, send)

    asyncio.run(drive())
    return sent[0]["status"], [m["body"] for m in sent[1:]]


@pytest.fixture
def loaded(transactional_db, login, astronaut_jpeg):
    api = login()
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.login['token']}")
    response = client.post("/api/talkinghead/load",
                           {"file": SimpleUploadedFile("c.jpg", astronaut_jpeg)},
                           format="multipart")
    assert response.status_code == 200, response.content
    return api.login["token"]


def test_the_feed_stops_when_the_client_leaves(loaded):
    status, bodies = run_feed(loaded, disconnect_after=3)
    assert status == 200
    assert 3 <= len(bodies) <= 5  # at most the frame being rendered when it left
    assert not bodies[-1].endswith(b"--frame--\r\n")  # nobody there to tell


def test_the_feed_ends_after_its_longest_duration(loaded, settings):
    settings.TALKINGHEAD_FEED_MAX_SECONDS = 1
    status, bodies = run_feed(loaded, disconnect_after=None)
    assert status == 200 and len(bodies) >= 3
    assert bodies[-1] == b"--frame--\r\n"
