"""A service's database engine and migrations, set up the way the outbox relies on.

PostgreSQL in distributed mode; SQLite (one file per service) in embedded mode, in WAL mode
with a busy timeout so the web thread, the relay and the consumer can write concurrently.
"""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError

SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for the lock before failing


def create_service_engine(url: str, *, pool_size: int = 10, **kwargs: object) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # The driver's own transaction handling off: it would BEGIN only before the first
            # write, so a SAVEPOINT could open (and its RELEASE commit) the transaction, and a
            # transaction that read first and writes later fails at once with "database is
            # locked" when another writer committed meanwhile (no busy wait for that case).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            # Every transaction takes the write lock at its start, waiting up to the busy
            # timeout for it: writers queue instead of failing, and what a transaction read
            # stays true until it commits (as SELECT ... FOR UPDATE gives on PostgreSQL).
            # WAL readers outside transactions are never blocked.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", pool_size)
    kwargs.setdefault("max_overflow", 10)
    # A pooled connection the server closed must not fail the next request. SQLAlchemy's
    # pre-ping answers that with a round trip on every checkout (a quarter of a primary-key
    # read's round trips and ~5 % of its CPU); ``_check_socket`` asks the kernel instead.
    parsed = make_url(url)
    cheap_check = hasattr(select, "poll") and parsed.get_driver_name() == "psycopg"
    kwargs.setdefault("pool_pre_ping", not cheap_check)
    if "connect_timeout" not in url:
        # A database host that stopped answering must fail a request (503) or a probe in
        # seconds, not hang it for the operating system's TCP timeout.
        kwargs.setdefault("connect_args", {"connect_timeout": 5})
    engine = create_engine(url, **kwargs)
    if cheap_check and not kwargs["pool_pre_ping"]:
        event.listen(engine, "checkout", _check_socket)
    return engine


def _check_socket(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled psycopg connection that is closed or whose socket is readable while idle.

    An idle connection (no query in flight, no LISTEN) has nothing to read unless the server
    closed it (EOF, or a FATAL "terminating connection" first): a zero-timeout ``poll`` tells
    without a round trip. ``DisconnectionError`` makes the pool discard it and connect afresh
    (SQLAlchemy retries the checkout). A connection cut silently (no FIN, no RST) passes, as it
    passed the pre-ping's ``SELECT 1`` only after a TCP timeout: its first query fails, which
    invalidates the whole pool, and the request answers 503 like any outage.
    """
    if getattr(dbapi_conn, "closed", False) or getattr(dbapi_conn, "broken", False):
        raise DisconnectionError("connection closed")
    try:
        fd = dbapi_conn.pgconn.socket
    except Exception as exc:
        raise DisconnectionError("connection has no socket") from exc
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection or sent unsolicited data")


def upgrade(engine: Engine, package: str) -> None:
    """Bring the schema to every head. Replicas starting together serialize on an advisory lock."""
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": package})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")  # parallel branches of migrations are allowed


def run_alembic_env(metadata: MetaData) -> None:
    """The body of every service's migrations/env.py."""
    from alembic import context

    conn = context.config.attributes.get("connection")
    if conn is None:
        url = context.config.get_main_option("sqlalchemy.url")
        if not url:
            raise RuntimeError("alembic needs a connection or sqlalchemy.url")
        engine = create_service_engine(url)
        with engine.begin() as conn:
            _configure_and_run(context, conn, metadata)
    else:
        _configure_and_run(context, conn, metadata)


def _configure_and_run(context, conn, metadata: MetaData) -> None:
    context.configure(connection=conn, target_metadata=metadata,
                      render_as_batch=conn.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
