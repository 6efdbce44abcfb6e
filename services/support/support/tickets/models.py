"""Tickets, their history (append-only) and the customer's contacts about them (append-only)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base

ACTIVE_SQL = "status IN ('new', 'assigned', 'in_progress', 'waiting_customer')"


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    # No foreign key: the read model is rebuilt from events and must not block on tickets.
    account_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(20))
    repair_mode: Mapped[str | None] = mapped_column(String(10))
    repair_fee: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10))
    queue: Mapped[str] = mapped_column(String(40), default="after_sales")
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    phone: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(100))  # the first responder until handed over
    assignee_id: Mapped[str | None] = mapped_column(String(100))
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    one_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    repeat_contacts: Mapped[int] = mapped_column(Integer, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    follow_up_of: Mapped[str | None] = mapped_column(String(36))
    first_responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    grievance_transferred_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        # Keyset pages (newest first) for everyone and per account.
        Index("ix_tickets_created", "created_at", "id"),
        Index("ix_tickets_account_created", "account_id", "created_at", "id"),
        # An agent's queue = own (owner or assignee) + unassigned active tickets: one index each,
        # so the queue is three short index scans merged (see tickets.service.list_tickets).
        Index("ix_tickets_owner_created", "owner_id", "created_at", "id"),
        Index("ix_tickets_assignee_created", "assignee_id", "created_at", "id"),
        # The active queue (?active=true) of an owner or assignee: small partial indexes, so the
        # planner never sorts every active ticket to find one agent's newest.
        Index(
            "ix_tickets_owner_active",
            "owner_id",
            "created_at",
            "id",
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index(
            "ix_tickets_assignee_active",
            "assignee_id",
            "created_at",
            "id",
            postgresql_where=text(ACTIVE_SQL),
            sqlite_where=text(ACTIVE_SQL),
        ),
        Index(
            "ix_tickets_unassigned_active",
            "created_at",
            "id",
            postgresql_where=text(f"assignee_id IS NULL AND {ACTIVE_SQL}"),
            sqlite_where=text(f"assignee_id IS NULL AND {ACTIVE_SQL}"),
        ),
        # Repeat-contact look-up: the customer's open tickets by account or phone.
        Index("ix_tickets_account_status", "account_id", "status"),
        Index("ix_tickets_phone_status", "phone", "status"),
        # Timers: resolved tickets waiting to close, grievances waiting for 3 days.
        Index("ix_tickets_status_resolved", "status", "resolved_at"),
        # Reports: tickets resolved / closed in a period.
        Index("ix_tickets_resolved_at", "resolved_at"),
        Index("ix_tickets_closed_at", "closed_at"),
        Index("ix_tickets_kind_status_created", "kind", "status", "created_at"),
    )


class TicketHistory(Base):
    """Every change of a ticket: who, when, what, why (append-only)."""

    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TicketContact(Base):
    """A customer's contact about a ticket: the first one and each repeat (append-only)."""

    __tablename__ = "ticket_contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(String(36), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)
