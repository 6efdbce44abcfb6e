"""Declarative base factory with one naming convention, so migrations name constraints alike."""

from __future__ import annotations

from typing import cast

from sqlalchemy import MetaData, String, Table, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

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

    The UPDATE row lock serializes concurrent takers, so codes are unique and gap-free per
    committed transaction (a rolled-back one releases its number).
    """
    table = cast(Table, counter.__table__)
    row = session.execute(
        update(table).where(table.c.prefix == prefix).values(value=table.c.value + 1)
        .returning(table.c.value)
    ).first()
    if row is None:
        session.execute(table.insert().values(prefix=prefix, value=1))
        value = 1
    else:
        value = row[0]
    return f"{prefix}-{value:0{width}d}"
