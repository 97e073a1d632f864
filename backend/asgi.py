"""The ASGI entry point: Django for HTTP, Channels consumers behind token auth for websockets.

A websocket authenticates with ``Authorization: Token <t>`` on the handshake (wx.connectSocket
sends headers) or, from a browser, the subprotocols ``token, <t>``; never the query string, which
ends up in access logs."""
import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django.setup(set_prefix=False)

from backend.http import PooledASGIHandler, redact_signed_query  # noqa: E402

from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

# uvicorn logs each path with its query: HTTP on the access logger, websockets on the error one.
for _logger in ("uvicorn.access", "uvicorn.error"):
    logging.getLogger(_logger).addFilter(redact_signed_query)

django_asgi = PooledASGIHandler(threads=settings.HTTP_THREADS,
                                max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

from backend.accounts.auth import token_from_header, user_for_token  # noqa: E402
from backend.console.routing import websocket_urlpatterns as console_urlpatterns  # noqa: E402
from backend.jobs.routing import websocket_urlpatterns  # noqa: E402
from backend.mpbot import endpoint as mp_endpoint  # noqa: E402
from backend.talking import feed  # noqa: E402
from backend.talking.keys import is_extras_path, split_prefixed  # noqa: E402

if settings.TEST_MODES:
    from backend.jobs.modes import testing  # noqa: E402,F401 - registers the test-only modes

if mp_endpoint.configured():
    mp_endpoint.background_start()  # what a previous process left unsent goes out now

PROTOCOL = "token"


def credentials(scope) -> tuple[str | None, str | None]:
    """The token a handshake carries and the subprotocol to answer with (browsers insist the
    server picks one of those they offered)."""
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return token_from_header(value.decode("latin-1")), None
    offered = list(scope.get("subprotocols") or [])
    if PROTOCOL in offered:
        rest = [p for p in offered if p != PROTOCOL]
        return (rest[0] if rest else None), PROTOCOL
    if len(offered) == 1:
        return offered[0], offered[0]
    return None, None


class TokenAuthMiddleware:
    """Puts the token's user (or None) in ``scope["user"]``; the consumer decides what to refuse."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        token, subprotocol = credentials(scope)
        user = await database_sync_to_async(user_for_token)(token) if token else None
        return await self.inner({**scope, "user": user, "subprotocol": subprotocol}, receive, send)


async def http(scope, receive, send):
    """Django, except the talking head's endless feed and the Official Account's message server,
    which must not hold a pool thread while they wait. Under
    an Extras URL (``/st/<key>/...``) only the Extras routes answer, with the key from the path
    as their credential (backend/talking/keys.py)."""
    prefixed = split_prefixed(scope["path"])
    if prefixed is not None:
        key, path = prefixed
        if not is_extras_path(path):
            return await feed.refuse(scope, send, 404, "not_found", _(
                "Under an Extras URL only SillyTavern-extras' routes (/api/modules, "
                "/api/classify, /api/talkinghead/...) answer."))
        scope = {**scope, "path": path, "raw_path": path.encode(), "extras_key": key}
    if scope["path"] == feed.PATH:
        return await feed.result_feed(scope, receive, send)
    if scope["path"] in (mp_endpoint.PATH, mp_endpoint.PATH + "/"):
        return await mp_endpoint.message_server(scope, receive, send)
    return await django_asgi(scope, receive, send)


application = ProtocolTypeRouter({
    "http": http,
    # The console's socket (session-authenticated) first: the jobs' routes end with a catch-all.
    "websocket": TokenAuthMiddleware(URLRouter([*console_urlpatterns, *websocket_urlpatterns])),
})
