"""Many jobs at once on one worker's threads give the very pictures each job gives alone (issue
#10.1: stickers of a suit, a flag, an upside-down flag with eyes, all ``succeeded``, when a
shared face detector was used by two jobs at once). Each job is submitted by its own user so
that the sticker cache never answers one job with another's result."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.backend.test_api_flow import download_bytes
from tests.conftest import STACK, fixture_photo

# (photo, mode, params, text): stickers and anime avatars on three faces, two of each kind.
JOBS = [
    ("obama.jpg", "sticker", {}, "开心"),
    ("biden.jpg", "sticker", {}, "惊讶"),
    ("astronaut", "sticker", {}, "666"),
    ("biden.jpg", "sticker", {"style": "anime", "caption": False}, "哈哈"),
    ("obama.jpg", "anime", {"mode": "avatar"}, ""),
    ("biden.jpg", "anime", {"mode": "avatar"}, ""),
    ("astronaut", "anime", {"mode": "avatar"}, ""),
    ("obama.jpg", "anime", {"mode": "avatar", "strength": 0.9}, ""),
]


@pytest.fixture
def photos(astronaut_jpeg) -> dict[str, bytes]:
    photos = {name: fixture_photo(name).read_bytes() for name in ("obama.jpg", "biden.jpg")}
    return {**photos, "astronaut": astronaut_jpeg}


def submit(login, photos: dict[str, bytes], job) -> tuple:
    photo, mode, params, text = job
    api = login()
    upload = api.upload(photos[photo])
    assert upload.status_code == 201, upload.content
    accepted = api.generate(upload.json()["id"], mode, params, text)
    assert accepted.status_code == 202, accepted.content
    return api, accepted.json()["job_id"]


def outcome(api, job_id) -> tuple:
    """What the user gets: the faces the job found, and every result's pixels."""
    job = api.wait(job_id, timeout=280)
    assert job["state"] == "succeeded", job
    pictures = []
    for result in job["results"]:
        data, _ = download_bytes(api, result["download_url"])
        pictures.append((result["kind"], np.asarray(Image.open(io.BytesIO(data)).convert("RGBA"))))
    return job["metadata"].get("faces"), pictures


def same(a: tuple, b: tuple) -> bool:
    (faces_a, pictures_a), (faces_b, pictures_b) = a, b
    return faces_a == faces_b and len(pictures_a) == len(pictures_b) and all(
        kind_a == kind_b and np.array_equal(pixels_a, pixels_b)
        for (kind_a, pixels_a), (kind_b, pixels_b) in zip(pictures_a, pictures_b))


def assert_together_as_alone(login, photos) -> None:
    submitted = [submit(login, photos, job) for job in JOBS]  # queued at once, run 4 at a time
    together = [outcome(api, job_id) for api, job_id in submitted]

    alone = [outcome(*submit(login, photos, job)) for job in JOBS]  # each waits for the last

    differing = [job for job, a, b in zip(JOBS, together, alone) if not same(a, b)]
    assert not differing, f"{len(differing)} of {len(JOBS)} jobs differ when run at once"


def test_jobs_at_once_on_the_embedded_runner_give_what_each_gives_alone(
        login, photos, settings, inprocess_jobs):
    from backend.jobs import runner

    runner.wait_idle()  # the next job starts a pool of the size set here
    settings.INPROCESS_WORKERS = 4

    assert_together_as_alone(login, photos)


@pytest.mark.services
@pytest.mark.skipif(STACK != "services", reason="needs Redis and a Celery worker")
def test_jobs_at_once_on_a_threaded_celery_worker_give_what_each_gives_alone(
        login, photos, threaded_celery_worker):
    assert_together_as_alone(login, photos)


def test_a_job_whose_detector_returns_an_impossible_face_fails_instead_of_drawing_it(
        login, photos, inprocess_jobs, monkeypatch):
    import dlib

    from inference.faces import models

    class Corrupted:
        """What a dlib detector used by two threads at once returned."""

        def run(self, image, upsample, threshold):
            return [dlib.rectangle(-400, 900, -100, 1200)], [2.6e38], [0]

    monkeypatch.setattr(models, "hog_detector", Corrupted)
    api, job_id = submit(login, photos, JOBS[0])

    job = api.wait(job_id)

    assert (job["state"], job["error"]["code"]) == ("failed", "bad_detection")
    assert job["results"] == []
