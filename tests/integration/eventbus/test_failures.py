"""Failures against real servers: dropped connections, killed workers, failing handlers, bad
messages, a message that kills its worker. Each ends with every event in effect exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import pytest

from eventbus import new_event
from eventbus.relay import OutboxRelay

from . import sample_service as sample
from .conftest import SampleHarness, rabbitmqctl

pytestmark = pytest.mark.integration


class Emitter(threading.Thread):
    """Commits events in small transactions while the test does something nasty."""

    def __init__(self, h: SampleHarness, count: int, start: int, batch: int) -> None:
        super().__init__(daemon=True)
        self.h, self.count, self.first, self.batch = h, count, start, batch
        self.ids: list[str] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for first in range(self.first, self.first + self.count, self.batch):
                self.ids += self.h.emit(min(self.batch, self.first + self.count - first), start=first,
                                        batch=self.batch)
        except BaseException as exc:
            self.error = exc

    def finish(self) -> list[str]:
        self.join(timeout=120)
        assert not self.is_alive() and self.error is None, self.error
        return self.ids


def test_connections_dropped_mid_stream(harness_in_private_vhost: SampleHarness) -> None:
    h = harness_in_private_vhost
    vhost = unquote(urlsplit(h.amqp_url).path[1:])

    def close_all_connections() -> None:
        rabbitmqctl("close_all_connections", "--vhost", vhost, "test")

    h.setenv(EVENTS_CONSUMER_THREADS="2")
    total = 3000
    worker = h.start_worker()
    emitter = Emitter(h, total, start=0, batch=50)
    emitter.start()
    h.wait(lambda: h.handled() >= total // 5, timeout=60, message="the stream to flow", interval=0.02)
    close_all_connections()  # the consumers', the relay's and the retry publishers' links
    h.wait(lambda: h.handled() >= total // 2, timeout=60, message="the stream to resume", interval=0.02)
    close_all_connections()
    ids = emitter.finish()
    h.wait_handled(ids, timeout=90)
    h.assert_exactly_once(ids)
    assert not worker.exited(), f"the worker gave up instead of reconnecting:\n{worker.tail()}"
    h.wait(lambda: h.unsent() == 0, timeout=10, message="outbox drained")
    log = worker.log_path.read_text()
    # The outage is reported once when it starts and once when it is over, not per attempt.
    assert "broker unavailable" in log and "broker recovered" in log
    assert h.bus.list_parked() == []


def test_worker_killed_mid_batch_then_restarted(sample_harness: SampleHarness) -> None:
    h = sample_harness
    h.setenv(SAMPLE_HANDLER_DELAY="0.002")  # slow enough that the kill lands mid-stream
    ids = h.emit(800, batch=200)
    first = h.start_worker()
    emitter = Emitter(h, 800, start=800, batch=20)  # keeps the relay mid-batch too
    emitter.start()
    h.wait(lambda: h.handled() >= 300, timeout=60, message="handling to be under way", interval=0.02)
    assert first.kill() == -9
    handled_at_kill = h.handled()
    ids += emitter.finish()
    assert handled_at_kill < len(ids), "the kill came too late to land mid-stream"

    second = h.start_worker()
    h.wait_handled(ids, timeout=90)
    h.assert_exactly_once(ids)
    h.wait(lambda: h.unsent() == 0, timeout=10, message="outbox drained")
    assert not second.exited()
    with h.engine.connect() as conn:
        pids = set(conn.execute(sample.effects.select().with_only_columns(sample.effects.c.pid)).scalars())
    assert pids == {first.pid, second.pid}
    assert h.bus.list_parked() == []


def test_failing_handler_is_retried_parked_and_replayed_by_the_operator(
        sample_harness: SampleHarness) -> None:
    h = sample_harness
    # One event per transaction, so each recorded attempt is one delivery (in a batch, a failing
    # handler also runs once more in the savepoint pass; tests/unit/eventbus/test_batches.py).
    h.setenv(EVENTS_RETRY_DELAYS="0.2,0.4", EVENTS_CONSUMER_BATCH="1")
    h.set_fault("boom")  # the handler raises RuntimeError
    h.set_fault("reject-contract")  # the handler raises PermanentError
    h.start_worker()
    [failing] = h.emit(1, start=1, fault="boom")
    [rejected] = h.emit(1, start=2, fault="reject-contract")
    healthy = h.emit(3, start=10)
    h.wait_handled(healthy, timeout=30)  # a failing event does not hold the others up
    h.wait(lambda: len(h.bus.list_parked()) == 2, timeout=30, message="two parked messages")

    times = h.attempt_times(failing)
    assert len(times) == 3  # the first attempt and two retries
    assert times[1] - times[0] >= timedelta(seconds=0.18)
    assert times[2] - times[1] >= timedelta(seconds=0.38)
    assert len(h.attempt_times(rejected)) == 1  # PermanentError: parked without retries

    parked = {p["message_id"]: p for p in h.cli("parked")}
    assert set(parked) == {failing, rejected}
    assert parked[failing]["reason"] == "retries-exhausted"
    assert parked[failing]["retries"] == 2
    assert "RuntimeError: fault boom is active" in parked[failing]["error"]
    assert parked[failing]["routing_key"] == parked[failing]["event_type"] == sample.EVENT_TYPE
    assert parked[failing]["parked_at"]
    assert parked[rejected]["reason"] == "rejected"
    assert "rejects the event" in parked[rejected]["error"]
    assert h.effect_counts().keys().isdisjoint({failing, rejected})

    h.clear_faults()  # the fix is deployed
    assert h.cli("replay", "--id", failing) == {"replayed": 1}
    h.wait_handled([*healthy, failing], timeout=30)
    assert [p.message_id for p in h.bus.list_parked()] == [rejected]

    assert h.cli("replay", "--all") == {"replayed": 1}
    h.wait_handled([*healthy, failing, rejected], timeout=30)
    h.assert_exactly_once([*healthy, failing, rejected])
    assert h.cli("parked") == []
    assert h.cli("depths")[h.bus.topology.parking_queue] == 0


def test_malformed_message_is_parked_at_once(sample_harness: SampleHarness) -> None:
    h = sample_harness
    worker = h.start_worker()
    h.bus.broker.declare(h.bus.topology)
    h.publish_raw(b"\xff\xfe this is not an envelope")
    bad_payload = new_event(source="crm/other", type=sample.EVENT_TYPE, data={"n": "not a number"})
    h.publish_raw(bad_payload.to_bytes())  # a valid envelope whose payload breaks the schema
    parked = h.wait(lambda: h.bus.list_parked() if len(h.bus.list_parked()) == 2 else None,
                    timeout=20, message="both parked")
    by_reason = {p.reason: p for p in parked}
    assert set(by_reason) == {"malformed", "invalid-payload"}
    assert by_reason["malformed"].retries == 0 and "not JSON" in (by_reason["malformed"].error or "")
    assert by_reason["malformed"].routing_key == sample.EVENT_TYPE
    assert by_reason["invalid-payload"].message_id == bad_payload.id

    ids = h.emit(3)  # the consumer is still alive and handling
    h.wait_handled(ids, timeout=30)
    h.assert_exactly_once(ids)
    assert not worker.exited()
    with h.engine.connect() as conn:
        assert conn.execute(sample.attempts.select()).all() == []  # the handler never saw them


def test_message_that_kills_its_worker_is_parked_by_the_delivery_limit(sample_harness: SampleHarness) -> None:
    """A worker that dies on a message (os._exit) is restarted by its supervisor; after the
    delivery limit the broker parks the message instead of letting it crash-loop forever."""
    h = sample_harness
    h.setenv(EVENTS_DELIVERY_LIMIT="1")  # dead-lettered on its second return
    h.set_fault("die")
    [poison] = h.emit(1, fault="die")
    innocent = h.emit(5, start=100)  # queued right behind it
    h.bus.broker.declare(h.bus.topology)
    relay = OutboxRelay(h.engine, sample.outbox, h.bus.broker, service="sample")
    assert relay.drain() == 6  # on the queue before any worker runs: a deterministic order

    def poison_parked() -> bool:
        return any(p.message_id == poison for p in h.bus.list_parked())

    exit_codes = []
    for _ in range(6):  # the test is the supervisor
        worker = h.start_worker()
        h.wait(lambda w=worker: w.exited() or poison_parked(), timeout=30,
               message="the worker to die or the message to be parked", interval=0.2)
        if not worker.exited():
            break
        exit_codes.append(worker.proc.returncode)
    assert exit_codes == [3, 3]  # bounded: two deaths, then it was parked
    assert len(h.attempt_times(poison)) == 2

    h.wait_handled(innocent, timeout=30)
    h.assert_exactly_once(innocent)  # the neighbours were neither lost nor parked with it
    [parked] = h.cli("parked")
    assert parked["message_id"] == poison
    assert parked["reason"] == "delivery-limit"
    assert parked["routing_key"] == sample.EVENT_TYPE
    assert parked["parked_at"]

    h.clear_faults()
    assert h.cli("replay", "--all") == {"replayed": 1}
    h.wait_handled([*innocent, poison], timeout=30)
    h.assert_exactly_once([*innocent, poison])
    assert h.cli("parked") == []
    assert not worker.exited()
