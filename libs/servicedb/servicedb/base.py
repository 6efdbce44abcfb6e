"""Declarative base factory with one naming convention, so migrations name constraints alike."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, cast

from sqlalchemy import MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from . import writes
from .types import dialect_insert

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


class CodeCounterMixin:
    """Counters for human-readable codes (L-000001). A service maps it once:
    ``class CodeCounter(CodeCounterMixin, Base): __tablename__ = "code_counters"``."""

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_code(session: Session, counter: type[DeclarativeBase], prefix: str, width: int = 6) -> str:
    """Take the next number for ``prefix`` inside the caller's transaction.

    One upsert (``INSERT … ON CONFLICT DO UPDATE … RETURNING``): the first taker of a prefix
    creates its row and concurrent first takers wait on it instead of failing on the primary
    key; the row lock serializes later takers, so codes are unique and gap-free per committed
    transaction (a rolled-back one releases its number).
    """
    stmt = _take(session.get_bind().dialect.name, cast(Table, counter.__table__))
    value = writes.scalar(session, stmt, {"prefix": prefix, "value": 1})
    return f"{prefix}-{value:0{width}d}"


@lru_cache(maxsize=16)
def _take(dialect: str, table: Table) -> Any:
    """The counter's upsert, built once per dialect and table (every new record takes a code)."""
    stmt = dialect_insert(dialect, table)
    return stmt.on_conflict_do_update(index_elements=[table.c.prefix],
                                      set_={"value": table.c.value + 1}).returning(table.c.value)
