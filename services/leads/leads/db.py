"""The leads database's declarative base, outbox/inbox tables and readable-code counters;
every capability's models build on it."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"
