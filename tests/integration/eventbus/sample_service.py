"""A tiny service built on the event bus, for the integration tests.

It owns an ``effects`` table that records every handler execution *without* a unique
constraint, so an event applied twice shows up as two rows; a ``faults`` table the tests use to
break and later fix the handler (the operator's "fix" is deleting the row); and an
``attempts`` table written outside the handler's transaction, so failed attempts stay visible.

Run as a separate worker process (configured only by environment variables)::

    SAMPLE_DATABASE_URL=... EVENTS_BROKER_URL=... python sample_service.py run
    python sample_service.py parked | replay --all | replay --id ID | depths | outbox
    python sample_service.py emit COUNT [--batch N]   # commit events from this process
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from eventbus import Envelope, PermanentError, ServiceBus, Subscription
from eventbus.store import define_tables
from eventbus.worker import BusOnly, configure_logging
from eventbus.worker import main as worker_main

SERVICE = "sample"
EVENT_TYPE = "sample.item.created.v1"
metadata = MetaData()
effects = Table(
    "effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),  # deliberately NOT unique
    Column("n", Integer, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
faults = Table("faults", metadata, Column("name", String(100), primary_key=True))
attempts = Table(
    "attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
outbox, inbox = define_tables(metadata)


def parse(data: dict[str, Any]) -> dict[str, Any]:
    """The payload schema: ``n`` must be an int; ``fault`` an optional fault name."""
    if not isinstance(data.get("n"), int):
        raise ValueError("n must be an integer")
    return {"n": data["n"], "fault": data.get("fault")}


def make_handler(engine: Engine) -> Any:
    delay = float(os.environ.get("SAMPLE_HANDLER_DELAY", "0") or 0)

    def handle(session: Session, event: Envelope, data: dict[str, Any]) -> None:
        """Record the effect; misbehave when the event names an active fault."""
        fault = data["fault"]
        if fault:
            with engine.begin() as conn:  # outside the handler's transaction: survives a raise
                conn.execute(insert(attempts).values(event_id=event.id))
            active = session.execute(select(faults.c.name).where(faults.c.name == fault)).first()
            if active is not None:
                if fault.startswith("die"):
                    os._exit(3)  # a worker that dies on this message, every time
                if fault.startswith("reject"):
                    raise PermanentError(f"fault {fault} rejects the event")
                raise RuntimeError(f"fault {fault} is active")
        if delay:
            time.sleep(delay)
        session.execute(insert(effects).values(event_id=event.id, n=data["n"], pid=os.getpid()))

    return handle


def make_engine(url: str | None = None) -> Engine:
    return create_engine(url or os.environ["SAMPLE_DATABASE_URL"], pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)


def make_bus(engine: Engine | None = None, broker_url: str | None = None) -> ServiceBus:
    engine = engine or make_engine()
    return ServiceBus(
        service=SERVICE,
        engine=engine,
        metadata=metadata,
        subscriptions={EVENT_TYPE: Subscription(make_handler(engine), parse)},
        broker_url=broker_url,
    )


def emit(bus: ServiceBus, count: int, start: int = 0, batch: int = 100,
         fault: str | None = None) -> list[str]:
    """Commit ``count`` events, ``batch`` per transaction, as a service's web process would."""
    ids: list[str] = []
    for first in range(start, start + count, batch):
        with bus.session_factory() as session, session.begin():
            for n in range(first, min(first + batch, start + count)):
                data: dict[str, Any] = {"n": n}
                if fault:
                    data["fault"] = fault
                ids.append(bus.emit(session, EVENT_TYPE, data, subject=str(n)).id)
    return ids


def _emit_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sample_service.py emit")
    parser.add_argument("count", type=int)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args(argv)
    bus = make_bus()
    for event_id in emit(bus, args.count, args.start, args.batch):
        print(event_id)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["emit"]:
        sys.exit(_emit_cli(sys.argv[2:]))
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    sys.exit(worker_main(lambda: BusOnly(make_bus())))
