"""A live ASGI server on the test database, in a subprocess, for tests that speak HTTP and
websockets to the real thing (websocket, browser, WeChat push, talking feed tests): uvicorn with
the Redis channel layer and a real Celery worker on the services stack, ``manage.py serve``
(in-memory layer, in-process worker) embedded."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import REPO, STACK, stop_process


def database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = f"{db['USER']}:{db['PASSWORD']}" if db.get("PASSWORD") else db["USER"]
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, tmp: Path, extra_env: dict | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        # Every test logs in from 127.0.0.1, and with Redis the server shares the per-IP login
        # throttle's count with the test process's own logins.
        env = {**os.environ, "DATABASE_URL": database_url(), "DEV_LOGIN": "1",
               "MX_TEST_MODES": "1", "MEDIA_ROOT": str(tmp / "media"),
               "THROTTLE_AUTH": "10000/min", **(extra_env or {})}
        if STACK == "services":
            cmd = [sys.executable, "-m", "uvicorn", "backend.asgi:application", "--host",
                   "127.0.0.1", "--port", str(self.port), "--lifespan", "off"]
        else:
            cmd = [sys.executable, "manage.py", "serve", "--no-migrate", "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop_process(self.process)

    def client(self, openid: str) -> "Client":
        return Client(self, openid)


class Client:
    """One mini-program user talking HTTP to the live server."""

    def __init__(self, server: LiveServer, openid: str) -> None:
        self.http = httpx.Client(base_url=server.url, timeout=30)
        self.openid = openid
        body = self.http.post("/auth/dev", json={"openid": openid}).json()
        self.token = body["token"]
        self.http.headers["Authorization"] = f"Token {self.token}"

    def start_job(self, photo: bytes, **params) -> str:
        upload = self.http.post("/upload", files={"image": ("photo.jpg", photo, "image/jpeg")})
        assert upload.status_code == 201, upload.text
        job = self.http.post("/generate", json={"upload_id": upload.json()["id"],
                                                "mode": "test_slow", "params": params})
        assert job.status_code == 202, job.text
        return job.json()["job_id"]

    def job(self, job_id: str) -> dict:
        return self.http.get(f"/jobs/{job_id}").json()


@contextmanager
def serving(request, tmp_path_factory, name: str, extra_env: dict | None = None):
    """A live server for a module's tests, whose jobs run where the stack runs them: on the
    shared Celery worker (services) or inside the server (embedded)."""
    if STACK == "services":
        request.getfixturevalue("_celery_worker")
    live = LiveServer(tmp_path_factory.mktemp(name), extra_env)
    try:
        yield live
    finally:
        live.stop()
