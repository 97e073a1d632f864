"""Deletion on request (personal information law): DELETE /jobs/{id} and DELETE /me remove the
stored objects (the bucket listed under the user's prefix) and the rows at once, cancel what
still runs, keep moderation's audit without the content, and can be retried after a storage
failure. GET /results lists what the user has, with when it goes."""
from __future__ import annotations

import os
import time

import pytest

from backend.accounts.models import AuthToken, WechatAccount
from backend.jobs.models import Job, JobInput, Result
from backend.stickers.models import Rating
from backend.uploads.models import Upload
from core.storage import get_storage, reset_storage
from moderation.models import ModerationCase
from tests.backend.test_websocket import free_port

os.environ["MX_TEST_MODES"] = "1"  # a Celery worker started by the services stack knows the mode
import backend.jobs.modes.testing  # noqa: E402,F401 - registers test_slow here

QUICK = {"steps": 2, "delay": 0.0}


def finished_job(api, photo: bytes, params=QUICK) -> dict:
    upload = api.upload(photo).json()["id"]
    job = api.wait(api.generate(upload, "test_slow", params).json()["job_id"])
    assert job["state"] == "succeeded", job
    return job


def stored(prefix: str) -> list[str]:
    return get_storage().list_keys(prefix)


def test_deleting_a_job_removes_its_results_objects_rows_and_ratings(login, astronaut_jpeg,
                                                                     jobs_worker):
    api = login()
    job = finished_job(api, astronaut_jpeg)
    result_id = job["results"][0]["id"]
    assert api.post(f"/results/{result_id}/rating", {"score": 4}).status_code == 201
    prefix = f"u/{api.user_id}/results/{job['id']}/"
    assert len(stored(prefix)) == len(job["results"]) == 2  # the picture and its thumbnail

    response = api.client.delete(f"/jobs/{job['id']}")
    assert response.status_code == 204, response.content
    assert stored(prefix) == []
    assert not Job.objects.filter(id=job["id"]).exists()
    assert not Result.objects.filter(id=result_id).exists()
    assert not JobInput.objects.filter(job_id=job["id"]).exists()
    assert not Rating.objects.filter(result_id=result_id).exists()
    assert Upload.objects.filter(id=job["upload_id"]).exists()  # the photo is not the job's
    assert api.get(f"/jobs/{job['id']}").status_code == 404
    assert api.client.delete(f"/jobs/{job['id']}").status_code == 404


def test_deleting_a_running_job_cancels_it_and_nothing_is_stored_after(login, astronaut_jpeg,
                                                                       jobs_worker):
    api = login()
    upload = api.upload(astronaut_jpeg).json()["id"]
    # ~1.5 s: uncancelled, it would finish and store its result within the wait below.
    job_id = api.generate(upload, "test_slow", {"steps": 30, "delay": 0.05}).json()["job_id"]
    deadline = time.monotonic() + 60
    while api.get(f"/jobs/{job_id}").json()["progress"] < 5:
        assert time.monotonic() < deadline, "the job never ran"
        time.sleep(0.05)

    assert api.client.delete(f"/jobs/{job_id}").status_code == 204
    wait_until_no_worker_writes(jobs_worker)
    assert stored(f"u/{api.user_id}/results/{job_id}/") == []
    assert not Job.objects.filter(id=job_id).exists() and not Result.objects.exists()


def wait_until_no_worker_writes(jobs_worker) -> None:
    """Until the in-process pool is idle, or (Celery) longer than the job would have run."""
    from backend.jobs import runner

    if jobs_worker is None:
        runner.wait_idle()
    else:
        time.sleep(3)


def test_deleting_me_removes_everything_and_revokes_the_token(login, astronaut_jpeg,
                                                              jobs_worker):
    api = login()
    job = finished_job(api, astronaut_jpeg)
    api.post(f"/results/{job['results'][0]['id']}/rating", {"score": 5})
    api.upload(astronaut_jpeg)
    # A case about this user's typed text: its audit row stays, the text goes.
    case = ModerationCase.objects.create(subject_type="text", subject="sticker_text",
                                         user_id=api.user_id, text="加微信 开心",
                                         labels=[{"label": "ads", "text": "加微信"}])
    user_id = api.user_id
    keys = {u.storage_key for u in Upload.objects.filter(owner_id=user_id)}
    keys |= {r.storage_key for r in Result.objects.filter(owner_id=user_id)}
    # Two uploads, a result and its thumbnail.
    assert len(keys) == 4 and keys <= set(stored(f"u/{user_id}/"))

    response = api.client.delete("/me")
    assert response.status_code == 204, response.content
    assert stored(f"u/{user_id}/") == []
    for model, field in ((Upload, "owner_id"), (Job, "owner_id"), (Result, "owner_id"),
                         (Rating, "user_id"), (AuthToken, "user_id"), (WechatAccount, "user_id")):
        assert not model.objects.filter(**{field: user_id}).exists(), model
    case.refresh_from_db()
    assert (case.user_id, case.text, case.labels) == (None, "", [{"label": "ads"}])
    assert case.events.filter(action="content_deleted").exists()
    assert api.get("/jobs").status_code == 401


@pytest.mark.django_db
def test_a_deletion_that_storage_refused_is_answered_503_and_can_be_retried(
        login, astronaut_jpeg, settings):
    api = login()
    upload = api.upload(astronaut_jpeg).json()["id"]
    keys = stored(f"u/{api.user_id}/uploads/")
    working = {name: getattr(settings, name) for name in ("S3_ENDPOINT", "S3_BUCKET")}
    # Nothing listens there: a real refused connection.
    settings.S3_ENDPOINT = f"http://127.0.0.1:{free_port()}"
    reset_storage()
    response = api.client.delete("/me")
    assert response.status_code == 503, response.content
    assert response.json()["error"]["code"] == "storage_unavailable"

    for name, value in working.items():
        setattr(settings, name, value)
    reset_storage()
    assert stored(f"u/{api.user_id}/uploads/") == keys  # nothing lost; rows and token still work
    assert Upload.objects.filter(id=upload).exists()
    assert api.client.delete("/me").status_code == 204
    assert stored(f"u/{api.user_id}/") == [] and not Upload.objects.filter(id=upload).exists()


def test_results_lists_mine_with_their_deadline(login, astronaut_jpeg, jobs_worker):
    api, other = login(), login()
    first, second = finished_job(api, astronaut_jpeg), finished_job(api, astronaut_jpeg)
    finished_job(other, astronaut_jpeg)

    page = api.get("/results?limit=1").json()
    assert page["count"] == 4 and len(page["results"]) == 1 and page["next"]  # with thumbnails
    listed = [r for r in api.get("/results").json()["results"] if r["kind"] != "thumbnail"]
    assert [r["job_id"] for r in listed] == [second["id"], first["id"]]
    assert listed[0]["expires_at"] == second["expires_at"]
    assert listed[0]["mode"] == "test_slow" and listed[0]["download_url"].endswith(
        f"/download/{listed[0]['id']}")
