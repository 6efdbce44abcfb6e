"""Per-service broker users on the real RabbitMQ (``crm-broker-users``): a service's user runs
its whole worker (declare, consume, publish, retry, park, replay, discard) and nothing else — it
cannot consume another service's queue or publish through the default exchange — and an
outside subscriber can bind its own queue and read events but never publish them.

Everything lives in a private vhost with uniquely named users, created and deleted here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import amqp
import kombu
import pytest
from kombu import Exchange, Queue
from sqlalchemy import MetaData, create_engine
from sqlalchemy.pool import StaticPool

from crm_admin.broker_users import definitions, monitor_grant, service_grant, subscriber_grant
from eventbus import OutgoingMessage, PermanentError, ServiceBus, Subscription, new_event
from eventbus.broker import ParkedFilter
from eventbus.settings import BusSettings
from eventbus.testing import wait_for
from eventbus.worker import BusOnly

pytestmark = pytest.mark.integration
EXCHANGE = "crm.events"


def rabbitmqctl(*args: str, stdin: str | None = None) -> str:
    done = subprocess.run(["rabbitmqctl", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout


@dataclass
class Broker:
    vhost: str
    tag: str
    base: str  # amqp://host:port

    def url(self, user: str, password: str) -> str:
        return f"amqp://{quote(user)}:{quote(password)}@{self.base}/{quote(self.vhost, safe='')}"


@pytest.fixture
def broker(amqp_url: str) -> Iterator[Broker]:
    if shutil.which("rabbitmqctl") is None:
        pytest.fail("needs rabbitmqctl to create users and a vhost")
    tag = uuid.uuid4().hex[:8]
    vhost = f"crm-perm-{tag}"
    parts = urlsplit(amqp_url)
    users = [f"t{tag}_leads", f"t{tag}_accounts", f"t{tag}_erp", f"t{tag}_monitor"]
    try:
        yield Broker(vhost, tag, f"{parts.hostname}:{parts.port or 5672}")
    finally:
        for user in users:
            subprocess.run(["rabbitmqctl", "delete_user", user], capture_output=True, timeout=60, check=False)
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60, check=False)


def apply(broker: Broker) -> dict[str, str]:
    """What ``crm-broker-users apply`` does: one definitions import (vhost, exchanges, users)."""
    tag = broker.tag
    grants = [service_grant(f"t{tag}_leads", "leads", "crm", EXCHANGE),
              service_grant(f"t{tag}_accounts", "accounts", "crm", EXCHANGE),
              subscriber_grant(f"t{tag}_erp", "erp", EXCHANGE), monitor_grant(f"t{tag}_monitor")]
    passwords = {g.user: uuid.uuid4().hex for g in grants}
    doc = definitions(grants, passwords, vhost=broker.vhost, exchange=EXCHANGE)
    rabbitmqctl("import_definitions", "--format", "json", stdin=json.dumps(doc))
    wait_for(lambda: all(g.user in rabbitmqctl("-q", "list_permissions", "--vhost", broker.vhost)
                         for g in grants), 30, interval=0.3, message="definitions imported")
    return {g.user.split("_", 1)[1]: broker.url(g.user, passwords[g.user]) for g in grants}


def make_bus(service: str, url: str, fail: threading.Event | None = None) -> ServiceBus:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    metadata = MetaData()
    seen: list[str] = []

    def handle(session: Any, env: Any, data: dict[str, Any]) -> None:
        if fail is not None and fail.is_set():
            raise PermanentError("refused on purpose")
        seen.append(env.id)

    bus = ServiceBus(service=service, engine=engine, metadata=metadata,
                     subscriptions={"leads.lead.converted.v1": Subscription(handle)},
                     settings=BusSettings(broker_url=url, exchange=EXCHANGE, queue_prefix="crm",
                                          retry_delays=(0.2,)))
    metadata.create_all(engine)
    bus.seen = seen  # type: ignore[attr-defined]
    return bus


def refused(action: Any) -> bool:
    try:
        action()
    except (amqp.exceptions.AccessRefused, kombu.exceptions.OperationalError) as exc:
        return "ACCESS_REFUSED" in str(exc) or isinstance(exc, amqp.exceptions.AccessRefused)
    return False


def test_each_service_user_runs_its_worker_and_touches_nothing_else(broker: Broker) -> None:
    urls = apply(broker)
    fail = threading.Event()
    leads, accounts = make_bus("leads", urls["leads"]), make_bus("accounts", urls["accounts"], fail)
    stop = threading.Event()
    threads = accounts.start_worker(stop)  # declares its queues, binds, consumes
    try:
        first = new_event(source="crm/leads", type="leads.lead.converted.v1", data={})
        leads.broker.publish([OutgoingMessage(first.type, first.to_bytes(), first.id)])  # as its relay
        wait_for(lambda: accounts.seen == [first.id], 20, message="accounts handled the event")  # type: ignore[attr-defined]

        fail.set()  # park one: publishing to its own forward exchange is allowed
        poison = new_event(source="crm/leads", type="leads.lead.converted.v1", data={})
        leads.broker.publish([OutgoingMessage(poison.type, poison.to_bytes(), poison.id)])
        wait_for(lambda: [p.message_id for p in accounts.list_parked()] == [poison.id], 20,
                 message="the refused event parked")
        fail.clear()
        assert accounts.replay_parked(poison.id) == 1
        wait_for(lambda: poison.id in accounts.seen, 20, message="replayed and handled")  # type: ignore[attr-defined]
        assert accounts.discard_parked(ParkedFilter()) == 0
        assert set(accounts.queue_depths()) == {"crm.accounts", "crm.accounts.parked"}
    finally:
        stop.set()
        accounts.relay.wake.set()
        for t in threads:
            t.join(timeout=10)

    with kombu.Connection(urls["leads"], connect_timeout=5) as conn:
        # leads may not read, purge or delete accounts' queue...
        assert refused(lambda: conn.channel().basic_consume("crm.accounts", callback=print))
        assert refused(lambda: conn.channel().queue_purge("crm.accounts"))
        assert refused(lambda: conn.channel().queue_delete("crm.accounts"))
        # ...nor reach it through the default exchange (confirmed publish, so refusal shows).
        channel = conn.channel()
        channel.confirm_select()
        assert refused(lambda: (channel.basic_publish(amqp.Message(b"{}"), exchange="",
                                                      routing_key="crm.accounts"),
                                conn.drain_events(timeout=5)))
        # nor create or delete the shared exchange.
        assert refused(lambda: Exchange(EXCHANGE, "topic", durable=True)(conn.channel()).delete())
    BusOnly(leads).bus.broker.close()
    accounts.broker.close()


def test_an_outside_subscriber_reads_its_own_queue_and_cannot_publish(broker: Broker) -> None:
    urls = apply(broker)
    leads = make_bus("leads", urls["leads"])
    leads.broker.declare(leads.topology)
    with kombu.Connection(urls["erp"], connect_timeout=5) as conn:
        events = Exchange(EXCHANGE, "topic", durable=True, no_declare=True)
        queue = Queue("erp.leads", exchange=events, routing_key="leads.#", durable=True)
        queue(conn.channel()).declare()  # its own queue, bound to crm.events
        env = new_event(source="crm/leads", type="leads.lead.converted.v1", data={})
        leads.broker.publish([OutgoingMessage(env.type, env.to_bytes(), env.id)])
        got = wait_for(lambda: queue(conn.channel()).get(no_ack=True), 10, message="the event arrives")
        assert json.loads(got.body)["id"] == env.id

        channel = conn.channel()
        channel.confirm_select()
        assert refused(lambda: (channel.basic_publish(amqp.Message(b"{}"), exchange=EXCHANGE,
                                                      routing_key="leads.lead.converted.v1"),
                                conn.drain_events(timeout=5)))
        assert refused(lambda: Queue("crm.hijack", durable=True)(conn.channel()).declare())
        assert refused(lambda: conn.channel().basic_consume("crm.leads.parked", callback=print))
    with kombu.Connection(urls["monitor"], connect_timeout=5) as conn:  # what KEDA does
        _, depth, _ = conn.channel().queue_declare("crm.leads", passive=True)
        assert depth == 1  # the event above, bound by the same type
        assert refused(lambda: conn.channel().basic_consume("crm.leads", callback=print))
    leads.broker.close()
