"""The customers notify greets (a read model of accounts events) and the greeting drafts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..models import Base


class CustomerCard(Base):
    """What notify keeps of an account (from the ``account`` snapshot of accounts events)."""

    __tablename__ = "customer_cards"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[str] = mapped_column(String(100))
    owner_team: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    key_customer: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_title: Mapped[str | None] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_customer_cards_owner", "owner_id"),)


class GreetingDraft(Base):
    """One greeting for one customer, drafted for its rep: draft → sent | discarded."""

    __tablename__ = "greeting_drafts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    occasion: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(36))
    owner_id: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(10))  # none for gifts (a task)
    address: Mapped[str | None] = mapped_column(String(320))
    salutation: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    customer_kind: Mapped[str | None] = mapped_column(String(10))  # new / old (December gifts)
    state: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)  # gifts: the next-year demand survey answer
    message_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("occasion", "account_id"),
        Index("ix_greeting_drafts_owner", "owner_id", "created_at"),
    )
