"""A service's database goes away while events keep arriving: the consumer holds them (no
retries spent, nothing parked) and handles every one exactly once when the database is back.
The outage is real: the test database refuses connections and its sessions are terminated."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from eventbus import OutgoingMessage, new_event
from eventbus.metrics import EVENTS_HANDLED
from eventbus.testing import wait_for

from . import sample_service as sample

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(pg_url: str) -> Iterator[tuple[object, str]]:
    name = make_url(pg_url).database
    engine = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    yield engine, name
    with engine.connect() as conn:  # never leave the database closed, whatever happened
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    engine.dispose()


def _outage(admin: tuple[object, str], on: bool) -> None:
    engine, name = admin
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if on else "true"}'))
        if on:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})


def _counter(queue: str, outcome: str) -> float:
    return EVENTS_HANDLED.labels(queue, outcome)._value.get()


def test_database_outage_holds_events_until_it_is_back(pg_url: str, isolated_bus: str,
                                                        admin: tuple[object, str]) -> None:
    engine = sample.make_engine(pg_url)
    sample.metadata.create_all(engine)
    bus = sample.make_bus(engine, broker_url="memory://")
    stop = threading.Event()
    bus.start_worker(stop)
    queue = bus.topology.queue
    retried_before = _counter(queue, "retried")

    def publish(n: int) -> list[str]:
        events = [new_event(source="crm/test", type=sample.EVENT_TYPE, data={"n": i}) for i in range(n)]
        bus.broker.publish([OutgoingMessage(sample.EVENT_TYPE, e.to_bytes(), e.id) for e in events])
        return [e.id for e in events]

    def effects() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(sample.effects)).scalar_one()

    try:
        first = publish(5)
        wait_for(lambda: effects() == 5, 20, message="events before the outage")
        _outage(admin, on=True)
        during = publish(20)
        # The consumer meets the outage and holds; give it the time a retry policy would take.
        wait_for(lambda: _counter(queue, "handled") >= 5, 5)
        stop.wait(2.0)  # the outage lasts; nothing may be retried or parked meanwhile
        assert _counter(queue, "retried") == retried_before
        assert bus.list_parked() == []
        _outage(admin, on=False)
        wait_for(lambda: effects() == 25, 30, message="held events handled after the outage")
        with engine.connect() as conn:
            rows = conn.execute(select(sample.effects.c.event_id, func.count())
                                .group_by(sample.effects.c.event_id)).all()
        assert {r[0] for r in rows} == set(first + during)
        assert all(r[1] == 1 for r in rows)  # none twice in effect
        assert bus.list_parked() == []
    finally:
        stop.set()
        engine.dispose()
