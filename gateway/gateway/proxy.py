"""Routing by path prefix and forwarding to the owning service: the request goes through
unchanged apart from the headers a gateway adds, and the answer comes back unchanged.

``/api/v1/<service>[/...]`` goes to ``<service>`` with the same path, and
``/api/v1/ops/<service>/<rest>`` to ``<service>``'s ``/ops/<rest>`` (operator tools; the
service checks the admin role). Every wait is bounded: connect, each read, and the whole body.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

import urllib3
from flask import Blueprint, Response, current_app, g, request
from urllib3.exceptions import ConnectTimeoutError, EmptyPoolError, HTTPError, ReadTimeoutError
from werkzeug.exceptions import RequestEntityTooLarge

from httpapi import Problem, problem_response

from .config import GatewayConfig

log = logging.getLogger("gateway.proxy")

API_PREFIX = "/api/v1/"
OPS = "ops"
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# X-Form-Key: a public web form's own key, checked by leads (see auth.WEB_FORM_SUBMISSION).
FORWARDED_REQUEST_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "Accept", "If-Match",
                             "If-None-Match", "Idempotency-Key", "X-Form-Key")
RETURNED_RESPONSE_HEADERS = ("ETag", "Location", "Last-Modified", "Retry-After", "WWW-Authenticate",
                             "Allow", "Cache-Control", "Link", "Content-Disposition",
                             "Content-Language")
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True)
class Route:
    service: str
    base_url: str
    path: str  # path on the upstream, still percent-encoded


def resolve(upstreams: dict[str, str], path: str) -> Route | None:
    """The upstream and its path for a gateway path, or None when no service serves it."""
    if not path.startswith(API_PREFIX):
        return None
    head, _, tail = path[len(API_PREFIX):].partition("/")
    if head == OPS:
        service, _, rest = tail.partition("/")
        if service in upstreams and rest:
            return Route(service, upstreams[service], f"/ops/{rest}")
        return None
    if head in upstreams:
        return Route(head, upstreams[head], path)
    return None


def _raw_path() -> str:
    return raw_path(request.environ)


def raw_path(environ: dict[str, Any]) -> str:
    """The path as the client encoded it (``%2F`` stays one segment), when the server kept it."""
    path = "/" + environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace").lstrip("/")
    raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?", 1)[0]
    if raw.startswith("/") and unquote(raw) == path:
        return raw
    return quote(path, safe=_PATH_SAFE)


def read_body() -> bytes:
    """The whole body, at most MAX_CONTENT_LENGTH (413 beyond). A declared length was already
    checked; a chunked body is read here, because werkzeug would silently cut it at the limit
    and the service would get a truncated body instead of the client getting a 413."""
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None or "wsgi.input_terminated" not in request.environ:
        return request.get_data(cache=False)
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    total = 0
    while total <= limit:
        chunk = stream.read(min(1 << 16, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise RequestEntityTooLarge(f"the body may be at most {limit} bytes")
    return b"".join(chunks)


def make_pool(config: GatewayConfig) -> urllib3.PoolManager:
    """One keep-alive pool per upstream, shared by all threads. urllib3 rather than httpx on
    this hot path: it costs a fraction of the CPU per request, which is most of what a thin
    gateway adds. No retries (a POST must not be sent twice); ``block`` caps connections."""
    return urllib3.PoolManager(
        num_pools=max(8, 2 * len(config.upstreams)), maxsize=50, block=False, retries=False,
        timeout=urllib3.Timeout(connect=config.connect_timeout, read=config.upstream_timeout),
    )


def _request_headers() -> dict[str, str]:
    return forwarded_headers(request.headers.get, g.request_id, g.traceparent, g.get("tracestate"),
                             request.remote_addr or "", request.scheme, request.host)


def forwarded_headers(get: Callable[[str], str | None], request_id: str, traceparent: str,
                      tracestate: str | None, remote_addr: str, scheme: str,
                      host: str) -> dict[str, str]:
    """The client's headers a service needs, plus what the gateway adds."""
    headers = {name: value for name in FORWARDED_REQUEST_HEADERS if (value := get(name)) is not None}
    headers["X-Request-ID"] = request_id
    headers["traceparent"] = traceparent
    if tracestate:
        headers["tracestate"] = tracestate
    headers["X-Forwarded-For"] = remote_addr
    headers["X-Forwarded-Proto"] = scheme
    headers["X-Forwarded-Host"] = host
    headers["Accept-Encoding"] = "identity"
    return headers


