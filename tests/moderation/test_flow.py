"""Moderation end to end through the mini-program's API. No harmful images exist here, so the
NudeNet rules are set so that a benign detection (the face NudeNet finds on the astronaut photo,
FACE_FEMALE at ~0.8) takes the block and review paths: upload blocked, upload or result held,
approve releases, reject deletes. Jobs run the test-only ``test_slow`` mode (a 64 px thumbnail of
the photo): moderation must not depend on which generator is installed."""
import os

import pytest

from backend.jobs.models import Result
from core.storage import get_storage
from backend.uploads.models import Upload
from moderation.models import ModerationCase
from tests.moderation.conftest import preview_status

os.environ["MX_TEST_MODES"] = "1"  # a Celery worker started by the services stack knows the mode
import backend.jobs.modes.testing  # noqa: E402,F401 - registers test_slow in this process

MODE, PARAMS = "test_slow", {"steps": 1, "delay": 0}
pytestmark = pytest.mark.django_db(transaction=True)

FACE_BLOCKS = {"FACE_FEMALE": ("block", 0.5)}
FACE_HELD = {"FACE_FEMALE": ("review", 0.25)}  # ~0.3 on the thumbnail too


@pytest.fixture(autouse=True)
def _moderation_settings(settings):
    settings.MODERATION_WECHAT = False


def pending_case(staff, subject_type):
    cases = staff.get(f"/moderation/cases?state=pending&subject_type={subject_type}").json()["results"]
    assert len(cases) == 1, cases
    return cases[0]


def test_blocked_upload_is_refused_and_not_stored(login, astronaut_jpeg, settings):
    settings.MODERATION_NUDENET_RULES = FACE_BLOCKS
    api = login()
    response = api.upload(astronaut_jpeg)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "content_blocked"
    assert not Upload.objects.exists()
    case = ModerationCase.objects.get()
    assert (case.subject_type, case.state, case.user_id) == ("upload", "rejected", api.user_id)
    assert not get_storage().exists(case.preview_key)


def test_held_upload_waits_and_approve_releases_the_job(login, astronaut_jpeg, settings, jobs_worker):
    settings.MODERATION_NUDENET_RULES = FACE_HELD
    api, staff = login(), login(staff=True)
    upload = api.upload(astronaut_jpeg).json()
    assert upload["moderation"] == "under_review"
    job_id = api.generate(upload["id"], MODE, PARAMS).json()["job_id"]
    job = api.wait(job_id)
    assert (job["state"], job["error"]) == ("held", None)

    case = pending_case(staff, "upload")
    assert case["subject_id"] == upload["id"] and case["preview_url"]
    assert preview_status(staff.client, case["preview_url"]) == 200  # the moderator sees the photo
    settings.MODERATION_NUDENET_RULES = {}  # the result must not be held again
    assert staff.post(f"/moderation/cases/{case['id']}/approve").status_code == 200
    job = api.wait(job_id)
    assert job["state"] == "succeeded", job
    assert api.get(job["results"][0]["download_url"]).status_code in (200, 302)  # 302: to S3


def test_held_upload_rejected_is_deleted(login, astronaut_jpeg, settings, jobs_worker):
    settings.MODERATION_NUDENET_RULES = FACE_HELD
    api, staff = login(), login(staff=True)
    upload = api.upload(astronaut_jpeg).json()
    key = Upload.objects.get(id=upload["id"]).storage_key
    job_id = api.generate(upload["id"], MODE, PARAMS).json()["job_id"]
    case = pending_case(staff, "upload")
    response = staff.post(f"/moderation/cases/{case['id']}/reject", {"reason": "not allowed"})
    assert response.status_code == 200, response.content
    assert not Upload.objects.filter(id=upload["id"]).exists()
    assert not get_storage().exists(key)
    job = api.wait(job_id)
    assert (job["state"], job["error"]["code"]) == ("blocked", "content_rejected")


# Results are moderated where the job runs. The services stack's Celery worker is another
# process that does not see this test's NudeNet rules, so these tests run their jobs on the
# in-process worker (still against the stack's database and storage).
def held_result(api, staff, astronaut_jpeg, settings):
    upload = api.upload(astronaut_jpeg).json()
    assert upload["moderation"] == "clear"
    settings.MODERATION_NUDENET_RULES = FACE_HELD  # from here on: the result is held
    job_id = api.generate(upload["id"], MODE, PARAMS).json()["job_id"]
    job = api.wait(job_id)
    assert (job["state"], job["error"], job["results"]) == ("held", None, [])
    result = Result.objects.exclude(kind="thumbnail").get(job_id=job_id)
    refused = api.get(f"/download/{result.id}")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "under_review"
    case = pending_case(staff, "result")
    assert case["subject_id"] == str(result.id)
    return job_id, result, case


def test_held_result_is_not_downloadable_until_approved(login, astronaut_jpeg, settings, inprocess_jobs):
    api, staff = login(), login(staff=True)
    job_id, result, case = held_result(api, staff, astronaut_jpeg, settings)
    assert staff.post(f"/moderation/cases/{case['id']}/approve").status_code == 200
    job = api.wait(job_id)
    assert job["state"] == "succeeded" and job["results"][0]["id"] == str(result.id)
    assert api.get(f"/download/{result.id}").status_code in (200, 302)


