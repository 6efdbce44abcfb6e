"""Drive a service's real consumer with real envelopes on the in-process broker.

Every service's handler tests use these: run the worker (relay + consumer) for the duration of
a ``with`` block, publish an envelope the way another service's relay would, and wait for the
consumer to settle deliveries (from its own metrics) instead of sleeping.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import REGISTRY
from sqlalchemy import select

from eventbus import Envelope, OutgoingMessage, ParkedMessage, ServiceBus, new_event
from eventbus.testing import wait_for


@contextmanager
def running_worker(bus: ServiceBus) -> Iterator[ServiceBus]:
    """The service's worker threads (relay and consumer), stopped and joined on exit."""
    stop = threading.Event()
    threads = bus.start_worker(stop)
    try:
        yield bus
    finally:
        stop.set()
        bus.relay.wake.set()  # the relay otherwise sleeps out its safety poll before it sees stop
        for thread in threads:
            thread.join(timeout=10)


def envelope(type: str, data: dict[str, Any], subject: str | None = None,
             source: str = "crm/test") -> Envelope:
    """A real CloudEvents envelope, as the producing service's ``emit`` would build it."""
    return new_event(source=source, type=type, data=data, subject=subject)


def publish(bus: ServiceBus, env: Envelope) -> Envelope:
    """Put ``env`` on the broker bus consumes from, keyed by its type like the relay does."""
    publish_raw(bus, env.type, env.to_bytes(), env.id)
    return env


def publish_raw(bus: ServiceBus, routing_key: str, body: bytes, message_id: str | None = None) -> None:
    bus.broker.publish([OutgoingMessage(routing_key=routing_key, body=body,
                                        message_id=message_id or "raw")])


def settled(bus: ServiceBus, outcome: str) -> int:
    """How many deliveries bus's consumer settled with ``outcome`` (handled, duplicate, parked,
    retried, ignored) — read from the consumer's own metrics."""
    value = REGISTRY.get_sample_value(
        "crm_events_handled_total", {"consumer": bus.consumer.name, "outcome": outcome})
    return int(value or 0)


def wait_settled(bus: ServiceBus, outcome: str, count: int = 1, timeout: float = 10.0) -> int:
    return wait_for(lambda: settled(bus, outcome) >= count and settled(bus, outcome), timeout,
                    message=f"{count} {outcome} deliveries on {bus.consumer.name}")


def wait_parked(bus: ServiceBus, event_id: str, timeout: float = 10.0) -> ParkedMessage:
    def parked() -> ParkedMessage | None:
        return next((p for p in bus.list_parked() if p.message_id == event_id), None)

    return wait_for(parked, timeout, message=f"event {event_id} parked")


def outbox_events(bus: ServiceBus, type: str | None = None) -> list[dict[str, Any]]:
    """The envelopes the service has emitted (sent or not), oldest first."""
    o = bus.outbox
    stmt = select(o.c.envelope).order_by(o.c.id)
    if type is not None:
        stmt = stmt.where(o.c.event_type == type)
    with bus.session_factory() as session:
        return [json.loads(row) for row in session.scalars(stmt)]
