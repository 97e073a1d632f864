"""The Official Account's XML: incoming messages read strictly, passive replies written.

Parsing goes through ``defusedxml``: a DTD, an entity (billion laughs, quadratic blow-up) or an
external reference is refused outright, before anything expands, and the body is bounded first.
Pure Python, no Django.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

MAX_BODY = 64 * 1024  # WeChat's messages are a few hundred bytes; anything this large is not one
MAX_FIELDS = 64


class MessageError(ValueError):
    """The body is not a WeChat message we can read."""


@dataclass(frozen=True)
class Message:
    """One push: a user's message (text, image, voice, …) or an event (subscribe, …)."""

    to_user: str  # our account's original id (gh_…)
    from_user: str  # the follower's openid
    create_time: int
    msg_type: str
    fields: dict = field(default_factory=dict)  # every other element, as text

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    @property
    def dedup_key(self) -> str:
        """WeChat retries a message with the same MsgId; an event has none, so its sender and
        CreateTime (and the event) name it."""
        msg_id = self.get("MsgId")
        if msg_id:
            return f"msg:{msg_id}"
        return f"event:{self.from_user}:{self.create_time}:{self.get('Event')}"


def parse_xml(body: bytes) -> dict[str, str]:
    """The root's child elements as text (WeChat's messages are flat; nested ones keep their
    children's text joined). Refuses hostile or oversize XML with MessageError."""
    if len(body) > MAX_BODY:
        raise MessageError("message too large")
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True,
                                 forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise MessageError(f"unreadable XML: {exc.__class__.__name__}") from exc
    if root.tag != "xml":
        raise MessageError("root element is not <xml>")
    children = list(root)
    if len(children) > MAX_FIELDS:
        raise MessageError("too many fields")
    return {child.tag: "".join(child.itertext()).strip() for child in children}


def message_from(fields: dict[str, str]) -> Message:
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except ValueError as exc:
        raise MessageError("CreateTime is not a number") from exc
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise MessageError("FromUserName and MsgType are required")
    rest = {k: v for k, v in fields.items()
            if k not in ("ToUserName", "FromUserName", "CreateTime", "MsgType")}
    return Message(to_user=fields.get("ToUserName", ""), from_user=fields["FromUserName"],
                   create_time=create_time, msg_type=fields["MsgType"].lower(), fields=rest)


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA; split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def reply_xml(*, to_user: str, from_user: str, text: str = "", media_id: str = "",
              now: int | None = None) -> str:
    """A passive reply: a text, or an image by its (temporary) MediaId."""
    head = (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
            f"<FromUserName>{_cdata(from_user)}</FromUserName>"
            f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>")
    if media_id:
        return head + (f"<MsgType>{_cdata('image')}</MsgType>"
                       f"<Image><MediaId>{_cdata(media_id)}</MediaId></Image></xml>")
    return head + f"<MsgType>{_cdata('text')}</MsgType><Content>{_cdata(text)}</Content></xml>"


def encrypted_envelope(*, ciphertext: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    """The safe mode's reply: the encrypted passive reply with its signature."""
    return (f"<xml><Encrypt>{_cdata(ciphertext)}</Encrypt>"
            f"<MsgSignature>{_cdata(msg_signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>")
