"""SQLAlchemy mapped classes of the support database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"


class KnownAccount(Base):
    """Read model of accounts, kept from accounts' events: support never asks accounts."""

    __tablename__ = "known_accounts"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(100), index=True)
    owner_team: Mapped[str | None] = mapped_column(String(100), index=True)
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # No foreign key: the read model is rebuilt from events and must not block on tickets.
    account_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # Keyset pages (newest first) for everyone and per account.
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_account_created", "account_id", "created_at", "id"),
    )
