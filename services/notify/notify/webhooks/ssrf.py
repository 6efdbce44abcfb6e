"""SSRF-safe HTTP POST: the destination is decided before any socket opens.

HTTPS only (plain HTTP only in development); the host is resolved once, every address it
resolves to must be public (no loopback, private, link-local, multicast, reserved, shared or
cloud-metadata address), and the connection goes to the checked address (TLS still verifies
the host name), so a DNS answer that changes between check and connect cannot redirect it.
Redirects are not followed; the response is read up to a size cap under a time cap. An explicit
allow-list (hosts or networks) exempts local test receivers.

``ConnectionPool`` keeps each endpoint's connections open between deliveries (HTTP keep-alive):
a connection is only ever opened by the checks above (resolve, check every address, connect to
the checked one), so a reused connection is one that was checked when it was opened, and each new
one is checked again. Connections live at most ``max_age`` seconds, so DNS changes are seen.
"""

from __future__ import annotations

import http.client
import ipaddress
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

Resolver = Callable[[str, int], list[str]]
Connector = Callable[[str, int, float], socket.socket]

# Cloud metadata services (AWS/GCP/Azure/OpenStack, Alibaba, AWS IPv6) and shared address space.
_METADATA = {
    ipaddress.ip_address(a) for a in ("169.254.169.254", "100.100.100.200", "168.63.129.16", "fd00:ec2::254")
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class RefusedError(Exception):
    """The URL or its address is not allowed; nothing was sent."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:  # gaierror, IDNA errors, NUL bytes
        raise RefusedError(f"cannot resolve {host}: {exc}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def system_connector(ip: str, port: int, timeout: float) -> socket.socket:
    return socket.create_connection((ip, port), timeout=timeout)


def forbidden(ip: str) -> str | None:
    """Why ``ip`` may not be a webhook destination, or None."""
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr in _METADATA:
        return "cloud metadata address"
    for name in ("loopback", "link_local", "multicast", "private", "reserved", "unspecified"):
        if getattr(addr, f"is_{name}"):
            return f"{name.replace('_', '-')} address"
    if isinstance(addr, ipaddress.IPv4Address) and addr in _SHARED:
        return "shared address space"
    if not addr.is_global:
        return "not a global address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    ip: str


def _allowed(host: str, ip: str, allow: Sequence[str]) -> bool:
    for entry in allow:
        if entry == host:
            return True
        try:
            if ipaddress.ip_address(ip) in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_url(
    url: str, *, development: bool, allow: Sequence[str] = (), resolver: Resolver = system_resolver
) -> Target:
    """The checked destination of ``url`` or RefusedError; resolves but never connects."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError as exc:  # e.g. an unclosed [IPv6 literal
        raise RefusedError(f"invalid URL: {exc}") from exc
    if parts.scheme not in ("https", "http") or not hostname:
        raise RefusedError("an absolute https:// URL is required")
    if parts.scheme == "http" and not development:
        raise RefusedError("https is required outside development")
    if parts.username or parts.password:
        raise RefusedError("credentials in the URL are not allowed")
    host = hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedError("invalid port") from exc
    try:
        literal = ipaddress.ip_address(host)
        ips = [str(literal)]
    except ValueError:
        ips = resolver(host, port)
    if not ips:
        raise RefusedError(f"{host} resolves to nothing")
    for ip in ips:
        if _allowed(host, ip, allow):
            continue
        reason = forbidden(ip)
        if reason is not None:
            raise RefusedError(f"{host} resolves to {ip}: {reason}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, ips[0])


@dataclass(frozen=True)
class Response:
    status: int
    excerpt: str
    latency_ms: int


class _Pinned(http.client.HTTPConnection):
    def __init__(
        self, target: Target, timeout: float, connector: Connector, context: ssl.SSLContext | None
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target, self._connector, self._context = target, connector, context

    def connect(self) -> None:
        sock = self._connector(self._target.ip, self._target.port, self.timeout or 10.0)
        # http.client sends the headers and the body in two writes: without TCP_NODELAY the body
        # waits for the ACK of the headers, which a kept connection's peer delays (~40 ms).
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass  # not a TCP socket (a test double)
        if self._target.scheme == "https":
            context = self._context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = sock


def _exchange(
    conn: http.client.HTTPConnection, path: str, body: bytes, headers: dict[str, str], max_bytes: int
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": "application/json", "User-Agent": "crm-notify-webhooks/1", **headers},
    )
    resp = conn.getresponse()
    return resp, resp.read(max_bytes)


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    max_bytes: int,
    connector: Connector = system_connector,
    context: ssl.SSLContext | None = None,
) -> Response:
    """POST to the checked address; never follows a redirect (a 3xx is just a failed status)."""
    started = time.monotonic()
    conn = _Pinned(target, timeout, connector, context)
    try:
        resp, data = _exchange(conn, target.path, body, headers, max_bytes)
        return Response(
            resp.status, data.decode("utf-8", "replace")[:1000], int((time.monotonic() - started) * 1000)
        )
    finally:
        conn.close()


# A reused connection the server closed while it was idle fails like this before any answer:
# the request goes once more on a new (checked) connection. Receivers dedupe on webhook-id.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass
class _Idle:
    conn: _Pinned
    url: str
    opened: float
    since: float


def _dropped(sock: socket.socket | None) -> bool:
    """The peer closed (or sent something unasked) while the connection was idle."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class ConnectionPool:
    """One endpoint's idle keep-alive connections (at most ``size``), each to the address that
    was checked when it was opened. ``post`` takes one for the same URL or opens a new one with
    ``check_url``; a connection the server will close, or whose answer was not read to the end
    (over the size cap), is closed, never reused."""

    def __init__(
        self, size: int, *, idle_seconds: float = 15.0, max_age: float = 60.0, keepalive: bool = True
    ) -> None:
        self.size, self.idle_seconds, self.max_age, self.keepalive = size, idle_seconds, max_age, keepalive
        self._idle: list[_Idle] = []
        self._lock = threading.Lock()
        self.opened = 0  # connections opened (each after a fresh check)

    def _take(self, url: str) -> _Idle | None:
        now = time.monotonic()
        stale: list[_Idle] = []
        found = None
        with self._lock:
            while self._idle:
                item = self._idle.pop()
                if (
                    item.url == url
                    and now - item.since < self.idle_seconds
                    and now - item.opened < self.max_age
                    and not _dropped(item.conn.sock)
                ):
                    found = item
                    break
                stale.append(item)
        for item in stale:
            item.conn.close()
        return found

    def _give(self, item: _Idle) -> None:
        item.since = time.monotonic()
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(item)
                return
        item.conn.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for item in idle:
            item.conn.close()

    def post(
        self,
        url: str,
        body: bytes,
        headers: dict[str, str],
        *,
        check: Callable[[str], Target],
        timeout: float,
        max_bytes: int,
        connector: Connector = system_connector,
        context: ssl.SSLContext | None = None,
    ) -> Response:
        """POST ``body`` to ``url`` over a kept connection or a new one to the address ``check``
        (``check_url`` with the endpoint's settings) approves; RefusedError before any socket."""
        started = time.monotonic()
        item = self._take(url) if self.keepalive else None
        while True:
            reused = item is not None
            if item is None:
                target = check(url)
                item = _Idle(_Pinned(target, timeout, connector, context), url, time.monotonic(), 0.0)
                with self._lock:
                    self.opened += 1
            conn = item.conn
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                resp, data = _exchange(conn, conn._target.path, body, headers, max_bytes)
            except _STALE:
                conn.close()
                if not reused:
                    raise
                item = None  # once more on a new connection
                continue
            except BaseException:
                conn.close()
                raise
            if self.keepalive and not resp.will_close and resp.isclosed() and conn.sock is not None:
                self._give(item)
            else:
                resp.close()  # an answer over the size cap is left unread: its socket goes now
                conn.close()
            return Response(
                resp.status, data.decode("utf-8", "replace")[:1000], int((time.monotonic() - started) * 1000)
            )
