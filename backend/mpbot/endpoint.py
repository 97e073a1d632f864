"""``/wechat/mp``: the Official Account's message server, an ASGI app beside Django.

WeChat waits 5 s and then retries, so every request is answered within
``WECHAT_MP_REPLY_SECONDS`` (4.5): the conversation runs on this app's own threads (never the
HTTP pool's, which a wait of seconds per follower would exhaust), the job is awaited here,
asynchronously, and its picture becomes the passive reply when it is ready in time. Otherwise
the answer is "正在生成…" and the sender (``delivery``) sends the outcome later. Whatever
finishes after the answer went out is handed over through an ``Exchange``, so it is sent
exactly once, by one of the two.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from backend.mpbot import replies
from backend.mpbot.conversation import Answer, message_receive
from backend.mpbot.delivery import (Outgoing, deliveries_ready, delivery_for_text,
                                    delivery_try_passive, sender_start)
from backend.mpbot.followers import followers_forget_pending
from backend.mpbot.inbound import (Inbound, configured, first_delivery, inbound_open,
                                   reply_body, verification_answer)
from backend.mpbot.messages import MAX_BODY
from core.errors import ServiceError, error_body

log = logging.getLogger(__name__)

PATH = "/wechat/mp"
POLL_SECONDS = 0.2
PASSIVE_BUDGET = 0.6  # seconds kept back to upload the picture and answer
ANSWER_MARGIN = 0.5  # event-loop lag under load: answer by 4.0 s to be out by 4.5

# Three pools, so that slow work never makes quick answers late: "media" for photos and
# recordings (sanitised, faces counted, moderated, uploading results: seconds of CPU each),
# "text" for texts and events (milliseconds), "quick" for the steps every answer needs (the
# retry check, "is the job done?").
_pools: dict[str, ThreadPoolExecutor] = {}
_pool_lock = threading.Lock()
SMALL_POOL_THREADS = 2
MEDIA_TYPES = {"image", "voice"}


def _executor(name: str) -> ThreadPoolExecutor:
    with _pool_lock:
        if name not in _pools:
            size = settings.WECHAT_MP_THREADS if name == "media" else SMALL_POOL_THREADS
            _pools[name] = ThreadPoolExecutor(size, thread_name_prefix=f"mp-{name}")
        return _pools[name]


def _with_connections(fn, *args, **kwargs):
    close_old_connections()
    try:
        return fn(*args, **kwargs)
    finally:
        close_old_connections()


async def _quick(fn, *args):
    """A short step (one query or cache call) off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor("quick"), lambda: _with_connections(fn, *args))


class Exchange:
    """One answer handed from a worker thread to the waiting request, or, once the request has
    answered without it, back to the worker to send some other way."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = False
        self._value = None

    def offer(self, value) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._value = value
            return True

    def peek(self):
        with self._lock:
            return self._value

    def close(self):
        with self._lock:
            self._closed = True
            return self._value


def background_start() -> None:
    """This process's sender, which also retries unfinished deletions (idempotent)."""
    sender_start(housekeeping=(followers_forget_pending,))


async def message_server(scope, receive, send) -> None:
    started = time.monotonic()
    if not configured():
        return await _json(send, 404, "not_found", "No such address.")
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    method = scope["method"]
    try:
        if method == "GET":
            return await _send(send, 200, verification_answer(query).encode(), "text/plain")
        if method != "POST":
            return await _json(send, 405, "method_not_allowed", "Use GET or POST.")
        body = await _body(receive)
        if body is None:
            return await _json(send, 413, "too_large", "A WeChat message is never this large.")
        inbound = inbound_open(query, body)  # no I/O: signatures, AES and XML of ≤ 64 KB
    except ServiceError as exc:
        return await _json(send, exc.status, exc.code, exc.message)
    try:
        background_start()
        data, content_type = await answer(inbound, started=started)
    except Exception:  # noqa: BLE001 - the cache or database is down: WeChat will retry
        log.exception("mp: could not take a message")
        return await _json(send, 503, "unavailable", "Try again shortly.")
    # Server-Timing: how long the answer took here, from the request's arrival.
    await _send(send, 200, data, content_type,
                timing=f"answer;dur={(time.monotonic() - started) * 1000:.0f}")


