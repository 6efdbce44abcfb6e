"""Batches share one transaction, each event in its own savepoint: a failing handler loses only
its own effects, and a commit that fails falls back to one event at a time."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from eventbus import Envelope, EventConsumer, OutgoingMessage, PermanentError, Subscription, new_event
from eventbus.memory import InMemoryBroker
from eventbus.store import define_tables
from eventbus.testing import wait_for
from eventbus.topology import ConsumerTopology

TYPE = "test.thing.happened.v1"


def _setup(tmp_path: Any) -> tuple[Any, Table, EventConsumer, InMemoryBroker, ConsumerTopology]:
    metadata = MetaData()
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True),
                    Column("event_id", String(36)), Column("n", Integer))
    _, inbox = define_tables(metadata)
    engine = create_engine(f"sqlite:///{tmp_path}/batch.db")
    metadata.create_all(engine)

    def handle(session: Session, env: Envelope, data: dict[str, Any]) -> None:
        session.execute(effects.insert().values(event_id=env.id, n=data["n"]))
        if data["n"] == 3:
            raise RuntimeError("three fails")
        if data["n"] == 4:
            raise PermanentError("four is rejected")

    topology = ConsumerTopology(queue="t.batch", bindings=(TYPE,), exchange="t", retry_delays=(60.0,))
    consumer = EventConsumer("t.batch", sessionmaker(engine), inbox, {TYPE: Subscription(handle)}, topology)
    return engine, effects, consumer, InMemoryBroker(), topology


def test_a_failing_event_does_not_undo_its_batch(tmp_path: Any) -> None:
    engine, effects, consumer, broker, topology = _setup(tmp_path)
    broker.declare(topology)
    events = [new_event(source="t", type=TYPE, data={"n": n}) for n in range(8)]
    duplicate = events[0]
    broker.publish([OutgoingMessage(TYPE, e.to_bytes(), e.id) for e in [*events, duplicate]])
    stop = threading.Event()
    seen: list[int] = []

    def on_batch(batch: list[Any]) -> None:
        seen.append(len(batch))
        consumer.handle_batch(batch)

    worker = threading.Thread(target=broker.consume_batches, args=(topology, on_batch, stop, 50))
    worker.start()
    try:
        wait_for(lambda: len(broker.list_parked(topology)) == 1, 10, message="the rejected event parked")
        with engine.connect() as conn:
            wait_for(lambda: conn.execute(select(func.count()).select_from(effects)).scalar_one() == 6, 5)
            ns = sorted(conn.execute(select(effects.c.n)).scalars())
        assert ns == [0, 1, 2, 5, 6, 7]  # 3 (retrying) and 4 (parked) left no effect; 0 once
        assert max(seen) > 1  # they really came as a batch
        assert broker.list_parked(topology)[0].reason == "rejected"
    finally:
        stop.set()
        worker.join(5)


def test_a_batch_claims_its_inbox_rows_in_one_statement_and_each_event_once(tmp_path: Any) -> None:
    engine, effects, consumer, broker, topology = _setup(tmp_path)
    from sqlalchemy import event as sa_event

    inserts: list[str] = []
    sa_event.listen(engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_a: inserts.append(sql) if "event_inbox" in sql else None)
    events = [new_event(source="t", type=TYPE, data={"n": n}) for n in (10, 11, 12)]
    broker.declare(topology)
    broker.publish([OutgoingMessage(TYPE, e.to_bytes(), e.id) for e in [*events, events[1]]])
    stop = threading.Event()
    worker = threading.Thread(target=broker.consume_batches,
                              args=(topology, consumer.handle_batch, stop, 50))
    worker.start()
    try:
        with engine.connect() as conn:
            wait_for(lambda: conn.execute(select(func.count()).select_from(effects)).scalar_one() >= 3, 5)
        # Redelivered later, in a batch of its own kind: a duplicate, no second effect.
        broker.publish([OutgoingMessage(TYPE, e.to_bytes(), e.id) for e in events[:2]])
        wait_for(lambda: broker.queue_depths(topology)[topology.queue] == 0, 5)
        with engine.connect() as conn:
            wait_for(lambda: len(inserts) >= 2, 5)
            assert sorted(conn.execute(select(effects.c.n)).scalars()) == [10, 11, 12]
    finally:
        stop.set()
        worker.join(5)
    assert len(inserts) <= 4 and all(sql.lstrip().upper().startswith("INSERT") for sql in inserts)


def test_a_batched_subscription_takes_consecutive_events_in_one_call(tmp_path: Any) -> None:
    """``Subscription.batched``: one call for the batch's events (each once, duplicates
    dropped by the inbox); a failing call falls back to one event at a time, so only the bad
    event loses its effects."""
    metadata = MetaData()
    effects = Table("effects", metadata, Column("id", Integer, primary_key=True),
                    Column("event_id", String(36)), Column("n", Integer))
    _, inbox = define_tables(metadata)
    engine = create_engine(f"sqlite:///{tmp_path}/batched.db")
    metadata.create_all(engine)
    calls: list[list[int]] = []

    def handle_many(session: Session, items: list[tuple[Envelope, dict[str, Any]]]) -> None:
        calls.append([data["n"] for _, data in items])
        session.execute(effects.insert(), [{"event_id": env.id, "n": data["n"]} for env, data in items])
        if any(data["n"] == 3 for _, data in items):
            raise PermanentError("three is rejected")

    topology = ConsumerTopology(queue="t.batched", bindings=(TYPE,), exchange="t", retry_delays=(60.0,))
    consumer = EventConsumer("t.batched", sessionmaker(engine), inbox,
                             {TYPE: Subscription.batched(handle_many)}, topology)
    broker = InMemoryBroker()
    broker.declare(topology)

    def run(events: list[Envelope]) -> None:
        broker.publish([OutgoingMessage(TYPE, e.to_bytes(), e.id) for e in events])
        stop = threading.Event()
        worker = threading.Thread(target=broker.consume_batches,
                                  args=(topology, consumer.handle_batch, stop, 50))
        worker.start()
        try:
            wait_for(lambda: broker.queue_depths(topology)[topology.queue] == 0, 10)
        finally:
            stop.set()
            worker.join(5)

    first = [new_event(source="t", type=TYPE, data={"n": n}) for n in (0, 1, 2)]
    run([*first, first[0]])
    assert calls == [[0, 1, 2]]  # one call, the duplicate dropped
    calls.clear()
    run([*first[:2], *(new_event(source="t", type=TYPE, data={"n": n}) for n in (3, 4))])
    assert [0] not in calls and [1] not in calls  # the redelivered ones had no second effect
    assert [3] in calls and [4] in calls  # the failing batch was redone one event at a time
    with engine.connect() as conn:
        assert sorted(conn.execute(select(effects.c.n)).scalars()) == [0, 1, 2, 4]
    assert len(broker.list_parked(topology)) == 1
