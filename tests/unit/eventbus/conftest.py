"""A consuming service in miniature: SQLite database, in-process broker, consumer thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from eventbus import Envelope, EventConsumer, OutgoingMessage, PermanentError, Subscription, new_event
from eventbus.memory import InMemoryBroker
from eventbus.store import add_to_outbox, define_tables
from eventbus.topology import ConsumerTopology

ITEM_CREATED = "unit.item.created.v1"
RETRY_DELAYS = (0.05, 0.1)


def parse_item(data: dict[str, Any]) -> dict[str, Any]:
    """The consumer's schema: ``n`` must be an int."""
    if not isinstance(data.get("n"), int):
        raise ValueError("n must be an integer")
    return {"n": data["n"], "mode": data.get("mode")}


@dataclass
class ConsumerHarness:
    engine: Engine
    effects: Table
    outbox: Table
    inbox: Table
    broker: InMemoryBroker
    topology: ConsumerTopology
    consumer: EventConsumer
    broken: set[str] = field(default_factory=set)  # modes that currently fail; "fix" = discard
    attempts: dict[str, list[float]] = field(default_factory=dict)
    contexts: dict[str, Envelope] = field(default_factory=dict)

    def handle(self, session: Session, env: Envelope, data: dict[str, Any]) -> None:
        self.attempts.setdefault(env.id, []).append(time.monotonic())
        # The effect is written first, so a failure after it proves the rollback.
        session.execute(self.effects.insert().values(event_id=env.id, n=data["n"]))
        mode = data["mode"]
        if mode in self.broken:
            if mode == "permanent":
                raise PermanentError("this event contradicts our data")
            raise RuntimeError(f"handler broken for {mode}")
        if mode == "emit":
            child = new_event(source="crm/unit", type="unit.item.seen.v1", data={"n": data["n"]})
            add_to_outbox(session, self.outbox, child)
            self.contexts[env.id] = child

    def event(self, n: int = 1, **data: Any) -> Envelope:
        return new_event(source="crm/producer", type=ITEM_CREATED, data={"n": n, **data})

    def publish(self, env: Envelope | None = None, *, body: bytes | None = None,
                routing_key: str = ITEM_CREATED) -> None:
        if env is not None:
            body, routing_key = env.to_bytes(), env.type
        assert body is not None
        self.broker.publish([OutgoingMessage(routing_key, body, env.id if env else "")])

    def effect_count(self, event_id: str | None = None) -> int:
        query = select(func.count()).select_from(self.effects)
        if event_id is not None:
            query = query.where(self.effects.c.event_id == event_id)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def inbox_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(self.inbox.c.event_id)).scalars())

    def depths(self) -> dict[str, int]:
        return self.broker.queue_depths(self.topology)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    # A file, not :memory:, so the consumer thread and the test see one database.
    engine = create_engine(f"sqlite:///{tmp_path / 'service.db'}",
                           connect_args={"check_same_thread": False, "timeout": 30})
    yield engine
    engine.dispose()


@pytest.fixture
def harness(sqlite_engine: Engine) -> Iterator[ConsumerHarness]:
    metadata = MetaData()
    effects = Table(
        "effects", metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False),  # not unique: double effects show
        Column("n", Integer, nullable=False),
    )
    outbox, inbox = define_tables(metadata)
    metadata.create_all(sqlite_engine)
    topology = ConsumerTopology(queue="unit.consumer", bindings=("unit.item.#",), exchange="unit.events",
                                retry_delays=RETRY_DELAYS, prefetch=10)
    broker = InMemoryBroker()
    h = ConsumerHarness(sqlite_engine, effects, outbox, inbox, broker, topology,
                        consumer=None)  # type: ignore[arg-type]
    h.consumer = EventConsumer(
        "unit.consumer", sessionmaker(sqlite_engine, expire_on_commit=False), inbox,
        {ITEM_CREATED: Subscription(h.handle, parse_item)}, topology,
    )
    stop = threading.Event()
    broker.declare(topology)
    thread = threading.Thread(target=broker.consume, args=(topology, h.consumer.handle, stop), daemon=True)
    thread.start()
    yield h
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive(), "consumer thread did not stop"
