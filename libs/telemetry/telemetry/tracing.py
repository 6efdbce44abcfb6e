"""Optional OpenTelemetry export of the traces the CRM already carries (off by default).

Every request and event already carries a W3C ``traceparent``; with tracing on, the CRM also
records spans and exports them over OTLP, so a trace shows a request at the gateway and the
service, each event it caused being published, and each consumer handling it, across services:

- a SERVER span per HTTP request (child of the caller's ``traceparent``),
- a PRODUCER span per event emitted (the event's ``traceparent`` names it),
- a CONSUMER span per event handled (child of that PRODUCER span).

On with ``OTEL_EXPORTER_OTLP_ENDPOINT`` (e.g. ``http://otel-collector:4318``; the standard
``OTEL_*`` variables of the OTLP/HTTP exporter apply) and the optional packages installed:
``pip install 'crm-telemetry[otlp]'``. Without either, every function here is a cheap no-op.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("crm.tracing")
_tracer: Any = None  # an opentelemetry Tracer once configured


def enabled() -> bool:
    return _tracer is not None


def setup_tracing(service: str, environ: Mapping[str, str] | None = None, exporter: Any = None) -> bool:
    """Turn tracing on for this process when configured; returns whether it is on.
    ``exporter`` (e.g. an in-memory one in tests) replaces the OTLP exporter."""
    global _tracer
    env = os.environ if environ is None else environ
    if exporter is None and not env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return enabled()
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        log.warning("OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
                    "pip install 'crm-telemetry[otlp]'; tracing stays off")
        return False
    provider = TracerProvider(resource=Resource.create({"service.name": f"crm-{service}"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _tracer = provider.get_tracer("crm")
    log.info("exporting traces of %s over OTLP", service)
    return True


def disable() -> None:
    global _tracer
    _tracer = None


def _context(traceparent: str | None) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent} if traceparent else {})


def _traceparent(span: Any) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


@contextmanager
def server_span(method: str, path: str, traceparent: str | None) -> Iterator[Any]:
    """A SERVER span for one request; yields it (or None) so the caller can name the route and
    status once known, and ``current_traceparent`` names it meanwhile."""
    if _tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(f"{method} {path}", context=_context(traceparent),
                                       kind=SpanKind.SERVER) as span:
        span.set_attribute("http.request.method", method)
        yield span


def finish_server_span(span: Any, route: str, status: int) -> None:
    if span is None:
        return
    span.update_name(f"{span.name.split(' ')[0]} {route}")
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR))


def current_traceparent() -> str | None:
    """The active span as a ``traceparent``, when tracing is on."""
    if _tracer is None:
        return None
    from opentelemetry import trace

    span = trace.get_current_span()
    return _traceparent(span) if span.get_span_context().is_valid else None


def producer_traceparent(parent: str | None, event_type: str, event_id: str) -> str | None:
    """Record the publication of an event under ``parent``; returns the ``traceparent`` the
    event carries (the PRODUCER span's), or None when tracing is off."""
    if _tracer is None:
        return None
    from opentelemetry.trace import SpanKind

    span = _tracer.start_span(f"{event_type} publish", context=_context(parent), kind=SpanKind.PRODUCER,
                              attributes={"messaging.system": "rabbitmq", "messaging.message.id": event_id,
                                          "messaging.destination.name": event_type})
    span.end()  # the commit and the relay come later; the span marks where the event was made
    return _traceparent(span)


@contextmanager
def consumer_span(consumer: str, event_type: str, event_id: str, traceparent: str | None) -> Iterator[None]:
    """A CONSUMER span around handling one event, child of the event's PRODUCER span."""
    if _tracer is None:
        yield
        return
    from opentelemetry.trace import SpanKind

    with _tracer.start_as_current_span(f"{event_type} process", context=_context(traceparent),
                                       kind=SpanKind.CONSUMER,
                                       attributes={"messaging.system": "rabbitmq",
                                                   "messaging.consumer.group.name": consumer,
                                                   "messaging.message.id": event_id}):
        yield
