"""SSRF-safe HTTP POST: the destination is decided before any socket opens.

HTTPS only (plain HTTP only in development); the host is resolved once, every address it
resolves to must be public (no loopback, private, link-local, multicast, reserved, shared or
cloud-metadata address), and the connection goes to the checked address (TLS still verifies
the host name), so a DNS answer that changes between check and connect cannot redirect it.
Redirects are not followed; the response is read up to a size cap under a time cap. An explicit
allow-list (hosts or networks) exempts local test receivers.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
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
        if self._target.scheme == "https":
            context = self._context or ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self._target.host)
        self.sock = sock


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
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "crm-notify-webhooks/1", **headers},
        )
        resp = conn.getresponse()
        data = resp.read(max_bytes)
        return Response(
            resp.status, data.decode("utf-8", "replace")[:1000], int((time.monotonic() - started) * 1000)
        )
    finally:
        conn.close()
