"""SQLAlchemy mapped classes of the notify database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from eventbus.store import define_tables
from servicedb import UtcDateTime, new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


OUTBOX, INBOX = define_tables(Base.metadata)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str | None] = mapped_column(String(50))
    subject_id: Mapped[str | None] = mapped_column(String(36))
    # The event that caused it: with the recipient, the key that makes a notification unique.
    source_event_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("source_event_id", "recipient_id"),
        # Keyset pages (newest first) of one recipient's inbox.
        Index("ix_notifications_recipient_created", "recipient_id", "created_at", "id"),
    )
