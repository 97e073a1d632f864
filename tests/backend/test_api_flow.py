"""The whole path as a mini-program uses it: upload → generate → job succeeds → download, and
the rules around it (ownership, idempotency, bad requests)."""
from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from backend.jobs.models import Job, Result
from core.storage import get_storage
from backend.uploads.models import Upload


def download_bytes(api, url: str) -> tuple[bytes, str]:
    """Follow /download the way a client does: bytes (embedded) or a 302 to S3."""
    response = api.get(url)
    if response.status_code == 302:
        import urllib.request

        location = response["Location"]
        assert location.startswith("http://127.0.0.1:"), location
        with urllib.request.urlopen(location, timeout=10) as remote:
            return remote.read(), remote.headers.get("Content-Type", "")
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content), response["Content-Type"]


def test_upload_generate_download(login, astronaut_jpeg, jobs_worker):
    api = login()
    upload = api.upload(astronaut_jpeg)
    assert upload.status_code == 201, upload.content
    body = upload.json()
    assert (body["width"], body["height"], body["format"]) == (512, 512, "jpeg")
    assert len(body["sha256"]) == 64 and body["expires_at"]

    accepted = api.generate(body["id"], "anime", {"mode": "face"})
    assert accepted.status_code == 202, accepted.content
    job_id = accepted.json()["job_id"]
    assert accepted.json()["status_url"].endswith(f"/jobs/{job_id}")
    assert accepted.json()["ws_url"].endswith(f"/ws/jobs/{job_id}/")

    job = api.wait(job_id)
    assert job["state"] == "succeeded", job
    assert job["progress"] == 100 and job["error"] is None
    assert job["engine"].startswith(("procedural", "animegan"))
    result, thumbnail = job["results"]  # the picture, then its gallery thumbnail
    assert thumbnail["kind"] == "thumbnail" and thumbnail["format"] == "webp"
    assert result["engine"] == job["engine"]
    data, content_type = download_bytes(api, result["download_url"])
    assert content_type == "image/png"
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size == (result["width"], result["height"]) == (512, 512)

    listed = api.get("/jobs").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == job_id


@pytest.mark.django_db(transaction=True)
def test_other_users_see_nothing(login, astronaut_jpeg, jobs_worker):
    alice, bob = login(), login()
    upload_id = alice.upload(astronaut_jpeg).json()["id"]
    job_id = alice.generate(upload_id, "anime", {"mode": "full"}).json()["job_id"]
    job = alice.wait(job_id)
    assert job["state"] == "succeeded", job
    result_id = job["results"][0]["id"]

    assert bob.get(f"/jobs/{job_id}").status_code == 404
    assert bob.get(f"/download/{result_id}").status_code == 404
    assert bob.get("/jobs").json()["count"] == 0
    refused = bob.generate(upload_id, "anime")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "upload_not_found"


