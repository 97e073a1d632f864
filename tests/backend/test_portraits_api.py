"""AI portraits through PAI's own client: ``ai-service-python-sdk`` pointed at the running
server, with credentials it issued, and the photos served from a loopback HTTP server."""
from __future__ import annotations

import base64
import http.server
import io
import json
import threading
import time
import urllib.request
from datetime import timedelta

import numpy as np
import pytest
from ai_service_python_sdk.client.api.ai_service_aigc_images_api import AIGCImagesApi
from ai_service_python_sdk.client.api.ai_service_job_api import AiServiceJobApi
from ai_service_python_sdk.client.api_client import ApiClient
from ai_service_python_sdk.client.rest import ApiException
from django.utils import timezone
from PIL import Image

from backend.jobs.housekeeping import purge_expired
from backend.jobs.models import Job, JobState, Result
from backend.portraits.models import Identity, PortraitTemplate
from backend.portraits.services import portrait_template_store
from core.storage import get_storage
from inference.portrait.configure import FIELDS
from tests.conftest import fixture_photo, jpeg_bytes
from tests.inference.portrait_photos import photo_set, side_by_side


@pytest.fixture
def photo_server(settings):
    """``serve(name, bytes) -> url`` on a loopback HTTP server the fetcher is allowed to reach."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.UPLOAD_URL_ALLOW_NETWORKS = ["127.0.0.0/8"]

    def serve(name: str, data: bytes) -> str:
        files[f"/{name}"] = data
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield serve
    server.shutdown()
    server.server_close()


def _rgb(name: str) -> np.ndarray:
    with Image.open(fixture_photo(name)) as image:
        return np.asarray(image.convert("RGB"))


def _credential(api) -> dict:
    response = api.post("/portraits/credentials")
    assert response.status_code == 201
    return response.json()


def _pai(live_server, credential: dict) -> tuple[AIGCImagesApi, AiServiceJobApi]:
    client = ApiClient(live_server.url, credential["appid"], credential["token"])
    return AIGCImagesApi(client), AiServiceJobApi(client)


def _refusal(call) -> tuple[int, dict]:
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def _train(aigc, jobs, urls: list[str]) -> tuple[str, list[int], dict]:
    """Train through the SDK; the model_id, every state seen while polling, and the result."""
    response = aigc.aigc_images_train(urls, "", None)
    assert response.code == "OK"
    job_id, model_id = response.data["job_id"], response.data["model_id"]
    assert isinstance(job_id, int) and len(model_id) == 36
    seen = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        job = jobs.get_async_job(job_id).data["job"]
        seen.append(job["state"])
        if job["state"] in (2, 3):
            break
        time.sleep(0.2)
    return model_id, seen, job


def test_check_train_and_create_through_pais_sdk(login, live_server, jobs_worker, photo_server,
                                                 settings):
    settings.PORTRAIT_CREATE_WAIT = 300
    owner = login()
    aigc, jobs = _pai(live_server, _credential(owner))
    obama, biden = _rgb("obama.jpg"), _rgb("biden.jpg")
    obama_urls = [photo_server(f"obama{i}.jpg", jpeg_bytes(p))
                  for i, p in enumerate(photo_set(obama))]
    biden_urls = [photo_server(f"biden{i}.jpg", jpeg_bytes(p))
                  for i, p in enumerate(photo_set(biden))]
    group = photo_server("group.jpg", jpeg_bytes(side_by_side(obama, biden)))
    broken = photo_server("broken.jpg", b"\xff\xd8 not really a jpeg")

    # check: PAI's codes and messages, one per image, in order.
    images = obama_urls[:3] + [biden_urls[0], group, broken]
    checked = aigc.aigc_images_check(images, "", None)
    assert checked.code == "OK"
    results = checked.data["check_results"]
    assert [r["code"] for r in results] == [1, 1, 1, 6, 3, 2]
    assert [r["url"] for r in results] == images
    assert results[5]["message"] == "Image decode error"
    assert results[4]["message"] == "Number of face is not 1"
    assert checked.data["images"] == images and checked.data["cost_time"] >= 0

    # train: a job number at once, states moving 0 -> 1 -> 2, per-image states in the Result.
    obama_id, seen, job = _train(aigc, jobs, obama_urls + [broken])
    assert seen == sorted(seen) and seen[-1] == 2 and seen[0] in (0, 1)
    assert job["app_id"] and job["create_time"] and job["message"] == "success"
    result = json.loads(job["Result"])
    assert result["model_id"] == obama_id
    assert [s["code"] for s in result["states"]] == [1, 1, 1, 1, 1, 2]
    assert result["states"][5]["url"] == broken
    biden_id, _, _ = _train(aigc, jobs, biden_urls)
    listed = owner.get("/portraits/models").json()
    assert {m["model_id"] for m in listed} == {obama_id, biden_id}
    # The same job, through our own API.
    job_uuid = job["job_uuid"]
    assert owner.get(f"/jobs/{job_uuid}").json()["mode"] == "portrait_train"

    # create, single: the template's face becomes the identity's.
    single = aigc.aigc_images_create(obama_id, photo_server("t1.jpg", jpeg_bytes(biden)), "",
                                     None)
    assert single.code == "OK" and single.data["model_id"] == obama_id
    assert single.data["similarity"] >= 0.5
    with Image.open(io.BytesIO(base64.b64decode(single.data["image"]))) as image:
        assert image.format == "JPEG"
    assert owner.get(f"/download/{single.data['result_id']}").status_code in (200, 302)

    # create, multi: the faces left to right; a count that does not match says so.
    two = photo_server("t2.jpg", jpeg_bytes(side_by_side(biden, obama)))
    multi = aigc.aigc_images_create_by_multi_model_ids([obama_id, biden_id], two, "", None)
    assert multi.code == "OK" and multi.data["similarity"] >= 0.5
    status, body = _refusal(lambda: aigc.aigc_images_create_by_multi_model_ids(
        [obama_id], two, "", None))
    assert status == 400 and body["code"] == "error"
    assert body["message"].startswith("Please confirm if the number of faces in the template")
    assert body["data"]["error"]["code"] == "face_count_mismatch"

    # The admins' library: listed with a preview; its id serves as a template, and our own
    # clients may take a job id instead of waiting.
    library = PortraitTemplate(id="duo", name="Duo")
    portrait_template_store(library, jpeg_bytes(side_by_side(obama, biden)))
    library.save()
    listed = owner.get("/templates?kind=portrait").json()["results"]
    assert [(t["id"], t["faces"]) for t in listed] == [("duo", 2)]
    preview = listed[0]["preview_url"]
    if preview.startswith("/"):  # embedded storage: our own signed link
        preview = live_server.url + preview
    with urllib.request.urlopen(preview) as answer, Image.open(io.BytesIO(answer.read())) as image:
        assert max(image.size) <= 320
    queued = owner.post("/api/v1/aigc_images/create", {
        "model_ids": [obama_id, biden_id], "template_image": "duo", "async": True}).json()
    assert queued["code"] == "OK" and isinstance(queued["data"]["job_id"], int)
    finished = owner.wait(queued["data"]["id"])
    assert finished["state"] == "succeeded" and finished["mode"] == "portrait"
    assert finished["metadata"]["similarity"] >= 0.5

    # A template that does not decode, and one without a face: PAI's messages.
    status, body = _refusal(lambda: aigc.aigc_images_create(obama_id, broken, "", None))
    assert status == 400 and body["message"].startswith("Template image decord error.")
    blank = photo_server("blank.jpg", jpeg_bytes(np.full((600, 600, 3), 200, np.uint8)))
    status, body = _refusal(lambda: aigc.aigc_images_create(obama_id, blank, "", None))
    assert body["message"] == "There is not face in template. Please Give a new template."

    # Another user's model_id is as unknown as a made-up one.
    stranger, _ = _pai(live_server, _credential(login()))
    status, body = _refusal(lambda: stranger.aigc_images_create(
        obama_id, photo_server("t3.jpg", jpeg_bytes(biden)), "", None))
    assert status == 404 and body["data"]["error"]["code"] == "model_not_found"

    # Deleting an identity: gone from the list, its file and its training job too.
    assert owner.client.delete(f"/portraits/models/{obama_id}").status_code == 204
    assert {m["model_id"] for m in owner.get("/portraits/models").json()} == {biden_id}
    assert owner.get(f"/jobs/{job_uuid}").status_code == 404
    status, body = _refusal(lambda: aigc.aigc_images_create(obama_id, two, "", None))
    assert status == 404

    # The account's deletion takes the identities and their files with it.
    kept = Identity.objects.get(id=biden_id).job.results.get(kind="identity").storage_key
    assert owner.client.delete("/me").status_code == 204
    assert not Identity.objects.filter(id=biden_id).exists()
    with pytest.raises(KeyError):
        get_storage().get(kept)


def test_signatures_appids_and_revoked_tokens(login, live_server):
    owner = login()
    credential = _credential(owner)
    aigc, jobs = _pai(live_server, credential)
    assert aigc.aigc_images_check([], "", None).code == "OK"  # signed: accepted
    assert "token" not in owner.get("/portraits/credentials").json()[0]

    forged, _ = _pai(live_server, {**credential, "token": "0" * 40})
    status, body = _refusal(lambda: forged.aigc_images_check([], "", None))
    assert (status, body["message"], body["code"]) == (401, "sign error", "error")
    unknown, _ = _pai(live_server, {**credential, "appid": "nosuchappid"})
    status, body = _refusal(lambda: unknown.aigc_images_check([], "", None))
    assert (status, body["message"]) == (400, "not found appid")
    status, _ = _refusal(lambda: jobs.get_async_job(1))  # the empty body ({}) signs too
    assert status == 404

    assert owner.client.delete(f"/portraits/credentials/{credential['appid']}").status_code == 204
    status, body = _refusal(lambda: aigc.aigc_images_check([], "", None))
    assert (status, body["message"]) == (400, "not found appid")
    # Our own token is accepted on the same routes.
    mine = owner.post("/api/v1/aigc_images/check", {"images": []})
    assert mine.status_code == 200 and mine.json()["code"] == "OK"


def _edges(spec):
    """(value, accepted) pairs at and beyond a configure field's edges."""
    if spec.kind is bool:
        return [(True, True), (False, True), ("yes", False), (1, False)]
    if spec.kind is str:
        return [(spec.choices[-1], True), ("other", False)]
    step = 1 if spec.kind is int else 0.01
    return [(spec.low, True), (spec.high, True), (spec.low - step, False),
            (spec.high + step, False), ("0.5", False)]


