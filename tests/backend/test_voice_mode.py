"""Mode ``voice`` (issue #15) over the API: a typed or spoken description is asked about first
(``awaiting_confirmation``, the question written and spoken), then confirmed and drawn,
corrected and asked again, cancelled, or cancelled by the sweep when nobody answers; what a
recording says is screened like typed text; and the websocket carries every step."""
from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import timedelta

import pytest
import websockets
from django.utils import timezone
from PIL import Image

from backend.jobs.housekeeping import jobs_sweep_stuck
from backend.jobs.models import Job, JobState
from inference.voice import speak
from tests.backend.test_websocket import auth, server, settled  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

BOY = "一个戴眼镜的黑发男孩在樱花树下看书"
def describe(api, text: str = BOY) -> dict:
    response = api.post("/generate", {"mode": "voice", "text": text})
    assert response.status_code == 202, response.content
    return api.wait(response.json()["job_id"])


def downloaded(api, result: dict) -> bytes:
    response = api.get(result["download_url"])
    if response.status_code == 302:  # S3: the presigned URL
        import httpx

        return httpx.get(response["Location"]).content
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)



def listed_word(settings, word: str, *, action: str) -> None:
    """A word list (of its own category) with `word` in it, seen by the next text screened."""
    from moderation.models import SensitiveWord, WordCategory

    settings.MODERATION_WORDLIST_RELOAD_SECONDS = 0
    category = WordCategory.objects.create(name=f"t{uuid.uuid4().hex[:8]}", action=action)
    SensitiveWord.objects.create(category=category, word=word)

def test_a_typed_description_is_asked_about_then_drawn(login, jobs_worker):
    api = login()
    job = describe(api)
    assert job["state"] == "awaiting_confirmation", job
    meta = job["metadata"]
    assert meta["transcript"] == BOY and meta["language"] == "zh"
    assert meta["slots"]["subject"] == "boy" and meta["slots"]["hair_colour"] == "black"
    assert [item["kind"] for item in meta["slots"]["accessories"]] == ["glasses"]
    assert meta["question"] == job["message"] and meta["question"].startswith("您想生成")
    assert "glasses" in meta["prompt"] and meta["negative_prompt"]
    [question] = job["results"]
    assert (question["kind"], question["format"]) == ("question", "wav")
    assert downloaded(api, question)[:4] == b"RIFF"

    confirmed = api.post(f"/jobs/{job['id']}/confirm", {"confirm": True})
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "queued"
    done = api.wait(job["id"])
    assert done["state"] == "succeeded", done
    [picture] = [r for r in done["results"] if r["kind"] == "picture"]
    image = Image.open(io.BytesIO(downloaded(api, picture)))
    assert (image.format, image.size) == ("PNG", (768, 768))
    assert done["metadata"]["slots"] == meta["slots"] and done["metadata"]["confirmed"]
    # Confirmed once, it is no longer waiting: a second confirmation is refused.
    again = api.post(f"/jobs/{job['id']}/confirm", {"confirm": True})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "not_awaiting_confirmation"


def test_a_correction_replaces_the_slots_and_the_question(login, jobs_worker):
    api = login()
    job = describe(api)
    [first] = job["results"]
    corrected = api.post(f"/jobs/{job['id']}/confirm",
                         {"text": "a girl with red hair on the beach"})
    assert corrected.status_code == 200, corrected.content
    body = corrected.json()
    assert body["state"] == "awaiting_confirmation" and body["text"].startswith("a girl")
    meta = body["metadata"]
    assert (meta["slots"]["subject"], meta["slots"]["hair_colour"]) == ("girl", "red")
    assert meta["language"] == "en" and meta["question"].startswith("Would you like")
    [second] = body["results"]
    assert second["kind"] == "question" and second["id"] != first["id"]
    assert api.get(first["download_url"]).status_code == 404
    # A correction is screened like any text; refused, the job is left as it was.
    blocked = api.post(f"/jobs/{job['id']}/confirm", {"text": "傻 逼"})
    assert blocked.status_code == 422 and blocked.json()["error"]["code"] == "text_blocked"
    assert api.get(f"/jobs/{job['id']}").json()["metadata"]["slots"] == meta["slots"]


def test_no_cancels_and_the_job_stays_cancelled(login, jobs_worker):
    api = login()
    job = describe(api)
    cancelled = api.post(f"/jobs/{job['id']}/confirm", {"confirm": False})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["results"] == [] and cancelled.json()["error"] is None
    late = api.post(f"/jobs/{job['id']}/confirm", {"confirm": True})
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_awaiting_confirmation"
    assert Job.objects.get(id=job["id"]).state == JobState.CANCELLED


