"""Pooled connections are checked without a round trip (servicedb's socket check instead of
SQLAlchemy's pre-ping), and a connection the server ended is still never handed to a request."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from eventbus.testing import wait_for
from servicedb import create_service_engine

pytestmark = pytest.mark.integration


def _statements(engine):  # type: ignore[no-untyped-def]
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_checkout_costs_no_round_trip(pg_url: str) -> None:
    engine = create_service_engine(pg_url, pool_size=1)
    try:
        assert engine.pool._pre_ping is False
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        seen = _statements(engine)
        for _ in range(3):
            with engine.connect() as conn:
                conn.execute(text("SELECT 2"))
        assert seen == ["SELECT 2"] * 3  # no ping query between them
    finally:
        engine.dispose()


def test_a_connection_the_server_ended_is_replaced_before_use(pg_url: str) -> None:
    engine = create_service_engine(pg_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as other:  # the same pooled connection, ended from another one
            assert other.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
        killer = create_service_engine(pg_url, pool_size=1)
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()

        def ended() -> bool:  # the signal is asynchronous: wait until that backend has exited
            with killer.connect() as conn:
                return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                                    {"p": pid}).scalar_one() == 0

        wait_for(ended, 10, interval=0.05, message="terminated backend gone")
        killer.dispose()
        with engine.connect() as conn:  # never raises: the ended connection is discarded at checkout
            new_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert new_pid != pid
    finally:
        engine.dispose()
