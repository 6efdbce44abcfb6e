"""Declarative base factory with one naming convention, so migrations name constraints alike."""

from __future__ import annotations

from typing import cast

from sqlalchemy import MetaData, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

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
    table = cast(Table, counter.__table__)
    stmt = dialect_insert(session, table).values(prefix=prefix, value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[table.c.prefix],
                                      set_={"value": table.c.value + 1})
    value = session.execute(stmt.returning(table.c.value)).scalar_one()
    return f"{prefix}-{value:0{width}d}"
