"""Request metrics and the access log, as WSGI middleware around any app (service or gateway).

One line per request (method, path, route, status, duration, principal, request id, trace id)
and the Prometheus series ``crm_http_requests_total`` and ``crm_http_request_duration_seconds``
per route. Inner layers tell the middleware what only they know through the WSGI environ:
``crm.route`` (the matched route template), ``crm.principal`` (who called) and
``crm.request_id``/``crm.traceparent`` (when they made them up).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from . import tracing
from .logs import bind, unbind

access_log = logging.getLogger("crm.access")
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PROBES = frozenset({"/healthz", "/readyz", "/metrics"})

REQUESTS = Counter("crm_http_requests_total", "HTTP requests answered",
                   ["service", "method", "route", "status"])
LATENCY = Histogram("crm_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["service", "method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

ROUTE = "crm.route"
PRINCIPAL = "crm.principal"
REQUEST_ID = "crm.request_id"
TRACEPARENT = "crm.traceparent"


def trace_id(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` (``00-<trace>-<span>-<flags>``)."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


class RequestTelemetry:
    """Counts, times and logs every request ``app`` answers, under ``service``'s name.

    ``route_of(environ)`` names the route when no inner layer did (e.g. the gateway's proxied
    paths), so the route label stays a template with few values, never a raw path.
    """

    def __init__(self, app: WSGIApp, service: str,
                 route_of: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        self.app = app
        self.service = service
        self.route_of = route_of
        # (method, route, status) -> its two series: ``labels()`` takes a lock and hashes every
        # label on each call. Bounded: routes are templates, methods and statuses few.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        seen: dict[str, Any] = {}

        def _start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = int(status[:3])
            for name, value in headers:
                if name.lower() == "x-request-id":
                    seen["request_id"] = value
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        token = bind(service=self.service)
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
        try:
            with tracing.server_span(method, path, environ.get("HTTP_TRACEPARENT")) as span:
                try:
                    body = self.app(environ, _start)
                finally:
                    tracing.finish_server_span(span, self._route(environ), seen.get("status", 500))
        except BaseException:
            seen.setdefault("status", 500)
            self._record(environ, seen, started)
            raise
        finally:
            unbind(token)
        return _Closing(body, lambda: self._record(environ, seen, started))

    def _route(self, environ: dict[str, Any]) -> str:
        return environ.get(ROUTE) or (self.route_of(environ) if self.route_of else None) or "unmatched"

    def _record(self, environ: dict[str, Any], seen: dict[str, Any], started: float) -> None:
        elapsed = time.perf_counter() - started
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        route = self._route(environ)
        status = seen.get("status", 500)
        series = self._series.get((method, route, status))
        if series is None:
            if len(self._series) > 4096:  # a method or route flood: stay bounded
                self._series.clear()
            series = self._series[(method, route, status)] = (
                REQUESTS.labels(self.service, method, route, str(status)),
                LATENCY.labels(self.service, method, route))
        series[0].inc()
        series[1].observe(elapsed)
        # Probes arrive every few seconds from each orchestrator: only when asked for.
        level = logging.DEBUG if path in PROBES and status < 500 else logging.INFO
        if not access_log.isEnabledFor(level):
            return
        fields = {
            "service": self.service, "method": method, "path": path, "route": route,
            "status": status, "duration_ms": round(elapsed * 1000, 2),
            "principal": environ.get(PRINCIPAL),
            "request_id": seen.get("request_id") or environ.get(REQUEST_ID),
            "trace_id": trace_id(environ.get(TRACEPARENT) or environ.get("HTTP_TRACEPARENT")),
        }
        access_log.log(level, "%s %s %s %.1fms", method, path, status, elapsed * 1000,
                       extra={k: v for k, v in fields.items() if v is not None})


class _Closing:
    """The app's response body, recording the request when the server closes it (after the
    last byte was sent), as WSGI guarantees."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self._body = body
        self._done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


def multiprocess_dir() -> str | None:
    """Set under ``crm-web`` (``telemetry.webserver``): every process writes its samples
    there and a scrape adds them up, whichever process answers it."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_payload() -> tuple[bytes, str]:
    """The ``/metrics`` body and its content type (which already says ``charset=utf-8``)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
