"""Request ids and W3C trace context: the gateway is where a request enters the system, so it
makes sure every request carries a usable ``X-Request-ID`` and ``traceparent`` downstream."""

from __future__ import annotations

import re
import secrets
import uuid

from flask import Flask, Response, g, request

from telemetry import bind, unbind
from telemetry.http import PRINCIPAL, ROUTE, TRACEPARENT, trace_id
from telemetry.tracing import current_traceparent

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@+/=-]{1,128}$")
_TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-(?P<parent>[0-9a-f]{16})-[0-9a-f]{2}$")


def valid_request_id(value: str) -> bool:
    """Short and header-safe, so it can be logged and echoed without escaping."""
    return bool(_REQUEST_ID.match(value))


def valid_traceparent(value: str) -> bool:
    match = _TRACEPARENT.match(value)
    return match is not None and set(match["trace"]) != {"0"} and set(match["parent"]) != {"0"}


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def install_request_context(app: Flask) -> None:
    """Install before anything that may answer early (413, 401, 429), so those carry the id."""

    @app.before_request
    def _begin() -> None:
        rid = request.headers.get("X-Request-ID", "").strip()
        g.request_id = rid if valid_request_id(rid) else str(uuid.uuid4())
        tp = request.headers.get("traceparent", "").strip().lower()
        if current_traceparent():  # tracing on: the gateway's SERVER span is the services' parent
            g.traceparent, g.tracestate = current_traceparent(), request.headers.get("tracestate")
        elif valid_traceparent(tp):
            g.traceparent = tp
            g.tracestate = request.headers.get("tracestate")
        else:  # a broken parent starts a new trace, and its tracestate goes with it
            g.traceparent = new_traceparent()
            g.tracestate = None
        # For the access log and metrics (telemetry.http) and every line logged meanwhile.
        request.environ[TRACEPARENT] = g.traceparent
        if request.url_rule is not None and request.endpoint != "proxy.forward":
            request.environ[ROUTE] = request.url_rule.rule
        g.log_token = bind(request_id=g.request_id, trace_id=trace_id(g.traceparent))

    @app.after_request
    def _stamp(resp: Response) -> Response:
        rid = getattr(g, "request_id", None)
        if rid:
            resp.headers["X-Request-ID"] = rid
        principal = getattr(g, "principal", None)
        if principal is not None:
            request.environ[PRINCIPAL] = principal.sub
        return resp

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        token = g.pop("log_token", None)
        if token is not None:
            unbind(token)
