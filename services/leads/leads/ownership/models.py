"""Mapped classes for ownership: policy, protection contacts, owner history, splits, rotation.

Kept apart from ``models.py`` so ownership can evolve without touching the lead's own table;
they share ``Base`` (one metadata, one migration history).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, Date, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leads.db import Base
from servicedb import UtcDateTime


class LeadContact(Base):
    """A contact with the customer (server time); qualifying ones renew the owner's protection."""

    __tablename__ = "lead_contacts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(100))
    out_of_town: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_lead_contacts_lead_at", "lead_id", "at"),)


class OwnerChangeRow(Base):
    """One line of a lead's ownership history; the first (from_owner NULL) is its registration."""

    __tablename__ = "lead_owner_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    from_owner: Mapped[str | None] = mapped_column(String(100))
    from_team: Mapped[str | None] = mapped_column(String(100))
    to_owner: Mapped[str] = mapped_column(String(100))
    to_team: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_lead_owner_changes_lead_at", "lead_id", "at"),)


class LeadSplit(Base):
    """One rep's share of a lead's deal credit; a lead's rows with the same split_id are one split."""

    __tablename__ = "lead_splits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    split_id: Mapped[str] = mapped_column(String(36))
    situation: Mapped[str] = mapped_column(String(40))
    rep: Mapped[str] = mapped_column(String(100))
    percent: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_lead_splits_lead", "lead_id", "at"),)


class RotationDay(Base):
    """A team's reception rotation for one day: ``rotation.RotationState`` as JSON."""

    __tablename__ = "rotation_days"

    team: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))


class RotationLogRow(Base):
    """The reception register: every roster change, away/return and assignment, with its reason."""

    __tablename__ = "rotation_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    team: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))  # roster | away | returned | next
    rep: Mapped[str | None] = mapped_column(String(100))
    served_by: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(30))
    customer: Mapped[str | None] = mapped_column(String(200))
    consumed_turn: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_rotation_log_team_day", "team", "day", "id"),)


class RedistributionRow(Base):
    """One redistribution of a leaving rep's leads: inputs, seed, result and the draw's log."""

    __tablename__ = "lead_redistributions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    from_rep: Mapped[str] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(10))
    seed: Mapped[str] = mapped_column(String(100))
    to_reps: Mapped[list] = mapped_column(JSON)
    assignments: Mapped[list] = mapped_column(JSON)
    log: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
