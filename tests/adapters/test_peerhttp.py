"""Peer fetches contact only the peer's checked address and origin, and stop on time and size.

Every test talks to real servers on 127.0.0.1 ephemeral ports (raw sockets in threads, so a
test can make a server misbehave: answer slowly, never, or without end). Whether the client
tried to connect anywhere is observed through the interpreter's `socket.connect` audit event,
which does not depend on how the adapter is written.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cltd.adapters.peerhttp import (
    CHUNK_SIZE,
    REASONS,
    PeerFetcher,
    PeerFetchError,
    Resolver,
    is_forbidden_address,
)

# Short limits keep the whole file to a few seconds.
FAST = {"connect_timeout": 0.5, "read_timeout": 0.5, "total_timeout": 3.0}

# (connection, request head, server stopping) -> writes an answer
Handler = Callable[[socket.socket, bytes, threading.Event], None]


# -- observing connection attempts ------------------------------------------------------------

_recorded_connects: list[object] | None = None


def _record_connects(event: str, args: tuple[object, ...]) -> None:
    if event == "socket.connect" and _recorded_connects is not None:
        _recorded_connects.append(args[1])


# Audit hooks cannot be removed; this one only records while a test asks it to.
sys.addaudithook(_record_connects)


@pytest.fixture
def connect_attempts() -> Iterator[list[object]]:
    global _recorded_connects
    _recorded_connects = []
    try:
        yield _recorded_connects
    finally:
        _recorded_connects = None


# -- local servers ------------------------------------------------------------------------------


class LocalServer:
    """Accepts on 127.0.0.1:<ephemeral>, reads each request head, then runs handle()."""

    def __init__(self, handle: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.server_names: list[str | None] = []
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self.threads[0].start()

    def url(self, path: str = "/", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            connection.settimeout(2)
            if self.tls is not None:
                connection = self.tls.wrap_socket(connection, server_side=True)
            head = b""
            while b"\r\n\r\n" not in head:
                data = connection.recv(4096)
                if not data:
                    return
                head += data
            self.requests.append(head)
            self.handle(connection, head, self.stopping)
        except OSError:
            pass  # the client hung up or failed the TLS handshake: part of several tests
        finally:
            connection.close()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(timeout=3)


@pytest.fixture
def serve() -> Iterator[Callable[..., LocalServer]]:
    servers: list[LocalServer] = []

    def start(handle: Handler, tls: ssl.SSLContext | None = None) -> LocalServer:
        servers.append(LocalServer(handle, tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def answer(
    status: int = 200,
    body: bytes = b"",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Handler:
    def handle(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        lines = [f"HTTP/1.1 {status} Whatever", f"Content-Type: {content_type}"]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return handle


def redirect(location: Callable[[], str] | str, status: int = 302) -> Handler:
    def handle(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        target = location() if callable(location) else location
        answer(status, headers={"Location": target})(connection, head, stopping)

    return handle


def routes(table: dict[str, Handler]) -> Handler:
    def handle(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        path = head.split(b" ", 2)[1].decode()
        table.get(path, answer(404))(connection, head, stopping)

    return handle


def never_answer(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    stopping.wait(10)


def endless_body(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
    # No Content-Length: the body ends when the server closes, which it never does.
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    block = b"[" * CHUNK_SIZE
    while not stopping.is_set():
        connection.sendall(block)


def dribble(start_with_headers: bool, every: float) -> Handler:
    body = json.dumps({"padding": "x" * 1000}).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def handle(connection: socket.socket, _: bytes, stopping: threading.Event) -> None:
        if not start_with_headers:
            connection.sendall(head)
        for byte in [head[i : i + 1] for i in range(len(head))] * start_with_headers + [
            body[i : i + 1] for i in range(len(body))
        ]:
            connection.sendall(byte)
            if stopping.wait(every):
                return

    return handle


GOOD_JSON = json.dumps({"name": "Riverside trust"}).encode()


def resolver_for(mapping: dict[str, list[str]], calls: list[tuple[str, int]]) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        calls.append((host, port))
        return mapping[host]

    return resolve


def no_resolving(host: str, port: int) -> list[str]:
    raise AssertionError(f"an IP literal was looked up: {host}")


def refusal(fetcher: PeerFetcher, url: str) -> PeerFetchError:
    with pytest.raises(PeerFetchError) as caught:
        fetcher.get(url)
    assert caught.value.reason in REASONS
    return caught.value


# -- the ordinary case ------------------------------------------------------------------------


def test_a_json_document_is_fetched_from_a_loopback_peer_when_allowed(
    serve: Callable[..., LocalServer],
) -> None:
    server = serve(answer(body=GOOD_JSON, content_type="application/ld+json"))
    response = PeerFetcher(allow_loopback=True, **FAST).get(server.url("/catalog?page=2"))
    assert response.status == 200
    assert response.url == server.url("/catalog?page=2")
    assert response.content_type == "application/ld+json"
    assert response.body == GOOD_JSON
    assert response.json() == {"name": "Riverside trust"}
    request = server.requests[0].decode()
    assert request.startswith("GET /catalog?page=2 HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{server.port}\r\n" in request
    assert "\r\nAccept-Encoding: identity\r\n" in request


def test_get_json_returns_the_parsed_document(serve: Callable[..., LocalServer]) -> None:
    server = serve(answer(body=GOOD_JSON))
    assert PeerFetcher(allow_loopback=True, **FAST).get_json(server.url()) == {
        "name": "Riverside trust"
    }


# -- addresses -------------------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed_and_nothing_is_contacted(
    serve: Callable[..., LocalServer], connect_attempts: list[object]
) -> None:
    server = serve(answer(body=GOOD_JSON))
    error = refusal(PeerFetcher(**FAST), server.url())
    assert error.reason == "forbidden-address"
    assert "127.0.0.1" in str(error)
    assert connect_attempts == []
    assert server.connections == 0


LOOPBACK = ["127.0.0.1", "127.1.2.3", "[::1]"]
NEVER_ALLOWED = [
    "0.0.0.0",  # noqa: S104 - an address to refuse, not one to bind
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "169.254.169.254",
    "169.254.1.1",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "100.64.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "224.0.0.1",
    "[ff02::1]",
    "240.0.0.1",
    "255.255.255.255",
    "[2002:7f00:1::]",  # 6to4 wrapping 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 wrapping 169.254.169.254
]


@pytest.mark.parametrize("host", LOOPBACK + NEVER_ALLOWED)
def test_a_private_or_special_literal_address_is_refused_without_connecting(
    host: str, connect_attempts: list[object]
) -> None:
    fetcher = PeerFetcher(resolver=no_resolving, **FAST)
    assert refusal(fetcher, f"http://{host}:8080/").reason == "forbidden-address"
    assert connect_attempts == []


@pytest.mark.parametrize("host", NEVER_ALLOWED)
def test_allowing_loopback_does_not_allow_anything_else(
    host: str, connect_attempts: list[object]
) -> None:
    fetcher = PeerFetcher(allow_loopback=True, resolver=no_resolving, **FAST)
    assert refusal(fetcher, f"https://{host}/").reason == "forbidden-address"
    assert connect_attempts == []


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "addresses",
    [["169.254.169.254"], ["93.184.215.14", "10.0.0.1"], ["fe80::1", "93.184.215.14"]],
)
def test_a_name_resolving_to_any_forbidden_address_is_refused(
    addresses: list[str], connect_attempts: list[object]
) -> None:
    calls: list[tuple[str, int]] = []
    fetcher = PeerFetcher(resolver=resolver_for({"peer.test": addresses}, calls), **FAST)
    error = refusal(fetcher, "https://peer.test/catalog")
    assert error.reason == "forbidden-address"
    assert "peer.test" in str(error)
    assert calls == [("peer.test", 443)]
    assert connect_attempts == []


def test_a_name_resolving_to_loopback_is_reached_only_when_allowed_with_its_host_header(
    serve: Callable[..., LocalServer], connect_attempts: list[object]
) -> None:
    server = serve(answer(body=GOOD_JSON))
    calls: list[tuple[str, int]] = []
    resolve = resolver_for({"peer.test": ["127.0.0.1"]}, calls)
    url = server.url("/did.json", host="peer.test")

    assert refusal(PeerFetcher(resolver=resolve, **FAST), url).reason == "forbidden-address"
    assert server.connections == 0

    response = PeerFetcher(allow_loopback=True, resolver=resolve, **FAST).get(url)
    assert response.json() == {"name": "Riverside trust"}
    assert response.url == url
    assert f"\r\nHost: peer.test:{server.port}\r\n".encode() in server.requests[0]
    assert connect_attempts == [("127.0.0.1", server.port)]


def test_the_refusal_names_the_address_in_plain_words() -> None:
    fetcher = PeerFetcher(resolver=resolver_for({"peer.test": ["10.1.2.3"]}, []), **FAST)
    assert str(refusal(fetcher, "https://peer.test/")) == (
        "The name peer.test points to 10.1.2.3, a private, local or special address; "
        "this trust only contacts peers on the public internet."
    )


def test_when_one_address_refuses_the_next_checked_one_is_tried(
    serve: Callable[..., LocalServer], connect_attempts: list[object]
) -> None:
    server = serve(answer(body=GOOD_JSON))  # listens on 127.0.0.1 only
    resolve = resolver_for({"peer.test": ["127.0.0.2", "127.0.0.1"]}, [])
    fetcher = PeerFetcher(allow_loopback=True, resolver=resolve, **FAST)
    assert fetcher.get_json(server.url(host="peer.test")) == {"name": "Riverside trust"}
    assert connect_attempts == [("127.0.0.2", server.port), ("127.0.0.1", server.port)]


def test_a_name_that_does_not_resolve_is_unreachable() -> None:
    def unknown(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    error = refusal(PeerFetcher(resolver=unknown, **FAST), "https://nowhere.test/")
    assert error.reason == "unreachable"
    assert "nowhere.test" in str(error)


# -- redirects -------------------------------------------------------------------------------


def test_a_redirect_to_another_origin_is_refused_and_never_followed(
    serve: Callable[..., LocalServer],
) -> None:
    elsewhere = serve(answer(body=GOOD_JSON))
    server = serve(redirect(elsewhere.url("/catalog")))
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), server.url("/catalog"))
    assert error.reason == "other-origin-redirect"
    assert elsewhere.connections == 0


def test_a_redirect_to_the_same_port_under_another_name_is_refused(
    serve: Callable[..., LocalServer],
) -> None:
    holder: list[LocalServer] = []
    server = serve(redirect(lambda: holder[0].url("/catalog", host="localhost")))
    holder.append(server)
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), server.url("/"))
    assert error.reason == "other-origin-redirect"
    assert server.connections == 1


@pytest.mark.parametrize("absolute", [False, True])
def test_a_same_origin_redirect_is_followed_with_one_lookup(
    serve: Callable[..., LocalServer], absolute: bool
) -> None:
    holder: list[LocalServer] = []

    def location() -> str:
        return holder[0].url("/new", host="peer.test") if absolute else "/new"

    server = serve(routes({"/old": redirect(location, 301), "/new": answer(body=GOOD_JSON)}))
    holder.append(server)
    calls: list[tuple[str, int]] = []
    resolve = resolver_for({"peer.test": ["127.0.0.1"]}, calls)
    fetcher = PeerFetcher(allow_loopback=True, resolver=resolve, **FAST)

    response = fetcher.get(server.url("/old", host="peer.test"))
    assert response.url == server.url("/new", host="peer.test")
    assert response.json() == {"name": "Riverside trust"}
    # The name is resolved once, so DNS cannot change its answer between the hops.
    assert calls == [("peer.test", server.port)]


def test_endless_same_origin_redirects_stop(serve: Callable[..., LocalServer]) -> None:
    server = serve(redirect("/loop"))
    fetcher = PeerFetcher(allow_loopback=True, max_redirects=2, **FAST)
    assert refusal(fetcher, server.url("/loop")).reason == "too-many-redirects"
    assert server.connections == 3


# -- size and time ---------------------------------------------------------------------------


def test_an_endless_body_is_refused_while_streaming_with_bounded_memory(
    serve: Callable[..., LocalServer],
) -> None:
    server = serve(endless_body)
    # A first fetch loads what the code path imports and caches, so it is not counted below.
    refusal(PeerFetcher(allow_loopback=True, max_bytes=10_000, **FAST), server.url())
    cap = 1_000_000
    fetcher = PeerFetcher(allow_loopback=True, max_bytes=cap, **FAST)
    tracemalloc.start()
    try:
        error = refusal(fetcher, server.url())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.reason == "too-large"
    assert "larger than 1 MB" in str(error)
    # At most the cap and one chunk were ever held (plus buffers and bookkeeping, ~30 kB).
    assert peak <= cap + CHUNK_SIZE + 64_000


def test_a_declared_length_over_the_cap_is_refused_before_reading(
    serve: Callable[..., LocalServer],
) -> None:
    def huge(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
        stopping.wait(10)  # sends nothing more: reading would run into the timeout

    server = serve(huge)
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), server.url())
    assert error.reason == "too-large"


def test_a_server_that_never_answers_times_out(serve: Callable[..., LocalServer]) -> None:
    server = serve(never_answer)
    started = time.monotonic()
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), server.url())
    elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert str(error).endswith("did not answer within 0.5 seconds.")
    assert 0.4 <= elapsed < 1.5


@pytest.mark.parametrize("start_with_headers", [True, False], ids=["headers", "body"])
def test_a_server_that_dribbles_is_cut_off_by_the_overall_deadline(
    serve: Callable[..., LocalServer], start_with_headers: bool
) -> None:
    # Each byte comes well within the read timeout; only the overall deadline can stop it.
    server = serve(dribble(start_with_headers, every=0.1))
    fetcher = PeerFetcher(
        allow_loopback=True, connect_timeout=0.5, read_timeout=1.0, total_timeout=1.0
    )
    started = time.monotonic()
    error = refusal(fetcher, server.url())
    elapsed = time.monotonic() - started
    assert error.reason == "timeout"
    assert "did not finish answering within 1 second" in str(error)
    assert 0.9 <= elapsed < 1.6


def test_a_refused_connection_is_unreachable() -> None:
    with socket.create_server(("127.0.0.1", 0)) as placeholder:
        port = placeholder.getsockname()[1]
    # Nothing listens on that port any more.
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), f"http://127.0.0.1:{port}/")
    assert error.reason == "unreachable"
    assert str(error) == f"The peer at http://127.0.0.1:{port} could not be reached."


# -- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b"<html>hello</html>", b"", b'{"a": NaN}', b"\xff\xfe\x00", b"[" * 100_000]
)
def test_a_body_that_is_not_json_is_refused(serve: Callable[..., LocalServer], body: bytes) -> None:
    server = serve(answer(body=body, content_type="text/html"))
    response = PeerFetcher(allow_loopback=True, **FAST).get(server.url())
    with pytest.raises(PeerFetchError) as caught:
        response.json()
    assert caught.value.reason == "not-json"
    assert "text/html" in str(caught.value)


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_an_http_error_with_the_status(
    serve: Callable[..., LocalServer], status: int
) -> None:
    server = serve(answer(status, body=b'{"title": "nope"}'))
    error = refusal(PeerFetcher(allow_loopback=True, **FAST), server.url("/x"))
    assert error.reason == "http-error"
    assert error.status == status
    assert str(status) in str(error)


def test_a_broken_answer_is_a_bad_response(serve: Callable[..., LocalServer]) -> None:
    def garbage(connection: socket.socket, head: bytes, stopping: threading.Event) -> None:
        connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    server = serve(garbage)
    assert refusal(PeerFetcher(allow_loopback=True, **FAST), server.url()).reason == (
        "bad-response"
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://user:secret@127.0.0.1:8080/",
        "https://user@peer.test/",
        "ftp://peer.test/catalog",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "peer.test/catalog",
        "http:///catalog",
        "http://peer.test:99999/",
        "http://peer.test:0/",
        "http://peer.test/a b",
        "http://peer.test/\r\nX-Injected: 1",
    ],
)
def test_a_url_that_is_not_a_plain_web_address_is_refused(
    url: str, connect_attempts: list[object]
) -> None:
    fetcher = PeerFetcher(allow_loopback=True, resolver=no_resolving, **FAST)
    assert refusal(fetcher, url).reason == "bad-url"
    assert connect_attempts == []


# -- TLS to a pinned address -----------------------------------------------------------------


def _certificate(name: str, directory: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


def _tls_server_and_client(
    name: str, directory: Path, server_names: list[str | None]
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert_path, key_path, pem = _certificate(name, directory)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    server.sni_callback = lambda _socket, sni, _context: server_names.append(sni)  # type: ignore[assignment,misc,return-value]
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def test_https_goes_to_the_checked_address_while_tls_checks_the_name(
    serve: Callable[..., LocalServer], tmp_path: Path
) -> None:
    server_names: list[str | None] = []
    server_tls, client_tls = _tls_server_and_client("peer.test", tmp_path, server_names)
    server = serve(answer(body=GOOD_JSON), tls=server_tls)
    calls: list[tuple[str, int]] = []
    fetcher = PeerFetcher(
        allow_loopback=True,
        resolver=resolver_for({"peer.test": ["127.0.0.1"]}, calls),
        ssl_context=client_tls,
        **FAST,
    )
    response = fetcher.get(server.url("/did.json", host="peer.test", scheme="https"))
    assert response.json() == {"name": "Riverside trust"}
    assert server_names == ["peer.test"]
    assert f"\r\nHost: peer.test:{server.port}\r\n".encode() in server.requests[0]


def test_https_with_a_certificate_for_another_name_is_refused(
    serve: Callable[..., LocalServer], tmp_path: Path
) -> None:
    server_names: list[str | None] = []
    server_tls, client_tls = _tls_server_and_client("other.test", tmp_path, server_names)
    server = serve(answer(body=GOOD_JSON), tls=server_tls)
    fetcher = PeerFetcher(
        allow_loopback=True,
        resolver=resolver_for({"peer.test": ["127.0.0.1"]}, []),
        ssl_context=client_tls,
        **FAST,
    )
    error = refusal(fetcher, server.url("/", host="peer.test", scheme="https"))
    assert error.reason == "tls-error"
    assert server.requests == []


def test_without_a_context_the_system_trust_store_is_used_and_the_name_checked(
    serve: Callable[..., LocalServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert_path, key_path, _ = _certificate("peer.test", tmp_path)
    # OpenSSL reads SSL_CERT_FILE when the default trust store is loaded.
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)
    server = serve(answer(body=GOOD_JSON), tls=server_tls)
    resolve = resolver_for({"peer.test": ["127.0.0.1"], "alias.test": ["127.0.0.1"]}, [])
    fetcher = PeerFetcher(allow_loopback=True, resolver=resolve, **FAST)

    assert fetcher.get_json(server.url(host="peer.test", scheme="https")) == {
        "name": "Riverside trust"
    }
    error = refusal(fetcher, server.url(host="alias.test", scheme="https"))
    assert error.reason == "tls-error"
    assert "alias.test" in str(error)
