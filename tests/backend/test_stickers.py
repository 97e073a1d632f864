"""The sticker mode through the API: templates, the sticker files, the cache, ratings."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.jobs.models import Job, Result
from backend.stickers.models import Rating, StickerTemplate
from tests.backend.test_api_flow import download_bytes


def sticker_job(api, photo: bytes, text: str = "开心", **params) -> dict:
    upload_id = api.upload(photo).json()["id"]
    accepted = api.generate(upload_id, "sticker", params, text=text)
    assert accepted.status_code == 202, accepted.content
    return api.wait(accepted.json()["job_id"])


def test_sticker_from_a_selfie_and_a_feeling(login, astronaut_jpeg, jobs_worker):
    api = login()
    job = sticker_job(api, astronaut_jpeg, "哈哈哈 开心", animated=True)
    assert job["state"] == "succeeded", job
    kinds = {r["kind"]: r for r in job["results"]}
    assert set(kinds) == {"sticker", "preview", "animation", "thumbnail"}
    assert job["metadata"]["expression"]["name"] in {"happy", "laugh"}
    assert job["engine"] and all(r["engine"] == job["engine"] for r in job["results"])

    data, content_type = download_bytes(api, kinds["sticker"]["download_url"])
    sticker = Image.open(io.BytesIO(data))
    assert content_type == "image/png" and sticker.size == (240, 240) and sticker.mode == "RGBA"
    alpha = sticker.getchannel("A")
    assert alpha.getpixel((0, 0)) == 0  # transparent outside the cut-out
    assert alpha.getextrema() == (0, 255)

    gif_bytes, content_type = download_bytes(api, kinds["animation"]["download_url"])
    gif = Image.open(io.BytesIO(gif_bytes))
    assert content_type == "image/gif" and gif.n_frames > 1 and len(gif_bytes) <= 500 * 1024

    # A gallery's thumbnail: a small WebP of the sticker, transparency kept.
    thumb_bytes, content_type = download_bytes(api, kinds["thumbnail"]["download_url"])
    thumb = Image.open(io.BytesIO(thumb_bytes))
    assert content_type == "image/webp" and len(thumb_bytes) <= 60 * 1024
    assert thumb.format == "WEBP" and max(thumb.size) <= 256 and thumb.mode == "RGBA"


@pytest.mark.django_db(transaction=True)
def test_same_request_is_served_from_the_cache(login, astronaut_jpeg, jobs_worker):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    first = api.wait(api.generate(upload_id, "sticker", {"caption": "off"}, text="惊讶").json()["job_id"])
    assert first["state"] == "succeeded", first
    # Same upload, the same feeling written differently, same params: instant and identical.
    accepted = api.generate(upload_id, "sticker", {"caption": "off"}, text=" 惊讶！ ")
    assert accepted.status_code == 202
    second = api.get(f"/jobs/{accepted.json()['job_id']}").json()
    assert second["state"] == "succeeded" and second["metadata"]["cached"] is True
    assert second["id"] != first["id"]
    firsts = {r["kind"]: download_bytes(api, r["download_url"])[0] for r in first["results"]}
    seconds = {r["kind"]: download_bytes(api, r["download_url"])[0] for r in second["results"]}
    assert firsts == seconds
    # Another feeling is new work.
    third = api.generate(upload_id, "sticker", {"caption": "off"}, text="生气").json()
    assert third["state"] == "queued"
    api.wait(third["job_id"])


@pytest.mark.django_db
def test_templates_list_builtin_and_admin_made(login):
    StickerTemplate.objects.create(id="pink-frame", name="粉色", spec={"fill": "#ff66aa"})
    StickerTemplate.objects.create(id="retired", name="旧", active=False)
    listed = login().get("/templates?kind=sticker").json()["results"]
    ids = [t["id"] for t in listed]
    assert "pink-frame" in ids and "retired" not in ids
    assert listed[0]["builtin"] is True and len([t for t in listed if t["builtin"]]) >= 3
    assert login().get("/templates?kind=poster").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("params, text, code", [
    ({"template_id": "nope"}, "开心", "invalid_params"),
    ({"style": "oil"}, "开心", "invalid_params"),
    ({"caption": "这是一个非常非常非常非常长的长长长长长长长长长的标题"}, "开心", "invalid_params"),
    ({}, "", "text_required"),
])
def test_sticker_refuses_bad_params(login, astronaut_jpeg, params, text, code):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    response = api.generate(upload_id, "sticker", params, text=text)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == code
    assert not Job.objects.exists()


@pytest.mark.parametrize("params, text", [
    ({"caption": "一二三四五六七八九十一二三四五六七"}, "开心"),  # 17 characters typed as the caption
    ({}, "今天天气真好我们一起去公园散步吧然后吃饭"),  # the default caption would be this text
])
def test_a_caption_longer_than_two_legible_lines_is_refused_naming_the_limit(
        login, astronaut_jpeg, jobs_worker, params, text):
    from inference.sticker import CAPTION_MAX_CHARS

    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    response = api.generate(upload_id, "sticker", params, text=text)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_params"
    assert str(CAPTION_MAX_CHARS) in response.json()["error"]["message"]
    assert not Job.objects.exists()
    # Exactly at the limit, or with the caption off, the same request is accepted.
    fits = {"caption": "一二三四五六七八九十一二三四五六"} if params else {"caption": False}
    accepted = api.generate(upload_id, "sticker", fits, text=text)
    assert accepted.status_code == 202
    assert api.wait(accepted.json()["job_id"])["state"] == "succeeded"


@pytest.mark.django_db
def test_blocked_words_never_make_a_sticker(login, astronaut_jpeg):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    response = api.generate(upload_id, "sticker", {}, text="傻 逼")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "text_blocked"
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_rating_a_result(login, astronaut_jpeg, staff=None):
    from datetime import timedelta

    from django.utils import timezone

    alice, bob, admin = login(), login(), login(staff=True)
    upload_id = alice.upload(astronaut_jpeg).json()["id"]
    later = timezone.now() + timedelta(hours=1)  # an expired result cannot be rated
    job = Job.objects.create(owner_id=alice.user_id, upload_id=upload_id, mode="sticker",
                             state="succeeded", expires_at=later)
    result = Result.objects.create(job=job, owner_id=alice.user_id, kind="sticker", storage_key="k",
                                   format="png", content_type="image/png", width=240, height=240,
                                   size_bytes=1, engine="procedural-sticker-v1",
                                   metadata={"expression": {"name": "happy"}, "template": "classic"},
                                   expires_at=later)
    url = f"/results/{result.id}/rating"
    for bad in (0, 6, "five", None):
        response = alice.post(url, {"score": bad})
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_input"
    assert bob.post(url, {"score": 5}).status_code == 404
    assert alice.post(url, {"score": 2}).status_code == 201
    assert alice.post(url, {"score": 4}).status_code == 201  # changing one's mind
    assert Rating.objects.get().score == 4

    assert alice.get("/stickers/ratings").status_code == 403
    summary = admin.get("/stickers/ratings").json()
    assert summary["by_expression"] == [{"expression": "happy", "average": 4.0, "count": 1}]
    assert summary["by_template"] == [{"template_id": "classic", "average": 4.0, "count": 1}]


def test_repeat_offenders_are_throttled_harder(login, astronaut_jpeg, settings, jobs_worker):
    settings.MODERATION_OFFENDER_STRIKES = 2
    settings.MODERATION_OFFENDER_RATE = "1/hour"
    api, other = login(), login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    for _ in range(2):
        assert api.generate(upload_id, "sticker", {}, text="傻逼").status_code == 422
    # Two strikes: one more request this hour, then 429 even for clean text.
    codes = [api.generate(upload_id, "sticker", {}, text="开心").status_code for _ in range(2)]
    assert codes[-1] == 429, codes
    assert api.upload(astronaut_jpeg).status_code == 429
    other_upload = other.upload(astronaut_jpeg)
    assert other_upload.status_code == 201  # others are not affected