def test_held_result_rejected_is_deleted(login, astronaut_jpeg, settings, inprocess_jobs):
    api, staff = login(), login(staff=True)
    job_id, result, case = held_result(api, staff, astronaut_jpeg, settings)
    assert staff.post(f"/moderation/cases/{case['id']}/reject", {"reason": "no"}).status_code == 200
    assert not Result.objects.filter(id=result.id).exists()
    assert not get_storage().exists(result.storage_key)
    assert api.get(f"/download/{result.id}").status_code == 404
    job = api.wait(job_id)
    assert (job["state"], job["error"]["code"]) == ("blocked", "content_rejected")


def test_blocked_caption_is_refused(login, astronaut_jpeg):
    api = login()
    upload = api.upload(astronaut_jpeg).json()
    response = api.generate(upload["id"], "sticker", text="賭 博 😀 网站")
    assert response.status_code == 422, response.content
    assert ModerationCase.objects.get().labels[0]["label"] == "gambling"


def test_non_staff_cannot_use_the_queue(login):
    assert login().get("/moderation/cases").status_code == 403


def test_one_held_output_holds_the_whole_result_set(login, astronaut_jpeg, settings, inprocess_jobs):
    """A sticker is three files of one picture: while any is under review none is visible or
    downloadable, and only when every case is approved does the job succeed."""
    api, staff = login(), login(staff=True)
    upload = api.upload(astronaut_jpeg).json()
    settings.MODERATION_NUDENET_RULES = FACE_HELD
    job_id = api.generate(upload["id"], "sticker", {"animated": True}, text="开心").json()["job_id"]
    job = api.wait(job_id)
    assert (job["state"], job["results"]) == ("held", []), job
    rows = list(Result.objects.filter(job_id=job_id))
    # The sticker, its preview, its animation and the gallery thumbnail: all held together.
    assert len(rows) == 4 and all(r.moderation_state == "held" for r in rows)
    for row in rows:
        refused = api.get(f"/download/{row.id}")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "under_review"
    cases = staff.get("/moderation/cases?state=pending&subject_type=result").json()["results"]
    assert cases
    for case in cases[:-1]:
        assert staff.post(f"/moderation/cases/{case['id']}/approve").status_code == 200
        assert api.get(f"/jobs/{job_id}").json()["state"] == "held"  # another case is open
    assert staff.post(f"/moderation/cases/{cases[-1]['id']}/approve").status_code == 200
    job = api.wait(job_id)
    assert job["state"] == "succeeded" and len(job["results"]) == 4  # with the thumbnail
    assert all(api.get(r["download_url"]).status_code in (200, 302) for r in job["results"])


def test_rejecting_one_output_deletes_them_all(login, astronaut_jpeg, settings, inprocess_jobs):
    api, staff = login(), login(staff=True)
    upload = api.upload(astronaut_jpeg).json()
    settings.MODERATION_NUDENET_RULES = FACE_HELD
    job_id = api.generate(upload["id"], "sticker", {}, text="惊讶").json()["job_id"]
    assert api.wait(job_id)["state"] == "held"
    keys = list(Result.objects.filter(job_id=job_id).values_list("storage_key", flat=True))
    case = staff.get("/moderation/cases?state=pending&subject_type=result").json()["results"][0]
    assert staff.post(f"/moderation/cases/{case['id']}/reject", {"reason": "no"}).status_code == 200
    assert not Result.objects.filter(job_id=job_id).exists()
    assert not any(get_storage().exists(key) for key in keys)
    job = api.get(f"/jobs/{job_id}").json()
    assert (job["state"], job["error"]["code"]) == ("blocked", "content_rejected")


def test_a_custom_caption_is_screened_like_the_text(login, astronaut_jpeg):
    api = login()
    upload = api.upload(astronaut_jpeg).json()
    response = api.generate(upload["id"], "sticker", {"caption": "傻逼"}, text="开心")
    assert response.status_code == 422 and response.json()["error"]["code"] == "text_blocked"


def test_a_held_text_waits_behind_a_held_photo(login, astronaut_jpeg, settings, inprocess_jobs):
    settings.MODERATION_NUDENET_RULES = FACE_HELD
    api, staff = login(), login(staff=True)
    upload = api.upload(astronaut_jpeg).json()
    assert upload["moderation"] == "under_review"
    job_id = api.generate(upload["id"], "sticker", {"caption": "off"}, text="加微信 开心").json()["job_id"]
    assert api.get(f"/jobs/{job_id}").json()["state"] == "held"
    photo_case = pending_case(staff, "upload")
    text_case = [c for c in staff.get("/moderation/cases?state=pending").json()["results"]
                 if c["subject_type"] == "text"][0]
    settings.MODERATION_NUDENET_RULES = {}
    assert staff.post(f"/moderation/cases/{photo_case['id']}/approve").status_code == 200
    job = api.get(f"/jobs/{job_id}").json()
    assert (job["state"], job["error"]) == ("held", None)  # the text's turn
    assert staff.post(f"/moderation/cases/{text_case['id']}/approve").status_code == 200
    assert api.wait(job_id)["state"] == "succeeded"
