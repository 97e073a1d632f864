"""WeChat's message signatures and "safe mode" encryption (the WXBizMsgCrypt scheme).

Plain mode signs each push with sha1 of the sorted token, timestamp and nonce. Safe mode adds a
``msg_signature`` (sha1 of the sorted token, timestamp, nonce and ciphertext) and encrypts the
XML with AES-256-CBC: the key is the 43-character EncodingAESKey base64-decoded (with one ``=``),
the IV its first 16 bytes, and the plaintext is 16 random bytes, the message length (4 bytes,
big-endian), the message and the appid, padded PKCS#7 to a multiple of 32 bytes (not 16: that
is WeChat's own choice, and its servers refuse anything else). Pure Python, no Django.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class CryptoError(ValueError):
    """A message that does not decrypt, does not verify or is not for this appid."""


def signature(*parts: str) -> str:
    """sha1 of the sorted, joined strings: the plain signature (token, timestamp, nonce) and,
    with the ciphertext added, the safe mode's msg_signature."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_valid(expected_parts: tuple[str, ...], given: str) -> bool:
    if not given or not all(expected_parts):
        return False
    return hmac.compare_digest(signature(*expected_parts).encode(),
                               given.encode("utf-8", "replace"))


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("EncodingAESKey is not base64") from exc
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise CryptoError("EncodingAESKey must be 43 characters (32 bytes)")
    return key


class MessageCrypto:
    """Encrypts replies and decrypts pushes for one Official Account."""

    def __init__(self, *, token: str, encoding_aes_key: str, appid: str) -> None:
        self.token, self.appid = token, appid
        self.key = aes_key(encoding_aes_key)

    def _cipher(self) -> Cipher:
        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def encrypt(self, message: str, *, random_prefix: bytes | None = None) -> str:
        body = message.encode()
        prefix = random_prefix if random_prefix is not None else os.urandom(16)
        plain = prefix + struct.pack(">I", len(body)) + body + self.appid.encode()
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            raw = base64.b64decode(ciphertext, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError("Encrypt is not base64") from exc
        if not raw or len(raw) % 16:
            raise CryptoError("Encrypt is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad PKCS#7 padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("message too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("message length past the end")
        message, appid = plain[20:20 + length], plain[20 + length:]
        if not hmac.compare_digest(appid, self.appid.encode()):
            raise CryptoError("message is for another appid")
        try:
            return message.decode()
        except UnicodeDecodeError as exc:
            raise CryptoError("message is not UTF-8") from exc

    def sign(self, timestamp: str, nonce: str, ciphertext: str) -> str:
        return signature(self.token, timestamp, nonce, ciphertext)

    def verify(self, timestamp: str, nonce: str, ciphertext: str, msg_signature: str) -> bool:
        return signature_valid((self.token, timestamp, nonce, ciphertext), msg_signature)
