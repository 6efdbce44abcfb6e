"""Append-only tables (audit trails, history): rows can be inserted, never updated or deleted.

Enforced by the database itself, below the application, so no code path (and no ad-hoc SQL
through the application's connection) can rewrite history. A migration calls
``make_append_only(op.get_bind(), "account_audit")`` after creating the table.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
PG_FUNCTION = "crm_refuse_history_change"


def make_append_only(conn: Connection, table: str) -> None:
    """Refuse ``UPDATE``, ``DELETE`` (and on PostgreSQL ``TRUNCATE``) on ``table``."""
    if not _NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"""
            CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
            END $$"""))
        conn.execute(text(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"""))
        conn.execute(text(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"""))
    elif conn.dialect.name == "sqlite":
        for op in ("UPDATE", "DELETE"):
            conn.execute(text(f"""
                CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"""))
    else:  # pragma: no cover - only PostgreSQL and SQLite are supported
        raise RuntimeError(f"unsupported database {conn.dialect.name}")


def drop_append_only(conn: Connection, table: str) -> None:
    """The downgrade of ``make_append_only``."""
    if not _NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"))
    else:
        for op in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
