"""A request from WeChat, opened: signatures checked, safe mode decrypted, the XML read, the
retry recognised; and the reply closed the same way (encrypted when the request was)."""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from backend.mpbot.crypto import CryptoError, MessageCrypto, signature_valid
from backend.mpbot.messages import (Message, MessageError, encrypted_envelope, message_from,
                                    parse_xml, reply_xml)
from core.errors import BadRequest, Forbidden

SEEN_SECONDS = 3600  # WeChat retries within seconds; a MsgId is remembered for an hour


def configured() -> bool:
    return all((settings.WECHAT_MP_APPID, settings.WECHAT_MP_SECRET, settings.WECHAT_MP_TOKEN,
                settings.WECHAT_MP_ENCODING_AES_KEY))


def _crypto() -> MessageCrypto:
    return MessageCrypto(token=settings.WECHAT_MP_TOKEN, appid=settings.WECHAT_MP_APPID,
                         encoding_aes_key=settings.WECHAT_MP_ENCODING_AES_KEY)


def _signed(query: dict) -> None:
    """The plain signature (sent in both modes) over a fresh timestamp."""
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if not signature_valid((settings.WECHAT_MP_TOKEN, timestamp, nonce), query.get("signature", "")):
        raise Forbidden("The signature does not match; check WECHAT_MP_TOKEN.",
                        code="bad_signature")
    try:
        age = time.time() - int(timestamp)
    except ValueError:
        age = float("inf")
    if not -settings.WECHAT_PUSH_CLOCK_SKEW <= age <= settings.WECHAT_PUSH_MAX_AGE:
        raise Forbidden("The timestamp is too old or in the future.", code="stale_timestamp")


def verification_answer(query: dict) -> str:
    """``GET /wechat/mp``: WeChat checks the server by having it echo ``echostr``."""
    _signed(query)
    return query.get("echostr", "")


@dataclass(frozen=True)
class Inbound:
    message: Message
    encrypted: bool


def inbound_open(query: dict, body: bytes) -> Inbound:
    _signed(query)
    try:
        fields = parse_xml(body)
        if query.get("encrypt_type", "raw").lower() == "aes":
            crypto = _crypto()
            ciphertext = fields.get("Encrypt", "")
            if not crypto.verify(query.get("timestamp", ""), query.get("nonce", ""), ciphertext,
                                 query.get("msg_signature", "")):
                raise Forbidden("msg_signature does not match.", code="bad_signature")
            fields = parse_xml(crypto.decrypt(ciphertext).encode())
            return Inbound(message_from(fields), encrypted=True)
        return Inbound(message_from(fields), encrypted=False)
    except CryptoError as exc:
        raise BadRequest(f"The message could not be decrypted: {exc}.", code="bad_message") from exc
    except MessageError as exc:
        raise BadRequest(f"This is not a WeChat message: {exc}.", code="bad_message") from exc


def first_delivery(message: Message) -> bool:
    """False for WeChat's retries of a message already taken (shared cache: every process)."""
    return cache.add(f"mpbot:seen:{message.dedup_key}", 1, SEEN_SECONDS)


def reply_body(inbound: Inbound, *, text: str = "", media_id: str = "") -> tuple[bytes, str]:
    """The HTTP body and content type; "success" when there is nothing to say."""
    if not text and not media_id:
        return b"success", "text/plain; charset=utf-8"
    message = inbound.message
    xml = reply_xml(to_user=message.from_user, from_user=message.to_user, text=text,
                    media_id=media_id)
    if inbound.encrypted:
        crypto = _crypto()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        ciphertext = crypto.encrypt(xml)
        xml = encrypted_envelope(ciphertext=ciphertext, timestamp=timestamp, nonce=nonce,
                                 msg_signature=crypto.sign(timestamp, nonce, ciphertext))
    return xml.encode(), "application/xml; charset=utf-8"
