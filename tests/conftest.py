"""Fixtures shared by every test: the stack under test, logged-in clients, job waiting, and a
real Celery worker process when the suite runs against the production stack.

MX_TEST_STACK=services (set by scripts/test with DATABASE_URL, REDIS_URL and S3_*) runs jobs on
a real Celery worker; embedded runs them on the in-process worker."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FACES = SHARED / "fixtures" / "faces"
STACK = os.environ.get("MX_TEST_STACK") or ("services" if os.environ.get("REDIS_URL") else "embedded")
# Where a job stops moving: ended, held for a moderator, or (voice) waiting for its owner to
# confirm what was heard.
TERMINAL = {"succeeded", "failed", "blocked", "expired", "cancelled", "held",
            "awaiting_confirmation"}

from tests.fakes.wechat import fake_wechat, fake_wechat_mp  # noqa: E402,F401 - fixtures


def pytest_report_header(config):
    return f"mengxiang stack: {STACK}"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path, monkeypatch):
    """Dev login on, generous throttles, and (embedded) a fresh storage folder per test."""
    from rest_framework.throttling import SimpleRateThrottle

    from backend.accounts.auth import forget_cached_tokens
    from core.storage import reset_storage

    settings.DEV_LOGIN = True
    for scope in list(SimpleRateThrottle.THROTTLE_RATES):
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, scope, "100000/min")
    if not settings.S3_ENDPOINT:
        settings.MEDIA_ROOT = tmp_path / "media"
    reset_storage()
    forget_cached_tokens()
    # The word lists as this test's database has them (an earlier test's words, cached for up to
    # MODERATION_WORDLIST_RELOAD_SECONDS, must not judge this one's texts).
    from moderation import selectors as moderation_selectors

    moderation_selectors._current["checked_at"] = 0.0
    yield
    from backend.jobs import runner

    runner.wait_idle()  # no job thread outlives its test
    reset_storage()


def fixture_photo(name: str) -> Path:
    path = FACES / name
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/fixtures is only beside the repo in CI)")
    return path


@pytest.fixture
def astronaut_jpeg() -> bytes:
    """A real photo with a face, bundled with scikit-image."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


class Api:
    """A DRF test client logged in as one mini-program user."""

    def __init__(self, client, login: dict) -> None:
        self.client, self.login = client, login
        self.user_id = login["user"]["id"]

    def upload(self, data: bytes, name: str = "photo.jpg", **extra):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return self.client.post("/upload", {"image": SimpleUploadedFile(name, data)},
                                format="multipart", **extra)

    def generate(self, upload_id, mode: str = "anime", params=None, text: str = "", **extra):
        return self.client.post("/generate", {"upload_id": str(upload_id), "mode": mode,
                                              "params": params or {}, "text": text},
                                format="json", **extra)

    def get(self, path: str, **extra):
        return self.client.get(path, **extra)

    def post(self, path: str, data=None, **extra):
        return self.client.post(path, data or {}, format="json", **extra)

    def wait(self, job_id, timeout: float = 180.0) -> dict:
        """Poll GET /jobs/{id} until the job stops moving (``TERMINAL``); return its last
        state."""
        deadline = time.monotonic() + timeout
        while True:
            body = self.client.get(f"/jobs/{job_id}").json()
            if body.get("state") in TERMINAL or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


@pytest.fixture
def login():
    """``login(openid=None, staff=False) -> Api``: a fresh user through POST /auth/dev."""
    from rest_framework.test import APIClient

    def make(openid: str | None = None, *, staff: bool = False) -> Api:
        client = APIClient()
        body = client.post("/auth/dev", {"openid": openid or f"o{uuid.uuid4().hex[:20]}"},
                           format="json").json()
        if staff:
            from django.contrib.auth import get_user_model

            get_user_model().objects.filter(id=body["user"]["id"]).update(is_staff=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
        return Api(client, body)

    return make


@pytest.fixture(scope="session")
def _celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """One real Celery worker process on the test database (services stack only)."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
           if db.get("PASSWORD") else f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    proc = start_celery_worker(url, log_path)
    yield {"process": proc, "log": log_path, "database_url": url}
    stop_process(proc)


def start_celery_worker(database_url: str, log_path: Path, *, concurrency: int = 2,
                        extra_env: dict | None = None, pool: str = "prefork",
                        queues: str = "cpu,gpu") -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "DEV_LOGIN": "1", **(extra_env or {})}
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", queues,
             "--concurrency", str(concurrency), "--pool", pool, "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel", "INFO",
             "-n", f"test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: {log_path.read_text()[-3000:]}")
        if b" ready." in log_path.read_bytes():
            return proc
        time.sleep(0.3)
    stop_process(proc)
    raise RuntimeError(f"celery worker did not start: {log_path.read_text()[-3000:]}")


def stop_process(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()


@pytest.fixture
def threaded_celery_worker(django_db_setup, transactional_db, tmp_path, monkeypatch):
    """A real Celery worker running 4 jobs at once on threads of one process (``-P threads``),
    as a threaded production worker would; the test's sticker and anime jobs are routed to a
    queue of its own, so the shared prefork worker never takes them (services stack only)."""
    from dataclasses import replace

    from backend.jobs.pipelines import REGISTRY
    from tests.backend.test_websocket import database_url

    queue = f"threads-{uuid.uuid4().hex[:8]}"
    for mode in ("sticker", "anime"):
        monkeypatch.setitem(REGISTRY, mode, replace(REGISTRY[mode], queue=queue))
    log_path = tmp_path / "threaded-worker.log"
    proc = start_celery_worker(database_url(), log_path, concurrency=4, pool="threads",
                               queues=queue)
    yield {"process": proc, "log": log_path}
    stop_process(proc)


@pytest.fixture
def jobs_worker(request, transactional_db):
    """Whoever runs jobs in this stack: the real Celery worker (services) or the in-process pool
    (embedded). Tests that generate request it; it also makes the test transactional, since the
    worker reads the jobs from its own database connection."""
    if STACK == "services":
        yield request.getfixturevalue("_celery_worker")
    else:
        yield None
        from backend.jobs import runner

        runner.wait_idle()


@pytest.fixture
def inprocess_jobs(settings, transactional_db):
    """Jobs run on the in-process worker in this test whatever the stack, so that per-test
    settings reach the code that runs them."""
    from backend.jobs import runner

    settings.TASK_RUNNER = "inprocess"
    yield
    runner.wait_idle()
