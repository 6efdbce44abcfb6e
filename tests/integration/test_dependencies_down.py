"""Real outages, through a TCP proxy the test cuts (the shared servers stay up for everyone
else): a lost database answers 503 problem+json with Retry-After on every service and through
the gateway's operator endpoints, readiness of web and worker turns false until it is back, and
the outage is logged once, not per request; a lost broker fails no request and loses nothing.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from authn import parse_api_keys
from eventbus import worker
from eventbus.testing import wait_for
from gateway.app import create_app as create_gateway
from gateway.config import ROUTE_CLASSES, GatewayConfig
from telemetry import outage
from testkit.events import running_worker
from testkit.issuer import TestIssuer
from testkit.ports import free_port_block
from testkit.servers import create_database, drop_database
from testkit.tcpproxy import TcpProxy

pytestmark = pytest.mark.integration
LISTS = {"leads": "/api/v1/leads", "accounts": "/api/v1/accounts",
         "support": "/api/v1/support/tickets", "notify": "/api/v1/notify/notifications"}
ADMIN_KEY = "ops-test-admin-key"
ADMIN = {"X-API-Key": ADMIN_KEY}


def _api_keys() -> list[Any]:
    return parse_api_keys(f"opsbot:admin:{hashlib.sha256(ADMIN_KEY.encode()).hexdigest()}")


@pytest.fixture
def pg_proxy(pg_server: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy.for_url(pg_server)
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_db(pg_server: str, pg_proxy: TcpProxy) -> Iterator[str]:
    """A fresh database reached through the proxy."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = create_database(pg_server, name)
    yield pg_proxy.url(url)
    drop_database(pg_server, name)


def _problem_503(resp: Any) -> None:
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.headers["Retry-After"].isdigit()
    body = resp.get_json()
    assert body["status"] == 503 and "Traceback" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("service", list(LISTS))
def test_database_outage_answers_503_and_turns_web_and_worker_unready(
        service: str, proxied_db: str, pg_proxy: TcpProxy, issuer: TestIssuer,
        caplog: pytest.LogCaptureFixture) -> None:
    ctx = importlib.import_module(f"{service}.wiring").build(proxied_db, "memory://", migrate=True)
    app = importlib.import_module(f"{service}.app").create_app(
        ctx, verifier=issuer.verifier(api_keys=_api_keys()))
    client: FlaskClient = app.test_client()
    port = free_port_block(1)
    ctx.bus.settings = replace(ctx.bus.settings, worker_health_port=port)
    stop = threading.Event()
    runner = threading.Thread(target=worker.run, kwargs={
        "bus": ctx.bus, "stop": stop, "ctx": ctx, "handle_signals": False}, daemon=True)
    runner.start()
    probe = f"http://127.0.0.1:{port}/readyz"
    outage("database").reset()  # a clean slate for the log assertions below
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    try:
        wait_for(lambda: httpx.get(probe, timeout=2).status_code == 200, 20, message="worker ready")
        assert client.get(LISTS[service], headers=ADMIN).status_code == 200
        assert client.get("/readyz").status_code == 200

        pg_proxy.cut()
        for _ in range(5):  # every request, not only the first
            _problem_503(client.get(LISTS[service], headers=ADMIN))
        _problem_503(client.get("/ops/outbox", headers=ADMIN))
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["reason"] == "database unavailable"
        wait_for(lambda: httpx.get(probe, timeout=5).status_code == 503, 20, message="worker unready")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200  # alive

        pg_proxy.restore()
        wait_for(lambda: client.get("/readyz").status_code == 200, 20, message="web ready again")
        assert client.get(LISTS[service], headers=ADMIN).status_code == 200
        assert client.get("/ops/outbox", headers=ADMIN).get_json()["unsent"] >= 0
        wait_for(lambda: httpx.get(probe, timeout=5).status_code == 200, 20, message="worker ready again")
    finally:
        pg_proxy.restore()
        stop.set()
        ctx.bus.relay.wake.set()
        runner.join(timeout=20)
        ctx.bus.engine.dispose()
    warnings = [r for r in caplog.records if r.name == "crm.outage" and r.levelno >= logging.WARNING]
    assert [getattr(r, "outage", None) for r in warnings] == ["started", "recovered"], \
        [r.getMessage() for r in warnings]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and r.exc_info], \
        "no tracebacks for an outage"