def test_every_configure_field_is_checked_at_its_edges(login, live_server):
    aigc, _ = _pai(live_server, _credential(login()))
    unknown_model = "00000000-0000-4000-8000-000000000000"
    for spec in FIELDS:
        for value, accepted in _edges(spec):
            status, body = _refusal(lambda: aigc.aigc_images_create(
                unknown_model, "http://127.0.0.1:9/t.jpg", "", {spec.name: value}))
            if accepted:  # past the configure, refused for the model only
                assert (status, body["data"]["error"]["code"]) == (404, "model_not_found"), \
                    (spec.name, value)
            else:
                assert status == 400 and body["data"]["error"]["code"] == "invalid_configure"
                assert f"configure.{spec.name}" in body["message"], (spec.name, value)


def test_generate_takes_only_ones_own_identities(db, login, astronaut_jpeg):
    user = login()
    template = user.upload(astronaut_jpeg).json()["id"]
    made_up = "00000000-0000-4000-8000-000000000000"

    response = user.post("/generate", {"mode": "portrait", "inputs": {"template": template},
                                       "params": {"identities": [made_up]}})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def _stored_identity(owner, expires_at) -> tuple[Identity, str]:
    """An identity as training leaves it: a succeeded job, its npz result, the row."""
    job = Job.objects.create(owner=owner, mode="portrait_train", state=JobState.SUCCEEDED,
                             expires_at=expires_at)
    key = f"u/{owner.id}/results/{job.id}/identity.npz"
    get_storage().put(key, b"stand-in for an npz", "application/octet-stream")
    Result.objects.create(job=job, owner=owner, kind="identity", storage_key=key, format="npz",
                          content_type="application/octet-stream", width=512, height=512,
                          size_bytes=19, engine="portrait-identity-v1", expires_at=expires_at)
    return Identity.objects.create(owner=owner, job=job, expires_at=expires_at), key


def test_an_identity_expires_with_its_file(db, login):
    from django.contrib.auth import get_user_model

    user = login()
    owner = get_user_model().objects.get(id=user.user_id)
    now = timezone.now()
    expired, expired_key = _stored_identity(owner, now - timedelta(minutes=1))
    kept, kept_key = _stored_identity(owner, now + timedelta(minutes=1))

    purge_expired(now=now)

    assert [m["model_id"] for m in user.get("/portraits/models").json()] == [str(kept.id)]
    with pytest.raises(KeyError):
        get_storage().get(expired_key)
    assert get_storage().get(kept_key)
    refused = user.post("/api/v1/aigc_images/create",
                        {"model_id": str(expired.id), "template_image": "http://127.0.0.1:9/"})
    assert refused.status_code == 404
