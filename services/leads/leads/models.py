"""SQLAlchemy mapped classes of the leads database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventbus.store import define_tables
from servicedb import CodeCounterMixin, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class CodeCounter(CodeCounterMixin, Base):
    __tablename__ = "code_counters"


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    source: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[str] = mapped_column(String(100))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    account_id: Mapped[str | None] = mapped_column(String(36))
    registered_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # Keyset pages (newest first) for a rep, a team and everyone.
        Index("ix_leads_owner_created", "owner_id", "created_at", "id"),
        Index("ix_leads_team_created", "owner_team", "created_at", "id"),
        Index("ix_leads_created", "created_at", "id"),
    )
