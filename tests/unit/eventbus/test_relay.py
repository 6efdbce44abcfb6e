"""Outbox relay on SQLite into the in-process broker: publish first, mark sent after, never lose."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eventbus import OutgoingMessage, PublishError, new_event
from eventbus.memory import InMemoryBroker
from eventbus.relay import OutboxRelay
from eventbus.store import add_to_outbox, claim_inbox, define_tables, register_waker, unregister_waker
from eventbus.testing import wait_for
from eventbus.topology import ConsumerTopology

EVENT = "unit.order.placed.v1"


class RecordingBroker(InMemoryBroker):
    """Checks, while each batch is being published, that none of its rows is marked sent yet."""

    def __init__(self, engine: Engine, outbox: Table) -> None:
        super().__init__()
        self.engine, self.outbox = engine, outbox
        self.batches: list[list[str]] = []
        self.sent_during_publish: list[int] = []

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        ids = [m.message_id for m in messages]
        with self.engine.connect() as conn:  # another connection: sees only committed state
            marked = conn.execute(select(self.outbox.c.event_id).where(
                self.outbox.c.event_id.in_(ids), self.outbox.c.sent_at.is_not(None))).all()
        self.sent_during_publish.append(len(marked))
        self.batches.append(ids)
        super().publish(messages)


class FailingBroker(InMemoryBroker):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.calls += 1
        raise PublishError(f"broker refused {len(messages)} message(s)")


@pytest.fixture
def outbox(sqlite_engine: Engine) -> Table:
    metadata = MetaData()
    outbox, _ = define_tables(metadata)
    metadata.create_all(sqlite_engine)
    return outbox


def emit(engine: Engine, outbox: Table, count: int) -> list[str]:
    with Session(engine) as session, session.begin():
        envs = [new_event(source="crm/unit", type=EVENT, data={"n": n}) for n in range(count)]
        for env in envs:
            add_to_outbox(session, outbox, env)
    return [e.id for e in envs]


def unsent(engine: Engine, outbox: Table) -> list[Any]:
    with engine.connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.sent_at.is_(None))).all()


def consumer_topology() -> ConsumerTopology:
    return ConsumerTopology(queue="unit.sink", bindings=("unit.#",), exchange="unit.events")


def test_rows_are_marked_sent_only_after_publish(sqlite_engine: Engine, outbox: Table) -> None:
    ids = emit(sqlite_engine, outbox, 250)
    broker = RecordingBroker(sqlite_engine, outbox)
    broker.declare(consumer_topology())
    relay = OutboxRelay(sqlite_engine, outbox, broker, service="unit", batch_size=100)

    assert relay.drain() == 250
    assert [len(b) for b in broker.batches] == [100, 100, 50]  # batches, in outbox order
    assert [i for b in broker.batches for i in b] == ids
    assert broker.sent_during_publish == [0, 0, 0]
    assert unsent(sqlite_engine, outbox) == []
    assert broker.queue_depths(consumer_topology())["unit.sink"] == 250
    assert relay.drain() == 0  # nothing is published twice
    backlog = relay.backlog()
    assert backlog["unsent"] == 0 and backlog["oldest_unsent_at"] is None


def test_publish_failure_leaves_rows_unsent_and_records_the_error(
        sqlite_engine: Engine, outbox: Table) -> None:
    ids = emit(sqlite_engine, outbox, 5)
    failing = FailingBroker()
    relay = OutboxRelay(sqlite_engine, outbox, failing, service="unit", batch_size=100)
    for attempt in (1, 2):
        with pytest.raises(PublishError):
            relay.publish_batch()
        rows = unsent(sqlite_engine, outbox)
        assert [r.event_id for r in rows] == ids
        assert {r.attempts for r in rows} == {attempt}
        assert {r.last_error for r in rows} == {"broker refused 5 message(s)"}
    backlog = relay.backlog()
    assert backlog["unsent"] == 5 and backlog["max_attempts"] == 2
    assert backlog["last_error"] == "broker refused 5 message(s)"
    assert datetime.fromisoformat(str(backlog["oldest_unsent_at"])).tzinfo is not None

    relay.broker = RecordingBroker(sqlite_engine, outbox)  # the broker is back
    assert relay.drain() == 5
    assert unsent(sqlite_engine, outbox) == []


def test_relay_loop_survives_failures_and_backs_off(sqlite_engine: Engine, outbox: Table) -> None:
    emit(sqlite_engine, outbox, 3)
    failing = FailingBroker()
    relay = OutboxRelay(sqlite_engine, outbox, failing, service="unit", safety_poll=60)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_for(lambda: failing.calls >= 2, timeout=5, message="a retry after the first failure")
        assert len(unsent(sqlite_engine, outbox)) == 3
        relay.broker = RecordingBroker(sqlite_engine, outbox)
        wait_for(lambda: not unsent(sqlite_engine, outbox), timeout=10, message="published after recovery")
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_commit_wakes_the_relay_and_stop_is_prompt(sqlite_engine: Engine, outbox: Table) -> None:
    """safety_poll=60 s: only the after-commit wake-up can publish within the bounded wait."""
    broker = RecordingBroker(sqlite_engine, outbox)
    relay = OutboxRelay(sqlite_engine, outbox, broker, service="unit", safety_poll=60)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    try:
        for _ in range(3):  # from the second round on, the relay is surely in its long wait
            started = time.monotonic()
            [event_id] = emit(sqlite_engine, outbox, 1)
            wait_for(lambda eid=event_id: any(eid in b for b in broker.batches), timeout=3,
                     message="publish after commit")
            assert time.monotonic() - started < 3
    finally:
        started = time.monotonic()
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2.5, "stop waited for the safety poll"


def test_rolled_back_savepoint_keeps_the_wake_up(sqlite_engine: Engine, outbox: Table) -> None:
    broker = RecordingBroker(sqlite_engine, outbox)
    relay = OutboxRelay(sqlite_engine, outbox, broker, service="unit", safety_poll=60)
    register_waker(sqlite_engine, relay.wake)
    try:
        with Session(sqlite_engine) as session, session.begin():
            add_to_outbox(session, outbox, new_event(source="s", type=EVENT, data={}))
            savepoint = session.begin_nested()
            add_to_outbox(session, outbox, new_event(source="s", type=EVENT, data={}))
            savepoint.rollback()
        assert relay.wake.is_set()
        relay.wake.clear()
        with Session(sqlite_engine) as session, session.begin():
            add_to_outbox(session, outbox, new_event(source="s", type=EVENT, data={}))
            session.rollback()
        assert not relay.wake.is_set()  # nothing committed: no wake-up
    finally:
        unregister_waker(sqlite_engine, relay.wake)
    assert relay.drain() == 1


def test_claim_inbox_reports_first_and_repeat(sqlite_engine: Engine) -> None:
    metadata = MetaData()
    _, inbox = define_tables(metadata)
    metadata.create_all(sqlite_engine)
    env = new_event(source="s", type=EVENT, data={})
    with Session(sqlite_engine) as session, session.begin():
        assert claim_inbox(session, inbox, "c1", env) is True
        assert claim_inbox(session, inbox, "c1", env) is False
        assert claim_inbox(session, inbox, "c2", env) is True  # per consumer


def test_old_sent_rows_are_pruned(sqlite_engine: Engine, outbox: Table) -> None:
    emit(sqlite_engine, outbox, 2)
    relay = OutboxRelay(sqlite_engine, outbox, InMemoryBroker(), service="unit")
    relay.drain()
    with sqlite_engine.begin() as conn:
        first = conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars().first()
        conn.execute(update(outbox).where(outbox.c.id == first)
                     .values(sent_at=datetime(2000, 1, 1, tzinfo=UTC)))
    relay._prune()
    with sqlite_engine.connect() as conn:
        assert len(conn.execute(select(outbox.c.id)).all()) == 1


def test_inbox_rows_older_than_the_retention_are_pruned(sqlite_engine: Engine) -> None:
    metadata = MetaData()
    outbox, inbox = define_tables(metadata)
    metadata.create_all(sqlite_engine)
    relay = OutboxRelay(sqlite_engine, outbox, InMemoryBroker(), service="unit", inbox=inbox)
    with Session(sqlite_engine) as session, session.begin():
        for _ in range(2):
            claim_inbox(session, inbox, "c", new_event(source="t", type="t.thing.done.v1", data={}))
    with sqlite_engine.begin() as conn:
        oldest = conn.execute(select(inbox.c.event_id)).scalars().first()
        conn.execute(update(inbox).where(inbox.c.event_id == oldest)
                     .values(processed_at=datetime(2000, 1, 1, tzinfo=UTC)))
    relay._prune()
    with sqlite_engine.connect() as conn:
        left = conn.execute(select(inbox.c.event_id)).scalars().all()
    assert len(left) == 1 and oldest not in left
