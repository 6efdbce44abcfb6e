"""Standard Webhooks over real loopback sockets, verified by the ``standardwebhooks`` library as
the receiver; SSRF refusals decided before any socket opens (injected resolver, a connector that
records every attempt); retries, delivery log, rotation, resend, replay, auto-disable, and one
hanging endpoint never delaying the others."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notify.models import Notification
from notify.settings import Settings
from notify.webhooks import service as webhooks
from notify.webhooks import signing, ssrf
from notify.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from notify.wiring import NotifyContext, build
from testkit.events import envelope, outbox_events, publish, running_worker, wait_settled

from .conftest import FakeClock

pytestmark = pytest.mark.integration
API = "/api/v1/notify/webhooks"


class Receiver:
    """A webhook receiver on 127.0.0.1: answers ``statuses`` in turn (then 204), or hangs until
    released when ``hang`` is set; keeps every request."""

    def __init__(
        self, statuses: list[int] | None = None, hang: bool = False, keepalive: bool = False
    ) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[tuple[dict[str, str], bytes, float]] = []
        self.hang = hang
        self.release = threading.Event()
        self.connections: list[Any] = []  # each accepted connection's socket
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keepalive else "HTTP/1.0"

            def setup(self) -> None:
                super().setup()
                receiver.connections.append(self.connection)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body, time.monotonic()))
                if receiver.hang:
                    receiver.release.wait(10)
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                answer = b"x" * 5000 if status >= 500 else b""
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[Receiver] = []
    yield made
    for r in made:
        r.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))  # receivers check the signed timestamp against real time


@pytest.fixture
def ctx(db_url: str, isolated_bus: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> NotifyContext:
    monkeypatch.setenv("NOTIFY_WEBHOOK_DEVELOPMENT", "1")
    monkeypatch.setenv("NOTIFY_WEBHOOK_ALLOW", "127.0.0.1")
    return build(db_url, "memory://", clock=clock)


@pytest.fixture
def api(ctx: NotifyContext, issuer):  # type: ignore[no-untyped-def]
    from notify.app import create_app

    return create_app(ctx, verifier=issuer.verifier()).test_client()


def _endpoint(ctx: NotifyContext, url: str, types: list[str] | None = None) -> WebhookEndpoint:
    with ctx.bus.session_factory() as s, s.begin():
        ep = webhooks.create_endpoint(
            s, {"url": url, "event_types": types or ["leads.#"]}, "admin", ctx.clock()
        )
        s.expunge(ep)
        return ep


def _events(ctx: NotifyContext, n: int = 1, type_: str = "leads.lead.registered.v1") -> list[str]:
    ids = []
    with ctx.bus.session_factory() as s, s.begin():
        for i in range(n):
            env = envelope(type_, {"lead_id": str(uuid.uuid4()), "n": i}, source="crm/leads")
            webhooks.record_event(s, env.to_dict(), ctx.clock())
            ids.append(env.id)
    return ids


def _deliveries(ctx: NotifyContext, endpoint_id: str) -> list[WebhookDelivery]:
    with ctx.bus.session_factory() as s:
        return list(s.scalars(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)))


# --- SSRF -------------------------------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",
    "10.0.0.1",
    "169.254.169.254",
    "::1",
    "192.168.1.10",
    "100.64.0.1",
    "224.0.0.1",
    "::ffff:127.0.0.1",
    "fd00:ec2::254",
    "0.0.0.0",
]


@pytest.mark.parametrize("ip", FORBIDDEN)
def test_ssrf_refuses_private_addresses_by_literal_and_by_name(ip: str) -> None:
    host = f"[{ip}]" if ":" in ip else ip
    with pytest.raises(ssrf.RefusedError):
        ssrf.check_url(
            f"https://{host}/hook", development=False, resolver=lambda h, p: pytest.fail("resolved")
        )
    with pytest.raises(ssrf.RefusedError) as exc:
        ssrf.check_url("https://hooks.example.com/x", development=False, resolver=lambda h, p: [ip])
    assert ip in str(exc.value)
    # One bad address among good ones is enough to refuse (no DNS-rebinding lottery).
    with pytest.raises(ssrf.RefusedError):
        ssrf.check_url(
            "https://hooks.example.com/x", development=False, resolver=lambda h, p: ["93.184.216.34", ip]
        )


def test_ssrf_scheme_rules_and_allow_list() -> None:
    public = lambda h, p: ["93.184.216.34"]  # noqa: E731
    assert ssrf.check_url(
        "https://hooks.example.com:8443/a?b=1", development=False, resolver=public
    ) == ssrf.Target("https", "hooks.example.com", 8443, "/a?b=1", "93.184.216.34")
    for url in (
        "http://hooks.example.com/",
        "ftp://hooks.example.com/",
        "https://u:p@hooks.example.com/",
        "/x",
    ):
        with pytest.raises(ssrf.RefusedError):
            ssrf.check_url(url, development=False, resolver=public)
    assert ssrf.check_url("http://127.0.0.1:9/h", development=True, allow=["127.0.0.1"]).ip == "127.0.0.1"
    assert (
        ssrf.check_url(
            "http://localhost:9/h",
            development=True,
            allow=["127.0.0.0/8"],
            resolver=lambda h, p: ["127.0.0.1"],
        ).ip
        == "127.0.0.1"
    )
    with pytest.raises(ssrf.RefusedError):
        ssrf.check_url("http://127.0.0.1:9/h", development=True)
    for hostile in ("https://[::1", "https://x:99999/", "https://b\u00fccher\x00.example/"):
        with pytest.raises(ssrf.RefusedError):
            ssrf.check_url(hostile, development=False)


def test_refused_destinations_open_no_socket(db_url: str, isolated_bus: str, clock: FakeClock) -> None:
    """Outside development, nothing allow-listed: every attempt is refused and logged before
    the connector is ever called."""
    connects: list[tuple[str, int]] = []

    def connector(ip: str, port: int, timeout: float) -> Any:
        connects.append((ip, port))
        raise AssertionError("no connection may be attempted")

    names = {
        "evil-loop.example": "127.0.0.1",
        "evil-ten.example": "10.0.0.1",
        "evil-meta.example": "169.254.169.254",
        "evil-six.example": "::1",
    }
    ctx = build(db_url, "memory://", clock=clock, resolver=lambda h, p: [names[h]], connector=connector)
    urls = [f"https://{h}/hook" for h in names] + [
        "https://127.0.0.1/h",
        "https://10.0.0.1/h",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/h",
    ]
    endpoints = [_endpoint(ctx, url) for url in urls]
    _events(ctx)
    ctx.webhooks.run_until_idle()
    assert connects == []
    for ep in endpoints:
        [d] = _deliveries(ctx, ep.id)
        assert d.attempts == 1 and d.last_error is not None and d.last_error.startswith("refused:")


def test_api_refuses_an_unsafe_url_at_save_time(api, admin, rep1) -> None:  # type: ignore[no-untyped-def]
    body = {"url": "http://10.0.0.1/hook", "event_types": ["leads.#"]}
    resp = api.post(API, headers=admin, json=body)
    assert resp.status_code == 422 and "private" in resp.json["errors"]["json"]["url"][0]
    assert api.post(API, headers=rep1, json=body).status_code == 403
    bad = api.post(
        API, headers=admin, json={"url": "http://127.0.0.1/h", "event_types": ["secret.stuff", ""]}
    )
    assert bad.status_code == 422 and "event_types" in bad.json["errors"]["json"]


# --- delivery over loopback --------------------------------------------------------------------


def test_signed_delivery_verified_by_the_standardwebhooks_library(
    ctx: NotifyContext,
    api,
    admin,  # type: ignore[no-untyped-def]
    receivers: list[Receiver],
) -> None:
    r = Receiver()
    receivers.append(r)
    created = api.post(
        API, headers=admin, json={"url": r.url, "event_types": ["leads.lead.*.v1"], "description": "ERP"}
    )
    assert created.status_code == 201 and created.json["secret"].startswith("whsec_")
    with running_worker(ctx.bus) as bus:
        event = publish(bus, envelope("leads.lead.registered.v1", {"lead_id": "l1"}, source="crm/leads"))
        publish(bus, envelope("support.ticket.opened.v1", {"ticket_id": "t1"}, source="crm/support"))
        wait_settled(bus, "handled", 2)
    ctx.webhooks.run_until_idle()
    [(headers, body, _)] = r.requests
    payload = Webhook(created.json["secret"]).verify(body, headers)
    assert (
        payload["id"] == event.id == headers["webhook-id"] and payload["type"] == "leads.lead.registered.v1"
    )
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    [d] = api.get(f"{API}/{created.json['id']}/deliveries", headers=admin).json["items"]
    assert (d["state"], d["attempts"], d["last_status"]) == ("succeeded", 1, 204)


def test_rotation_signs_with_both_secrets_during_the_overlap(
    ctx: NotifyContext,
    api,
    admin,  # type: ignore[no-untyped-def]
    receivers: list[Receiver],
    clock: FakeClock,
) -> None:
    r = Receiver()
    receivers.append(r)
    ep = api.post(API, headers=admin, json={"url": r.url, "event_types": ["leads.#"]}).json
    rotated = api.post(f"{API}/{ep['id']}/rotate-secret", headers=admin).json
    assert rotated["secret"] != ep["secret"] and rotated["previous_secret_until"] is not None
    _events(ctx)
    ctx.webhooks.run_until_idle()
    headers, body, _ = r.requests[-1]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(ep["secret"]).verify(body, headers)  # receivers still on the old secret
    Webhook(rotated["secret"]).verify(body, headers)  # and those already switched
    clock.advance(hours=25)  # overlap (24 h) over: only the new secret signs
    with ctx.bus.session_factory() as s:
        ep_row = s.get(WebhookEndpoint, ep["id"])
        assert ep_row is not None and webhooks.active_secrets(ep_row, clock.now) == [rotated["secret"]]


def test_retries_on_the_schedule_with_a_delivery_log(
    ctx: NotifyContext,
    api,
    admin,  # type: ignore[no-untyped-def]
    receivers: list[Receiver],
    clock: FakeClock,
) -> None:
    r = Receiver(statuses=[500, 502])
    receivers.append(r)
    ep = _endpoint(ctx, r.url)
    _events(ctx)
    ctx.webhooks.run_until_idle()
    [d] = _deliveries(ctx, ep.id)
    assert (d.state, d.attempts, d.last_status) == ("pending", 1, 500)
    assert d.next_attempt_at == clock.now + timedelta(seconds=5)  # Svix: immediately, 5 s, 5 min, ...
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == 1  # not due yet
    clock.advance(seconds=5)
    ctx.webhooks.run_until_idle()
    assert _deliveries(ctx, ep.id)[0].next_attempt_at == clock.now + timedelta(minutes=5)
    clock.advance(minutes=5)
    ctx.webhooks.run_until_idle()
    [d] = _deliveries(ctx, ep.id)
    assert (d.state, d.attempts) == ("succeeded", 3)
    log = api.get(f"{API}/{ep.id}/deliveries/{d.id}/attempts", headers=admin).json["items"]
    assert [(a["attempt"], a["status_code"], a["succeeded"]) for a in log] == [
        (1, 500, False),
        (2, 502, False),
        (3, 204, True),
    ]
    assert all(a["latency_ms"] >= 0 for a in log) and log[0]["response_excerpt"] == "x" * 1000


def test_resend_and_replay(
    ctx: NotifyContext,
    api,
    admin,
    receivers: list[Receiver],  # type: ignore[no-untyped-def]
    clock: FakeClock,
) -> None:
    r = Receiver()
    receivers.append(r)
    early = _events(ctx, 2)
    clock.advance(hours=1)
    ep = _endpoint(ctx, r.url)  # registered after those events: they were not sent to it
    late = _events(ctx, 1)
    _events(ctx, 1, type_="support.ticket.opened.v1")  # not subscribed
    ctx.webhooks.run_until_idle()
    assert [h["webhook-id"] for h, _, _ in r.requests] == late
    since = (clock.now - timedelta(hours=2)).isoformat()
    resp = api.post(f"{API}/{ep.id}/replay", headers=admin, json={"since": since})
    assert resp.status_code == 202 and resp.json == {"queued": 3}
    ctx.webhooks.run_until_idle()
    assert sorted(h["webhook-id"] for h, _, _ in r.requests[1:]) == sorted(early + late)
    [d] = [d for d in _deliveries(ctx, ep.id) if d.event_id == late[0]]
    assert api.post(f"{API}/{ep.id}/deliveries/{d.id}/resend", headers=admin).status_code == 202
    ctx.webhooks.run_until_idle()
    assert [h["webhook-id"] for h, _, _ in r.requests].count(late[0]) == 3
    assert api.post(f"{API}/{ep.id}/deliveries/{uuid.uuid4()}/resend", headers=admin).status_code == 404
    assert api.post(f"{API}/{ep.id}/replay", headers=admin, json={"since": "yesterday"}).status_code == 422


def test_endpoint_failing_for_five_days_is_disabled_and_its_owner_told(
    ctx: NotifyContext,  # type: ignore[no-untyped-def]
    receivers: list[Receiver],
    clock: FakeClock,
) -> None:
    r = Receiver(statuses=[500] * 100)
    receivers.append(r)
    ep = _endpoint(ctx, r.url)
    for _ in range(6):  # a new event each day, each failing
        _events(ctx)
        ctx.webhooks.run_until_idle()
        clock.advance(days=1)
    with ctx.bus.session_factory() as s:
        row = s.get(WebhookEndpoint, ep.id)
        assert row is not None and not row.enabled and "failing since" in (row.disabled_reason or "")
        [note] = s.scalars(select(Notification).where(Notification.recipient_id == "admin"))
        assert note.kind == "webhook_disabled"
    [event] = outbox_events(ctx.bus, "notify.webhook_endpoint.disabled.v1")
    assert event["data"]["endpoint_id"] == ep.id
    before = len(r.requests)
    _events(ctx)
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == before  # a disabled endpoint gets nothing


def test_a_hanging_endpoint_never_delays_the_others(
    ctx: NotifyContext, receivers: list[Receiver], clock: FakeClock
) -> None:
    slow, fast = Receiver(hang=True), Receiver()
    receivers += [slow, fast]
    _endpoint(ctx, slow.url)
    _endpoint(ctx, fast.url)
    ids = _events(ctx, 20)
    started = time.monotonic()
    stop = threading.Event()
    ctx.webhooks.settings = dataclasses.replace(ctx.settings, webhook_interval=0.02)
    threads = ctx.webhooks.start(stop)
    try:
        deadline = started + 5
        while len(fast.requests) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(h["webhook-id"] for h, _, _ in fast.requests) == sorted(ids)
        assert fast.requests[-1][2] - started < 2.0  # while the slow one still hangs
        assert len(slow.requests) <= ctx.settings.webhook_workers and not slow.release.is_set()
    finally:
        slow.release.set()
        stop.set()
        ctx.webhooks.wake()
        for t in threads:
            t.join(10)


# --- keep-alive ----------------------------------------------------------------------------------


def test_keep_alive_reuses_one_checked_connection_and_checks_each_new_one(
    db_url: str, isolated_bus: str, clock: FakeClock, receivers: list[Receiver]
) -> None:
    """Deliveries to one endpoint share a connection to the checked address; when the receiver
    closes it, the next delivery resolves and checks again before it connects — and a name that
    now points at a private address is refused without a socket."""
    r = Receiver(keepalive=True)
    receivers.append(r)
    answers = {"hooks.test": "127.0.0.1"}
    resolved: list[str] = []
    connects: list[tuple[str, int]] = []

    def resolver(host: str, port: int) -> list[str]:
        resolved.append(host)
        return [answers[host]]

    def connector(ip: str, port: int, timeout: float) -> Any:
        connects.append((ip, port))
        return ssrf.system_connector(ip, port, timeout)

    settings = dataclasses.replace(
        Settings.from_env({}), webhook_development=True, webhook_allow=("127.0.0.1",), webhook_workers=1
    )
    ctx = build(db_url, "memory://", settings=settings, clock=clock, resolver=resolver, connector=connector)
    port = r.server.server_address[1]
    ep = _endpoint(ctx, f"http://hooks.test:{port}/hook")
    for _ in range(3):
        _events(ctx, 2)
        ctx.webhooks.run_until_idle()
    assert len(r.requests) == 6 and all(h["Host"] == f"hooks.test:{port}" for h, _, _ in r.requests)
    assert (len(r.connections), resolved, connects) == (1, ["hooks.test"], [("127.0.0.1", port)])

    r.connections[0].shutdown(socket.SHUT_RDWR)  # the receiver drops the idle connection
    _events(ctx)
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == 7 and len(r.connections) == 2 and resolved == ["hooks.test"] * 2

    answers["hooks.test"] = "10.0.0.1"  # DNS now points inside: the next new connection is refused
    r.connections[1].shutdown(socket.SHUT_RDWR)
    _events(ctx)
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == 7 and len(connects) == 2
    failed = [d for d in _deliveries(ctx, ep.id) if d.state != "succeeded"]
    assert [d.last_error for d in failed] == ["refused: hooks.test resolves to 10.0.0.1: private address"]


def test_an_answer_over_the_size_cap_closes_its_connection(
    db_url: str, isolated_bus: str, clock: FakeClock, receivers: list[Receiver]
) -> None:
    """A 500 with 5,000 bytes is read up to the cap (4,096) and its connection is not reused."""
    r = Receiver(statuses=[500], keepalive=True)
    receivers.append(r)
    settings = dataclasses.replace(
        Settings.from_env({}), webhook_development=True, webhook_allow=("127.0.0.1",), webhook_workers=1
    )
    ctx = build(db_url, "memory://", settings=settings, clock=clock)
    ep = _endpoint(ctx, r.url)
    _events(ctx, 1)
    ctx.webhooks.run_until_idle()
    _events(ctx, 2)
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == 3 and len(r.connections) == 2  # a new one after the capped answer
    assert sorted(d.last_status or 0 for d in _deliveries(ctx, ep.id)) == [204, 204, 500]


def test_without_keep_alive_each_attempt_opens_a_connection(
    db_url: str, isolated_bus: str, clock: FakeClock, receivers: list[Receiver]
) -> None:
    r = Receiver(keepalive=True)
    receivers.append(r)
    settings = dataclasses.replace(
        Settings.from_env({}),
        webhook_development=True,
        webhook_allow=("127.0.0.1",),
        webhook_workers=1,
        webhook_keepalive=False,
    )
    ctx = build(db_url, "memory://", settings=settings, clock=clock)
    _endpoint(ctx, r.url)
    _events(ctx, 3)
    ctx.webhooks.run_until_idle()
    assert len(r.requests) == 3 and len(r.connections) == 3


# --- the event log and its deliveries, batched ------------------------------------------------


def test_record_events_keeps_each_event_once_and_queues_one_delivery_per_wanting_endpoint(
    ctx: NotifyContext,
) -> None:
    leads_ep = _endpoint(ctx, "http://127.0.0.1:9/leads", ["leads.#"])
    lost_ep = _endpoint(ctx, "http://127.0.0.1:9/lost", ["leads.lead.lost.v1"])
    registered = envelope("leads.lead.registered.v1", {"lead_id": "a"}, source="crm/leads")
    lost = envelope("leads.lead.lost.v1", {"lead_id": "b"}, source="crm/leads")
    opened = envelope("accounts.account.opened.v1", {"account_id": "c"}, source="crm/accounts")
    with ctx.bus.session_factory() as s, s.begin():
        # The same event twice in one call counts once.
        assert webhooks.record_events(s, [registered.to_dict(), lost.to_dict(), registered.to_dict(),
                                          opened.to_dict()], ctx.clock()) == 3
    with ctx.bus.session_factory() as s, s.begin():
        # Already kept: nothing again, in a batch or alone.
        assert webhooks.record_events(s, [lost.to_dict(), registered.to_dict()], ctx.clock()) == 0
        assert webhooks.record_event(s, opened.to_dict(), ctx.clock()) == 0
    got = {(d.endpoint_id, d.event_id, d.event_type, d.state, d.attempts)
           for ep in (leads_ep, lost_ep) for d in _deliveries(ctx, ep.id)}
    assert got == {
        (leads_ep.id, registered.id, registered.type, "pending", 0),
        (leads_ep.id, lost.id, lost.type, "pending", 0),
        (lost_ep.id, lost.id, lost.type, "pending", 0),
    }
    with ctx.bus.session_factory() as s:
        kept = {e.id: e for e in s.scalars(select(WebhookEvent))}
    assert set(kept) == {registered.id, lost.id, opened.id}
    assert kept[lost.id].payload == lost.to_dict() and kept[lost.id].event_type == lost.type


def test_enabled_endpoints_are_read_once_per_transaction_not_once_per_session(ctx: NotifyContext) -> None:
    """A consumer's batch reads the endpoints once; an endpoint made between two transactions of
    the same session gets the second transaction's events."""
    first = envelope("leads.lead.registered.v1", {"lead_id": "a"}, source="crm/leads")
    second = envelope("leads.lead.registered.v1", {"lead_id": "b"}, source="crm/leads")
    with ctx.bus.session_factory() as s:
        with s.begin():
            assert webhooks.record_events(s, [first.to_dict()], ctx.clock()) == 0
        ep = _endpoint(ctx, "http://127.0.0.1:9/late", ["leads.#"])
        with s.begin():
            assert webhooks.record_events(s, [second.to_dict()], ctx.clock()) == 1
    assert [d.event_id for d in _deliveries(ctx, ep.id)] == [second.id]