def test_gateway_ops_endpoint_answers_503_when_the_service_database_is_down(
        proxied_db: str, pg_proxy: TcpProxy, issuer: TestIssuer, tmp_path: Any) -> None:
    ctx = importlib.import_module("leads.wiring").build(proxied_db, "memory://", migrate=True)
    app = importlib.import_module("leads.app").create_app(ctx, verifier=issuer.verifier(api_keys=_api_keys()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_port}"
    gateway = create_gateway(GatewayConfig(
        upstreams={"leads": upstream}, dev_issuer=True, issuer_key_file=tmp_path / "key.pem",
        api_keys=_api_keys(), rate_limits=dict.fromkeys(ROUTE_CLASSES, "1000/second"), ready_timeout=2.0))
    client = gateway.test_client()
    try:
        assert client.get("/api/v1/ops/leads/outbox", headers=ADMIN).status_code == 200
        pg_proxy.cut()
        resp = client.get("/api/v1/ops/leads/outbox", headers=ADMIN)
        _problem_503(resp)
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["services"]["leads"]["status"] == "not_ready"
        pg_proxy.restore()
        wait_for(lambda: client.get("/readyz").status_code == 200, 20, message="system ready again")
        assert client.get("/api/v1/ops/leads/outbox", headers=ADMIN).status_code == 200
    finally:
        pg_proxy.restore()
        gateway.extensions["gateway"].close()
        server.shutdown()
        ctx.bus.engine.dispose()


@pytest.fixture
def broker_proxy(amqp_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy.for_url(amqp_url)
    yield proxy
    proxy.close()


def test_broker_outage_fails_no_request_and_loses_nothing(
        pg_server: str, amqp_url: str, isolated_bus: str, broker_proxy: TcpProxy,
        issuer: TestIssuer) -> None:
    """Leads and accounts with RabbitMQ behind a proxy that is cut in the middle of 30
    conversions: every conversion is answered 202, and once the broker is back every lead is
    linked to its account (leads → accounts → leads: both directions crossed the outage)."""
    broker = broker_proxy.url(amqp_url)
    tag = uuid.uuid4().hex[:8]
    clients: dict[str, FlaskClient] = {}
    with ExitStack() as stack:
        for service in ("leads", "accounts"):
            name = f"t_{tag}_{service}"
            stack.callback(drop_database, pg_server, name)
            ctx = importlib.import_module(f"{service}.wiring").build(
                create_database(pg_server, name), broker, migrate=True)
            stack.callback(ctx.bus.engine.dispose)
            stack.enter_context(running_worker(ctx.bus))
            clients[service] = importlib.import_module(f"{service}.app").create_app(
                ctx, verifier=issuer.verifier()).test_client()
        leads = clients["leads"]
        rep = issuer.headers("rep1", "sales_rep", team="east")
        ids = []
        for i in range(30):
            resp = leads.post("/api/v1/leads", headers=rep, json={
                "name": f"Buyer {i}", "company": f"{uuid.uuid4().hex} Trading",
                "phone": f"+86 571 {88_000_000 + i * 1013}", "source": "trade_show"})
            assert resp.status_code == 201, resp.get_data(as_text=True)
            ids.append(resp.get_json()["id"])
        for i, lead_id in enumerate(ids):
            if i == 10:
                broker_proxy.cut()  # consumers, relays and publishers all lose the broker
            assert leads.post(f"/api/v1/leads/{lead_id}/convert", headers=rep).status_code == 202
        broker_proxy.restore()

        def linked() -> bool:
            return all(leads.get(f"/api/v1/leads/{i}", headers=rep).get_json().get("account_id")
                       for i in ids)

        wait_for(linked, 90, interval=0.5, message="every converted lead linked to its account")
        assert broker_proxy.accepted > 2  # the workers really reconnected through the proxy
