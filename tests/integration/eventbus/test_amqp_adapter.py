"""RabbitMQ adapter details that only show against a real broker: heartbeats on idle publisher
connections, deleted exchanges, queues declared earlier with other arguments, graceful stop."""

from __future__ import annotations

import time
from dataclasses import replace

import amqp
import kombu
import pytest

from eventbus import OutgoingMessage, PublishError
from eventbus.amqp import AmqpBroker
from eventbus.testing import wait_for

from . import sample_service as sample
from .conftest import SampleHarness

pytestmark = pytest.mark.integration


def message(n: int) -> OutgoingMessage:
    return OutgoingMessage(sample.EVENT_TYPE, b'{"n": %d}' % n, f"m{n}")


def test_idle_publisher_keeps_its_connection_alive(sample_harness: SampleHarness) -> None:
    """With heartbeat=2 s, py-amqp declares a link dead when nothing was read for 4 s; an idle
    publisher reads nothing unless idle() drains the server's heartbeats. The relay's idle()
    ticks must keep the very same connection (white-box check)."""
    h = sample_harness
    broker = AmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange, heartbeat=2)
    try:
        broker.publish([message(1)])
        publisher = broker._publisher()
        connection = publisher._conn
        started = time.monotonic()

        def idle_for_five_seconds() -> bool:
            broker.idle()  # what the relay does about once a second while waiting
            return time.monotonic() - started > 5

        wait_for(idle_for_five_seconds, timeout=15, interval=0.25)
        assert publisher._conn is connection and connection is not None and connection.connected
        broker.publish([message(2)])
        assert publisher._conn is connection
    finally:
        broker.close()


def test_publish_declares_the_exchange_again_after_it_was_deleted(sample_harness: SampleHarness) -> None:
    h = sample_harness
    broker = AmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange)
    try:
        h.bus.broker.declare(h.bus.topology)
        broker.publish([message(1)])
        with kombu.Connection(h.amqp_url, connect_timeout=5) as conn:
            conn.channel().exchange_delete(exchange=h.bus.topology.exchange)
        with pytest.raises(PublishError, match="NOT_FOUND"):
            broker.publish([message(2)])  # the relay backs off and tries again...
        broker.publish([message(3)])  # ...and the retry declares the exchange anew
    finally:
        broker.close()


def test_operator_tools_work_when_the_queue_has_other_arguments(sample_harness: SampleHarness) -> None:
    """The queue was declared by a worker with a delivery limit of 10. A worker configured
    with 3 fails at start (as the operations guide says); the operator tools must not."""
    h = sample_harness
    h.bus.broker.declare(h.bus.topology)
    other = replace(h.bus.topology, delivery_limit=3)
    broker = AmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange)
    try:
        with pytest.raises(amqp.exceptions.PreconditionFailed, match="x-delivery-limit"):
            broker.declare(other)
        assert broker.queue_depths(other) == {other.queue: 0, other.parking_queue: 0}
        assert broker.list_parked(other) == []
        assert broker.replay_parked(other) == 0
    finally:
        broker.close()
    assert h.cli("depths", EVENTS_DELIVERY_LIMIT="3") == {other.queue: 0, other.parking_queue: 0}


def test_worker_stops_promptly_on_sigterm(sample_harness: SampleHarness) -> None:
    h = sample_harness
    h.setenv(OUTBOX_SAFETY_POLL="60")  # a long relay wait must not delay the stop
    worker = h.start_worker()
    ids = h.emit(5)
    h.wait_handled(ids, timeout=30)
    started = time.monotonic()
    assert worker.terminate(timeout=15) == 0  # 0: a requested stop, every thread joined
    assert time.monotonic() - started < 5
    h.assert_exactly_once(ids)
