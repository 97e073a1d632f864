"""The console's websocket route: the Django session's user in ``scope["user"]``."""
from channels.auth import get_user
from channels.sessions import SessionMiddlewareStack
from django.urls import path

from backend.console.consumers import ConsoleConsumer


class SessionUser:
    """Replaces the token middleware's user (none: the console sends no token) with the
    session's (or AnonymousUser)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __call__(self, scope, receive, send):
        return await self.inner({**scope, "user": await get_user(scope)}, receive, send)


websocket_urlpatterns = [
    path("ws/console/", SessionMiddlewareStack(SessionUser(ConsoleConsumer.as_asgi()))),
]
