"""The web process's HTTP handler (backend/http.py) on a real uvicorn: oversized bodies are
refused before they are held in memory, and a slow uploader never holds a worker thread."""
from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from tests.backend.test_websocket import LiveServer


@pytest.fixture(scope="module")
def one_thread_server(django_db_setup, tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("http"), extra_env={
        "HTTP_THREADS": "1", "UPLOAD_MAX_BYTES": str(2 * 2**20)})
    yield live
    live.stop()


def test_an_oversized_body_is_refused_with_413(one_thread_server):
    too_big = b"\0" * (3 * 2**20)
    response = httpx.post(f"{one_thread_server.url}/upload", content=too_big, timeout=30,
                          headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert httpx.get(f"{one_thread_server.url}/healthz", timeout=10).json() == {"status": "ok"}


def test_the_request_limit_and_the_photo_limit_name_the_same_size(one_thread_server):
    token = httpx.post(f"{one_thread_server.url}/auth/dev", json={"openid": "sizes"},
                       timeout=10).json()["token"]
    headers = {"Authorization": f"Token {token}"}
    request_refused = httpx.post(f"{one_thread_server.url}/upload", content=b"\0" * (3 * 2**20),
                                 headers={**headers, "Content-Type": "image/jpeg"}, timeout=30)
    photo_refused = httpx.post(f"{one_thread_server.url}/upload", headers=headers, timeout=30,
                               files={"image": ("big.jpg", b"\xff\xd8" + b"\0" * (2 * 2**20))})
    assert request_refused.status_code == photo_refused.status_code == 413
    # Whatever the language (the photo's refusal is in Chinese by default), the same size.
    assert "2 MB" in request_refused.json()["error"]["message"]
    assert "2 MB" in photo_refused.json()["error"]["message"]


def test_a_slow_upload_does_not_hold_the_only_thread(one_thread_server):
    port = one_thread_server.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        slow.sendall(b"POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                     b"Content-Length: 10000\r\n\r\n" + b"\xff\xd8" + b"\0" * 100)
        # The upload is still arriving; the server's single thread must serve others meanwhile.
        for _ in range(3):
            assert httpx.get(f"{one_thread_server.url}/healthz", timeout=10).status_code == 200
        unauthorised = httpx.get(f"{one_thread_server.url}/jobs", timeout=10)
        assert unauthorised.status_code == 401


@pytest.mark.django_db
def test_the_request_limit_and_the_photo_limit_name_the_same_size(login, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from backend.http import PooledASGIHandler

    handler = PooledASGIHandler(threads=1, max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"\0" * (handler.max_body + 1)}

    async def send(message):
        sent.append(message)

    asyncio.run(handler({"type": "http", "method": "POST", "path": "/upload"}, receive, send))
    request_refused = json.loads(sent[-1]["body"])["error"]
    photo = SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\0" * settings.UPLOAD_MAX_BYTES)
    photo_refused = login().client.post("/upload", {"image": photo}, format="multipart")
    assert (sent[0]["status"], photo_refused.status_code) == (413, 413)
    assert "10 MB" in request_refused["message"]  # in any language: the same size
    assert "10 MB" in photo_refused.json()["error"]["message"]
