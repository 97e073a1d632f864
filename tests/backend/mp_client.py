"""Talking to the Official Account's message server as WeChat does, in-process over ASGI."""
from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from backend.asgi import application


def post(fake, xml: str, *, encrypt: bool = False, query: dict | None = None,
         body: bytes | None = None) -> tuple[httpx.Response, float]:
    """WeChat's POST of one message; the response and how long it took (seconds)."""
    signed, data = fake.mp_push(xml, encrypt=encrypt)
    return request("POST", query if query is not None else signed,
                   body if body is not None else data)


def request(method: str, query: dict, body: bytes = b"") -> tuple[httpx.Response, float]:
    async def call():
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://mp.test") as client:
            return await client.request(method, "/wechat/mp", params=query, content=body,
                                        headers={"Content-Type": "text/xml"}, timeout=30)

    started = time.monotonic()
    response = asyncio.run(call())
    return response, time.monotonic() - started


def reply_of(fake, response: httpx.Response, *, encrypted: bool = False) -> dict:
    """The passive reply's fields ({} for "success")."""
    import xml.etree.ElementTree as ET

    assert response.status_code == 200, response.text
    if response.content == b"success":
        return {}
    text = fake.mp_decrypt_reply(response.content) if encrypted else response.text
    root = ET.fromstring(text)
    fields = {child.tag: (child.text or "") for child in root}
    image = root.find("Image")
    if image is not None:
        fields["MediaId"] = image.findtext("MediaId")
    return fields


@pytest.fixture
def mp(fake_wechat_mp, jobs_worker):
    """The fake WeChat as the Official Account's platform, jobs on this stack's worker, and the
    bot's sender stopped after the test (before its database goes)."""
    from backend.mpbot.delivery import sender_stop

    yield fake_wechat_mp
    sender_stop()
