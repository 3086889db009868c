"""Fetching documents from a peer trust over HTTP(S) without letting the peer steer us.

A peer's URL is typed in by a steward and its answers come from a server we do not control, so
every fetch is treated as hostile input (DESIGN.md, invariant 7: peers are verified, never
trusted). This module only moves bytes safely; checking the Data Integrity proof is the
caller's job.

What a fetch guarantees:

- Only the peer's own origin (scheme, host, port) is contacted. Redirects within that origin
  are followed (a few at most); a redirect anywhere else is refused before it is followed.
- The host name is resolved once, *every* address it resolves to is checked, and the
  connection goes to an address that was checked. The name is still used for the Host header,
  TLS SNI and the certificate check, so there is no window in which DNS could be rebound to an
  internal address between the check and the connection.
- Private, link-local, shared, multicast, reserved and unspecified addresses are refused, and
  so is loopback unless `allow_loopback=True` (tests and local trials only).
- A connect timeout, a read timeout per socket read, and an overall deadline enforced by a
  watchdog that cuts the socket, so a server that dribbles one byte at a time is still stopped.
- The body is read in chunks and refused as soon as it passes `max_bytes`; content encodings
  are not requested and not decoded, so no decompression bomb can inflate it.
- Only http/https URLs without user names or passwords. Proxy settings, .netrc and other
  environment configuration are never consulted.

Why urllib3: it is a well-kept HTTP/1.1 client (already installed as a dependency of
requests), and its `urllib3.connection.HTTPSConnection` can be pointed at an IP address while
`server_hostname` keeps SNI and certificate verification on the peer's name and an explicit
Host header keeps virtual hosting working — all through public parameters. It reads nothing
from the environment (unlike requests, whose trust_env would pick up proxies). We use single
connections rather than a pool because each connection must be pinned to an address we
checked and watched by the deadline. httpx could do the same only through a custom
transport or network backend, and would add several packages.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import string
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, Literal, get_args
from urllib.parse import quote, urljoin, urlsplit

import urllib3.exceptions
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.response import BaseHTTPResponse

from cltd import __version__

Reason = Literal[
    "bad-url",
    "forbidden-address",
    "unreachable",
    "timeout",
    "tls-error",
    "bad-response",
    "too-large",
    "other-origin-redirect",
    "too-many-redirects",
    "http-error",
    "not-json",
]
# Every reason a PeerFetchError can carry, for whoever maps them to translated messages.
REASONS: tuple[Reason, ...] = get_args(Reason)

# host, port -> IP addresses as strings; the default asks the system resolver.
Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_MAX_BYTES = 5_000_000
JSON_ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Bytes asked of the socket per read while streaming the body.
CHUNK_SIZE = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}


class PeerFetchError(Exception):
    """A fetch failed. `reason` is stable kebab-case; str(error) is a sentence for people."""

    def __init__(self, reason: Reason, message: str, *, url: str, status: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.url = url
        self.status = status


@dataclass(frozen=True)
class PeerResponse:
    status: int
    url: str  # after redirects
    content_type: str
    body: bytes

    def json(self) -> Any:
        """The body as JSON; PeerFetchError("not-json") if it is not strict JSON."""
        try:
            return json.loads(self.body, parse_constant=_refuse_constant)
        # RecursionError: a deeply nested document is an attack, not a document.
        except (ValueError, RecursionError) as error:
            shown = self.content_type or "no content type"
            raise PeerFetchError(
                "not-json",
                f"The peer's answer at {self.url} is not valid JSON ({shown}).",
                url=self.url,
                status=self.status,
            ) from error


def _refuse_constant(name: str) -> None:
    # json accepts NaN and Infinity by default; no JSON (or JSON-LD) document contains them.
    raise ValueError(f"{name} is not JSON")


def resolve_with_getaddrinfo(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host, without duplicates, in its order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_forbidden_address(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True unless the address is on the public internet (or loopback, when allowed)."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4-mapped or 6to4 address reaches the IPv4 address inside it, so judge that one.
        # The loopback allowance is for 127.0.0.0/8 and ::1 as written, not for disguises.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_forbidden_address(embedded, allow_loopback=False)
    if address.is_loopback:
        return not allow_loopback
    # is_global alone lets multicast through, and reserved ranges are no peer's home.
    return not address.is_global or address.is_multicast or address.is_reserved


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str  # lowercase ASCII (IDNA), without IPv6 brackets
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host_header()}"

    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def literal_address(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


# Characters left as they are in a request target; anything else is percent-encoded.
_TARGET_SAFE = "".join(c for c in string.punctuation if c not in '"<>\\^`{|}')


def _parse_peer_url(url: str) -> tuple[_Origin, str]:
    """The origin and the request target (path and query) of url, or bad-url."""

    def bad(message: str) -> PeerFetchError:
        return PeerFetchError("bad-url", message, url=url)

    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise bad(f"The address “{url}” contains spaces or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise bad(f"“{url}” is not a web address: it must start with https:// or http://.")
    if "@" in parts.netloc:
        raise bad(f"The address “{url}” contains a user name or password; leave them out.")
    if not parts.hostname:
        raise bad(f"The address “{url}” has no host name.")
    try:
        port = DEFAULT_PORTS[scheme] if parts.port is None else parts.port
        # The system resolver would also accept non-ASCII names, but Host and SNI need ASCII.
        host = parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise bad(f"The address “{url}” has an invalid host name or port.") from error
    if port == 0:
        raise bad(f"The address “{url}” has an invalid host name or port.")
    target = quote(parts.path or "/", safe=_TARGET_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_TARGET_SAFE)
    return _Origin(scheme, host, port), target


class _Watchdog:
    """Cuts a connection's socket when the overall deadline passes.

    Socket timeouts bound each read, not their sum: a server sending a byte just before every
    timeout would hold us forever. Shutting the socket down from another thread wakes up any
    blocked read (status line, headers, body, TLS handshake) with an error or an early EOF.
    """

    def __init__(self, connection: HTTPConnection, seconds: float) -> None:
        self._connection = connection
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = False
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._cut)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket | None) -> None:
        # http.client drops connection.sock once a "Connection: close" answer has begun, but
        # the body is still read from it, so keep our own reference.
        if sock is not None:
            with self._lock:
                self._sockets.append(sock)

    def _cut(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            # connection.sock is the raw TCP socket during the TLS handshake.
            for sock in [*self._sockets, self._connection.sock]:
                if sock is None:
                    continue
                # The plain socket method: SSLSocket.shutdown would also drop the TLS state
                # that the reading thread is using. OSError: the socket is already closed.
                with suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def stop(self) -> None:
        """Disarm before the socket is closed, so a late timer never touches a reused fd."""
        with self._lock:
            self._stopped = True
        self._timer.cancel()


def _seconds(value: float) -> str:
    return "1 second" if value == 1 else f"{value:g} seconds"


def _size(value: int) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:.3g} MB"
    return f"{value / 1000:.3g} kB" if value >= 1000 else f"{value} bytes"


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str | None
    content_type: str
    body: bytes


@dataclass(frozen=True)
class PeerFetcher:
    """Fetches documents from peers. One instance can serve many fetches (it holds settings).

    allow_loopback lets 127.0.0.0/8 and ::1 through (tests and local trials). ssl_context
    replaces the system's trusted certificates (tests, a private CA); hostname checking stays.
    """

    allow_loopback: bool = False
    resolver: Resolver = resolve_with_getaddrinfo
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = 3
    ssl_context: ssl.SSLContext | None = None
    user_agent: str = f"cltd/{__version__} (peer sync)"

    def get(self, url: str, *, accept: str = JSON_ACCEPT) -> PeerResponse:
        """GET url from its peer; a 2xx answer, or PeerFetchError."""
        deadline = time.monotonic() + self.total_timeout
        origin, target = _parse_peer_url(url)
        addresses = self._checked_addresses(origin, url)
        for _ in range(self.max_redirects + 1):
            answer = self._exchange(origin, addresses, target, url, accept, deadline)
            if answer.status in REDIRECT_STATUSES and answer.location:
                url, target = self._same_origin_redirect(origin, url, answer.location)
                continue
            if not 200 <= answer.status < 300:
                raise PeerFetchError(
                    "http-error",
                    f"The peer answered {url} with HTTP status {answer.status}.",
                    url=url,
                    status=answer.status,
                )
            return PeerResponse(answer.status, url, answer.content_type, answer.body)
        raise PeerFetchError(
            "too-many-redirects",
            f"The peer redirected more than {self.max_redirects} times; last to {url}.",
            url=url,
        )

    def get_json(self, url: str) -> Any:
        return self.get(url).json()

    def post_json(self, url: str, document: Any) -> PeerResponse:
        """POST a JSON document to its peer; the answer whatever its status (a refusal's
        problem body is the peer's reason), or PeerFetchError when there is no answer.
        Redirects are not followed: a message goes to the address it names or nowhere."""
        deadline = time.monotonic() + self.total_timeout
        origin, target = _parse_peer_url(url)
        addresses = self._checked_addresses(origin, url)
        body = json.dumps(document, ensure_ascii=False).encode()
        answer = self._exchange(
            origin, addresses, target, url, JSON_ACCEPT, deadline, method="POST", body=body
        )
        if answer.status in REDIRECT_STATUSES:
            raise PeerFetchError(
                "http-error", f"The peer redirected a message sent to {url}.", url=url
            )
        return PeerResponse(answer.status, url, answer.content_type, answer.body)

    def _checked_addresses(self, origin: _Origin, url: str) -> list[str]:
        literal = origin.literal_address()
        if literal is not None:
            candidates = [literal]
        else:
            try:
                resolved = self.resolver(origin.host, origin.port)
            except OSError as error:
                raise PeerFetchError(
                    "unreachable", f"The name {origin.host} could not be found.", url=url
                ) from error
            try:
                candidates = [ipaddress.ip_address(address) for address in resolved]
            except ValueError as error:
                raise PeerFetchError(
                    "forbidden-address",
                    f"The name {origin.host} resolves to something that is not an IP address.",
                    url=url,
                ) from error
            if not candidates:
                raise PeerFetchError(
                    "unreachable", f"The name {origin.host} has no address.", url=url
                )
        # One bad address is enough to refuse: a name that points both outside and inside
        # is either misconfigured or an attempt to reach our network.
        for address in candidates:
            if is_forbidden_address(address, allow_loopback=self.allow_loopback):
                where = (
                    f"The address {address} is"
                    if literal is not None
                    else f"The name {origin.host} points to {address},"
                )
                raise PeerFetchError(
                    "forbidden-address",
                    f"{where} a private, local or special address; this trust only contacts "
                    "peers on the public internet.",
                    url=url,
                )
        return [str(address) for address in candidates]

    def _same_origin_redirect(self, origin: _Origin, url: str, location: str) -> tuple[str, str]:
        """The redirect's URL and request target, if it stays within the peer's origin."""
        next_url = urljoin(url, location)
        try:
            next_origin, next_target = _parse_peer_url(next_url)
        except PeerFetchError as error:
            raise PeerFetchError(
                "bad-url", f"The peer redirected to an invalid address: {error}", url=url
            ) from error
        if next_origin != origin:
            raise PeerFetchError(
                "other-origin-redirect",
                f"The peer at {origin} redirected to {next_origin}, another site; this trust "
                "only follows redirects within the peer's own site.",
                url=url,
            )
        return next_url, next_target

    def _exchange(
        self,
        origin: _Origin,
        addresses: list[str],
        target: str,
        url: str,
        accept: str,
        deadline: float,
        *,
        method: str = "GET",
        body: bytes | None = None,
    ) -> _Answer:
        headers = {
            "Host": origin.host_header(),
            "Accept": accept,
            # Compressed bodies could inflate far beyond max_bytes once decoded.
            "Accept-Encoding": "identity",
            "User-Agent": self.user_agent,
            "Connection": "close",
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        with self._connected(origin, addresses, url, deadline) as (connection, watchdog):
            try:
                connection.request(
                    method,
                    target,
                    body=body,
                    headers=headers,
                    preload_content=False,
                    decode_content=False,
                )
                response = connection.getresponse()
                try:
                    status = response.status
                    # A message's answer is read whatever its status: a refusal says why.
                    success = 200 <= status < 300 or (method == "POST" and status < 500)
                    answer = _Answer(
                        status,
                        response.headers.get("Location"),
                        response.headers.get("Content-Type", ""),
                        self._read_capped(response, url, deadline) if success else b"",
                    )
                finally:
                    # The body is read through its own reference to the socket: closing the
                    # connection alone would leave the socket open.
                    response.close()
            except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as error:
                deadline_passed = watchdog.fired or time.monotonic() > deadline
                raise self._failure(error, origin, url, deadline_passed, "answer") from error
            if watchdog.fired:
                # The cut may look like the normal end of a body that had no length.
                raise self._failure(TimeoutError(), origin, url, True, "answer")
            return answer

    @contextmanager
    def _connected(
        self, origin: _Origin, addresses: list[str], url: str, deadline: float
    ) -> Iterator[tuple[HTTPConnection, _Watchdog]]:
        """A connection to the first checked address that accepts, watched by the deadline."""
        failure: PeerFetchError | None = None
        for address in addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failure(TimeoutError(), origin, url, True, "connect")
            connect_timeout = min(self.connect_timeout, remaining)
            connection = self._pinned_connection(origin, address, connect_timeout)
            watchdog = _Watchdog(connection, remaining)
            try:
                try:
                    connection.connect()
                except (urllib3.exceptions.HTTPError, OSError) as error:
                    failure = self._failure(error, origin, url, watchdog.fired, "connect")
                    failure.__cause__ = error
                    if failure.reason == "unreachable" or (
                        failure.reason == "timeout" and not watchdog.fired
                    ):
                        continue  # another address of the same name may answer
                    raise failure from error
                watchdog.watch(connection.sock)
                # The connect timeout was for connecting; getresponse applies this to reads.
                connection.timeout = self.read_timeout
                yield connection, watchdog
                return
            finally:
                watchdog.stop()
                connection.close()
        assert failure is not None  # addresses is never empty
        raise failure

    def _pinned_connection(self, origin: _Origin, address: str, timeout: float) -> HTTPConnection:
        if origin.scheme == "http":
            return HTTPConnection(address, origin.port, timeout=timeout)
        # Connect to the checked address; SNI and the certificate check use the peer's name.
        return HTTPSConnection(
            address,
            origin.port,
            timeout=timeout,
            server_hostname=origin.host,
            cert_reqs="CERT_REQUIRED",
            ssl_context=self.ssl_context,
        )

    def _read_capped(self, response: BaseHTTPResponse, url: str, deadline: float) -> bytes:
        too_large = PeerFetchError(
            "too-large",
            f"The peer's answer at {url} is larger than {_size(self.max_bytes)}, the most this "
            "trust accepts.",
            url=url,
            status=response.status,
        )
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks: list[bytes] = []
        received = 0
        # Ask for at most one byte beyond the cap, so we hold no more than max_bytes + 1.
        while chunk := response.read1(min(CHUNK_SIZE, self.max_bytes + 1 - received)):
            chunks.append(chunk)
            received += len(chunk)
            if received > self.max_bytes:
                raise too_large
            if time.monotonic() > deadline:
                raise TimeoutError  # the watchdog is about to cut; no need to wait for it
        return b"".join(chunks)

    def _failure(
        self,
        error: BaseException,
        origin: _Origin,
        url: str,
        deadline_passed: bool,
        phase: Literal["connect", "answer"],
    ) -> PeerFetchError:
        """Turn a library or socket error into a PeerFetchError a person can read."""

        def failed(reason: Reason, message: str) -> PeerFetchError:
            return PeerFetchError(reason, message, url=url)

        if deadline_passed:
            return failed(
                "timeout",
                f"The peer at {origin} did not finish answering within "
                f"{_seconds(self.total_timeout)}.",
            )
        if isinstance(error, urllib3.exceptions.NewConnectionError):
            return failed("unreachable", f"The peer at {origin} could not be reached.")
        if isinstance(error, ssl.SSLError):
            return failed(
                "tls-error",
                f"The secure connection to the peer at {origin} could not be verified: "
                f"{getattr(error, 'verify_message', None) or error.reason or error}".rstrip(".")
                + ".",
            )
        if isinstance(error, TimeoutError | urllib3.exceptions.TimeoutError):
            if phase == "connect":
                return failed(
                    "timeout",
                    f"The peer at {origin} did not accept a connection within "
                    f"{_seconds(self.connect_timeout)}.",
                )
            return failed(
                "timeout",
                f"The peer at {origin} did not answer within {_seconds(self.read_timeout)}.",
            )
        if phase == "connect":
            return failed("unreachable", f"The peer at {origin} could not be reached.")
        return failed(
            "bad-response",
            f"The peer at {origin} broke off its answer or did not speak HTTP properly.",
        )
