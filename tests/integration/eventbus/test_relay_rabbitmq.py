"""Outbox relay on PostgreSQL into RabbitMQ: batches with confirms, nacks, SKIP LOCKED, NOTIFY."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import kombu
import pytest
from sqlalchemy import text

from eventbus import OutgoingMessage, PublishError
from eventbus.amqp import AmqpBroker
from eventbus.relay import OutboxRelay
from eventbus.testing import wait_for

from . import sample_service as sample
from .conftest import SAMPLE, SampleHarness

pytestmark = pytest.mark.integration


class RecordingAmqpBroker(AmqpBroker):
    """The real adapter, remembering what it was asked to publish (and what was confirmed)."""

    def __init__(self, url: str, exchange: str) -> None:
        super().__init__(url, exchange=exchange)
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        super().publish(messages)  # returns only once the broker confirmed every message
        with self.lock:
            self.batches.append([m.message_id for m in messages])

    def publish_nowait(self, messages: Sequence[OutgoingMessage]) -> Callable[[], None]:
        confirmed = super().publish_nowait(messages)  # what a running relay uses

        def recorded() -> None:
            confirmed()  # returns only once the broker confirmed every message
            with self.lock:
                self.batches.append([m.message_id for m in messages])

        return recorded

    def published(self) -> list[str]:
        with self.lock:
            return [i for b in self.batches for i in b]


def test_outbox_events_reach_a_consumer_in_confirmed_batches(sample_harness: SampleHarness) -> None:
    h = sample_harness
    ids = h.emit(300)
    h.bus.broker.declare(h.bus.topology)  # the consumer's queue exists before anything is sent
    broker = RecordingAmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange)
    relay = OutboxRelay(h.engine, sample.outbox, broker, service="sample", batch_size=100)
    try:
        assert relay.drain() == 300
    finally:
        broker.close()
    assert [len(b) for b in broker.batches] == [100, 100, 100]
    assert broker.published() == ids  # in outbox order
    assert h.unsent() == 0
    assert h.queue_depth(h.bus.topology.queue) == 300  # each confirmed message is in the queue once

    h.start_worker()
    h.wait_handled(ids, timeout=60)
    h.assert_exactly_once(ids)
    h.wait(lambda: h.queue_depth(h.bus.topology.queue) == 0, timeout=10, message="queue drained")


def test_refused_publish_leaves_rows_unsent_then_duplicates_are_harmless(
        sample_harness: SampleHarness) -> None:
    """A queue that rejects publishes makes the broker nack; the relay must not mark rows sent."""
    h = sample_harness
    full = f"{h.bus.topology.queue}.full"
    h.extra_queues.append(full)
    h.bus.broker.declare(h.bus.topology)
    with kombu.Connection(h.amqp_url, connect_timeout=5) as conn:
        channel = conn.channel()
        channel.queue_declare(queue=full, durable=True, auto_delete=False,
                              arguments={"x-max-length": 2, "x-overflow": "reject-publish"})
        channel.queue_bind(queue=full, exchange=h.bus.topology.exchange, routing_key="#")
    ids = h.emit(5)
    broker = AmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange)
    relay = OutboxRelay(h.engine, sample.outbox, broker, service="sample", batch_size=100)
    try:
        with pytest.raises(PublishError, match="refused 3 message"):
            relay.publish_batch()
        assert h.unsent() == 5
        backlog = relay.backlog()
        assert backlog["max_attempts"] == 1 and "refused" in str(backlog["last_error"])

        with kombu.Connection(h.amqp_url, connect_timeout=5) as conn:
            conn.channel().queue_delete(queue=full)
        assert relay.drain() == 5  # the same rows, published again
    finally:
        broker.close()
    assert h.unsent() == 0
    # The consumer's queue got the first attempt's copies too; the inbox absorbs them.
    assert h.queue_depth(h.bus.topology.queue) == 10
    h.start_worker()
    h.wait(lambda: h.queue_depth(h.bus.topology.queue) == 0, timeout=30, message="queue drained")
    h.wait_handled(ids, timeout=10)
    h.assert_exactly_once(ids)


def test_two_concurrent_relays_publish_every_row_exactly_once(sample_harness: SampleHarness) -> None:
    h = sample_harness
    total = 2000
    ids = h.emit(total, batch=500)
    h.bus.broker.declare(h.bus.topology)
    brokers = [RecordingAmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange) for _ in range(2)]
    engines = [sample.make_engine(h.pg_url) for _ in range(2)]  # separate pools, separate sessions
    relays = [OutboxRelay(e, sample.outbox, b, service="sample", batch_size=50)
              for e, b in zip(engines, brokers, strict=True)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(relay: OutboxRelay) -> None:
        try:
            barrier.wait(timeout=10)
            relay.drain()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in relays]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        for b in brokers:
            b.close()
        for e in engines:
            e.dispose()
    assert not errors, errors
    first, second = (b.published() for b in brokers)
    assert first and second, "both relays should have taken part"
    assert not set(first) & set(second), "a row was published by both relays"
    assert sorted(first + second) == sorted(ids) and len(first) + len(second) == total
    assert h.unsent() == 0
    assert h.queue_depth(h.bus.topology.queue) == total

    h.start_worker(EVENTS_CONSUMER_THREADS="2")
    h.wait_handled(ids, timeout=60)
    h.assert_exactly_once(ids)


def _listening(h: SampleHarness) -> bool:
    with h.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query = 'LISTEN crm_outbox'")).scalar_one())


def test_relay_is_woken_by_a_commit_in_another_process(sample_harness: SampleHarness) -> None:
    """safety_poll=60 s: publishing within seconds can only come from LISTEN/NOTIFY."""
    h = sample_harness
    h.bus.broker.declare(h.bus.topology)
    broker = RecordingAmqpBroker(h.amqp_url, exchange=h.bus.topology.exchange)
    relay = OutboxRelay(h.engine, sample.outbox, broker, service="sample", safety_poll=60)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    latencies = []
    ids = []
    try:
        h.wait(lambda: _listening(h), timeout=10, message="the relay's LISTEN connection")
        for n in range(3):  # after the first round the relay is certainly in its 60 s wait
            done = subprocess.run([sys.executable, str(SAMPLE), "emit", "1", "--start", str(n)],
                                  env=dict(os.environ), capture_output=True, text=True, timeout=60,
                                  check=True)
            committed = time.monotonic()
            event_id = done.stdout.split()[0]
            ids.append(event_id)
            wait_for(lambda eid=event_id: eid in broker.published(), timeout=5,
                     message="publish after another process's commit")
            latencies.append(time.monotonic() - committed)
    finally:
        stopping = time.monotonic()
        stop.set()
        thread.join(timeout=10)
        broker.close()
    assert not thread.is_alive()
    assert time.monotonic() - stopping < 3, "stopping waited for the 60 s safety poll"
    assert max(latencies) < 5, latencies
    assert h.unsent() == 0

    h.start_worker()
    h.wait_handled(ids, timeout=30)
    h.assert_exactly_once(ids)


class WindowBroker(AmqpBroker):
    """The real adapter; the confirm of one chosen batch (by its position) fails, and each
    waiter records which rows were already marked sent when it was called."""

    def __init__(self, url: str, exchange: str, engine: Any, fail_batch: int | None = None) -> None:
        super().__init__(url, exchange=exchange)
        self.engine, self.fail_batch = engine, fail_batch
        self.sent: list[list[str]] = []
        self.in_flight_when_waited: list[int] = []

    def publish_nowait(self, messages: Sequence[OutgoingMessage]) -> Callable[[], None]:
        confirmed = super().publish_nowait(messages)
        position = len(self.sent)
        self.sent.append([m.message_id for m in messages])

        def wait() -> None:
            self.in_flight_when_waited.append(len(self.sent) - position)
            with self.engine.connect() as conn:  # committed state only
                marked = conn.execute(text(
                    "SELECT count(*) FROM event_outbox WHERE sent_at IS NOT NULL AND event_id = ANY(:ids)"),
                    {"ids": self.sent[position]}).scalar_one()
            assert marked == 0, "rows marked sent before their confirms"
            confirmed()
            if position == self.fail_batch:
                raise PublishError("broker refused 1 message(s)")

        return wait


def test_the_relay_window_marks_only_confirmed_batches(sample_harness: SampleHarness) -> None:
    """Batches are written ahead of their confirms; when one fails, those before it stay marked
    and it and those after it are published again (the consumer's inbox drops the copies)."""
    h = sample_harness
    ids = h.emit(500)
    h.bus.broker.declare(h.bus.topology)
    broker = WindowBroker(h.amqp_url, h.bus.topology.exchange, h.engine, fail_batch=1)
    relay = OutboxRelay(h.engine, sample.outbox, broker, service="sample", batch_size=100)
    assert relay.window > 1
    try:
        with pytest.raises(PublishError):
            relay.publish_window()
        assert max(broker.in_flight_when_waited) > 1  # the next batch was out before a confirm
        assert h.unsent() == 400  # the first batch only
        backlog = relay.backlog()
        assert backlog["max_attempts"] == 1 and "refused" in str(backlog["last_error"])
        broker.fail_batch = None
        assert relay.publish_window() == 400
    finally:
        broker.close()
    assert h.unsent() == 0
    published = [i for batch in broker.sent for i in batch]
    assert set(published) == set(ids) and len(published) > len(ids)  # some went twice
    h.start_worker()
    h.wait_handled(ids, timeout=60)
    h.assert_exactly_once(ids)
