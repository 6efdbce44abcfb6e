"""Referral points (§2.8): the append-only ledger and the leads referred by an account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from servicedb import UtcDateTime

from ..db import Base


class PointsEntry(Base):
    """One award (or correction) of points; ``source_key`` is unique per account so an award
    caused by an event happens once, however often the event arrives."""

    __tablename__ = "points_entries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    points: Mapped[int] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500))
    source_key: Mapped[str] = mapped_column(String(200))
    referred_lead_code: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("account_id", "source_key", name="uq_points_entries_source"),
        Index("ix_points_entries_account_at", "account_id", "at", "id"),
    )


class ReferredLead(Base):
    """A lead registered with this account as its referrer (from leads.lead.registered.v1)."""

    __tablename__ = "referred_leads"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36))
    lead_code: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_referred_leads_account", "account_id"),
                      Index("ix_referred_leads_code", "lead_code"))  # a charge's lead (0005)