async def answer(inbound: Inbound, *, started: float) -> tuple[bytes, str]:
    """The reply to one message, within the time WeChat waits."""
    answer_by = started + settings.WECHAT_MP_REPLY_SECONDS - ANSWER_MARGIN
    if not await _quick(first_delivery, inbound.message):
        return b"success", "text/plain; charset=utf-8"  # a retry: the first delivery answers
    reply_by = timezone.now() + timedelta(seconds=answer_by - time.monotonic())
    exchange = Exchange()
    loop = asyncio.get_running_loop()
    pool = "media" if inbound.message.msg_type in MEDIA_TYPES else "text"
    loop.run_in_executor(_executor(pool), lambda: _with_connections(
        _converse, inbound, reply_by, exchange))
    answered = await _awaited(exchange, answer_by)
    if answered is None:
        return reply_body(inbound, text=replies.WORKING)
    if answered.delivery_id is None:
        return reply_body(inbound, text=answered.text)
    outgoing = await _passive(answered.delivery_id, answer_by)
    if outgoing is None:
        return reply_body(inbound, text=answered.text or replies.WORKING)
    return reply_body(inbound, text=outgoing.text, media_id=outgoing.media_id)


def _converse(inbound: Inbound, reply_by, exchange: Exchange) -> None:
    """The conversation's step, on a worker thread; a text it finds after the request was
    answered goes out through the sender."""
    try:
        answered = message_receive(message=inbound.message, reply_by=reply_by)
    except Exception:  # noqa: BLE001 - the follower gets a word, the log the details
        log.exception("mp message failed")
        answered = Answer(text=replies.BUSY)
    if not exchange.offer(answered) and answered.text and answered.delivery_id is None:
        delivery_for_text(openid=inbound.message.from_user, text=answered.text)


# Requests waiting for their job, by delivery id; one watcher per event loop asks the database
# about all of them at once, so 50 waiting followers cost one query per poll, not 50.
_waiting: dict = {}
_watcher: asyncio.Task | None = None


async def _watch() -> None:
    while _waiting:
        try:
            ready = await _quick(deliveries_ready, list(_waiting))
        except Exception:  # noqa: BLE001 - a failed poll is tried again
            log.warning("mp: polling deliveries failed", exc_info=True)
            ready = set()
        for delivery_id in ready:
            event = _waiting.get(delivery_id)
            if event is not None:
                event.set()
        await asyncio.sleep(POLL_SECONDS)


async def _ready_by(delivery_id, until: float) -> bool:
    """Whether the delivery's job is done before ``until`` (a monotonic time)."""
    global _watcher
    event = _waiting.setdefault(delivery_id, asyncio.Event())
    if _watcher is None or _watcher.done():
        _watcher = asyncio.get_running_loop().create_task(_watch())
    try:
        await asyncio.wait_for(event.wait(), timeout=max(0.0, until - time.monotonic()))
        return True
    except TimeoutError:
        return False
    finally:
        _waiting.pop(delivery_id, None)


async def _passive(delivery_id, answer_by: float) -> Outgoing | None:
    """The job's outcome if it is ready in time, prepared (uploaded) within the time left."""
    if not await _ready_by(delivery_id, answer_by - PASSIVE_BUDGET):
        return None
    exchange = Exchange()
    loop = asyncio.get_running_loop()
    loop.run_in_executor(_executor("media"), lambda: _with_connections(
        delivery_try_passive, delivery_id, exchange))
    return await _awaited(exchange, answer_by)


async def _awaited(exchange: Exchange, answer_by: float):
    """What the worker offered by ``answer_by``, or None; after this the worker keeps it."""
    while time.monotonic() < answer_by and exchange.peek() is None:
        await asyncio.sleep(0.02)
    return exchange.close()


async def _body(receive) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send, status: int, data: bytes, content_type: str, timing: str = "") -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(data)).encode())]
    if timing:
        headers.append((b"server-timing", timing.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _json(send, status: int, code: str, message: str) -> None:
    await _send(send, status, json.dumps(error_body(code, message)).encode(), "application/json")
