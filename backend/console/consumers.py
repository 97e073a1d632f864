"""``/ws/console/``: a staff member's browser hears of every case that arrives or is decided.

Authenticated by the Django session cookie (the API's sockets take tokens), so it also checks
that the page opening it is ours: a browser sends cookies with a socket opened from any site.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from backend.console.announcements import GROUP
from backend.jobs import events

CLOSE_UNAUTHORIZED = 4401  # no session: sign in again
CLOSE_FORBIDDEN = 4403  # not staff, or opened from another site
MAX_CLIENT_FRAME = 4096


def same_origin(scope) -> bool:
    headers = dict(scope.get("headers", []))
    origin, host = headers.get(b"origin"), headers.get(b"host")
    if origin is None or host is None:
        return False
    return urlsplit(origin.decode("latin-1")).netloc == host.decode("latin-1")


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    joined = False

    async def connect(self) -> None:
        events.remember_server_loop()  # embedded mode: events from worker threads land here
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHORIZED)
        elif not (user.is_active and user.is_staff) or not same_origin(self.scope):
            await self.close(code=CLOSE_FORBIDDEN)
        else:
            await self.channel_layer.group_add(GROUP, self.channel_name)
            self.joined = True
            await self.send_json({"type": "console.ready"})

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        if text_data is None or len(text_data) > MAX_CLIENT_FRAME:
            await self.close(code=1003 if text_data is None else 1009)

    async def disconnect(self, code) -> None:
        if self.joined:
            await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def console_case(self, event: dict) -> None:
        await self.send_json(event)
