"""Django's ASGI handler with its synchronous work done in one hop, on reused threads.

Stock Django under ASGI costs ~10 ms per request before any work: every request gets a fresh
``ThreadSensitiveContext`` (a new thread, so a new database connection), and each synchronous
middleware runs through its own ``sync_to_async`` hops, twice per middleware. This handler runs
the middleware chain and the view synchronously in a single hop, on one of a fixed set of
single-thread executors lent to each request (last used first, so warm threads and their pooled
connections are reused). The request body is read before a thread is lent, so a slow upload
never holds one, and a body over ``max_body`` is refused at once with 413. Websockets are
untouched: Channels serves them. ``redact_signed_query`` keeps signed query strings out of the
server's logs."""
from __future__ import annotations

import asyncio
import json
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import unquote_plus

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.base import BaseHandler
from django.utils import translation
from django.utils.translation import gettext as _

from core.errors import error_body

# Query parameters that sign a request (WeChat's push): whoever reads a log must not be able
# to replay one.
SIGNED_PARAMS = frozenset({"signature", "msg_signature", "timestamp", "nonce", "echostr"})


def scope_language(scope) -> str:
    """The language LocaleMiddleware would choose for this ASGI request, for answers given
    before Django (or outside it): the same Accept-Language header, read the same way."""
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    asked = SimpleNamespace(COOKIES={}, META={"HTTP_ACCEPT_LANGUAGE": header})
    return translation.get_language_from_request(asked)


class PooledASGIHandler(ASGIHandler):
    def __init__(self, threads: int, max_body: int) -> None:
        BaseHandler.__init__(self)
        self.max_body = max_body
        self.load_middleware(is_async=False)
        # Threads start on first use, so a large set costs nothing until it is needed.
        self._executors = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http{i}")
                           for i in range(threads)]
        self._idle: asyncio.LifoQueue | None = None

    def _idle_executors(self) -> asyncio.LifoQueue:
        if self._idle is None:
            self._idle = asyncio.LifoQueue()
            for executor in reversed(self._executors):
                self._idle.put_nowait(executor)
        return self._idle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        body = await self._read_body(scope, receive, send)
        if body is None:
            return

        async def replay():
            return body.pop(0) if body else await receive()

        idle = self._idle_executors()
        executor = await idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, replay, send)
        finally:
            idle.put_nowait(executor)

    async def _read_body(self, scope, receive, send) -> list[dict] | None:
        """The request's body messages, or None when the client left or sent too much."""
        messages, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            size += len(message.get("body", b""))
            if size > self.max_body:
                await self._refuse_too_large(scope, send)
                return None
            messages.append(message)
            if not message.get("more_body"):
                return messages

    async def _refuse_too_large(self, scope, send) -> None:
        with translation.override(scope_language(scope)):
            message = _("The request is larger than %(mb)s MB.") % {"mb": self.max_body // 2**20}
        content = json.dumps(error_body("too_large", message)).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(content)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": content})

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response)(request)


def redact_signed_query(record: logging.LogRecord) -> bool:
    """A log filter for uvicorn's loggers, whose access lines carry the path with its query (and
    an Extras URL's key in its path, backend/talking/keys.py)."""
    if isinstance(record.args, tuple):
        record.args = tuple(_redacted(_EXTRAS_KEY.sub("/st/redacted", arg))
                            if isinstance(arg, str) else arg for arg in record.args)
    return True


_EXTRAS_KEY = re.compile(r"^/st/[^/?]+")


def _redacted(path: str) -> str:
    if "?" not in path:
        return path
    base, _, query = path.partition("?")
    fields = [name + "=redacted" if unquote_plus(name) in SIGNED_PARAMS else field
              for field in query.split("&") for name in [field.partition("=")[0]]]
    return base + "?" + "&".join(fields)
