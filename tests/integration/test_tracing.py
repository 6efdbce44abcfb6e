"""Optional OpenTelemetry export (telemetry.tracing), with an in-memory exporter: one trace
from the HTTP request through every event it causes, across services — the request's SERVER
span, a PRODUCER span per event emitted (the span the event's ``traceparent`` names) and a
CONSUMER span per event handled, each the child of the one before."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from accounts.wiring import build as build_accounts
from eventbus.testing import wait_for
from leads.app import create_app
from leads.wiring import build as build_leads
from telemetry import tracing
from testkit.events import outbox_events, running_worker
from testkit.issuer import TestIssuer

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.setup_tracing("test", exporter=exporter)
    yield exporter
    tracing.disable()


def test_off_by_default_costs_nothing() -> None:
    assert not tracing.setup_tracing("test", environ={})
    assert tracing.current_traceparent() is None
    assert tracing.producer_traceparent(None, "a.b.c.v1", "id") is None


def test_one_trace_from_the_request_through_every_event(spans: InMemorySpanExporter, tmp_path: Path,
                                                        issuer: TestIssuer) -> None:
    leads = build_leads(f"sqlite:///{tmp_path}/leads.db", "memory://", migrate=True)
    accounts = build_accounts(f"sqlite:///{tmp_path}/accounts.db", "memory://", migrate=True)
    client = create_app(leads, verifier=issuer.verifier()).test_client()
    rep = issuer.headers("rep1", "sales_rep", team="east")
    with running_worker(leads.bus), running_worker(accounts.bus):
        lead = client.post("/api/v1/leads", headers=rep, json={
            "name": "Zhao Liu", "company": "Traced Trading Co", "phone": "+86 571 8765 4321",
            "source": "trade_show"}).get_json()
        resp = client.post(f"/api/v1/leads/{lead['id']}/convert",
                           headers={**rep, "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"})
        resp.close()
        assert resp.status_code == 202
        wait_for(lambda: client.get(f"/api/v1/leads/{lead['id']}", headers=rep).get_json().get("account_id"),
                 20, message="the account opened and linked")

    finished = [s for s in spans.get_finished_spans() if s.context.trace_id == int(TRACE, 16)]
    by_id = {s.context.span_id: s for s in finished}

    def one(kind: SpanKind, name: str) -> Any:
        [span] = [s for s in finished if s.kind == kind and s.name == name]
        return span

    server = one(SpanKind.SERVER, "POST /api/v1/leads/<string:lead_id>/convert")
    assert server.parent.span_id == 0x00F067AA0BA902B7  # the caller's span
    converted = one(SpanKind.PRODUCER, "leads.lead.converted.v1 publish")
    handled = one(SpanKind.CONSUMER, "leads.lead.converted.v1 process")
    opened = one(SpanKind.PRODUCER, "accounts.account.opened.v1 publish")
    linked = one(SpanKind.CONSUMER, "accounts.account.opened.v1 process")
    assert by_id[converted.parent.span_id] is server
    assert by_id[handled.parent.span_id] is converted
    assert by_id[opened.parent.span_id] is handled
    assert by_id[linked.parent.span_id] is opened
    # The envelope carries exactly the PRODUCER span: what an outside subscriber continues.
    [envelope] = [e for e in outbox_events(leads.bus, "leads.lead.converted.v1")]
    assert envelope["traceparent"] == f"00-{TRACE}-{converted.context.span_id:016x}-01"
    assert json.dumps(envelope)  # still a plain CloudEvent
