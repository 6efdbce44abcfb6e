"""Append-only tables refuse updates and deletes from any connection, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from servicedb import drop_append_only, make_append_only


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def test_history_rows_can_be_added_but_never_changed(engine: Engine) -> None:
    table = Table("history", MetaData(), Column("id", Integer, primary_key=True), Column("what", String(20)))
    with engine.begin() as conn:
        table.create(conn)
        make_append_only(conn, "history")
        conn.execute(table.insert().values(id=1, what="created"))
    for statement in ("UPDATE history SET what = 'forged'", "DELETE FROM history"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT what FROM history")).scalar_one() == "created"
    with engine.begin() as conn:  # the downgrade lifts it
        drop_append_only(conn, "history")
        conn.execute(text("DELETE FROM history"))


def test_only_plain_table_names() -> None:
    with pytest.raises(ValueError):
        make_append_only(None, "x; DROP TABLE y")  # type: ignore[arg-type]


SUPPORT_HISTORY = {
    "support_policy_changes": "(version, at, actor, reason, changes) VALUES (1, :at, 'admin', 'r', '{}')",
    "ticket_history": "(ticket_id, at, actor, action) VALUES ('t', :at, 'agent', 'open')",
    "ticket_contacts": "(ticket_id, at, by, channel, repeat) VALUES ('t', :at, 'agent', 'phone', false)",
    "sla_ledger": "(ticket_id, metric, action, at, consumed_seconds) "
                  "VALUES ('t', 'resolution', 'start', :at, 0)",
    "complaint_steps": "(ticket_id, step, name, at, by) VALUES ('t', 1, 'received', :at, 'agent')",
    "complaint_approvals": "(ticket_id, role, by, at, approved) VALUES ('t', 'sales_gm', 'gm', :at, true)",
    "accountability_entries": "(ticket_id, rule, person_role, amount, currency, at, by) "
                              "VALUES ('t', 'unresolved_in_time', 'employee', 500, 'CNY', :at, 'system')",
    "appointment_changes": "(appointment_id, at, by, action) VALUES ('a', :at, 'agent', 'schedule')",
    "fault_updates": "(fault_id, at, by, note) VALUES ('f', :at, 'tech', 'n')",
}


def test_support_history_tables_are_append_only(db_url: str) -> None:
    """The support migration makes every history table append-only, on both databases."""
    from datetime import UTC, datetime

    from support.wiring import build

    ctx = build(db_url, "memory://", migrate=True)
    try:
        for table, values in SUPPORT_HISTORY.items():
            with ctx.bus.engine.begin() as conn:
                conn.execute(text(f"INSERT INTO {table} {values}"), {"at": datetime(2026, 3, 2, tzinfo=UTC)})
            for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):  # noqa: S608
                with pytest.raises(DatabaseError, match="append-only"), ctx.bus.engine.begin() as conn:
                    conn.execute(text(statement))
    finally:
        ctx.bus.engine.dispose()
