"""The proxied API requests that need nothing but forwarding, served as plain WSGI.

Most traffic is an authenticated request with a small declared body. Handling it without a
Flask request context, hooks and response objects halves what the gateway costs per request.
Anything else (no or bad credentials, rate limited, chunked or oversized body, unknown route,
public paths) goes to the Flask app, whose answers are the reference: the fast path never
refuses a request itself, so both paths answer alike.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from authn import AuthError, AuthUnavailable, Verifier
from httpapi import PROBLEM_JSON, problem_document
from telemetry.http import PRINCIPAL, TRACEPARENT
from telemetry.tracing import current_traceparent

from .auth import WEB_FORM_SUBMISSION
from .proxy import API_PREFIX, Proxy, UpstreamFailure, forwarded_headers, raw_path, resolve
from .ratelimit import RateLimiter, route_class
from .requestctx import new_traceparent, valid_request_id, valid_traceparent

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _header(environ: dict[str, Any], name: str) -> str | None:
    if name == "Content-Type":
        return environ.get("CONTENT_TYPE") or None
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


class FastPath:
    def __init__(self, app: WSGIApp, proxy: Proxy, verifier: Verifier,
                 limiter: RateLimiter, public: frozenset[tuple[str, str]],
                 max_body: int) -> None:
        self.app = app
        self.proxy = proxy
        self.verifier = verifier
        self.limiter = limiter
        self.public = public
        self.max_body = max_body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = self._try(environ, start_response)
        return answer if answer is not None else self.app(environ, start_response)

    def _try(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes] | None:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if not path.startswith(API_PREFIX) or (method, path) in self.public:
            return None
        if method == "POST" and WEB_FORM_SUBMISSION.match(path):
            return None  # public (form key) and IP rate-limited: the Flask app's guard does it
        route = resolve(self.proxy.upstreams, raw_path(environ))
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in (environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
        if route is None or chunked or (length and (not length.isdigit() or int(length) > self.max_body)):
            return None
        get = lambda name: _header(environ, name)  # noqa: E731
        try:
            principal = self.verifier.verify_headers({"Authorization": get("Authorization") or "",
                                                      "X-API-Key": get("X-API-Key")})
        except (AuthError, AuthUnavailable):
            return None
        if self.limiter.hit(route_class(method), f"{principal.kind}:{principal.sub}") is not None:
            return None  # refused: the Flask app answers the 429 (and spends nothing more)
        rid = (get("X-Request-ID") or "").strip()
        rid = rid if valid_request_id(rid) else str(uuid.uuid4())
        tp = (get("traceparent") or "").strip().lower()
        if current_traceparent():  # tracing on: the gateway's SERVER span is the services' parent
            tp, tracestate = current_traceparent() or tp, get("tracestate")
        elif valid_traceparent(tp):
            tracestate = get("tracestate")
        else:  # a broken parent starts a new trace, and its tracestate goes with it
            tp, tracestate = new_traceparent(), None
        environ[PRINCIPAL], environ[TRACEPARENT] = principal.sub, tp  # for the access log
        body = environ["wsgi.input"].read(int(length)) if length and int(length) else None
        scheme = environ.get("wsgi.url_scheme", "http")
        host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
        headers = forwarded_headers(get, rid, tp, tracestate, environ.get("REMOTE_ADDR", ""), scheme, host)
        try:
            answer = self.proxy.send(route, method, environ.get("QUERY_STRING", ""), headers, body,
                                     f"{scheme}://{host}/")
        except UpstreamFailure as exc:
            doc = problem_document(exc.status, exc.title, exc.detail, instance=path, request_id=rid,
                                   service=exc.service)
            payload = json.dumps(doc).encode()
            out = [("Content-Type", PROBLEM_JSON), ("Content-Length", str(len(payload))),
                   ("X-Request-ID", rid)]
            if exc.retry_after:
                out.append(("Retry-After", exc.retry_after))
            start_response(_status_line(exc.status), out)
            return [payload]
        out = [*answer.headers, ("Content-Length", str(len(answer.body))), ("X-Request-ID", rid)]
        start_response(_status_line(answer.status), out)
        return [] if method == "HEAD" else [answer.body]
