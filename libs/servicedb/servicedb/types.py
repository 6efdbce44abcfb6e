"""Column types and statements that behave the same on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant, stored as UTC and always read back aware (UTC).

    PostgreSQL's ``timestamptz`` already does this; SQLite has no time zones and hands back
    naive values, which is how "moment must be timezone-aware" errors and 8-hour shifts reach
    only the embedded mode. Storing UTC on both keeps SQLite's text comparisons (ranges,
    ordering) right too. A naive value is refused on the way in: it is always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UtcDateTime needs a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a value SQLite computed itself, e.g. CURRENT_TIMESTAMP
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_insert(session: Session | str, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` with the ``ON CONFLICT`` clauses of the session's database (PostgreSQL or
    SQLite, whose upsert syntax is the same), so one statement serves both modes. A dialect
    name instead of a session serves statements built once and cached per dialect."""
    name = session if isinstance(session, str) else session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database {name}: PostgreSQL or SQLite")
