"""Outbox and inbox tables, and the two writes a service makes to them.

``add_to_outbox`` runs inside the service's own transaction, so an event exists if and only if
the state change that caused it committed. ``claim_inbox`` runs inside the consumer's
transaction, so a handler's effects and the "seen" mark commit together.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    event,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import Insert, ReturningInsert

from servicedb import dialect_insert, writes

from .envelope import Envelope

NOTIFY_CHANNEL = "crm_outbox"
_PENDING = "eventbus_outbox_pending"  # session.info: wake in-process relays after commit
_NOTIFIED = "eventbus_outbox_notified"  # session.info: this transaction already sent NOTIFY


def define_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add ``event_outbox`` and ``event_inbox`` to a service's metadata (once)."""
    if "event_outbox" in metadata.tables:
        return metadata.tables["event_outbox"], metadata.tables["event_inbox"]
    outbox = Table(
        "event_outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(200), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    )
    # Only unsent rows are ever scanned, so index just those.
    Index(
        "ix_event_outbox_unsent",
        outbox.c.id,
        postgresql_where=outbox.c.sent_at.is_(None),
        sqlite_where=outbox.c.sent_at.is_(None),
    )
    inbox = Table(
        "event_inbox",
        metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(36), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_event_inbox"),
    )
    return outbox, inbox


def add_to_outbox(session: Session, outbox: Table, env: Envelope) -> None:
    """Queue ``env`` for publishing when (and only if) the session's transaction commits."""
    values = {"event_id": env.id, "event_type": env.type, "envelope": env.to_json()}
    if session.get_bind().dialect.name == "postgresql" and not session.info.get(_NOTIFIED):
        # NOTIFY is delivered at commit and folded per transaction: relays in other
        # processes wake within milliseconds, never on a rolled-back change. One per
        # transaction is enough (a round trip per event made bulk emits twice as slow), and
        # the transaction's first insert sends it itself (one round trip, not two).
        writes.execute(session, _pg_insert_notifying(outbox), values)
        session.info[_NOTIFIED] = True
    else:
        writes.execute(session, _outbox_insert(outbox), values)
    session.info[_PENDING] = True


@lru_cache(maxsize=32)
def _outbox_insert(outbox: Table) -> Insert:
    return outbox.insert()


@lru_cache(maxsize=32)
def _pg_insert_notifying(outbox: Table) -> Insert:
    """``INSERT INTO event_outbox (…) SELECT :event_id, :event_type, :envelope FROM
    pg_notify(…)``: the row and the relays' wake-up in one statement."""
    source = select(bindparam("event_id", type_=String()), bindparam("event_type", type_=String()),
                    bindparam("envelope", type_=Text())).select_from(
        func.pg_notify(NOTIFY_CHANNEL, "").table_valued())
    return outbox.insert().from_select(["event_id", "event_type", "envelope"], source)


def claim_inbox(session: Session, inbox: Table, consumer: str, env: Envelope) -> bool:
    """Record that ``consumer`` handles ``env``; False if it already did (a redelivery).

    A competing consumer inserting the same key blocks on the unique index until the first
    commits, then sees the conflict: the event takes effect once.

    The outcome is read from ``RETURNING``, not ``rowcount``: SQLAlchemy 2.x does not keep an
    INSERT's rowcount, and with psycopg it is -1, which made every event look like a duplicate.
    """
    values = {"consumer": consumer, "event_id": env.id, "event_type": env.type}
    return bool(writes.execute(session, _claim_one(session.get_bind().dialect.name, inbox), values))


@lru_cache(maxsize=32)
def _claim_one(dialect: str, inbox: Table) -> ReturningInsert[Any]:
    return dialect_insert(dialect, inbox).on_conflict_do_nothing().returning(inbox.c.event_id)


def claim_inbox_many(session: Session, inbox: Table, consumer: str, envs: list[Envelope]) -> set[str]:
    """``claim_inbox`` for a batch in one statement (one round trip instead of one an event);
    returns the ids claimed now. An id twice in ``envs`` is claimed once; an id another
    consumer is claiming blocks until it commits, then counts as already seen."""
    dialect = session.get_bind().dialect.name
    rows = list({env.id: {"consumer": consumer, "event_id": env.id, "event_type": env.type}
                 for env in envs}.values())
    if not rows:
        return set()
    if dialect == "postgresql":
        # Two array parameters instead of three per row: the statement is the same for every
        # batch size, so it is compiled once (a VALUES list was compiled anew per batch).
        params = {"consumer": consumer, "ids": [r["event_id"] for r in rows],
                  "types": [r["event_type"] for r in rows]}
        return {row[0] for row in writes.execute(session, _pg_claim_many(inbox), params)}
    stmt: sqlite.Insert
    if dialect == "sqlite":
        stmt = sqlite.insert(inbox).values(rows).on_conflict_do_nothing()
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported dialect {dialect}")
    return {row[0] for row in session.execute(stmt.returning(inbox.c.event_id))}


@lru_cache(maxsize=32)
def _pg_claim_many(inbox: Table) -> ReturningInsert[Any]:
    """``INSERT … SELECT :consumer, unnest(:ids), unnest(:types) ON CONFLICT DO NOTHING
    RETURNING event_id`` (the two arrays have the same length, so they unnest side by side)."""
    source = select(
        bindparam("consumer", type_=String()),
        func.unnest(bindparam("ids", type_=postgresql.ARRAY(String()))),
        func.unnest(bindparam("types", type_=postgresql.ARRAY(String()))),
    )
    return (postgresql.insert(inbox)
            .from_select(["consumer", "event_id", "event_type"], source)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id))


# --- in-process wake-up --------------------------------------------------------------------

_wakers: dict[str, set[threading.Event]] = defaultdict(set)
_wakers_lock = threading.Lock()


def _engine_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def register_waker(engine: Engine, waker: threading.Event) -> None:
    with _wakers_lock:
        _wakers[_engine_key(engine)].add(waker)


def unregister_waker(engine: Engine, waker: threading.Event) -> None:
    with _wakers_lock:
        _wakers[_engine_key(engine)].discard(waker)


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    session.info.pop(_NOTIFIED, None)
    if not session.info.pop(_PENDING, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    with _wakers_lock:
        wakers = list(_wakers.get(_engine_key(engine), ()))
    for waker in wakers:
        waker.set()


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the marks when the whole transaction rolled back.

    A rolled-back savepoint keeps rows written before it, so the wake-up mark stays (it was
    dropped before, and the relay then slept until its safety poll); the NOTIFY may have been
    inside the savepoint, so the next event of the transaction sends it again.
    """
    session.info.pop(_NOTIFIED, None)
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
