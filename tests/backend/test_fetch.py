"""fetch_url reaches public images only: what it refuses before connecting, and its bounds.

A real HTTP(S) server on 127.0.0.1 stands in for the internet; it is reachable only through
the allow-list, exactly as an operator would allow an internal CDN. No test ever opens a
connection anywhere but 127.0.0.1: `guard` fails the test first.
"""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from core.errors import ServiceError
from backend.uploads import fetch as fetch_module
from backend.uploads.fetch import fetch_url
from tests.backend import hostile_images as hostile

IMAGE = hostile.encode(hostile.photo(), "PNG")
LOCAL = ["127.0.0.1/32"]


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Host")))
        url = urlsplit(self.path)
        name = url.path.strip("/").replace("-", "_").replace(".", "_")
        route = getattr(self, "route_" + name, None)
        if route is None:
            self.send_error(404)
            return
        try:
            route(parse_qs(url.query))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def send_body(self, body: bytes, *, length: bool = True):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def route_image_png(self, query):
        self.send_body(IMAGE)

    def route_redirect(self, query):
        self.send_response(int(query.get("status", ["302"])[0]))
        self.send_header("Location", query["to"][0])
        self.send_header("Content-Length", "0")
        self.end_headers()

    def route_loop(self, query):
        self.route_redirect({"to": ["/loop"]})

    def route_big(self, query):
        self.send_body(b"\0" * (2 * 2**20))

    def route_big_unsized(self, query):
        self.send_body(b"\0" * (2 * 2**20), length=False)  # HTTP/1.0: ends when we close

    def route_short(self, query):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(IMAGE[:100])

    def route_drip(self, query):
        # One byte every 50 ms: each read is quick, only a deadline over the whole fetch ends it.
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.drip(b"x" * 60)

    def route_drip_headers(self, query):
        self.wfile.write(b"HTTP/1.0 200 OK\r\n")
        self.drip(b"X-Slow: " + b"y" * 60)

    def route_gate(self, query):
        # Holds the fetch open until the test lets it go, as a slow site would.
        self.server.gate_entered.set()
        self.server.gate.wait(30)
        self.send_body(IMAGE)

    def drip(self, data: bytes):
        for byte in data:  # ends by itself after 3 s whatever the client does
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.05)


