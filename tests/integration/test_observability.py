"""What an operator reads: one JSON line per request (with the request id, also of a failed
one) and per handled event, request metrics per route with one content type, and relay
failure counts that mean the broker."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from sqlalchemy import text

from accounts.app import create_app
from accounts.wiring import AccountsContext, build
from eventbus import PublishError
from eventbus.metrics import RELAY_DATABASE_ERRORS, RELAY_FAILURES
from eventbus.testing import wait_for
from httpapi import Blueprint, create_service_app
from telemetry import JsonFormatter
from testkit.events import envelope, publish, running_worker, wait_settled
from testkit.issuer import TestIssuer

CONTENT_TYPE = "text/plain; version=1.0.0; charset=utf-8"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the process writes to stderr in LOG_FORMAT=json, captured."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield out
    root.removeHandler(handler)
    root.setLevel(old_level)


def lines(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


@pytest.fixture
def ctx(tmp_path: Path) -> AccountsContext:
    return build(f"sqlite:///{tmp_path}/accounts.db", "memory://", migrate=True)


def test_a_failed_request_is_one_json_line_with_its_request_id(ctx: AccountsContext, issuer: TestIssuer,
                                                               json_log: io.StringIO) -> None:
    boom = Blueprint("boom", __name__)

    @boom.route("/api/v1/boom")
    def explode() -> Any:
        raise RuntimeError("the database said something unexpected")

    app = create_service_app(context=ctx, title="t", blueprints=[boom], verifier=issuer.verifier())
    client: FlaskClient = app.test_client()
    resp = client.get("/api/v1/boom", headers={**issuer.headers("rep1", "sales_rep"),
                                                "X-Request-ID": "req-500-abc"})
    resp.close()
    assert resp.status_code == 500 and "RuntimeError" not in resp.get_data(as_text=True)
    logged = lines(json_log)
    access = [line for line in logged if line["logger"] == "crm.access"]
    assert len(access) == 1
    assert access[0] | {"duration_ms": 0} == access[0] | {  # every field an operator searches by
        "service": "accounts", "method": "GET", "path": "/api/v1/boom", "route": "/api/v1/boom",
        "status": 500, "principal": "rep1", "request_id": "req-500-abc", "duration_ms": 0}
    errors = [line for line in logged if line["level"] == "ERROR"]
    assert errors and all(line["request_id"] == "req-500-abc" for line in errors)
    assert "RuntimeError: the database said something unexpected" in errors[0]["exception"]
    assert len(json_log.getvalue().splitlines()) == len(logged)  # the traceback is inside one line


def test_every_answer_is_counted_per_route_and_metrics_have_one_charset(
        ctx: AccountsContext, issuer: TestIssuer) -> None:
    client = create_app(ctx, verifier=issuer.verifier()).test_client()
    rep = issuer.headers("rep1", "sales_rep")

    def count(status: str) -> float:
        return REGISTRY.get_sample_value("crm_http_requests_total", {
            "service": "accounts", "method": "GET", "route": "/ops/outbox", "status": status}) or 0.0

    before = count("403")
    for _ in range(3):
        resp = client.get("/ops/outbox", headers=rep)  # the route template, not the raw path
        resp.close()  # the WSGI server closes the body after sending it: that is when it counts
        assert resp.status_code == 403
    assert count("403") == before + 3
    metrics = client.get("/metrics")
    assert metrics.headers["Content-Type"] == CONTENT_TYPE
    body = metrics.get_data(as_text=True)
    assert 'crm_http_request_duration_seconds_bucket{le="0.005",method="GET",' \
           'route="/ops/outbox",service="accounts"}' in body


def test_each_handled_event_is_one_line_naming_event_cause_trace_and_outcome(
        ctx: AccountsContext, json_log: io.StringIO) -> None:
    cause = envelope("leads.lead.converted.v1", {"nonsense": True})  # invalid: parked at once
    with running_worker(ctx.bus):
        publish(ctx.bus, cause)
        wait_settled(ctx.bus, "parked")
    [line] = [line for line in lines(json_log) if line.get("event_id") == cause.id]
    assert line["outcome"] == "parked" and line["event_type"] == "leads.lead.converted.v1"
    assert line["trace_id"] == (cause.traceparent or "").split("-")[1]
    assert line["consumer"].endswith(".accounts") and "invalid payload" in line["error"]


def test_relay_failures_count_the_broker_only(ctx: AccountsContext) -> None:
    relay = ctx.bus.relay

    class Refusing:
        def publish(self, messages: Any) -> None:
            raise PublishError("broker refused 1 message(s)")

        def idle(self) -> None:
            pass

    def value(counter: Any) -> float:
        return counter.labels("accounts")._value.get()  # type: ignore[no-any-return]

    with ctx.bus.session_factory() as session, session.begin():
        ctx.bus.emit(session, "accounts.account.opened.v1", {"account_id": "x"})
    relay.broker = Refusing()  # type: ignore[assignment]
    failures, db_errors = value(RELAY_FAILURES), value(RELAY_DATABASE_ERRORS)
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: value(RELAY_FAILURES) > failures, 10, message="a broker failure counted")
        with ctx.bus.engine.begin() as conn:  # now the database fails instead of the broker
            conn.execute(text("DROP TABLE event_outbox"))
        before = value(RELAY_FAILURES)
        wait_for(lambda: value(RELAY_DATABASE_ERRORS) > db_errors, 15, message="a database error counted")
        assert value(RELAY_FAILURES) - before <= 1  # at most the attempt already in flight
    finally:
        stop.set()
        relay.wake.set()
        thread.join(timeout=10)
