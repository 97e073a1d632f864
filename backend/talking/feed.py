"""``GET /api/talkinghead/result_feed``: the live character as a ``multipart/x-mixed-replace``
stream of JPEG frames, served by this small ASGI app rather than Django (backend/asgi.py routes
the path here): Django's handler lends each request one of a few pool threads until its response
ends, and a feed lasts minutes. Here the connection holds no thread; each frame is rendered on a
render thread, the state is re-read a few times a second (so a set_emotion or start_talking
reaches every web process's feeds), and the feed ends when the client goes away, when the
character is unloaded, or after TALKINGHEAD_FEED_MAX_SECONDS."""
from __future__ import annotations

import asyncio
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from PIL import Image

from backend.accounts.auth import token_from_header, user_for_token
from backend.talking.animation import Animator, AnimatorSettings
from backend.talking.character import character_get, character_rig
from core.errors import error_body
from inference.errors import InferenceError
from inference.talking.rig import Pose, render

PATH = "/api/talkinghead/result_feed"
BOUNDARY = b"frame"
STATE_REFRESH_S = 0.2
_render_pool = ThreadPoolExecutor(max_workers=settings.TALKINGHEAD_RENDER_THREADS,
                                  thread_name_prefix="talkinghead")


def frame_jpeg(state: dict, pose: Pose) -> bytes:
    frame, _ = render(character_rig(state), pose)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=settings.TALKINGHEAD_JPEG_QUALITY)
    return buffer.getvalue()


def part(jpeg: bytes) -> bytes:
    return (b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
            + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")


async def _refuse(send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Token"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def result_feed(scope, receive, send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await _refuse(send, 405, "method_not_allowed", "Use GET.")
        return
    header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
    token = token_from_header(header) if header else None
    user = await database_sync_to_async(user_for_token)(token) if token else None
    if user is None:
        await _refuse(send, 401, "not_authenticated",
                      "Send your token as 'Authorization: Bearer <token>' (SillyTavern's Extras "
                      "API key).")
        return
    state = await sync_to_async(character_get, thread_sensitive=False)(user_id=user.pk)
    if state is None:
        await _refuse(send, 404, "no_character",
                      "No character is loaded; POST a picture to /api/talkinghead/load first.")
        return

    gone = asyncio.Event()

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch_disconnect())
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"multipart/x-mixed-replace; boundary=" + BOUNDARY),
        (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no")]})
    try:
        if scope["method"] == "GET":
            await _stream(user.pk, state, send, gone)
    finally:
        watcher.cancel()
    if not gone.is_set():
        await send({"type": "http.response.body", "body": b"--" + BOUNDARY + b"--\r\n"})


def _settings_of(state: dict) -> AnimatorSettings:
    return AnimatorSettings(**{"target_fps": settings.TALKINGHEAD_FPS, **state["animator"]})


async def _stream(user_id, state: dict, send, gone: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    animator = Animator(_settings_of(state))
    start = refreshed = time.monotonic()
    end = start + settings.TALKINGHEAD_FEED_MAX_SECONDS
    while not gone.is_set():
        now = time.monotonic()
        if now >= end:
            return
        if now - refreshed >= STATE_REFRESH_S:
            refreshed = now
            state = await sync_to_async(character_get, thread_sensitive=False)(user_id=user_id)
            if state is None:
                return  # unloaded
            animator.settings = _settings_of(state)
        pose = animator.pose(now - start, state["talking"])
        try:
            jpeg = await loop.run_in_executor(_render_pool, frame_jpeg, state, pose)
            await send({"type": "http.response.body", "body": part(jpeg), "more_body": True})
        except InferenceError:
            return  # the picture was deleted (DELETE /me) under the feed
        except OSError:
            gone.set()  # the server found the client gone before we heard of it
            return
        wait = 1.0 / animator.settings.target_fps - (time.monotonic() - now)
        if wait > 0:
            try:
                await asyncio.wait_for(gone.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