def test_only_the_owner_confirms_and_a_confirmation_says_one_thing(login, jobs_worker):
    alice, bob = login(), login()
    job = describe(alice)
    stranger = bob.post(f"/jobs/{job['id']}/confirm", {"confirm": True})
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "job_not_found"
    for body in ({}, {"confirm": True, "text": "a cat"}, {"confirm": True, "extra": 1}):
        response = alice.post(f"/jobs/{job['id']}/confirm", body)
        assert response.status_code == 400, body
    assert alice.get(f"/jobs/{job['id']}").json()["state"] == "awaiting_confirmation"


def test_an_unconfirmed_job_is_cancelled_by_the_sweep(login, jobs_worker, settings):
    api = login()
    job = describe(api)
    # Not yet due: left waiting.
    jobs_sweep_stuck(now=timezone.now() + timedelta(seconds=settings.VOICE_CONFIRM_TIMEOUT - 30))
    assert api.get(f"/jobs/{job['id']}").json()["state"] == "awaiting_confirmation"
    jobs_sweep_stuck(now=timezone.now() + timedelta(seconds=settings.VOICE_CONFIRM_TIMEOUT + 1))
    swept = api.get(f"/jobs/{job['id']}").json()
    assert swept["state"] == "cancelled" and swept["error"]["code"] == "confirmation_timeout"
    assert swept["results"] == []
    assert api.post(f"/jobs/{job['id']}/confirm", {"confirm": True}).status_code == 409


def test_a_description_is_a_recording_or_a_text(login, jobs_worker):
    api = login()
    recording = api.upload(speak("a cat", language="en"), name="cat.wav").json()["id"]
    for body in ({"mode": "voice"},
                 {"mode": "voice", "text": "a cat", "inputs": {"voice": recording}}):
        response = api.post("/generate", body)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "voice_or_text"
    assert not Job.objects.exists()


def spoken_job(api, sentence: str) -> dict:
    """``sentence`` read by espeak-ng, uploaded as a recording, and described."""
    upload = api.upload(speak(sentence, language="en"), name="description.wav")
    assert upload.status_code == 201 and upload.json()["kind"] == "audio", upload.content
    response = api.post("/generate", {"mode": "voice", "inputs": {"voice": upload.json()["id"]},
                                      "params": {"language": "en"}})
    assert response.status_code == 202, response.content
    return api.wait(response.json()["job_id"])


def test_a_recording_is_transcribed_and_described(login, jobs_worker):
    api = login()
    job = spoken_job(api, "A girl with red hair and glasses on the beach.")
    assert job["state"] == "awaiting_confirmation", job
    meta = job["metadata"]
    assert "red hair" in meta["transcript"].lower() and meta["source"] == "voice"
    assert meta["asr_engine"].startswith("faster-whisper")
    assert (meta["slots"]["subject"], meta["slots"]["hair_colour"]) == ("girl", "red")
    assert meta["slots"]["scene"] == "beach"
    assert job["inputs"]["voice"] and job["text"] == ""


def test_a_transcript_with_a_blocked_word_blocks_the_job(login, settings, inprocess_jobs):
    listed_word(settings, "beach", action="block")
    api = login()
    job = spoken_job(api, "A girl with red hair on the beach.")
    assert job["state"] == "blocked" and job["error"]["code"] == "text_blocked", job
    assert job["results"] == [] and not Job.objects.get(id=job["id"]).results.exists()


def test_a_transcript_held_for_review_is_asked_about_once_approved(login, settings,
                                                                    inprocess_jobs):
    listed_word(settings, "beach", action="review")
    api, staff = login(), login(staff=True)
    job = spoken_job(api, "A girl with red hair on the beach.")
    assert job["state"] == "held" and job["results"] == [], job
    case_id = Job.objects.get(id=job["id"]).moderation_case_id
    assert api.post(f"/jobs/{job['id']}/confirm", {"confirm": True}).status_code == 409
    decided = staff.post(f"/moderation/cases/{case_id}/approve", {"reason": "a beach is fine"})
    assert decided.status_code == 200, decided.content
    asked = api.get(f"/jobs/{job['id']}").json()
    assert asked["state"] == "awaiting_confirmation" and asked["message"] == (
        asked["metadata"]["question"])
    assert [r["kind"] for r in asked["results"]] == ["question"]


def test_anime_me_draws_the_person_read_from_the_photo(login, jobs_worker):
    from tests.conftest import fixture_photo

    api = login()
    upload = api.upload(fixture_photo("biden.jpg").read_bytes()).json()["id"]
    response = api.generate(upload, "anime", {"style": "illustrated", "subject": "old man"})
    assert response.status_code == 202, response.content
    job = api.wait(response.json()["job_id"])
    assert job["state"] == "succeeded", job
    slots = job["metadata"]["slots"]
    assert (slots["hair_colour"], slots["eye_colour"], slots["subject"]) == (
        "grey", "blue", "old man")
    # Clean-shaven, bare-faced and not smiling, as in the photo: no grandfather's moustache.
    assert (slots["facial_hair"], slots["accessories"], slots["expression"]) == (
        "none", [], "neutral")
    assert job["metadata"]["measured"]["glasses"]["bridge"] < 110
    assert job["metadata"]["drawn"]["facial_hair"] == "none"
    picture, thumbnail = job["results"]
    assert thumbnail["kind"] == "thumbnail" and max(thumbnail["width"], thumbnail["height"]) <= 256
    assert (picture["width"], picture["height"]) == (768, 768)
    assert job["engine"].startswith("illustrator")


