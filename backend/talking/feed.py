"""``GET /api/talkinghead/result_feed``: the live character as a ``multipart/x-mixed-replace``
stream of JPEG frames, served by this small ASGI app rather than Django (backend/asgi.py routes
the path here): Django's handler lends each request one of a few pool threads until its response
ends, and a feed lasts minutes. Here the connection holds no thread; each frame is rendered on a
render thread, the state is re-read a few times a second (so a set_emotion or start_talking
reaches every web process's feeds), and the feed ends when the client goes away, when the
character is unloaded, when its credential is revoked, or after TALKINGHEAD_FEED_MAX_SECONDS.

A user watches at most TALKINGHEAD_MAX_FEEDS feeds at once (backend/talking/places.py); a feed
holds its place until it ends, renewing it whenever it checks its credential again."""
from __future__ import annotations

import asyncio
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from PIL import Image

from backend.talking.animation import Animator, AnimatorSettings
from backend.http import scope_language
from backend.talking.character import NO_CHARACTER, character_get, character_rig
from backend.talking.keys import REVOKED_MESSAGE, credential_of, user_of
from backend.talking.places import feed_place_release, feed_place_renew, feed_place_take
from core.errors import error_body
from inference.errors import InferenceError
from inference.talking.rig import Pose, render

PATH = "/api/talkinghead/result_feed"
BOUNDARY = b"frame"
STATE_REFRESH_S = 0.2
_render_pool = ThreadPoolExecutor(max_workers=settings.TALKINGHEAD_RENDER_THREADS,
                                  thread_name_prefix="talkinghead")


def frame_jpeg(state: dict, pose: Pose) -> bytes:
    frame, _landmarks = render(character_rig(state), pose)
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=settings.TALKINGHEAD_JPEG_QUALITY)
    return buffer.getvalue()


def part(jpeg: bytes) -> bytes:
    return (b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
            + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")


async def refuse(scope, send, status: int, code: str, message, values: dict | None = None, *,
                 retry_after: int | None = None) -> None:
    """An error answered before the feed starts, in the language the request asks for (this
    app is outside Django, so no LocaleMiddleware chose it): ``message`` is marked lazily and
    filled with ``values`` in that language."""
    with translation.override(scope_language(scope)):
        text = str(message) % values if values else str(message)
    body = json.dumps(error_body(code, text)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def result_feed(scope, receive, send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await refuse(scope, send, 405, "method_not_allowed", _("Use GET."))
        return
    credential = credential_of(scope)
    user = await database_sync_to_async(user_of)(credential)
    if user is None:
        if credential is not None and credential[0] == "extras":
            await refuse(scope, send, 401, "not_authenticated", REVOKED_MESSAGE)
            return
        await refuse(scope, send, 401, "not_authenticated",
                     _("Send your Extras key or token as 'Authorization: Bearer <key>' "
                       "(SillyTavern's Extras API key), or use your Extras URL /st/<key>."))
        return
    state = await sync_to_async(character_get, thread_sensitive=False)(user_id=user.pk)
    if state is None:
        await refuse(scope, send, 404, "no_character", NO_CHARACTER)
        return
    held = await sync_to_async(feed_place_take, thread_sensitive=False)(user.pk)
    if held is None:
        await refuse(scope, send, 429, "too_many_feeds",
                     _("You are already watching %(n)s live feeds; close one (its place is "
                       "free as soon as it is closed) and try again."),
                     {"n": settings.TALKINGHEAD_MAX_FEEDS},
                     retry_after=max(1, round(settings.TALKINGHEAD_FEED_RECHECK_SECONDS)))
        return

    gone = asyncio.Event()

    async def watch_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.create_task(watch_disconnect())
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"multipart/x-mixed-replace; boundary=" + BOUNDARY),
            (b"cache-control", b"no-store"), (b"x-accel-buffering", b"no"),
            (b"referrer-policy", b"no-referrer")]})
        if scope["method"] == "GET":
            await _stream(user.pk, state, send, gone, credential=credential, held=held)
    finally:
        watcher.cancel()
        await sync_to_async(feed_place_release, thread_sensitive=False)(held)
    if not gone.is_set():
        await send({"type": "http.response.body", "body": b"--" + BOUNDARY + b"--\r\n"})


async def _still_allowed(user_id, credential, held) -> bool:
    """The credential still names the user (not revoked, not deleted); the place is still ours."""
    user = await database_sync_to_async(user_of)(credential)
    if user is None or user.pk != user_id:
        return False
    return await sync_to_async(feed_place_renew, thread_sensitive=False)(held)


def _settings_of(state: dict) -> AnimatorSettings:
    return AnimatorSettings(**{"target_fps": settings.TALKINGHEAD_FPS, **state["animator"]})


async def _stream(user_id, state: dict, send, gone: asyncio.Event, *, credential,
                  held) -> None:
    loop = asyncio.get_running_loop()
    animator = Animator(_settings_of(state))
    start = refreshed = checked = time.monotonic()
    end = start + settings.TALKINGHEAD_FEED_MAX_SECONDS
    while not gone.is_set():
        now = time.monotonic()
        if now >= end:
            return
        if now - checked >= settings.TALKINGHEAD_FEED_RECHECK_SECONDS:
            checked = now
            if not await _still_allowed(user_id, credential, held):
                return  # the key was revoked or the account deleted
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
