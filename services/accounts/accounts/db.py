"""The accounts database's declarative base, event tables and code counters.

Capability packages (``archive``, ``grading``, ``points``, ``policy``…) map their tables on this
``Base``; ``models`` gathers them all so the metadata is complete.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"