@pytest.mark.django_db(transaction=True)
def test_idempotency_key_returns_the_same_job(login, astronaut_jpeg, jobs_worker):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    first = api.generate(upload_id, "anime", HTTP_IDEMPOTENCY_KEY="k-1").json()["job_id"]
    second = api.generate(upload_id, "anime", HTTP_IDEMPOTENCY_KEY="k-1").json()["job_id"]
    other = api.generate(upload_id, "anime", HTTP_IDEMPOTENCY_KEY="k-2").json()["job_id"]
    assert first == second != other
    assert Job.objects.filter(owner_id=api.user_id).count() == 2
    # Another user with the same key gets their own job.
    bob = login()
    bob_upload = bob.upload(astronaut_jpeg).json()["id"]
    assert bob.generate(bob_upload, "anime", HTTP_IDEMPOTENCY_KEY="k-1").json()["job_id"] != first
    # Bob's upload is not ours, whatever the key.
    assert api.generate(bob_upload, "anime", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 404
    # The same key for a different request is a client bug, said plainly.
    reused = api.generate(upload_id, "anime", {"mode": "full"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    api.wait(first), api.wait(other), bob.wait(Job.objects.filter(owner_id=bob.user_id).first().id)


@pytest.mark.django_db
@pytest.mark.parametrize("payload, status, code", [
    ({"mode": "nope"}, 400, "unknown_mode"),
    ({"mode": "anime", "params": {"mode": "sideways"}}, 400, "invalid_params"),
    ({"mode": "anime", "params": {"strength": 7}}, 400, "invalid_params"),
    ({"mode": "anime", "params": {"style": "no_such_style"}}, 400, "invalid_params"),
    ({"mode": "anime", "params": "x"}, 400, "invalid_input"),
    ({"mode": "anime", "upload_id": "not-a-uuid"}, 400, "invalid_input"),
    ({"mode": "anime", "upload_id": str(uuid.uuid4())}, 404, "upload_not_found"),
])
def test_generate_refuses_bad_requests(login, astronaut_jpeg, payload, status, code):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    body = {"upload_id": upload_id, "params": {}, **payload}
    response = api.post("/generate", body)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("payload, message", [
    ({"mode": "sticker", "text": "开心", "params": {"anmiated": True}},
     "Unknown field 'params.anmiated'; params accepts: animated, caption, style, template_id."),
    ({"mode": "anime", "uploadId": "x"},
     "Unknown field 'uploadId'; the request accepts: inputs, mode, params, text, upload_id."),
])
def test_generate_refuses_unknown_fields_by_name(login, astronaut_jpeg, payload, message):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    response = api.post("/generate", {"upload_id": upload_id, **payload}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400, response.content
    assert response.json()["error"] == {"code": "unknown_field", "message": message}
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_every_input_refuses_unknown_fields(login, astronaut_jpeg):
    api = login()
    for path, body in (("/auth/dev", {"openid": "o1", "unionid": "u"}),
                       ("/auth/wechat", {"code": "c", "state": "s"}),
                       (f"/results/{uuid.uuid4()}/rating", {"score": 5, "comment": "nice"})):
        response = api.post(path, body)
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["code"] == "unknown_field", path
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.client.post("/upload", {"image": SimpleUploadedFile("a.jpg", astronaut_jpeg),
                                           "caption": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_field"
    assert "'caption'" in response.json()["error"]["message"]
    assert not Upload.objects.exists()  # nothing stored for a refused request


@pytest.mark.django_db
def test_generate_on_expired_upload_is_410(login, astronaut_jpeg):
    from django.utils import timezone

    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    Upload.objects.filter(id=upload_id).update(expires_at=timezone.now())
    response = api.generate(upload_id, "anime")
    assert response.status_code == 410 and response.json()["error"]["code"] == "upload_expired"


@pytest.mark.django_db
def test_expired_result_download_is_410(login, astronaut_jpeg):
    from django.utils import timezone

    api = login()
    upload = Upload.objects.get(id=api.upload(astronaut_jpeg).json()["id"])
    job = Job.objects.create(owner=upload.owner, upload=upload, mode="anime", state="succeeded",
                             expires_at=upload.expires_at)
    result = Result.objects.create(job=job, owner=upload.owner, kind="image",
                                   storage_key=upload.storage_key, format="jpeg",
                                   content_type="image/jpeg", width=1, height=1, size_bytes=1,
                                   engine="test", expires_at=timezone.now())
    response = api.get(f"/download/{result.id}")
    assert response.status_code == 410 and response.json()["error"]["code"] == "expired"


@pytest.mark.django_db
def test_upload_is_stored_clean_under_the_users_key(login, astronaut_jpeg):
    api = login()
    body = api.upload(astronaut_jpeg).json()
    upload = Upload.objects.get(id=body["id"])
    assert upload.storage_key.startswith(f"u/{api.user_id}/uploads/")
    stored = get_storage().get(upload.storage_key)
    import hashlib

    assert hashlib.sha256(stored).hexdigest() == body["sha256"]
    assert Image.open(io.BytesIO(stored)).getexif() == {}


@pytest.mark.django_db
@pytest.mark.parametrize("data, name, status, code", [
    (b"", "empty.jpg", 400, "empty_file"),
    (b"hello, I am text", "photo.jpg", 415, "unsupported_format"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "a.svg", 415,
     "unsupported_format"),
])
def test_hostile_upload_is_refused_and_nothing_stored(login, data, name, status, code):
    api = login()
    response = api.upload(data, name)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_truncated_jpeg_is_refused(login, astronaut_jpeg):
    api = login()
    response = api.upload(astronaut_jpeg[: len(astronaut_jpeg) // 2])
    assert response.status_code == 400 and response.json()["error"]["code"] == "corrupt_image"
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_oversized_upload_is_413(login, settings, astronaut_jpeg):
    settings.UPLOAD_MAX_BYTES = 1000
    api = login()
    response = api.upload(astronaut_jpeg)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_upload_without_image_or_url(login):
    response = login().post("/upload", {})
    assert response.status_code == 400 and response.json()["error"]["code"] == "missing_image"


@pytest.mark.django_db
def test_url_upload_to_loopback_is_refused(login, monkeypatch):
    import socket

    def no_connect(*args, **kwargs):
        raise AssertionError(f"a connection was opened: {args}")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    response = login().post("/upload", {"url": "http://127.0.0.1:8000/x.jpg"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "url_not_allowed"
    assert not Upload.objects.exists()


@pytest.mark.django_db
def test_unknown_route_and_method_are_json():
    from rest_framework.test import APIClient

    client = APIClient()
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_health_and_readiness():
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readiness_fails_when_storage_is_unreachable(settings):
    from rest_framework.test import APIClient

    from core.storage import reset_storage

    settings.S3_ENDPOINT = "http://127.0.0.1:9"
    reset_storage()
    ready = APIClient().get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["storage"].startswith("error")


@pytest.mark.django_db
def test_openapi_schema_lists_the_api():
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/upload", "/generate", "/jobs/{job_id}", "/download/{result_id}", "/auth/wechat"):
        assert path in text


@pytest.mark.django_db
def test_uploads_are_throttled_per_user(login, astronaut_jpeg, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    from django.core.cache import cache

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "upload", "2/min")
    api, other = login(), login()
    for user_id in (api.user_id, other.user_id):  # ids come back after a flush; their history too
        cache.delete(f"throttle_upload_{user_id}")
    codes = [api.upload(astronaut_jpeg).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    refused = api.upload(astronaut_jpeg)
    assert refused.json()["error"]["code"] == "throttled" and int(refused["Retry-After"]) > 0
    assert other.upload(astronaut_jpeg).status_code == 201
    assert Upload.objects.filter(owner_id=api.user_id).count() == 2


def test_job_payload_matches_the_documented_schema(login, astronaut_jpeg, jobs_worker):
    from backend.jobs.presenter import JobOutput, ResultOutput

    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    job = api.wait(api.generate(upload_id, "anime", {"mode": "avatar"}).json()["job_id"])
    assert job["state"] == "succeeded", job
    assert set(job) == set(JobOutput().fields)
    assert set(job["results"][0]) == set(ResultOutput().fields)
    assert job["created_at"].endswith("Z") and job["upload_id"] == upload_id


@pytest.mark.django_db
@pytest.mark.parametrize("body, content_type, code", [
    ('{"a":' * 50000 + "1" + "}" * 50000, "application/json", "malformed_request"),
    ("[1, 2, 3]", "application/json", "malformed_request"),
    ('"just a string"', "application/json", "malformed_request"),
    ("{not json", "application/json", "malformed_request"),
])
def test_malformed_bodies_are_400_on_every_route(login, body, content_type, code):
    api = login()
    for path in ("/generate", "/upload", "/auth/dev"):
        response = api.client.post(path, body, content_type=content_type)
        assert response.status_code == 400, (path, response.content[:200])
        assert response.json()["error"]["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize("caption", ["\ud800", "a\x00b"])
def test_captions_that_cannot_be_drawn_are_refused(login, astronaut_jpeg, caption):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    import json

    body = json.dumps({"upload_id": upload_id, "mode": "sticker", "text": "开心",
                       "params": {"caption": caption}})  # ASCII-escaped, as a client sends it
    response = api.client.post("/generate", body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_params"
