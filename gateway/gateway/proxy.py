"""Routing by path prefix and forwarding to the owning service: the request goes through
unchanged apart from the headers a gateway adds, and the answer comes back unchanged.

``/api/v1/<service>[/...]`` goes to ``<service>`` with the same path, and
``/api/v1/ops/<service>/<rest>`` to ``<service>``'s ``/ops/<rest>`` (operator tools; the
service checks the admin role). Every wait is bounded: connect, each read, and the whole body.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from urllib.parse import quote, unquote

import httpx
from flask import Blueprint, Response, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from httpapi import Problem, problem_response

from .config import GatewayConfig

log = logging.getLogger("gateway.proxy")

API_PREFIX = "/api/v1/"
OPS = "ops"
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
FORWARDED_REQUEST_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "Accept", "If-Match",
                             "If-None-Match", "Idempotency-Key")
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
    """The path as the client encoded it (``%2F`` stays one segment), when the server kept it."""
    raw = (request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or "").split("?", 1)[0]
    if raw.startswith("/") and unquote(raw) == request.path:
        return raw
    return quote(request.path, safe=_PATH_SAFE)


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


def make_client(config: GatewayConfig) -> httpx.Client:
    """One pooled client for all upstreams (httpx.Client is thread-safe). ``trust_env`` is
    off so an HTTP_PROXY meant for the outside world never captures service-to-service calls."""
    timeout = httpx.Timeout(config.upstream_timeout, connect=config.connect_timeout,
                            pool=config.connect_timeout)
    return httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False,
                        limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))


def _request_headers() -> dict[str, str]:
    headers = {name: value for name in FORWARDED_REQUEST_HEADERS
               if (value := request.headers.get(name)) is not None}
    headers["X-Request-ID"] = g.request_id
    headers["traceparent"] = g.traceparent
    if g.get("tracestate"):
        headers["tracestate"] = g.tracestate
    headers["X-Forwarded-For"] = request.remote_addr or ""
    headers["X-Forwarded-Proto"] = request.scheme
    headers["X-Forwarded-Host"] = request.host
    headers["Accept-Encoding"] = "identity"
    return headers


class Proxy:
    def __init__(self, config: GatewayConfig, client: httpx.Client) -> None:
        self.upstreams = config.upstreams
        self.timeout = config.upstream_timeout
        self.client = client

    def forward(self) -> Response:
        route = resolve(self.upstreams, _raw_path())
        if route is None:
            raise Problem(404, "Not Found", f"no service serves {request.path}")
        url = route.base_url + route.path
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        body = read_body() or None
        deadline = time.monotonic() + self.timeout
        try:
            upstream = self.client.send(
                self.client.build_request(request.method, url, headers=_request_headers(), content=body),
                stream=True)
            try:
                chunks = []
                for chunk in upstream.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:  # a trickling upstream must not hold us
                        raise httpx.ReadTimeout("upstream body exceeded the deadline")
            finally:
                upstream.close()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning("upstream %s unreachable (request %s): %r", route.service, g.request_id, exc)
            return problem_response(503, "Service Unavailable", f"the {route.service} service is unreachable",
                                    headers={"Retry-After": "5"}, service=route.service)
        except httpx.TimeoutException as exc:
            log.warning("upstream %s timed out (request %s): %r", route.service, g.request_id, exc)
            return problem_response(504, "Gateway Timeout",
                                    f"the {route.service} service did not answer within {self.timeout:g} s",
                                    service=route.service)
        except httpx.HTTPError as exc:
            log.warning("upstream %s failed (request %s): %r", route.service, g.request_id, exc)
            return problem_response(502, "Bad Gateway", f"the {route.service} service gave no valid answer",
                                    service=route.service)
        return self._response(route, upstream, b"".join(chunks))

    @staticmethod
    def _response(route: Route, upstream: httpx.Response, body: bytes) -> Response:
        resp = Response(body, status=upstream.status_code)
        content_type = upstream.headers.get("Content-Type")
        if content_type:
            resp.headers["Content-Type"] = content_type
        else:  # never invent one (a 204 has none)
            resp.headers.pop("Content-Type", None)
        for name in RETURNED_RESPONSE_HEADERS:
            value = upstream.headers.get(name)
            if value is not None:
                resp.headers[name] = value
        location = resp.headers.get("Location")
        if location and location.startswith(route.base_url):
            resp.headers["Location"] = request.host_url.rstrip("/") + location[len(route.base_url):]
        return resp


def proxy_blueprint(proxy: Proxy) -> Blueprint:
    bp = Blueprint("proxy", __name__)

    @bp.route("/api/v1/<path:_rest>", methods=PROXY_METHODS)
    def forward(_rest: str) -> Response:
        return proxy.forward()

    return bp
