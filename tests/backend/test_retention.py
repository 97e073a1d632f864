"""Retention: everything is deleted RETENTION_HOURS after creation, from storage and database;
a failed deletion is retried, never forgotten."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from backend.jobs.events import job_event
from backend.jobs.housekeeping import purge_expired
from backend.jobs.models import Job, Result
from core.storage import get_storage
from backend.uploads.models import Upload

pytestmark = pytest.mark.django_db


def stored_job(api, photo: bytes) -> tuple[Upload, Job, Result]:
    """An upload with a finished job and one stored result, as the worker leaves them."""
    upload = Upload.objects.get(id=api.upload(photo).json()["id"])
    job = Job.objects.create(owner=upload.owner, upload=upload, mode="sticker", state="succeeded",
                             text="开心", metadata={"caption": "开心"}, expires_at=upload.expires_at)
    key = f"u/{upload.owner_id}/results/{job.id}/r.png"
    get_storage().put(key, b"result-bytes", "image/png")
    result = Result.objects.create(job=job, owner=upload.owner, kind="image", storage_key=key,
                                   format="png", content_type="image/png", width=1, height=1,
                                   size_bytes=12, engine="test", expires_at=upload.expires_at)
    return upload, job, result


def test_deadline_is_retention_hours_after_creation(login, settings, astronaut_jpeg):
    upload, job, result = stored_job(login(), astronaut_jpeg)
    expected = upload.created_at + timedelta(hours=settings.RETENTION_HOURS)
    assert abs((upload.expires_at - expected).total_seconds()) < 5
    assert settings.RETENTION_HOURS == 72


def test_one_minute_past_is_gone_one_minute_short_is_untouched(login, astronaut_jpeg):
    api = login()
    old_upload, old_job, old_result = stored_job(api, astronaut_jpeg)
    new_upload, new_job, new_result = stored_job(api, astronaut_jpeg)
    storage = get_storage()
    # Move the clock: the first set's deadline is a minute ago, the second's a minute ahead.
    now = old_upload.expires_at + timedelta(minutes=1)
    for row in (new_upload, new_result, new_job):
        type(row).objects.filter(pk=row.pk).update(expires_at=now + timedelta(minutes=1))

    report = purge_expired(now=now)

    assert (report.uploads, report.results, report.jobs_expired) == (1, 1, 1)
    assert not storage.exists(old_upload.storage_key)
    assert not storage.exists(old_result.storage_key)
    assert not Upload.objects.filter(pk=old_upload.pk).exists()
    # The result's row stays as a tombstone: no object, no metadata (a download then says 410).
    assert Result.objects.filter(pk=old_result.pk).values_list("storage_key", "metadata").get() \
        == ("", {})
    tombstone = Job.objects.get(pk=old_job.pk)
    assert tombstone.state == "expired" and tombstone.upload_id is None
    assert (tombstone.text, tombstone.params, tombstone.metadata) == ("", {}, {})
    assert storage.exists(new_upload.storage_key) and storage.exists(new_result.storage_key)
    assert Upload.objects.filter(pk=new_upload.pk).exists()
    assert Job.objects.get(pk=new_job.pk).state == "succeeded"
    # The expired job's API answer says so.
    assert api.get(f"/jobs/{old_job.pk}").json()["state"] == "expired"
    # A second run finds nothing left to delete.
    assert (purge_expired(now=now).results, purge_expired(now=now).failures) == (0, [])


def _past_deadline(*rows) -> None:
    """Move these rows' deadline a minute into the past, as time passing would."""
    for row in rows:
        type(row).objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


def test_past_its_deadline_a_job_is_expired_for_the_user_before_any_purge(login, astronaut_jpeg):
    api = login()
    upload, job, result = stored_job(api, astronaut_jpeg)
    assert api.get(f"/jobs/{job.pk}").json()["results"]  # visible while it lasts
    _past_deadline(job, result)

    body = api.get(f"/jobs/{job.pk}").json()
    assert (body["state"], body["stage"], body["results"], body["error"]) == \
        ("expired", "expired", [], None)
    assert (body["text"], body["params"], body["metadata"], body["message"]) == ("", {}, {}, "")
    listed = api.get("/jobs").json()["results"]
    assert [(j["id"], j["state"], j["text"]) for j in listed] == [(str(job.pk), "expired", "")]
    download = api.get(f"/download/{result.pk}")
    assert (download.status_code, download.json()["error"]["code"]) == (410, "expired")
    rating = api.post(f"/results/{result.pk}/rating", {"score": 5})
    assert (rating.status_code, rating.json()["error"]["code"]) == (410, "expired")
    # The websocket's events say the same (its first message is the job's current state).
    event = job_event(Job.objects.get(pk=job.pk), results=[{"id": str(result.pk)}])
    assert (event["state"], event["stage"], "results" in event) == ("expired", "expired", False)
    # The row itself is the purge's to change; the files follow at the purge.
    assert Job.objects.get(pk=job.pk).text == "开心" and get_storage().exists(result.storage_key)


def test_a_result_goes_with_its_expired_job(login, astronaut_jpeg):
    api = login()
    upload, job, result = stored_job(api, astronaut_jpeg)
    _past_deadline(job)
    assert api.get(f"/download/{result.pk}").status_code == 410
    report = purge_expired()
    assert report.results == 1 and not get_storage().exists(result.storage_key)


def test_a_purged_result_answers_410_expired_to_its_owner_and_404_to_others(login,
                                                                             astronaut_jpeg):
    api = login()
    upload, job, result = stored_job(api, astronaut_jpeg)
    _past_deadline(upload, job, result)
    purge_expired()

    download = api.get(f"/download/{result.pk}")
    assert (download.status_code, download.json()["error"]["code"]) == (410, "expired")
    rating = api.post(f"/results/{result.pk}/rating", {"score": 3})
    assert (rating.status_code, rating.json()["error"]["code"]) == (410, "expired")
    stranger = login().get(f"/download/{result.pk}")
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "result_not_found")


def test_failed_deletion_is_retried_next_run(login, astronaut_jpeg, monkeypatch):
    upload, job, result = stored_job(login(), astronaut_jpeg)
    later = upload.expires_at + timedelta(seconds=1)
    storage = get_storage()
    real_delete = storage.delete

    def broken_delete(key):
        raise OSError("storage is down")

    monkeypatch.setattr(storage, "delete", broken_delete)
    report = purge_expired(now=later)
    assert len(report.failures) == 2 and report.uploads == report.results == 0
    assert Upload.objects.filter(pk=upload.pk).exists() and Result.objects.filter(pk=result.pk).exists()

    monkeypatch.setattr(storage, "delete", real_delete)
    report = purge_expired(now=later)
    assert (report.uploads, report.results, report.failures) == (1, 1, [])
    assert not storage.exists(upload.storage_key)


def test_purge_command_deletes_what_is_due(login, astronaut_jpeg, capsys):
    upload, job, result = stored_job(login(), astronaut_jpeg)
    Upload.objects.filter(pk=upload.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    Result.objects.filter(pk=result.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    call_command("purge_expired")
    assert "deleted 1 results and 1 uploads" in capsys.readouterr().out
    assert not get_storage().exists(upload.storage_key)