def serve(tls: ssl.SSLContext | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.requests = []
    server.gate, server.gate_entered = threading.Event(), threading.Event()
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def server():
    server = serve()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def origin(server):
    server.requests.clear()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def guard(monkeypatch):
    """Records every outgoing connection; one to anywhere but 127.0.0.1 fails the test."""
    connected = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address):
        connected.append(address[0])
        if address[0] != "127.0.0.1":
            raise AssertionError(f"a connection to {address[0]} was attempted")

    monkeypatch.setattr(socket.socket, "connect",
                        lambda self, address: (check(address), real_connect(self, address))[1])
    monkeypatch.setattr(socket.socket, "connect_ex",
                        lambda self, address: (check(address), real_connect_ex(self, address))[1])
    return connected


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: name -> list of answers, one list per lookup (the last repeats)."""
    answers: dict[str, list[list[str]]] = {}
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        queue = answers[host]
        ips = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port)) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, lookups


def fetch(url, **kwargs):
    return fetch_url(url, **{"max_bytes": 2**20, "timeout": 5.0, **kwargs})


def refusal(url, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        fetch(url, **kwargs)
    return caught.value


# --- the happy path --------------------------------------------------------------------------

def test_an_allowed_server_serves_the_image(origin, server, guard):
    assert fetch(f"{origin}/image.png", allowed_networks=LOCAL) == IMAGE
    assert guard == ["127.0.0.1"]
    assert server.requests == [("/image.png", origin.removeprefix("http://"))]


def test_redirects_are_followed_within_the_limit(origin, server, guard):
    url = f"{origin}/redirect?to=/redirect%3Fto%3D/image.png&status=301"
    assert fetch(url, allowed_networks=LOCAL, max_redirects=2) == IMAGE
    assert [path for path, _ in server.requests][-1] == "/image.png"
    assert len(server.requests) == 3


# --- refused before any connection -----------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://[::1]/", "http://localhost.invalid/", "http://10.0.0.1/",
    "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/", "http://100.64.0.1/", "http://0.0.0.0/", "http://0/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:a00:1]/", "http://[::]/",
    "http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/",
    "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::]/", "http://[fe80::1]/",
    "http://224.0.0.1/", "http://255.255.255.255/", "http://198.18.0.1/", "http://240.0.0.1/",
    "https://192.168.0.1:8443/a.png",
])
def test_private_and_reserved_addresses_are_refused_before_connecting(url, guard, dns):
    answers, _ = dns
    answers["localhost.invalid"] = [["127.0.0.1"]]
    error = refusal(url)
    assert (error.status, error.code) == (400, "url_not_allowed")
    assert guard == []


def test_a_local_server_is_refused_without_the_allow_list(origin, server, guard):
    assert refusal(f"{origin}/image.png").code == "url_not_allowed"
    assert guard == [] and server.requests == []


def test_the_allow_list_allows_only_what_it_names(origin, guard):
    port = origin.rsplit(":", 1)[1]
    assert refusal(f"http://127.0.0.2:{port}/image.png", allowed_networks=LOCAL).code \
        == "url_not_allowed"
    assert refusal(f"http://[::1]:{port}/image.png", allowed_networks=LOCAL).code \
        == "url_not_allowed"
    assert guard == []


def test_a_name_that_resolves_to_a_private_address_is_refused(guard, dns):
    answers, lookups = dns
    answers["cdn.example"] = [["10.1.2.3"]]
    assert refusal("https://cdn.example/cat.png").code == "url_not_allowed"
    assert lookups == ["cdn.example"] and guard == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(guard, dns):
    answers, _ = dns
    answers["mixed.example"] = [["93.184.215.14", "2606:2800:21f:cb07::1", "169.254.169.254"]]
    assert refusal("http://mixed.example/cat.png").code == "url_not_allowed"
    assert guard == []


@pytest.mark.parametrize("target", [
    "http://169.254.169.254/latest/meta-data/iam/", "http://10.0.0.1/admin",
    "http://[::1]/", "http://167772161/",  # 10.0.0.1 written as one decimal number
])
def test_a_redirect_to_a_private_address_is_refused_before_connecting_there(
        origin, server, guard, target):
    error = refusal(f"{origin}/redirect?to={target}", allowed_networks=LOCAL)
    assert (error.status, error.code) == (400, "url_not_allowed")
    assert guard == ["127.0.0.1"]  # only the first hop was ever connected


def test_a_redirect_to_another_scheme_is_refused(origin, guard):
    error = refusal(f"{origin}/redirect?to=file:///etc/passwd", allowed_networks=LOCAL)
    assert (error.status, error.code) == (400, "url_scheme_not_allowed")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/a.png", "gopher://127.0.0.1:6379/_INFO",
    "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)", "dict://127.0.0.1:11211/",
])
def test_only_http_and_https_are_fetched(url, guard):
    error = refusal(url)
    assert (error.status, error.code) == (400, "url_scheme_not_allowed")
    assert guard == []


@pytest.mark.parametrize("url", [
    "", "example.com/cat.png", "http://", "http:///cat.png", "http://[::1/", "http://a b.com/",
    "http://example.com:99999/", "http://example.com:0/", "http://exa_mple.com/", "http://example.com\n.evil/",
    "http://user:pass@example.com/", "http://example.com@127.0.0.1/",
    "http://example.com\\@127.0.0.1/",
])
def test_malformed_links_and_userinfo_are_invalid(url, guard):
    error = refusal(url)
    assert (error.status, error.code) == (400, "invalid_url")
    assert guard == []


# --- pinning: the address checked is the address connected -----------------------------------

def test_each_hop_is_resolved_once_and_the_connection_goes_to_that_address(
        server, guard, dns):
    answers, lookups = dns
    port = server.server_address[1]
    # A rebinding resolver: the first answer passes the check, any later one is internal.
    answers["images.example"] = [["127.0.0.1"], ["10.0.0.1"]]
    server.requests.clear()
    assert fetch(f"http://images.example:{port}/image.png", allowed_networks=LOCAL) == IMAGE
    assert lookups == ["images.example"]
    assert guard == ["127.0.0.1"]
    assert server.requests == [("/image.png", f"images.example:{port}")]


def test_every_redirect_hop_is_resolved_and_checked_again(server, guard, dns):
    answers, lookups = dns
    port = server.server_address[1]
    answers["images.example"] = [["127.0.0.1"]]
    answers["internal.example"] = [["192.168.10.10"]]
    start = f"http://images.example:{port}/redirect?to=http://internal.example/secret"
    assert refusal(start, allowed_networks=LOCAL).code == "url_not_allowed"
    assert lookups == ["images.example", "internal.example"]
    assert guard == ["127.0.0.1"]


# --- bounds ----------------------------------------------------------------------------------

def test_a_redirect_loop_ends_after_max_redirects(origin, server, guard):
    error = refusal(f"{origin}/loop", allowed_networks=LOCAL, max_redirects=3)
    assert (error.status, error.code) == (400, "url_too_many_redirects")
    assert len(server.requests) == 4


@pytest.mark.parametrize("route", ["big", "big-unsized"])
def test_a_body_over_max_bytes_is_too_large(origin, guard, route):
    error = refusal(f"{origin}/{route}", allowed_networks=LOCAL, max_bytes=2**20)
    assert (error.status, error.code) == (413, "too_large")


@pytest.mark.parametrize("route", ["drip", "drip-headers"])
def test_a_slow_server_times_out_within_the_bound(origin, guard, route):
    started = time.monotonic()
    error = refusal(f"{origin}/{route}", allowed_networks=LOCAL, timeout=1.0)
    assert (error.status, error.code) == (400, "url_timeout")
    assert time.monotonic() - started < 2.0


def test_an_error_status_is_a_failed_fetch_that_names_it(origin, guard):
    error = refusal(f"{origin}/missing.png", allowed_networks=LOCAL)
    assert (error.status, error.code) == (400, "url_fetch_failed")
    assert "404" in error.message


def test_a_body_shorter_than_announced_is_a_failed_fetch(origin, guard):
    assert refusal(f"{origin}/short", allowed_networks=LOCAL).code == "url_fetch_failed"


def test_a_closed_port_is_a_failed_fetch(guard):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    assert refusal(f"http://127.0.0.1:{port}/", allowed_networks=LOCAL).code \
        == "url_fetch_failed"


def test_an_unknown_host_is_a_failed_fetch(guard, dns):
    assert refusal("http://nowhere.example/cat.png").code == "url_fetch_failed"


# --- https: SNI and certificate checked against the name, not the pinned address --------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=images.example", "-addext", "subjectAltName=DNS:images.example",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server_names = []
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = serve(context)
    server.server_names, server.cert = server_names, cert
    yield server
    server.shutdown()
    server.server_close()


def test_https_verifies_the_certificate(tls_server, guard, dns):
    answers, _ = dns
    answers["images.example"] = [["127.0.0.1"]]
    port = tls_server.server_address[1]
    error = refusal(f"https://images.example:{port}/image.png", allowed_networks=LOCAL)
    assert error.code == "url_fetch_failed" and "certificate" in error.message


def test_https_is_pinned_with_sni_and_checked_against_the_hostname(
        tls_server, guard, dns, monkeypatch):
    answers, lookups = dns
    answers["images.example"] = [["127.0.0.1"]]
    trusting = ssl.create_default_context(cafile=str(tls_server.cert))
    monkeypatch.setattr(fetch_module, "_tls_context", lambda: trusting)
    port = tls_server.server_address[1]
    tls_server.server_names.clear()
    assert fetch(f"https://images.example:{port}/image.png", allowed_networks=LOCAL) == IMAGE
    assert tls_server.server_names == ["images.example"]
    assert lookups == ["images.example"] and guard == ["127.0.0.1"]


# --- sharing the fetch slots -----------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the held upload runs on another thread
def test_a_user_fetches_one_link_at_a_time_and_others_still_can(login, settings, origin, server):
    settings.UPLOAD_URL_ALLOW_NETWORKS = LOCAL
    alice, alice_again, bob = login("o-alice"), login("o-alice"), login("o-bob")
    server.gate.clear()
    server.gate_entered.clear()
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(alice.post, "/upload", {"url": f"{origin}/gate"})
        try:
            assert server.gate_entered.wait(30), "the held fetch never reached the server"
            second = alice_again.post("/upload", {"url": f"{origin}/image.png"})
            other = bob.post("/upload", {"url": f"{origin}/image.png"})
        finally:
            server.gate.set()
        first = held.result(timeout=30)
    assert second.status_code == 429, second.content
    assert second.json()["error"]["code"] == "url_fetch_in_progress"
    assert other.status_code == 201, other.content
    assert first.status_code == 201, first.content
    assert alice_again.post("/upload", {"url": f"{origin}/image.png"}).status_code == 201


@pytest.mark.django_db
def test_a_failed_fetch_frees_the_users_turn(login, settings, origin):
    settings.UPLOAD_URL_ALLOW_NETWORKS = LOCAL
    alice = login()
    failed = alice.post("/upload", {"url": f"{origin}/missing.png"})
    assert failed.json()["error"]["code"] == "url_fetch_failed"
    assert alice.post("/upload", {"url": f"{origin}/image.png"}).status_code == 201