def test_a_typed_text_held_once_is_not_screened_again_when_approved(login, settings,
                                                                     inprocess_jobs):
    listed_word(settings, "beach", action="review")
    api, staff = login(), login(staff=True)
    response = api.post("/generate", {"mode": "voice", "text": "a girl on the beach"})
    assert response.status_code == 202 and response.json()["state"] == "held"
    job_id = response.json()["job_id"]
    case_id = Job.objects.get(id=job_id).moderation_case_id
    assert staff.post(f"/moderation/cases/{case_id}/approve", {"reason": "ok"}).status_code == 200
    assert api.wait(job_id)["state"] == "awaiting_confirmation"


# --- The websocket, against the live server and its fixtures (see test_websocket.py).

async def answer_while_listening(server, user, job_id, answers: list[dict]) -> list[dict]:
    """Listen to the job's socket; at each new question, send the next of ``answers``."""
    received, asked = [], set()
    async with websockets.connect(f"{server.ws_url}/ws/jobs/{job_id}/", **auth(user)) as ws:
        try:
            async with asyncio.timeout(120):
                async for message in ws:
                    event = json.loads(message)
                    received.append(event)
                    question = event["message"]
                    if event["state"] == "awaiting_confirmation" and question not in asked:
                        asked.add(question)
                        answer = await asyncio.to_thread(
                            user.http.post, f"/jobs/{job_id}/confirm", json=answers.pop(0))
                        assert answer.status_code == 200, answer.text
        except websockets.ConnectionClosed:
            pass
    return received


def test_the_socket_carries_the_question_the_correction_and_the_picture(  # noqa: F811
        server, settled):
    user = server.client(f"voice-{uuid.uuid4().hex[:12]}")
    job = user.http.post("/generate", json={"mode": "voice", "text": BOY})
    assert job.status_code == 202, job.text
    job_id = job.json()["job_id"]
    events = asyncio.run(answer_while_listening(
        server, user, job_id, [{"text": "a cat in the snow"}, {"confirm": True}]))
    asked = [e for e in events if e["state"] == "awaiting_confirmation"]
    assert [e["message"][:4] for e in asked] == ["您想生成", "Woul"], events
    assert all(e["results"][0]["kind"] == "question" for e in asked)
    assert events[-1]["state"] == "succeeded", events
    assert [r["kind"] for r in events[-1]["results"]] == ["question", "picture", "thumbnail"]
    assert "running" in [e["state"] for e in events[events.index(asked[-1]):]]


def test_the_socket_closes_on_a_cancellation(server, settled):  # noqa: F811
    user = server.client(f"voice-{uuid.uuid4().hex[:12]}")
    job_id = user.http.post("/generate", json={"mode": "voice", "text": BOY}).json()["job_id"]
    events = asyncio.run(answer_while_listening(server, user, job_id, [{"confirm": False}]))
    assert [e["state"] for e in events][-2:] == ["awaiting_confirmation", "cancelled"], events


def test_with_sd_and_a_checkpoint_the_picture_is_painted_then_styled(login, settings,
                                                                     inprocess_jobs,
                                                                     tmp_path):
    import torch

    from tests.inference.test_anime_generator import random_generator
    from tests.inference.tiny_sd import build_tiny_sd

    settings.SD_MODEL_DIR = str(build_tiny_sd(tmp_path / "tiny-anime"))
    settings.MODELS_DIR = tmp_path / "models"
    (settings.MODELS_DIR / "animegan").mkdir(parents=True)
    torch.save(random_generator().state_dict(), settings.MODELS_DIR / "animegan" / "paprika.pt")
    api = login()
    job = describe(api, "a girl with blue hair on the beach, paprika")
    assert api.post(f"/jobs/{job['id']}/confirm", {"confirm": True}).status_code == 200
    done = api.wait(job["id"])
    assert done["state"] == "succeeded", done
    assert done["engine"].startswith("sd:tiny-anime@") and "+animegan:paprika@" in done["engine"]
    models = done["metadata"]["models"]
    assert models["sd"]["folder"] == "tiny-anime" and models["animegan"]["file"] == "paprika.pt"
    [picture] = [r for r in done["results"] if r["kind"] == "picture"]
    assert picture["engine"] == done["engine"]