@dataclass(frozen=True)
class Answer:
    """What goes back to the client: the upstream's status, body and selected headers."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


class UpstreamFailure(Exception):
    """The upstream could not be reached or did not answer in time (503/504/502)."""

    def __init__(self, status: int, title: str, detail: str, service: str,
                 retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.service, self.retry_after = service, retry_after


class Proxy:
    def __init__(self, config: GatewayConfig, pool: urllib3.PoolManager) -> None:
        self.upstreams = config.upstreams
        self.timeout = config.upstream_timeout
        self.pool = pool

    def send(self, route: Route, method: str, query: str, headers: dict[str, str],
             body: bytes | None, host_url: str) -> Answer:
        """Forward one request; every wait is bounded, failures raise ``UpstreamFailure``."""
        url = route.base_url + route.path + (f"?{query}" if query else "")
        deadline = time.monotonic() + self.timeout
        request_id = headers.get("X-Request-ID")
        try:
            upstream = self.pool.request(
                method, url, body=body, headers=headers, redirect=False, retries=False,
                preload_content=False, decode_content=False)
            try:
                chunks = []
                for chunk in upstream.stream(1 << 16, decode_content=False):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:  # a trickling upstream must not hold us
                        raise ReadTimeoutError(None, url, "upstream body exceeded the deadline")  # type: ignore[arg-type]
            finally:
                upstream.release_conn()
        except (ConnectTimeoutError, EmptyPoolError) as exc:  # includes NewConnectionError
            log.warning("upstream %s unreachable (request %s): %r", route.service, request_id, exc)
            raise UpstreamFailure(503, "Service Unavailable", f"the {route.service} service is unreachable",
                                  route.service, retry_after="5") from exc
        except ReadTimeoutError as exc:
            log.warning("upstream %s timed out (request %s): %r", route.service, request_id, exc)
            raise UpstreamFailure(504, "Gateway Timeout",
                                  f"the {route.service} service did not answer within {self.timeout:g} s",
                                  route.service) from exc
        except HTTPError as exc:
            log.warning("upstream %s failed (request %s): %r", route.service, request_id, exc)
            raise UpstreamFailure(502, "Bad Gateway", f"the {route.service} service gave no valid answer",
                                  route.service) from exc
        out: list[tuple[str, str]] = []
        content_type = upstream.headers.get("Content-Type")
        if content_type:  # never invent one (a 204 has none)
            out.append(("Content-Type", content_type))
        for name in RETURNED_RESPONSE_HEADERS:
            value = upstream.headers.get(name)
            if value is not None:
                if name == "Location" and value.startswith(route.base_url):
                    value = host_url.rstrip("/") + value[len(route.base_url):]
                out.append((name, value))
        return Answer(upstream.status, out, b"".join(chunks))

    def forward(self) -> Response:
        """The Flask route: every request the fast path hands over (refusals, chunked bodies)."""
        route = resolve(self.upstreams, _raw_path())
        if route is None:
            raise Problem(404, "Not Found", f"no service serves {request.path}")
        body = read_body() or None
        try:
            answer = self.send(route, request.method, request.query_string.decode("latin-1"),
                               _request_headers(), body, request.host_url)
        except UpstreamFailure as exc:
            extra = {"Retry-After": exc.retry_after} if exc.retry_after else None
            return problem_response(exc.status, exc.title, exc.detail, headers=extra,
                                    service=exc.service)
        resp = Response(answer.body, status=answer.status)
        resp.headers.pop("Content-Type", None)
        for name, value in answer.headers:
            resp.headers[name] = value
        return resp


def proxy_blueprint(proxy: Proxy) -> Blueprint:
    bp = Blueprint("proxy", __name__)

    # OPTIONS is forwarded like any method: the service knows what its resource allows.
    @bp.route("/api/v1/<path:_rest>", methods=PROXY_METHODS, provide_automatic_options=False)
    def forward(_rest: str) -> Response:
        return proxy.forward()

    return bp
