"""Fetch an image from a URL a user gave us without letting that URL reach our own network.

Every hop is resolved once, refused if any address is not public, and the connection is pinned
to the address that was checked, so DNS rebinding cannot swap it. Time and size are bounded.
"""
from __future__ import annotations

import functools
import http.client
import io
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, PayloadTooLarge

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECTS = {301, 302, 303, 307, 308}
_HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.?)+$")
_CHUNK = 64 * 1024

# Ranges the ipaddress flags miss or that Python versions disagree on; refused outright.
_NEVER = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4",
    "::/8", "100::/64", "2001::/23", "2001:db8::/32", "64:ff9b:1::/48", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8",
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# getaddrinfo cannot be given a timeout; a lookup runs here so the caller's deadline holds.
_resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="fetch-dns")


@dataclass(frozen=True)
class _Target:
    url: str
    scheme: str
    host: str  # IDNA-encoded name, or an IP literal without brackets
    port: int
    path: str  # path and query, percent-encoded


def fetch_url(url: str, *, max_bytes: int, timeout: float, max_redirects: int = 3,
              allowed_networks: Sequence[str] = ()) -> bytes:
    """The body of `url` after at most `max_redirects` redirects, every hop re-checked.

    `allowed_networks` (CIDR strings) lets an operator reach, say, an internal CDN; addresses
    inside them are accepted even when private.
    """
    allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
    deadline = time.monotonic() + timeout
    for _hop in range(max_redirects + 1):
        target = _parse(url)
        addresses = _resolve(target.host, target.port, deadline)
        for address in addresses:
            if not _may_connect(address, allowed):
                raise BadRequest(_("This link points to a private or reserved address; use a "
                                   "public link to the image, or upload the file itself."),
                                 code="url_not_allowed")
        location = _get(target, addresses, deadline, max_bytes)
        if isinstance(location, bytes):
            return location
        url = urljoin(target.url, location)
    raise BadRequest(_("The link redirected more than %(n)s times; use the final link to the "
                       "image.") % {"n": max_redirects}, code="url_too_many_redirects")


def _parse(url: str) -> _Target:
    invalid = BadRequest(_("This is not a valid link; copy the full http(s):// link to the image."),
                         code="invalid_url")
    if not isinstance(url, str) or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise invalid
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise invalid from exc
    if port == 0:
        raise invalid
    scheme = parts.scheme.lower()
    if not scheme:
        raise invalid
    if scheme not in ("http", "https"):
        raise BadRequest(_("Only http:// and https:// links can be fetched."),
                         code="url_scheme_not_allowed")
    if "@" in parts.netloc or "\\" in parts.netloc:
        # Userinfo is where parsers disagree about which part is the host; never accept it.
        raise BadRequest(_("Links with a user name or password are not accepted; use a public "
                           "link to the image."), code="invalid_url")
    host = parts.hostname or ""
    if not parts.netloc.startswith("["):
        host = host.rstrip(".")
    literal = _ip_literal(host)
    if literal is None:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as exc:
            raise invalid from exc
        if not _HOSTNAME.match(host):
            raise invalid
    else:
        host = str(literal)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        path += "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return _Target(url=url, scheme=scheme, host=host,
                   port=port or (443 if scheme == "https" else 80), path=path)


