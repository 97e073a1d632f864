"""``GET /api/talkinghead/result_feed``: the live character as a ``multipart/x-mixed-replace``
stream of JPEG frames, served by this small ASGI app rather than Django (backend/asgi.py routes
the path here): Django's handler lends each request one of a few pool threads until its response
ends, and a feed lasts minutes. Here the connection holds no thread; each frame is rendered on a
render thread, the state is re-read a few times a second (so a set_emotion or start_talking
reaches every web process's feeds), and the feed ends when the client goes away, when the
character is unloaded, when its credential is revoked, or after TALKINGHEAD_FEED_MAX_SECONDS.

A user watches at most TALKINGHEAD_MAX_FEEDS feeds at once, counted across web processes in
Django's cache (Redis in production) as leases on numbered slots: ``cache.add`` takes a free one
atomically, the feed renews it every few seconds and frees it when it ends; a process that dies
mid-feed frees its slots when their leases lapse (a few renewal periods)."""
from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings
from django.core.cache import cache
from PIL import Image

from backend.accounts.auth import token_from_header, user_for_token
from backend.talking.animation import Animator, AnimatorSettings
from backend.talking.character import character_get, character_rig
from backend.talking.keys import (KEY_PREFIX, REVOKED_MESSAGE, key_from_scope,
                                  user_for_extras_key)
from core.errors import error_body
from inference.errors import InferenceError
from inference.talking.rig import Pose, render

PATH = "/api/talkinghead/result_feed"
BOUNDARY = b"frame"
STATE_REFRESH_S = 0.2
# How long a slot whose feed stopped renewing it (its process died) stays taken: a few renewals
# (every TALKINGHEAD_FEED_RECHECK_SECONDS, when the credential is checked again too).
LEASE_RENEWALS = 4


def _lease_seconds() -> int:
    return int(LEASE_RENEWALS * settings.TALKINGHEAD_FEED_RECHECK_SECONDS) + 1
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


async def refuse(send, status: int, code: str, message: str, *,
                  retry_after: int | None = None) -> None:
    body = json.dumps(error_body(code, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def credential_of(scope) -> tuple[str, str] | None:
    """("extras", key) under the Extras URL prefix (the only credential looked at there), else
    the bearer: an Extras key or an API token; None without one."""
    key = key_from_scope(scope)
    if key is not None:
        return "extras", key
    header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
    token = token_from_header(header) if header else None
    if not token:
        return None
    return ("extras", token) if token.startswith(KEY_PREFIX) else ("token", token)


def user_of(credential: tuple[str, str] | None):
    if credential is None:
        return None
    kind, value = credential
    return user_for_extras_key(value) if kind == "extras" else user_for_token(value)


def _slot_key(user_id, slot: int) -> str:
    return f"talkinghead:feed:{user_id}:{slot}"


def feed_lease_take(user_id) -> tuple[str, str] | None:
    """A free feed slot of the user's, taken (its cache key and our lease); None when all
    TALKINGHEAD_MAX_FEEDS are taken."""
    lease = uuid.uuid4().hex
    for slot in range(settings.TALKINGHEAD_MAX_FEEDS):
        key = _slot_key(user_id, slot)
        if cache.add(key, lease, _lease_seconds()):
            return key, lease
    return None


def feed_lease_renew(held: tuple[str, str]) -> bool:
    """Keep the slot; False if it lapsed and another feed took it meanwhile."""
    key, lease = held
    if cache.get(key) == lease and cache.touch(key, _lease_seconds()):
        return True
    return cache.add(key, lease, _lease_seconds())


def feed_lease_release(held: tuple[str, str]) -> None:
    key, lease = held
    if cache.get(key) == lease:
        cache.delete(key)


async def result_feed(scope, receive, send) -> None:
    if scope["method"] not in ("GET", "HEAD"):
        await refuse(send, 405, "method_not_allowed", "Use GET.")
        return
    credential = credential_of(scope)
    user = await database_sync_to_async(user_of)(credential)
    if user is None:
        if credential is not None and credential[0] == "extras":
            await refuse(send, 401, "not_authenticated", REVOKED_MESSAGE)
            return
        await refuse(send, 401, "not_authenticated",
                      "Send your Extras key or token as 'Authorization: Bearer <key>' "
                      "(SillyTavern's Extras API key), or use your Extras URL /st/<key>.")
        return
    state = await sync_to_async(character_get, thread_sensitive=False)(user_id=user.pk)
    if state is None:
        await refuse(send, 404, "no_character",
                      "No character is loaded; POST a picture to /api/talkinghead/load first.")
        return
    held = await sync_to_async(feed_lease_take, thread_sensitive=False)(user.pk)
    if held is None:
        await refuse(send, 429, "too_many_feeds",
                      f"You are already watching {settings.TALKINGHEAD_MAX_FEEDS} live feeds; "
                      "close one (its place is free as soon as it is closed) and try again.",
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
        await sync_to_async(feed_lease_release, thread_sensitive=False)(held)
    if not gone.is_set():
        await send({"type": "http.response.body", "body": b"--" + BOUNDARY + b"--\r\n"})


async def _still_allowed(user_id, credential, held) -> bool:
    """The credential still names the user (not revoked, not deleted) and the slot is ours."""
    user = await database_sync_to_async(user_of)(credential)
    if user is None or user.pk != user_id:
        return False
    return await sync_to_async(feed_lease_renew, thread_sensitive=False)(held)


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