def _ip_literal(host: str) -> IPAddress | None:
    """An IP written in any form a resolver accepts: 127.0.0.1, 2130706433, 0x7f.1, 0177.1, ::1."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host) and not host.endswith("."):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))  # inet_aton semantics
        except OSError:
            return None
    return None


def _resolve(host: str, port: int, deadline: float) -> list[IPAddress]:
    """Every address the name resolves to, looked up exactly once for this hop."""
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=max(deadline - time.monotonic(), 0))
    except FutureTimeout as exc:
        raise _timeout() from exc
    except (OSError, UnicodeError) as exc:
        raise BadRequest(_("The site %(host)s could not be found; check the link.") % {"host": host},
                         code="url_fetch_failed") from exc
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise BadRequest(_("The site %(host)s could not be found; check the link.") % {"host": host},
                         code="url_fetch_failed")
    return addresses


def _may_connect(address: IPAddress, allowed: list) -> bool:
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if any(address.version == net.version and address in net for net in allowed):
        return True
    return _is_public(address)


def _is_public(address: IPAddress) -> bool:
    if address.version == 6:
        # Addresses that carry an IPv4 address inside are judged by that address.
        if address.ipv4_mapped:
            return _is_public(address.ipv4_mapped)
        if address.sixtofour:
            return _is_public(address.sixtofour)
        if address in _NAT64:
            return _is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if any(address in net for net in _NEVER if net.version == address.version):
        return False
    return address.is_global and not (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_multicast or address.is_reserved or address.is_unspecified)


def _get(target: _Target, addresses: list[IPAddress], deadline: float,
         max_bytes: int) -> bytes | str:
    """The body of a 2xx answer, or the Location of a redirect."""
    connection = _PinnedConnection(target, addresses, deadline)
    response = None
    try:
        connection.request("GET", target.path, headers={
            "User-Agent": "Mengxiang-fetch/1.0", "Accept": "image/*",
            "Accept-Encoding": "identity", "Connection": "close"})
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            location = response.getheader("Location")
            if not location:
                raise _failed(_("The link answered HTTP %(status)s without a target.")
                              % {"status": response.status})
            return location
        if not 200 <= response.status < 300:
            raise _failed(_("The link answered HTTP %(status)s %(reason)s; check that it opens "
                            "in a browser and points to an image.")
                          % {"status": response.status, "reason": response.reason})
        length = response.getheader("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise _too_large(max_bytes)
        body = bytearray()
        while chunk := response.read(min(_CHUNK, max_bytes + 1 - len(body))):
            body += chunk
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
        if response.length:  # http.client returns a short body silently
            raise _failed(_("The site broke off before sending the whole image; try again."))
        return bytes(body)
    except TimeoutError as exc:
        raise _timeout() from exc
    except ssl.SSLCertVerificationError as exc:
        raise _failed(_("The site's certificate is not valid (%(why)s); use a link from a site "
                        "with a valid https certificate.") % {"why": exc.verify_message}) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _failed(_("The site could not be reached or broke off the answer; check the link "
                        "and try again.")) from exc
    finally:
        if response is not None:
            response.close()
        connection.close()


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to the hostname of the URL, over a socket to an address we already checked.

    Reads go through a deadline: no single slow or dripping server can hold a fetch past it.
    """

    def __init__(self, target: _Target, addresses: list[IPAddress], deadline: float) -> None:
        super().__init__(target.host, target.port)
        self._target, self._addresses, self._deadline = target, addresses, deadline

    def connect(self) -> None:
        # A bare socket, not create_connection: that would look the address up once more.
        error: OSError | None = None
        for address in self._addresses:
            family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(_remaining(self._deadline))
                sock.connect((str(address), self.port))
                break
            except TimeoutError:
                sock.close()
                raise
            except OSError as exc:
                sock.close()
                error = exc
        else:
            raise error or OSError("no address to connect to")
        if self._target.scheme == "https":
            sock.settimeout(_remaining(self._deadline))
            sock = _tls_context().wrap_socket(sock, server_hostname=self._target.host)
        self.sock = _DeadlineSocket(sock, self._deadline)


class _DeadlineSocket:
    """The socket methods http.client uses, each bounded by the fetch's deadline.

    Like a real socket, it stays open while a response still reads from it: http.client
    closes the connection as soon as the response says it will end with the stream.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock, self._deadline, self._users = sock, deadline, 1

    def sendall(self, data: bytes) -> None:
        self._sock.settimeout(_remaining(self._deadline))
        self._sock.sendall(data)

    def recv_into(self, buffer) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer)

    def makefile(self, mode: str) -> io.BufferedReader:
        self._users += 1
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        self._users -= 1
        if self._users == 0:
            self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, owner: _DeadlineSocket) -> None:
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._owner.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            self._owner.close()
        super().close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("fetch deadline passed")
    return left


@functools.cache
def _tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _timeout() -> BadRequest:
    return BadRequest(_("The site took too long to send the image; try again, or download it "
                        "and upload the file."), code="url_timeout")


def _failed(message) -> BadRequest:
    return BadRequest(message, code="url_fetch_failed")


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(_("The image at this link is over %(mb)s MB; use a smaller image.")
                           % {"mb": f"{max_bytes / 2**20:.1f}"}, code="too_large")
